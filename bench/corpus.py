"""A synthetic many-topic project: a copy of a project with extra copies of one of its topics.

Each copy is the topic under a new id (``<topic>-copy<N>``), with its regional facts and every
language's catalog, so a build makes as many documents of it as of the original. Run alone to
make one for a manual look:

    .venv/bin/python bench/corpus.py /tmp/corpus 7
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

TOPIC = "kratom-chronic-pain"
#: What a build reads from a project folder.
PROJECT_PARTS = ("handouts", "locales", "templates", "handout.toml")


def make_project(source: Path, dest: Path, copies: int = 0, topic: str = TOPIC) -> Path:
    """Copy ``source``'s project files to ``dest``, then add ``copies`` copies of ``topic``."""
    for name in PROJECT_PARTS:
        if (source / name).is_dir():
            shutil.copytree(source / name, dest / name)
        elif (source / name).is_file():
            shutil.copy2(source / name, dest / name)
    for number in range(1, copies + 1):
        ident = f"{topic}-copy{number}"
        folder = dest / "handouts" / ident
        shutil.copytree(dest / "handouts" / topic, folder)
        content = folder / "handout.yaml"
        content.write_text(re.sub(rf"(?m)^id: {re.escape(topic)}$", f"id: {ident}",
                                  content.read_text("utf-8")), "utf-8")
        for catalog in (dest / "locales").glob(f"*/LC_MESSAGES/{topic}.po"):
            shutil.copy2(catalog, catalog.with_name(f"{ident}.po"))
    return dest


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    print(make_project(root, Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 7))
