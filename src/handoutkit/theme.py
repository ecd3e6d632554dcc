"""The page's templates, stylesheet and icons: the built-in theme, overridable per project.

The theme ships inside the package (``handoutkit/theme/``), so an installed tool builds a
project that has no templates of its own. A project overrides any file by placing one of the
same relative path in its ``templates/`` folder, as MkDocs' ``custom_dir`` does.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .files import read_limited

#: The templates, stylesheet and icons handoutkit ships with.
BUILTIN_THEME = Path(__file__).parent / "theme"
#: A project's overrides of the built-in theme, relative to its root.
OVERRIDES_FOLDER = "templates"
#: The handout page's template and stylesheet; its pictograms are ``icons/<name>.svg``.
TEMPLATE_NAME = "handout.html.j2"
STYLESHEET_NAME = "handout.css"

#: A theme file read to find what it loads (a template, stylesheet or SVG), and its limit.
_READ_FOR_LINKS = (".j2", ".html", ".jinja", ".css", ".svg")
MAX_THEME_FILE = 1024 * 1024
#: A Jinja tag that pulls in another template, and the expression naming it.
_TEMPLATE_TAG = re.compile(
    r"{%-?\s*(?:include|import|from|extends)\s+(.*?)"
    r"(?:\s+(?:import|ignore\s+missing|with(?:out)?\s+context|as)\b.*?)?\s*-?%}", re.S)
_STRING = re.compile(r"""(["'])(.*?)\1""")
#: A file a template or stylesheet loads: an attribute, ``url()`` or ``@import``.
_ASSET = re.compile(r"""(?:\b(?:src|href)\s*=\s*(["'])(?P<attr>.*?)\1"""
                    r"""|url\(\s*(["']?)(?P<url>[^"')]*?)\3\s*\)"""
                    r"""|@import\s+(["'])(?P<imp>.*?)\5)""")
_EXPRESSION = re.compile(r"{{.*?}}|{%.*?%}", re.S)


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
                return _inside(path, folder)
            if path.exists():
                raise InputError.at(f"the template {name} is not a file", path)
        raise InputError.at(f"the template {name} is missing", self.dirs[0] / name,
                            hint="delete the project's broken override to use the built-in "
                                 "one, or reinstall handoutkit (pip install --force-reinstall "
                                 "handoutkit)")

    def page_files(self) -> tuple[Path, ...]:
        """Every theme file a handout page can reach, in whichever layer wins: its template and
        those it includes, imports or extends, its stylesheet and those it ``@import``s, and
        every image and font they load (a name built from a variable, like
        ``icons/{{ name }}.svg``, counts every file it could be). A template named by a
        variable makes every template count, as Sphinx counts every template."""
        found: dict[str, Path] = {}
        todo = [TEMPLATE_NAME, STYLESHEET_NAME]
        while todo:
            name = todo.pop()
            if name in found:
                continue
            for path in self.files(name):
                found[path.relative_to(self._layer_of(path)).as_posix()] = path
                if path.suffix not in _READ_FOR_LINKS:
                    continue  # an image or a font: it loads nothing itself
                text = read_limited(path, MAX_THEME_FILE, "theme file").decode(
                    "utf-8", errors="replace")
                base = posixpath.dirname(name)
                if path.suffix in (".j2", ".html", ".jinja"):
                    todo += _templates_named(text)
                todo += [ref for ref in _assets_named(text, base) if ref not in found]
        return tuple(found[name] for name in sorted(found))

    def _layer_of(self, path: Path) -> Path:
        return next(folder for folder in self.dirs if path.is_relative_to(folder))

    def files(self, pattern: str) -> list[Path]:
        """Every file that wins (an override hides the built-in file of the same name)."""
        winners: dict[str, Path] = {}
        for folder in reversed(self.dirs):
            for path in folder.glob(pattern):
                if path.is_file():
                    winners[path.relative_to(folder).as_posix()] = _inside(path, folder)
        return [winners[name] for name in sorted(winners)]


def _templates_named(text: str) -> list[str]:
    """The templates a template pulls in; a name made at run time counts them all."""
    names: list[str] = []
    for match in _TEMPLATE_TAG.finditer(text):
        expression = match.group(1).strip()
        literals = [m.group(2) for m in _STRING.finditer(expression)]
        rest = _STRING.sub("", expression).strip(" [](),")
        names += literals if literals and not rest else ["**/*.j2", "**/*.html"]
    return names


def _assets_named(text: str, base: str) -> list[str]:
    """The theme files ``text`` loads, relative to the theme's root; parts made at run time
    become wildcards. Data URLs, other schemes and names made wholly at run time (a clinic's
    logo, the QR code: not theme files) are left out."""
    names = []
    for match in _ASSET.finditer(text):
        value = (match.group("attr") or match.group("url") or match.group("imp") or "").strip()
        pattern = _EXPRESSION.sub("*", value).split("#")[0].split("?")[0]
        if not pattern.strip("*") or ":" in pattern or pattern.startswith("/"):
            continue
        relative = posixpath.normpath(posixpath.join(base, pattern))
        if not relative.startswith(".."):
            names.append(relative)
    return names


def _inside(path: Path, folder: Path) -> Path:
    """``path``, if it really is in ``folder``: a link to a file elsewhere (another user's,
    the system's) is no theme file, and the renderer would refuse it mid-build."""
    if not path.resolve().is_relative_to(folder.resolve()):
        raise InputError.at(f"the theme file is a link to {path.resolve()}, outside "
                            f"{folder.name}/", path,
                            hint="copy the file into the folder instead of linking to it")
    return path
