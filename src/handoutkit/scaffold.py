"""Start a project (``handout init``) or a topic (``handout new``) from the package's scaffold.

The scaffold is package data: an installed handoutkit makes a project that builds at once,
with one example topic and its catalogs in one more language.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

from .content import ID_PATTERN
from .errors import InputError
from .i18n import init_language, write_templates
from .output import write_atomic
from .project import Project

SCAFFOLD = Path(__file__).parent / "scaffold"
#: The language ``handout init`` starts catalogs for, beside the source language.
EXAMPLE_LANGUAGE = "es"
#: Scaffold files whose names a package cannot hold as they are.
_RENAMED = {"gitignore": ".gitignore"}
#: The commented topic ``handout new`` writes, with these words filled in.
_TOPIC_FILE = "topic.yaml"


def _dated(text: str, today: dt.date) -> str:
    # Our own scaffold's placeholders, never user text.
    try:
        review_by = today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        review_by = today.replace(year=today.year + 1, day=28)
    return text.replace("REVIEW_BY", review_by.isoformat()).replace("REVIEWED",
                                                                    today.isoformat())


def create_project(folder: Path, today: dt.date) -> list[Path]:
    """Make a working project in ``folder`` (new or empty); return the files written."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InputError.at(f"{folder} exists and is not an empty folder",
                            hint="choose a new name, or run `handout new TOPIC` inside a project")
    written = []
    for source in sorted(SCAFFOLD.rglob("*")):
        relative = source.relative_to(SCAFFOLD)
        if source.is_dir() or relative.as_posix() == _TOPIC_FILE or "__pycache__" in str(source):
            continue
        target = folder / relative.parent / _RENAMED.get(relative.name, relative.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.suffix in (".yaml", ".po"):  # dated: the catalog matches its template
            target.write_text(_dated(source.read_text(encoding="utf-8"), today),
                              encoding="utf-8")
        else:
            shutil.copyfile(source, target)
        written.append(target)
    (folder / "templates").mkdir()
    project = Project(folder)
    written += write_templates(project)
    written += init_language(project, EXAMPLE_LANGUAGE)
    return written


def new_topic(project: Project, topic: str, title: str | None, today: dt.date) -> Path:
    """Write ``handouts/<topic>/handout.yaml``: every field, each explained in a comment."""
    if not re.fullmatch(ID_PATTERN, topic) or len(topic) > 60:
        raise InputError.at(f"{topic!r} is not a topic id",
                            hint="use lowercase letters, digits and hyphens, e.g. "
                                 "hepatitis-c-testing")
    path = project.handout_path(topic)
    if path.exists():
        raise InputError.at(f"the topic {topic} exists already", path)
    text = _dated((SCAFFOLD / _TOPIC_FILE).read_text(encoding="utf-8"), today)
    heading = title or topic.replace("-", " ").capitalize()
    # A JSON string is a YAML double-quoted scalar: the title stays text, never YAML syntax.
    text = text.replace("TOPIC_ID", topic).replace("TITLE", json.dumps(heading,
                                                                       ensure_ascii=False))
    write_atomic(path, text.encode("utf-8"))
    return path

