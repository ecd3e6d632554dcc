"""Faults and hostile input: kills at chosen points, concurrent builds, modes, clean errors."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handoutkit import Project
from handoutkit.cli import app
from handoutkit.output import TEMP_PREFIX
from handoutkit.project import TEMPLATE_DOMAIN
from handoutkit.theme import BUILTIN_THEME

from .conftest import HANDOUT, ROOT, alive, children, own_catalog, set_msgstr, short_project

runner = CliRunner()


def invoke(project: Project, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [*args, "--project", str(project.root)])


def _manifest_matches_disk(out: Path) -> None:
    manifest = json.loads((out / "manifest.json").read_text())
    for entry in manifest["outputs"]:
        data = (out / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]


# --- a build kills itself at a chosen write --------------------------------------------------

#: Runs the CLI with os.replace or os.fsync patched to SIGKILL the process at their Nth call:
#: a kill at an exact point of the atomic write, every time the test runs.
KILLER = """
import os, signal, sys
from handoutkit.cli import app
name, when, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
original, calls = getattr(os, name), [0]
def patched(*args):
    calls[0] += 1
    if calls[0] == count and when == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    result = original(*args)
    if calls[0] == count and when == "after":
        os.kill(os.getpid(), signal.SIGKILL)
    return result
setattr(os, name, patched)
sys.argv = ["handout", *sys.argv[4:]]
app()
"""

#: How a build fails, stops and recovers does not depend on how long its pages are: its `project`
#: is the short copy of the first topic (see `short_project`).
pytestmark = pytest.mark.short_topic


def _build_command(project: Project, out: Path) -> list[str]:
    return ["build", HANDOUT, "--lang", "en", "--lang", "es", "-l", "easy", "-q", "-j", "1",
            "-C", str(project.root), "-o", str(out)]


@pytest.fixture(scope="module")
def first_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project copy and its first build (two PDFs), made once and copied by each test."""
    base = tmp_path_factory.mktemp("first")
    project = short_project(base / "project")
    handout = Path(sys.executable).with_name("handout")
    subprocess.run([str(handout), *_build_command(project, base / "out")], check=True)
    return base


