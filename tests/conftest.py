"""Shared fixtures: a throwaway copy of the real project, and PDF text extraction."""

from __future__ import annotations

import fcntl
import functools
import hashlib
import io
import json
import multiprocessing
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from pypdf import PdfReader

from handoutkit import Project
from handoutkit.pofile import po_bytes, read_header
from handoutkit.theme import BUILTIN_THEME

ROOT = Path(__file__).resolve().parents[1]
#: The topics the tests use, by name; tests never assume they are the only ones.
HANDOUT = "kratom-chronic-pain"
SECOND_HANDOUT = "opioid-overdose-naloxone"
#: The languages the first topic ships in, besides English.
LANGUAGES = ["ar", "es", "id", "ms", "th", "vi", "zh_Hans"]


@contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """Hold ``lock`` against every other process of this run (xdist workers included)."""
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every xdist worker of this run shares (each worker's base folder is a
    subfolder of it), for what is made once per run rather than once per worker."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def made_once(shared: Path, name: str, make: Callable[[Path], None]) -> Path:
    """``shared/name``, made by ``make`` once per run: the first process to ask makes it
    while the others wait, then all read the same files."""
    out = shared / name
    done = shared / f"{name}.complete"
    with _exclusive(shared / f"{name}.lock"):
        if not done.exists():
            shutil.rmtree(out, ignore_errors=True)  # a worker's earlier failed try
            make(out)
            done.touch()
    return out


@pytest.fixture(scope="session")
def plan_build(shared: Path) -> Path:
    """Every document of the plan in handout.toml, built as `make build` builds it (through
    the CLI) on both cores, once per run; their text is extracted once as well."""
    from typer.testing import CliRunner

    from handoutkit.cli import app

    def make(out: Path) -> None:
        result = CliRunner().invoke(app, ["build", "-q", "--json", "-o", str(out),
                                          "--project", str(ROOT)])
        assert result.exit_code == 0, result.output  # the plan refuses none of its documents
        documents = json.loads(result.stdout)["documents"]
        assert all(d["status"] == "built" and not d["fallbacks"] for d in documents), [
            (d["output"], d["status"], d["fallbacks"]) for d in documents
            if d["status"] != "built" or d["fallbacks"]]
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
            list(pool.map(pdf_pages, sorted(out.rglob("*.pdf"))))

    return made_once(shared, "plan-build", make)


@pytest.fixture(scope="session")
def shipped_build(plan_build: Path) -> Path:
    """The first topic in every language and level (neutral, A4): part of the plan's build."""
    for lang in ["en", *LANGUAGES]:
        for level in ("easy", "standard"):
            assert (plan_build / HANDOUT / lang / f"{HANDOUT}.{lang}.{level}.a4.pdf").is_file()
    return plan_build


def copy_project(dest: Path) -> Project:
    """A copy of the repository's content, catalogs and templates, as a user keeps them: the
    theme's own files stay in the package (a test that edits the theme's words edits the
    project's own copy, made by ``own_catalog`` as `i18n` makes it)."""
    for name in ("handouts", "locales", "templates"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name)
        elif source.is_file():
            shutil.copyfile(source, dest / name)
    return Project(dest)


#: What ``short_project`` keeps of the first topic: a point of each kind a build treats
#: apart (plain text, the legal facts, the help box), and the point that explains the jargon
#: the help box uses ("seizure"), so that the easy level still passes.
SHORT_TOPIC: dict[str, set[str] | None] = {
    "what-is-it": None, "risks": {"seizures"}, "legal": None, "get-help": None}


def short_project(dest: Path) -> Project:
    """``copy_project`` with the first topic cut to a one-page leaflet (``SHORT_TOPIC``), for
    tests of how builds work rather than of what the pages say: each of its documents takes
    about a third of the full one's time to render. Its catalogs are left whole (entries the
    short topic no longer prints are simply not used)."""
    import yaml

    project = copy_project(dest)
    path = project.handout_path(HANDOUT)
    topic = yaml.safe_load(path.read_text("utf-8"))
    kept = []
    for section in topic["sections"]:
        if section["id"] in SHORT_TOPIC:
            points = SHORT_TOPIC[section["id"]]
            if points is not None:
                section["points"] = [p for p in section["points"] if p["id"] in points]
            kept.append(section)
    missing = set(SHORT_TOPIC) - {section["id"] for section in kept}
    assert not missing, f"{path} has no section {sorted(missing)}: update SHORT_TOPIC"
    topic["sections"] = kept
    path.write_text(yaml.safe_dump(topic, allow_unicode=True, sort_keys=False), "utf-8")
    return project


