"""Where a handoutkit project keeps things: content, catalogs, templates and the build folder."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, Problem
from .theme import BUILTIN_THEME, Theme, file_label

#: A topic's content, ``handouts/<id>/handout.yaml`` (here, not in content.py: finding files
#: must not load the schema).
CONTENT_FILE = "handout.yaml"
#: The language the content is written in; every other language is a translation of it.
SOURCE_LANGUAGE = "en"
#: The catalog domain of the templates' own words ("Sources", "Page 1 of 2").
TEMPLATE_DOMAIN = "handoutkit"
#: The catalog domain of region profiles' words (region names, help-line hours).
REGIONS_DOMAIN = "regions"
#: The folder of ``handouts/`` that holds the region profiles, not a topic.
REGIONS_FOLDER = "regions"
#: The built-in theme's translations of its own words (the TEMPLATE_DOMAIN catalogs).
BUILTIN_LOCALES = BUILTIN_THEME / "locales"


@dataclass(frozen=True)
class Project:
    """A folder of handouts: topics in ``handouts/``, catalogs in ``locales/``, theme
    overrides in ``templates/``, settings in ``handout.toml``. Every stage takes one."""

    root: Path

    def __post_init__(self) -> None:
        # Project("my-handouts") from a script works as Project(Path("my-handouts")) does.
        if not isinstance(self.root, Path):
            object.__setattr__(self, "root", Path(self.root))

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

    def public(self, message: str) -> str:
        """``message`` without this server's own paths: what a web page or API may show."""
        root = str(self.root)
        return message.replace(root + "/", "").replace(root, ".")

    def label(self, path: Path) -> str:
        """How messages and reports name ``path``: relative to the project, or a built-in
        theme file by its place in the package (an installed package is not in the project)."""
        return file_label(path, self.root)

    def handout_path(self, handout_id: str) -> Path:
        return self.handouts_dir / handout_id / CONTENT_FILE

    def handout_ids(self) -> list[str]:
        return sorted(p.parent.name for p in self.handouts_dir.glob(f"*/{CONTENT_FILE}"))

    def folders_without_a_topic(self) -> list[Path]:
        """Folders in ``handouts/`` that look like a topic but have no readable content file
        (none, or a link to nothing): a build leaves them out, and should say so."""
        if not self.handouts_dir.is_dir():
            return []
        return sorted(folder for folder in self.handouts_dir.iterdir()
                      if folder.is_dir() and folder.name != REGIONS_FOLDER
                      and not folder.name.startswith((".", "_"))
                      and not (folder / CONTENT_FILE).is_file())

    def languages(self) -> list[str]:
        """The source language first, then every language with a catalog folder, by its
        canonical code (a ``pt-BR`` folder is ``pt_BR``)."""
        return [SOURCE_LANGUAGE, *sorted(self.locale_folders())]

    def locale_folders(self) -> dict[str, Path]:
        """Each language with a catalog folder: its canonical code → the folder, however the
        folder is spelled (``pt_BR``, ``pt-BR``, ``zh-CN``…). Folders Babel does not know
        are left out (``unknown_locale_folders`` names them)."""
        from .languages import canonical_locale

        found: dict[str, Path] = {}
        for folder in self._catalog_folders():
            code = canonical_locale(folder.name)
            # Two spellings of one language: the folder named by the code itself wins.
            if code and code != SOURCE_LANGUAGE and (code not in found or folder.name == code):
                found[code] = folder
        return found

    def shadowed_locale_folders(self) -> list[Problem]:
        """Catalog folders that spell a language another folder already holds (``pt-BR``
        beside ``pt_BR``), each named with the folder read instead: their catalogs are never
        read. The words `i18n check` reports and build and check warn with."""
        from .languages import canonical_locale

        used = self.locale_folders()
        return [Problem(f"the same language as {self.label(used[code])}, whose catalogs are "
                        "read: this folder's are ignored", folder,
                        hint="keep one folder per language: merge the two")
                for folder in self._catalog_folders()
                if (code := canonical_locale(folder.name)) in used and used[code] != folder]

    def unknown_locale_folders(self) -> list[Path]:
        """Catalog folders whose name is no locale: a warning, never a stop for the others."""
        from .languages import canonical_locale

        return [folder for folder in self._catalog_folders() if not canonical_locale(folder.name)]

    def _catalog_folders(self) -> list[Path]:
        return sorted(p.parent for p in self.locales_dir.glob("*/LC_MESSAGES") if p.is_dir())

    @staticmethod
    def canonical(lang: str) -> str:
        """``lang`` as the project's codes spell it (``pt-BR`` → ``pt_BR``; an unknown name is
        left as typed, for the caller to refuse by name)."""
        from .languages import canonical_locale

        return canonical_locale(lang) or lang

    def locale_folder(self, lang: str) -> Path:
        """Where ``lang``'s catalogs are: its folder as spelled on disk, or for a language
        with none yet, a folder named by its code."""
        exact = self.locales_dir / lang
        if (exact / "LC_MESSAGES").is_dir():  # spelled as the code: no listing needed
            return exact
        return self.locale_folders().get(lang) or exact

    def topic_languages(self, handout_id: str) -> list[str]:
        """The languages a topic is built in: the source, and those with its catalog."""
        return [SOURCE_LANGUAGE] + [lang for lang in self.languages()[1:]
                                    if self.catalog_path(lang, handout_id).exists()]

    def catalog_path(self, lang: str, domain: str) -> Path:
        """The catalog read for ``lang``: the project's own, or for the theme's words the
        built-in translation as long as the project has none of its own."""
        folder = self.locale_folder(lang).name
        own, builtin = (self.locales_dir / folder / "LC_MESSAGES" / f"{domain}.po",
                        BUILTIN_LOCALES / lang / "LC_MESSAGES" / f"{domain}.po")
        if domain == TEMPLATE_DOMAIN and not own.exists() and builtin.is_file():
            return builtin
        return own

    def catalog_files(self, lang: str) -> list[Path]:
        """Every catalog read for ``lang``: the project's, and the theme's built-in one."""
        own = sorted((self.locale_folder(lang) / "LC_MESSAGES").glob("*.po"))
        theme = self.catalog_path(lang, TEMPLATE_DOMAIN)
        return own + ([theme] if theme.is_file() and theme not in own else [])

    def template_path(self, domain: str) -> Path:
        own, builtin = self.locales_dir / f"{domain}.pot", BUILTIN_LOCALES / f"{domain}.pot"
        if domain == TEMPLATE_DOMAIN and not own.exists() and builtin.is_file():
            return builtin
        return own

    def writable(self, path: Path) -> Path:
        """Where a writer may put ``path``: in place inside the project. A built-in catalog
        of an installed handoutkit is copied into the project first, and is the project's
        own from then on (as a theme override is)."""
        if path.is_relative_to(self.root):
            return path
        lang, *rest = path.relative_to(BUILTIN_LOCALES).parts
        own = self.locale_folder(lang).joinpath(*rest)
        if not own.exists():
            own.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, own)
        return own
