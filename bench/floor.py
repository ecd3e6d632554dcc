"""The floor of a no-op build: the least any tool must do to know nothing needs building.

Read the build folder's manifest, hash each input file once (the project's content, catalogs,
templates and settings, and the theme the package ships), and stat each PDF the manifest
lists. Standard library only: no handoutkit, no YAML, no templates. ``bench/run.py`` times it
as a process beside a no-op ``handout build`` of the same project.

    .venv/bin/python bench/floor.py PROJECT BUILD_DIR THEME_DIR
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

#: What a build reads from a project folder (as bench/corpus.py copies it).
PROJECT_PARTS = ("handouts", "locales", "templates", "handout.toml")


def inputs(project: Path, theme: Path) -> list[Path]:
    found = []
    for top in [*(project / part for part in PROJECT_PARTS), theme]:
        if top.is_file():
            found.append(top)
        for folder, _, names in os.walk(top):
            found.extend(Path(folder) / name for name in names)
    return sorted(found)


def main(project: Path, build_dir: Path, theme: Path) -> int:
    manifest = json.loads((build_dir / "manifest.json").read_text("utf-8"))
    digests = {path: hashlib.sha256(path.read_bytes()).hexdigest()
               for path in inputs(project, theme)}
    outputs = manifest["outputs"]
    present = sum(1 for entry in outputs if (build_dir / entry["path"]).stat().st_size)
    print(len(digests), present)
    return 0 if present == len(outputs) else 1


if __name__ == "__main__":
    sys.exit(main(*(Path(arg) for arg in sys.argv[1:4])))
