"""The live preview's engine: one document, rebuilt whenever its sources change.

``LivePreview`` polls the project's sources by modification time (no file-watching
dependency) and rebuilds the document as an immutable :class:`Build`: the PDF and page 1,
its translation record (coverage, fallbacks with their catalog lines), its readability, and
why a build would refuse it. A bad file while someone is typing is kept as its problems, with
file and line, and the last good page stays. ``preview.py`` serves it in a browser.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import jinja2

from .catalog import Lookup
from .errors import InputError, Problem
from .languages import language
from .pipeline import DOMAINS, BuildOptions, DocumentResult, Inputs, render_document
from .plan import PLAN_FILE, Choice, Job, read_settings
from .pofile import singular_id
from .project import Project
from .render import environment
from .rendered import first_page_png
from .theme import BUILTIN_THEME, OVERRIDES_FOLDER, file_label
from .translate import catalogs_for

PAGE_TEMPLATE = "preview.html.j2"
#: Seconds between two looks at the sources' modification times.
POLL_SECONDS = 0.5
#: Folders of the project whose files the document is made from.
WATCHED = ("handouts", "locales", OVERRIDES_FOLDER)

log = logging.getLogger("handoutkit.preview")


@dataclass(frozen=True)
class Build:
    """One rebuild's outcome, swapped in whole: requests never see half of one."""

    generation: int = 0
    seconds: float = 0.0
    built_at: dt.datetime | None = None
    #: Translation record, readability, warnings of the document (none after an input error).
    result: DocumentResult | None = None
    #: Why a build would refuse the document; the page is shown anyway when it can be made.
    refusals: tuple[str, ...] = ()
    #: Input errors (a broken .po, YAML or template): no document this time.
    errors: tuple[Problem, ...] = ()
    pdf: bytes | None = None
    png: bytes | None = None
    #: The generation ``pdf`` and ``png`` come from: an earlier one when this build made none.
    page_generation: int = 0

    def summary(self) -> str:
        if self.errors:
            return f"input error: {self.errors[0]}"
        verdict = (f"a build would refuse it: {self.refusals[0].splitlines()[0]}"
                   if self.refusals else "ok")
        page = "" if self.page_generation == self.generation else " (no page made)"
        return f"build {self.generation} in {self.seconds:.1f} s: {verdict}{page}"


def rebuild(project: Project, choice: Choice, previous: Build) -> Build:
    """The next build: the document, or what stops it, keeping the last page on failure."""
    started = time.monotonic()
    failed = replace(previous, generation=previous.generation + 1, result=None, refusals=(),
                     built_at=dt.datetime.now())
    try:
        result, pdf, refusals = _render(project, replace(choice.job(project), preview=True))
    except InputError as exc:
        errors = tuple(exc.problems)
    except jinja2.TemplateSyntaxError as exc:  # an author's template override, mid-edit
        errors = (Problem(f"template syntax error: {exc.message}",
                          Path(exc.filename) if exc.filename else None, exc.lineno),)
    except Exception as exc:  # a bug: say so on the page, and keep serving
        log.exception("preview build failed")
        errors = (Problem(f"internal error (a bug in handoutkit, please report it): "
                          f"{type(exc).__name__}: {exc}"),)
    else:
        built = replace(failed, result=result, refusals=refusals, errors=())
        if pdf is not None:
            built = replace(built, pdf=pdf, png=first_page_png(pdf),
                            page_generation=built.generation)
        return replace(built, seconds=time.monotonic() - started)
    return replace(failed, errors=errors, seconds=time.monotonic() - started)


def _render(project: Project, job: Job) -> tuple[DocumentResult, bytes | None, tuple[str, ...]]:
    """The document under the project's build policy; if that refuses it, once more without
    the gates so the page can still be shown (too hard, too little translated, a draft)."""
    options = BuildOptions.under(read_settings(project).policy, out_dir=project.root / "build")
    inputs = Inputs(project, [job])
    result, pdf = render_document(inputs, job, options)
    if pdf is not None:
        return result, pdf.data, ()
    shown, pdf = render_document(inputs, job, replace(
        options, min_coverage=0.0, require_review=False, allow_hard=True))
    return shown, pdf.data if pdf else None, tuple(dict.fromkeys(result.problems
                                                                 + shown.problems))


def watched_roots(project: Project) -> list[Path]:
    """The folders and files a document is made from, which the preview polls."""
    return [project.root / name for name in WATCHED] + [BUILTIN_THEME,
                                                        project.root / PLAN_FILE]


