"""Where a handoutkit project keeps things: content, catalogs, templates and the build folder."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .theme import BUILTIN_THEME, Theme, file_label

#: A topic's content, ``handouts/<id>/handout.yaml`` (here, not in content.py: finding files
#: must not load the schema).
CONTENT_FILE = "handout.yaml"
SOURCE_LANGUAGE = "en"
#: The catalog domain of the templates' own words ("Sources", "Page 1 of 2").
TEMPLATE_DOMAIN = "handoutkit"
#: The catalog domain of region profiles' words (region names, help-line hours).
REGIONS_DOMAIN = "regions"
#: The built-in theme's translations of its own words (the TEMPLATE_DOMAIN catalogs).
BUILTIN_LOCALES = BUILTIN_THEME / "locales"


@dataclass(frozen=True)
class Project:
    """A folder of handouts: topics in ``handouts/``, catalogs in ``locales/``, theme
    overrides in ``templates/``, settings in ``handout.toml``. Every stage takes one."""

    root: Path

    @classmethod
    def find(cls, start: Path | None = None) -> Project:
        """The nearest folder at or above ``start`` that holds ``handout.toml`` or
        ``handouts/``: commands work from any subfolder of a project."""
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / "handout.toml").is_file() or (folder / "handouts").is_dir():
                return cls(folder)
        raise InputError.at(f"no handouts/ folder in {here} or any folder above it",
                            hint="run handout inside a handoutkit project, or pass --project DIR")

    @property
    def handouts_dir(self) -> Path:
        return self.root / "handouts"

    @property
    def locales_dir(self) -> Path:
        return self.root / "locales"

    @property
    def theme(self) -> Theme:
        """The templates, stylesheet and icons: the project's ``templates/`` overrides first."""
        return Theme.for_project(self.root)

    def label(self, path: Path) -> str:
        """How messages and reports name ``path``: relative to the project, or a built-in
        theme file by its place in the package (an installed package is not in the project)."""
        return file_label(path, self.root)

    def handout_path(self, handout_id: str) -> Path:
        return self.handouts_dir / handout_id / CONTENT_FILE

    def handout_ids(self) -> list[str]:
        return sorted(p.parent.name for p in self.handouts_dir.glob(f"*/{CONTENT_FILE}"))

    def languages(self) -> list[str]:
        """The source language first, then every language with a catalog folder."""
        found = sorted(p.parent.name for p in self.locales_dir.glob("*/LC_MESSAGES") if p.is_dir())
        return [SOURCE_LANGUAGE] + [lang for lang in found if lang != SOURCE_LANGUAGE]

    def topic_languages(self, handout_id: str) -> list[str]:
        """The languages a topic is built in: the source, and those with its catalog."""
        return [SOURCE_LANGUAGE] + [lang for lang in self.languages()[1:]
                                    if self.catalog_path(lang, handout_id).exists()]

    def catalog_path(self, lang: str, domain: str) -> Path:
        """The catalog read for ``lang``: the project's own, or for the theme's words the
        built-in translation as long as the project has none of its own."""
        return self._own_or_builtin(Path(lang, "LC_MESSAGES", f"{domain}.po"), domain)

    def catalog_files(self, lang: str) -> list[Path]:
        """Every catalog read for ``lang``: the project's, and the theme's built-in one."""
        own = sorted((self.locales_dir / lang / "LC_MESSAGES").glob("*.po"))
        theme = self.catalog_path(lang, TEMPLATE_DOMAIN)
        return own + ([theme] if theme.is_file() and theme not in own else [])

    def template_path(self, domain: str) -> Path:
        return self._own_or_builtin(Path(f"{domain}.pot"), domain)

    def _own_or_builtin(self, relative: Path, domain: str) -> Path:
        own, builtin = self.locales_dir / relative, BUILTIN_LOCALES / relative
        if domain == TEMPLATE_DOMAIN and not own.exists() and builtin.is_file():
            return builtin
        return own

    def writable(self, path: Path) -> Path:
        """Where a writer may put ``path``: in place inside the project. A built-in catalog
        of an installed handoutkit is copied into the project first, and is the project's
        own from then on (as a theme override is)."""
        if path.is_relative_to(self.root):
            return path
        own = self.locales_dir / path.relative_to(BUILTIN_LOCALES)
        if not own.exists():
            own.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, own)
        return own