@pytest.fixture
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Project:
    """A copy of the repository's project (see ``copy_project``) that a test may change; in a
    module marked ``short_topic``, with the first topic cut short (see ``short_project``)."""
    if request.node.get_closest_marker("short_topic"):
        return short_project(tmp_path)
    return copy_project(tmp_path)


def own_catalog(project: Project, lang: str, domain: str) -> Path:
    """The project's own copy of a catalog, to edit: a built-in theme catalog is copied into
    the project first, as `handout i18n update` and `review` do."""
    return project.writable(project.catalog_path(lang, domain))


@pytest.fixture(scope="session", autouse=True)
def package_untouched() -> Iterator[None]:
    """No test, and nothing a test runs, writes into the installed package's theme."""
    def digest() -> dict[str, str]:
        return {str(path): hashlib.sha256(path.read_bytes()).hexdigest()
                for path in sorted(BUILTIN_THEME.rglob("*")) if path.is_file()}

    before = digest()
    yield
    assert digest() == before, "a test changed the package's theme files"


@pytest.fixture(scope="session")
def wheel(shared: Path) -> Path:
    """The wheel of this tree, built once per run from a copy of its sources (a build in
    place writes ``build/`` and ``*.egg-info`` into the repository, and two at once collide)."""
    import subprocess
    import sys

    def make(dest: Path) -> None:
        source = dest / "source"
        source.mkdir(parents=True)
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            shutil.copy2(ROOT / name, source / name)
        shutil.copytree(ROOT / "src", source / "src",
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                        "--no-build-isolation", "-w", str(dest), str(source)], check=True,
                       capture_output=True, timeout=600)

    (built,) = made_once(shared, "wheel", make).glob("handoutkit-*.whl")
    return built


def children(pid: int) -> set[int]:
    """The processes ``pid`` started (every thread's), as /proc lists them (Linux)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found |= {int(child) for child in task.read_text().split()}
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    """Running, not merely a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def pdf_pages(path: Path) -> list[str]:
    """The text of each page, in logical order (pypdf keeps RTL text in reading order).

    Extraction is slow (about 0.1 s a leaflet, more for CJK and Arabic fonts) and many tests,
    on every worker, read the same shared PDFs: each file's text is extracted once per run,
    kept by its content's digest in a folder the workers share.
    """
    stat = path.stat()
    return list(_pages(path, stat.st_mtime_ns, stat.st_size))


#: Where extracted texts are kept for the run (set by the ``text_cache`` fixture).
TEXT_CACHE: list[Path] = []


@pytest.fixture(scope="session", autouse=True)
def text_cache(shared: Path) -> None:
    TEXT_CACHE[:] = [shared / "pdf-text"]
    TEXT_CACHE[0].mkdir(exist_ok=True)


@functools.lru_cache(maxsize=256)
def _pages(path: Path, mtime_ns: int, size: int) -> tuple[str, ...]:
    data = path.read_bytes()
    kept = TEXT_CACHE[0] / f"{hashlib.sha256(data).hexdigest()}.json" if TEXT_CACHE else None
    if kept is not None and kept.exists():
        return tuple(json.loads(kept.read_text("utf-8")))
    pages = _extracted(data)
    if kept is not None:
        partial = kept.with_suffix(f".{os.getpid()}.part")
        partial.write_text(json.dumps(pages), "utf-8")
        partial.replace(kept)  # whole or absent, for the other workers
    return pages


#: Arabic letters (and their presentation forms) and Thai: scripts whose marks and ligatures
#: only pypdf gives in reading order.
_COMPLEX = re.compile("[\u0600-\u06ff\u0e00-\u0e7f\ufb50-\ufdff\ufe70-\ufeff]")


def _extracted(data: bytes) -> tuple[str, ...]:
    """Each page's text: poppler's ``pdftotext`` (a tenth of pypdf's time), or pypdf where the
    document holds Arabic or Thai (poppler gives lam-alef ligatures in visual order and
    splits Thai marks from their letters)."""
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data,
                          capture_output=True, check=True).stdout.decode("utf-8")
    if _COMPLEX.search(text):
        return tuple(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    return tuple(text.split("\f")[:-1])  # a form feed ends each page


def pdf_text(path: Path) -> str:
    return "\n".join(pdf_pages(path))


def set_msgstr(path: Path, context: str, value: str, msgid: str | None = None) -> None:
    """Set one entry's translation in a .po file, as a translator's editor would (and writing
    the file as gettext's tools do, long strings wrapped)."""
    text = path.read_text()
    catalog = read_po(io.StringIO(text))
    message = next(m for m in catalog if m.context == context and msgid in (None, m.id))
    message.string = value
    path.write_bytes(po_bytes(catalog, read_header(text)))


def squash(text: str) -> str:
    """Text with all white space removed: line breaks fall anywhere in a PDF."""
    return "".join(text.split())