@pytest.mark.xdist_group("first-build")  # one worker makes the first build once
@pytest.mark.parametrize(("call", "when", "count"), [
    ("fsync", "before", 1),     # the first PDF written to its temp file, not yet renamed
    ("replace", "before", 2),   # one PDF in place, the next about to be
    ("replace", "after", 2),    # both PDFs in place, the manifest not yet written
    ("replace", "before", 3),   # the manifest about to be renamed into place
])
def test_a_build_killed_at_a_chosen_write_leaves_every_file_old_or_new(
        first_build: Path, tmp_path: Path, call: str, when: str, count: int) -> None:
    shutil.copytree(first_build, tmp_path, dirs_exist_ok=True)
    project, out = Project(tmp_path / "project"), tmp_path / "out"
    command = _build_command(project, out)
    old = {p: p.read_bytes() for p in out.rglob("*.pdf")}
    old_manifest = (out / "manifest.json").read_bytes()
    css = project.root / "templates" / "handout.css"  # a project's override
    css.write_text((BUILTIN_THEME / "handout.css").read_text() + "\n"
                   "h1 { letter-spacing: 0.01em; }\n")

    killed = subprocess.run([sys.executable, "-c", KILLER, call, when, str(count), *command,
                             "--force"], capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    changed = [p for p, data in old.items() if p.read_bytes() != data]
    replaced = {"fsync": 0, "replace": count - (when == "before")}[call]
    assert len(changed) == min(replaced, len(old))
    assert (out / "manifest.json").read_bytes() == old_manifest or replaced > len(old)
    json.loads((out / "manifest.json").read_text())  # never half-written

    finished = runner.invoke(app, command)  # the next build, in this process
    assert finished.exit_code == 0, finished.output
    assert not list(out.rglob(f"{TEMP_PREFIX}*"))  # our leftovers are cleaned up
    _manifest_matches_disk(out)


def test_cleanup_touches_only_our_own_temporary_files(project: Project, tmp_path: Path) -> None:
    out = tmp_path / "home"
    (out / "notes").mkdir(parents=True)
    theirs = [out / ".notes.odt.tmp", out / "notes" / ".draft.tmp",
              out / f"{HANDOUT}" / "en" / ".other.pdf.tmp"]
    for path in theirs:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("a user's file")
    ours = out / HANDOUT / "en" / f"{TEMP_PREFIX}x.pdf.abc.tmp"
    ours.write_text("left by a killed build")
    result = invoke(project, "build", HANDOUT, "--lang", "en", "-l", "easy", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert all(path.read_text() == "a user's file" for path in theirs)
    assert not ours.exists()


def test_files_respect_the_umask_and_keep_their_mode(project: Project, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        out = tmp_path / "out"
        assert invoke(project, "build", HANDOUT, "--lang", "en", "-l", "easy", "-o",
                      str(out)).exit_code == 0
        pdf = next(out.rglob("*.pdf"))
        assert pdf.stat().st_mode & 0o777 == 0o644
        assert (out / "manifest.json").stat().st_mode & 0o777 == 0o644
        po = project.catalog_path("es", HANDOUT)
        po.chmod(0o664)
        assert invoke(project, "i18n", "update", "--lang", "es").exit_code == 0
        assert po.stat().st_mode & 0o777 == 0o664
    finally:
        os.umask(old)


def test_two_builds_at_once_keep_one_consistent_manifest(project: Project,
                                                         tmp_path: Path) -> None:
    out = tmp_path / "out"
    handout = Path(sys.executable).with_name("handout")
    base = [str(handout), "build", HANDOUT, "-l", "easy", "-q", "-j", "1",
            "-C", str(project.root), "-o", str(out)]
    first = subprocess.Popen([*base, "--lang", "en"], stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen([*base, "--lang", "es"], stderr=subprocess.PIPE, text=True)
    errors = [first.communicate(timeout=300)[1], second.communicate(timeout=300)[1]]
    assert (first.returncode, second.returncode) == (0, 0), errors
    assert not any("Traceback" in e for e in errors)
    manifest = json.loads((out / "manifest.json").read_text())
    assert {e["lang"] for e in manifest["outputs"]} == {"en", "es"}  # neither lost the other's
    _manifest_matches_disk(out)


def test_a_build_waits_for_the_lock_then_gives_up_clearly(project: Project,
                                                          tmp_path: Path) -> None:
    import fcntl

    from handoutkit import BuildBusy, BuildOptions, Job, build_documents
    from handoutkit.output import LOCK_NAME

    out = tmp_path / "out"
    out.mkdir()
    with (out / LOCK_NAME).open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(BuildBusy, match="another handout build"):
            build_documents(project, [Job(HANDOUT, "en", "easy")],
                            BuildOptions(out_dir=out, lock_timeout=0.3))


@pytest.mark.parametrize("kind", ["file", "read-only"])
def test_an_unusable_build_folder_fails_before_any_work(project: Project, tmp_path: Path,
                                                        kind: str) -> None:
    out = tmp_path / "out"
    if kind == "file":
        out.write_text("not a folder")
    else:
        out.mkdir()
        out.chmod(0o555)
    if kind == "read-only" and os.access(out, os.W_OK):
        pytest.skip("root can write to a read-only folder")
    result = invoke(project, "build", HANDOUT, "--lang", "en", "-o", str(out))
    assert result.exit_code == 2
    assert "build folder" in result.stderr and "Traceback" not in result.output


def test_fail_fast_with_workers_stops_promptly(project: Project, tmp_path: Path) -> None:
    from .test_readability import _make_easy_english_hard

    _make_easy_english_hard(project)
    result = invoke(project, "build", HANDOUT, "-l", "easy", "-j", "2", "--fail-fast",
                    "--json", "-o", str(tmp_path))
    assert result.exit_code == 1
    documents = json.loads(result.stdout)["documents"]
    built = [d for d in documents if d["status"] == "built"]
    assert len(built) <= 2  # at most what the other worker had in hand


# --- tracebacks that must be input errors ----------------------------------------------------

def _expect_input_error(project: Project, needle: str, *args: str) -> str:
    result = invoke(project, *(args or ("build", HANDOUT, "--lang", "es", "-l", "easy")),
                    "-o", str(project.root / "out"))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and needle in result.stderr, result.stderr
    return str(result.stderr)


@pytest.mark.parametrize("value", [
    "Versión %(version)s al 100%. %(reviewed)s; %(review_by)s.",
    "%(version)s 5%y %(reviewed)s %(review_by)s", "%(version)d de %(reviewed)s %(review_by)s"])
def test_a_stray_percent_in_a_template_word_prints_as_text(project: Project, tmp_path: Path,
                                                           value: str) -> None:
    words = own_catalog(project, "es", TEMPLATE_DOMAIN)
    set_msgstr(words, "footer", value, msgid="Version %(version)s. Last reviewed %(reviewed)s. "
               "Next review by %(review_by)s.")
    result = invoke(project, "build", HANDOUT, "--lang", "es", "-l", "easy", "-o",
                    str(tmp_path))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("rule", ["nplurals=3; plural=n+5;", "nplurals=3; plural=n/0;"])
def test_a_broken_plural_rule_is_an_input_error_and_i18n_check_finds_it(project: Project,
                                                                        rule: str) -> None:
    words = own_catalog(project, "es", TEMPLATE_DOMAIN)
    text = words.read_text()
    start = text.index('"Plural-Forms:')
    end = text.index("\\n\"", start) + 3
    words.write_text(text[:start] + f'"Plural-Forms: {rule}\\n"' + text[end:])
    _expect_input_error(project, "Plural-Forms")
    check = invoke(project, "i18n", "check", "--lang", "es")
    assert check.exit_code == 2 and "Plural-Forms" in check.stderr


def test_deep_nesting_and_impossible_dates_are_input_errors(project: Project) -> None:
    path = project.handout_path(HANDOUT)
    original = path.read_text()
    path.write_text("title: " + "[" * 1000 + "\n")
    _expect_input_error(project, "nest")  # libyaml: "nesting depth"; PyYAML: "nested too deeply"
    path.write_text(original.replace("\nreviewed: ", "\nreviewed: 2026-02-30 #", 1))
    stderr = _expect_input_error(project, "2026-02-30")
    assert "handout.yaml:" in stderr
    path.write_text(original)
    (project.root / "handout.toml").write_text("[plan]\nhandouts = " + "[" * 1000 + "\n")
    _expect_input_error(project, "nested too deeply", "build")


@pytest.mark.parametrize(("plan", "needle"), [
    ('[plan]\nlarge_print = "no"\n', "large_print"),
    ("[plan]\nclinic = 5\n", "clinic"),
    ("[build]\nmin_coverage = 2\n", "min_coverage"),
])
def test_the_plan_file_is_validated(project: Project, plan: str, needle: str) -> None:
    (project.root / "handout.toml").write_text(plan)
    stderr = _expect_input_error(project, needle, "build")
    assert "handout.toml:2:" in stderr


def test_a_stylesheet_that_is_a_folder_is_an_input_error(project: Project) -> None:
    (project.root / "templates" / "handout.css").mkdir(parents=True)
    _expect_input_error(project, "handout.css")


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def test_a_huge_png_logo_is_refused_before_decoding(project: Project, tmp_path: Path) -> None:
    (tmp_path / "logo.png").write_bytes(_png(12000, 12000))
    clinic = tmp_path / "clinic.toml"
    clinic.write_text('name = "Test clinic"\nlogo = "logo.png"\n')
    stderr = _expect_input_error(project, "pixels", "build", HANDOUT, "--clinic", str(clinic))
    assert "clinic.toml:2:" in stderr


def test_a_clinic_url_is_filled_as_text_never_evaluated(project: Project, tmp_path: Path) -> None:
    from handoutkit.urls import fill_url

    from .conftest import pdf_text

    template = "https://x.example/{handout.__class__.__mro__}/{handout}/{lang}/{foo}"
    assert fill_url(template, handout="h", lang="es") == (
        "https://x.example/{handout.__class__.__mro__}/h/es/{foo}")
    clinic = tmp_path / "clinic.toml"
    # A name that is never filled in is a typo the QR code would carry: refused at its line.
    clinic.write_text(f'name = "Test clinic"\nhandout_url = "{template}"\n')
    refused = invoke(project, "build", HANDOUT, "--lang", "en", "-l", "easy", "--clinic",
                     str(clinic), "-o", str(tmp_path / "out"))
    assert refused.exit_code == 2 and "clinic.toml:2: handout_url: {foo} is never" in (
        refused.stderr)
    clinic.write_text(f'name = "Test clinic"\nhandout_url = "{template[:-6]}"\n')
    result = invoke(project, "build", HANDOUT, "--lang", "en", "-l", "easy", "--clinic",
                    str(clinic), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    text = pdf_text(next((tmp_path / "out").rglob("*.pdf")))
    assert "<class" not in text and "__mro__" in text.replace("\n", "")


def test_bidi_controls_in_a_translation_are_found_by_i18n_check(project: Project) -> None:
    set_msgstr(project.catalog_path("es", HANDOUT), "what-is-it.heading",
               "\u202e¿Qué es el kratom?")
    check = invoke(project, "i18n", "check", "--lang", "es")
    assert check.exit_code == 2 and "U+202E" in check.stderr
    _expect_input_error(project, "U+202E")


# --- a build ended from outside: kill -9, SIGTERM --------------------------------------------

HANDOUT_BIN = Path(sys.executable).with_name("handout")
#: A hang guard, far above what stopping takes; never a measure of it.
GUARD = 120.0


def _await(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    """Poll for an event no call can wait on (another process's workers), with a hang guard."""
    import time

    deadline = time.monotonic() + GUARD
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def _building(project: Project, out: Path) -> tuple[subprocess.Popen[bytes], set[int]]:
    """A real `handout build -j2` of every document of the first topic, caught while its
    workers are rendering."""
    process = subprocess.Popen([str(HANDOUT_BIN), "build", HANDOUT, "-j2", "--force", "-q",
                                "-o", str(out), "--project", str(project.root)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _await(lambda: len(children(process.pid)) >= 2 or process.poll() is not None,
           "the build's workers started")
    assert process.poll() is None, "the build ended before it could be stopped"
    return process, children(process.pid)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP])
def test_a_build_stopped_from_outside_leaves_no_worker_and_no_lock(
        project: Project, tmp_path: Path, sig: signal.Signals) -> None:
    from handoutkit import BuildOptions, build_documents, make_plan

    out = tmp_path / "out"
    process, workers = _building(project, out)
    process.send_signal(sig)
    process.wait(timeout=GUARD)
    _await(lambda: not any(alive(pid) for pid in workers), "the workers ended")
    if sig != signal.SIGKILL:  # ended as Ctrl-C ends it: said so, and nothing half-written
        assert process.returncode == 130
        assert b"interrupted" in process.stderr.read()  # type: ignore[union-attr]
        assert not [p for p in out.rglob(f"{TEMP_PREFIX}*") if p.name != ".handoutkit.lock"]
    # The next build takes the folder at once: no orphan holds its lock.
    jobs = make_plan(project, [HANDOUT], ["en"], ["easy"])
    report = build_documents(project, jobs, BuildOptions(out_dir=out, lock_timeout=0.5))
    assert not report.failed


def test_a_stopped_build_records_what_it_wrote_before_the_stop(project: Project,
                                                               tmp_path: Path) -> None:
    """Ctrl-C after one PDF of two was rewritten: the manifest says so (it kept the old
    checksum, and the next no-op would have trusted a file it did not describe)."""
    from handoutkit import BuildOptions, build_documents, make_plan

    out = tmp_path / "out"
    jobs = make_plan(project, [HANDOUT], ["en"])
    assert len(jobs) == 2

    def stop_after_the_first(job: object, result: object) -> None:
        if getattr(result, "status", None) == "built":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_documents(project, jobs, BuildOptions(out_dir=out, jobs=1),
                        progress=stop_after_the_first)
    assert len(json.loads((out / "manifest.json").read_text())["outputs"]) == 1
    _manifest_matches_disk(out)


def test_a_stop_a_signal_asked_for_holds_though_its_exception_was_lost(
        project: Project, tmp_path: Path) -> None:
    """Python drops an exception raised in an at-fork hook (logging's runs as each worker is
    forked): a SIGTERM landing there must still stop the build, before its next document."""
    from handoutkit import BuildOptions, build_documents, ended_by_signals, make_plan

    jobs = make_plan(project, [HANDOUT], ["en"])
    with pytest.raises(KeyboardInterrupt), ended_by_signals():
        with contextlib.suppress(KeyboardInterrupt):  # lost, as in the at-fork hook
            signal.raise_signal(signal.SIGTERM)
        build_documents(project, jobs, BuildOptions(out_dir=tmp_path / "out"))
    assert not list(tmp_path.rglob("*.pdf"))
    # Lost after the last document: the block still ends as interrupted.
    with (pytest.raises(KeyboardInterrupt), ended_by_signals(),
          contextlib.suppress(KeyboardInterrupt)):
        signal.raise_signal(signal.SIGHUP)
    with ended_by_signals():  # a next build in this process is not stopped by an old signal
        report = build_documents(project, jobs[:1], BuildOptions(out_dir=tmp_path / "o"))
    assert not report.failed


def test_the_container_runs_unprivileged_under_an_init_that_passes_sigterm(
        tmp_path: Path) -> None:
    """Checked without Docker (no base image can be pulled here): the Containerfile's user and
    entrypoint, and that entrypoint run as PID 1 of a new PID namespace, stopped by SIGTERM."""
    import socket

    text = (ROOT / "Containerfile").read_text()
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    [entry] = [line for line in text.splitlines() if line.startswith("ENTRYPOINT ")]
    entrypoint = json.loads(entry.removeprefix("ENTRYPOINT "))
    assert entrypoint[0] in ("tini", "dumb-init") and entrypoint[-1] == "handout"
    if not shutil.which(entrypoint[0]) or not shutil.which("unshare"):
        pytest.skip(f"needs {entrypoint[0]} and unshare (scripts/setup.sh --test installs them)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    shutil.copytree(ROOT / "handouts", tmp_path / "handouts")
    env = {**os.environ, "PATH": f"{HANDOUT_BIN.parent}:{os.environ['PATH']}"}
    namespace = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", *entrypoint,
                                  "serve", "--port", str(port)], cwd=tmp_path, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def listening() -> bool:
            with socket.socket() as client:
                return client.connect_ex(("127.0.0.1", port)) == 0
        _await(lambda: listening() or namespace.poll() is not None, "the desk answered")
        [init] = children(namespace.pid)  # PID 1 inside: the entrypoint's init
        assert Path(f"/proc/{init}/comm").read_text().strip() == entrypoint[0]
        os.kill(init, signal.SIGTERM)
        # 143 (128 + SIGTERM): the desk shut down and ended by the signal it was sent.
        assert namespace.wait(timeout=GUARD) in (0, 128 + signal.SIGTERM)
    finally:
        if namespace.poll() is None:
            namespace.kill()


def test_a_duplicate_catalog_entry_is_named_and_never_dropped(project: Project) -> None:
    catalog = project.catalog_path("es", HANDOUT)
    text = catalog.read_text()
    start = text.index('msgctxt "title.easy"')
    end = text.index("\n\n", start)
    entry = text[start:end].replace('msgstr "', 'msgstr "OTRA ', 1)
    catalog.write_text(text + "\n" + entry + "\n")
    first = text[:start].count("\n") + 1
    second = (text + "\n").count("\n") + 1
    check = invoke(project, "i18n", "check", "--lang", "es")
    assert check.exit_code == 2 and "Traceback" not in check.output
    assert f"{catalog}:{second}: duplicate entry" in check.stderr
    assert f"line {first}" in check.stderr
    before = catalog.read_bytes()
    update = invoke(project, "i18n", "update", "--lang", "es")
    assert update.exit_code == 2 and catalog.read_bytes() == before  # nothing dropped


@pytest.mark.parametrize("name", ["Ana\u202eZ", "Ana\u2028Pérez", "Ana\x07", "Ana\u200fB",
                                  "x" * 81, " "])
def test_a_reviewer_name_that_could_disguise_the_page_is_refused(project: Project,
                                                                 name: str) -> None:
    before = project.catalog_path("es", HANDOUT).read_bytes()
    result = invoke(project, "i18n", "review", "es", "--by", name)
    assert result.exit_code == 2 and "--by: plain text" in result.stderr
    assert project.catalog_path("es", HANDOUT).read_bytes() == before


def test_a_review_dated_in_the_future_is_refused(project: Project) -> None:
    result = invoke(project, "i18n", "review", "es", "--by", "Ana", "--date", "2099-12-31")
    assert result.exit_code == 2 and "in the future" in result.stderr


def test_status_of_a_language_the_project_lacks_exits_2(project: Project) -> None:
    result = invoke(project, "i18n", "status", "--lang", "xx")
    assert result.exit_code == 2 and "no 'xx' catalogs" in result.stderr


@pytest.mark.parametrize("damage", ["due", "folder", "list"])
def test_a_damaged_manifest_is_no_record_and_no_traceback(project: Project, tmp_path: Path,
                                                          damage: str) -> None:
    out = tmp_path / "out"
    args = ["build", HANDOUT, "--lang", "en", "-l", "easy", "-o", str(out)]
    assert invoke(project, *args).exit_code == 0
    manifest = out / "manifest.json"
    if damage == "due":
        data = json.loads(manifest.read_text())
        data["outputs"][0]["due"] = [["a fact", "not a date", "x.yaml"]]
        manifest.write_text(json.dumps(data))
    elif damage == "list":
        manifest.write_text("[1, 2]")
    else:
        manifest.unlink()
        manifest.mkdir()
    result = invoke(project, *args)
    assert ("Traceback" not in result.output and result.exception is None) or isinstance(
        result.exception, SystemExit)
    if damage == "folder":
        assert result.exit_code == 2 and "manifest's place is taken by a folder" in result.stderr
    else:
        assert result.exit_code == 0 and "1 built" in result.stdout


def test_a_folder_it_may_not_write_is_a_clear_error(project: Project,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """As a non-root user meets a read-only catalog folder (root may write anywhere, so the
    refusal is made here): exit 2 naming the file, no traceback, nothing half-written."""
    real = os.replace

    def refuse(source: str, target: str) -> None:
        if str(target).endswith(".po"):
            raise PermissionError(13, "Permission denied", str(target))
        real(source, target)

    monkeypatch.setattr(os, "replace", refuse)
    catalog = project.catalog_path("es", HANDOUT)
    before = catalog.read_bytes()
    result = invoke(project, "i18n", "review", "es", "--by", "Ana")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "Permission denied" in result.stderr and ".po" in result.stderr
    assert catalog.read_bytes() == before
    assert not list(catalog.parent.glob(f"{TEMP_PREFIX}*"))