def snapshot(project: Project) -> dict[Path, tuple[int, int]]:
    """Each source file's modification time and size; editors' swap and backup files and
    handoutkit's own temporary files (hidden, ``#…``, ``…~``) are left out."""
    found: dict[Path, tuple[int, int]] = {}

    def note(path: str) -> None:
        name = os.path.basename(path)
        if name.startswith((".", "#")) or name.endswith("~"):
            return
        try:
            stat = os.stat(path)
        except OSError:  # removed between the listing and the look
            return
        found[Path(path)] = (stat.st_mtime_ns, stat.st_size)

    for root in watched_roots(project):
        if root.is_file():
            note(str(root))
        for folder, subfolders, files in os.walk(root):
            subfolders[:] = [name for name in subfolders if not name.startswith(".")]
            for name in files:
                note(os.path.join(folder, name))
    return found


class LivePreview:
    """The preview's state: the latest :class:`Build`, remade when a source changes."""

    #: Seconds between two looks at the sources' modification times.
    poll_seconds: float = POLL_SECONDS

    def __init__(self, project: Project, choice: Choice):
        self.project, self.choice = project, choice
        self.build = Build()
        self.building = False
        self._seen: dict[Path, tuple[int, int]] = {}
        self._lock = threading.Lock()
        self._built = threading.Condition()

    def refresh(self) -> list[Path]:
        """Rebuild now if any source changed since the last build (or none was made); the
        files that changed, empty when nothing did. Safe to call from any thread."""
        with self._lock:
            now = snapshot(self.project)
            changed = sorted(path for path in now.keys() | self._seen.keys()
                             if now.get(path) != self._seen.get(path))
            if not changed and self.build.generation:
                return []
            self._seen = now
            # Jinja2 notices an edited template, not a new override hiding a built-in one.
            environment.cache_clear()
            self.building = True
            try:
                build = rebuild(self.project, self.choice, self.build)
            finally:
                self.building = False
            with self._built:
                self.build = build
                self._built.notify_all()
            return changed

    def wait(self, after: int, timeout: float) -> Build:
        """The first build newer than generation ``after``, or the current one on timeout."""
        with self._built:
            self._built.wait_for(lambda: self.build.generation > after, timeout)
            return self.build

    def render_page(self) -> str:
        """The preview page for the current build (every value escaped by the template)."""
        project, build, choice = self.project, self.build, self.choice
        result = build.result
        job = result.job if result else None
        lang = language(job.lang if job else choice.lang)
        page: str = environment(project.theme).get_template(PAGE_TEMPLATE).render(
            build=build, job=job, choice=choice, lang=lang, result=result,
            translation=result.translation if result else None,
            readability=result.readability if result else None,
            fallbacks=fallback_places(project, job, result.fallbacks) if job and result
            else [],
            refusals=[project.public(text) for text in build.refusals],
            errors=[_where(problem, project) for problem in build.errors])
        return page

    def watch(self, stop: threading.Event, seconds: float = POLL_SECONDS,
              echo: Callable[[str], None] | None = None) -> None:
        """Poll until ``stop`` is set, saying what changed and how the build went."""
        while not stop.wait(seconds):
            changed = self.refresh()
            if changed and echo:
                names = ", ".join(file_label(p, self.project.root) for p in changed[:3])
                more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
                echo(f"{names}{more} changed; {self.build.summary()}")


def _where(problem: Problem, project: Project) -> dict[str, str | None]:
    place = None
    if problem.file is not None:
        place = file_label(problem.file, project.root) + (f":{problem.line}" if problem.line
                                                         else "")
    return {"place": place, "message": project.public(problem.message),
            "hint": problem.hint}


def fallback_places(project: Project, job: Job, fallbacks: tuple[str, ...]
                    ) -> list[tuple[str, str]]:
    """Each string printed in English, with where a translator fixes it (catalog:line)."""
    if not fallbacks:
        return []
    places: dict[str, str] = {}
    for domain, catalog in catalogs_for(project, job.lang, [job.handout, *DOMAINS]).items():
        label = file_label(catalog.path, project.root)
        for message in catalog.catalog:
            if not message.id:
                continue
            msgid = singular_id(message)
            state = "fuzzy: the English changed" if message.fuzzy else "untranslated"
            places[Lookup(domain, message.context, msgid, None).id] = (
                f"{label}:{message.lineno} ({state})")
    missing = "no entry in the catalog: run `handout i18n update`"
    return [(ident, places.get(ident, missing)) for ident in fallbacks]
