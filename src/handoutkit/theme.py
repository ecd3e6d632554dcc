"""The page's templates, stylesheet and icons: the built-in theme, overridable per project.

The theme ships inside the package (``handoutkit/theme/``), so an installed tool builds a
project that has no templates of its own. A project overrides any file by placing one of the
same relative path in its ``templates/`` folder, as MkDocs' ``custom_dir`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

#: The templates, stylesheet and icons handoutkit ships with.
BUILTIN_THEME = Path(__file__).parent / "theme"
#: A project's overrides of the built-in theme, relative to its root.
OVERRIDES_FOLDER = "templates"
#: The handout page's template and stylesheet; its pictograms are ``icons/<name>.svg``.
TEMPLATE_NAME = "handout.html.j2"
STYLESHEET_NAME = "handout.css"


def file_label(path: Path, root: Path) -> str:
    """How reports, catalogs and the manifest name a file: a built-in theme file by its place
    in the package (the same for every install), anything else relative to the project."""
    for base, prefix in ((BUILTIN_THEME.parent, "handoutkit/"), (root, "")):
        if path.is_relative_to(base):
            return prefix + path.relative_to(base).as_posix()
    return str(path)


@dataclass(frozen=True)
class Theme:
    """Folders searched in order for a theme file: the project's overrides, then the built-in."""

    dirs: tuple[Path, ...]

    @classmethod
    def for_project(cls, root: Path) -> Theme:
        overrides = root / OVERRIDES_FOLDER
        return cls((overrides, BUILTIN_THEME) if overrides.is_dir() else (BUILTIN_THEME,))

    def find(self, name: str) -> Path:
        """The file that wins for ``name``, or an input error naming where it was looked for."""
        for folder in self.dirs:
            path = folder / name
            if path.is_file():
                return path
            if path.exists():
                raise InputError.at(f"the template {name} is not a file", path)
        raise InputError.at(f"the template {name} is missing", self.dirs[0] / name,
                            hint="delete the project's broken override to use the built-in "
                                 "one, or reinstall handoutkit (pip install --force-reinstall "
                                 "handoutkit)")

    def files(self, pattern: str) -> list[Path]:
        """Every file that wins (an override hides the built-in file of the same name)."""
        winners: dict[str, Path] = {}
        for folder in reversed(self.dirs):
            for path in folder.glob(pattern):
                if path.is_file():
                    winners[path.relative_to(folder).as_posix()] = path
        return [winners[name] for name in sorted(winners)]
