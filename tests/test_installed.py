"""The user's installation is the tested one: the wheel, installed non-editable into a fresh
virtualenv, run as a non-root user in projects outside this repository.

One project is made by ``handout init``; another holds this repository's topics and catalogs,
copied as a user would. Nothing here copies package files into a project. The README's ``sh``
blocks are each run here (``<!-- run: … -->``) or say why not (``<!-- not run: … -->``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from .conftest import HANDOUT, ROOT, pdf_text

pytestmark = pytest.mark.xdist_group("installed")  # one worker builds and installs once

#: A hang guard for one command, far above what any of them takes.
COMMAND_TIMEOUT = 600
NOBODY = 65534


@dataclass(frozen=True)
class Installed:
    """A virtualenv holding the installed wheel, and how to run a command as its user."""

    base: Path
    venv: Path
    wheel: Path
    as_nobody: bool

    def env(self) -> dict[str, str]:
        home = self.base / "home"
        return {"PATH": f"{self.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
                "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), "LANG": "C.UTF-8",
                "COLUMNS": "120", "NO_COLOR": "1", "PIP_NO_INDEX": "1",
                "PIP_DISABLE_PIP_VERSION_CHECK": "1"}

    def command(self, argv: list[str]) -> list[str]:
        if not self.as_nobody:
            return argv
        return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv]

    def run(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(["handout", *args]), cwd=cwd, env=self.env(),
                              capture_output=True, text=True, timeout=COMMAND_TIMEOUT)

    def shell(self, script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(["bash", "-euo", "pipefail", "-c", script]),
                              cwd=cwd, env=self.env(), capture_output=True, text=True,
                              timeout=COMMAND_TIMEOUT)

    def folder(self, name: str) -> Path:
        """A new folder the command's user owns."""
        made = self.shell(f"mkdir -p {name}", self.base)
        assert made.returncode == 0, made.stderr
        return self.base / name


def _can_run_as_nobody(base: Path, venv: Path) -> bool:
    """Whether an unprivileged user can run the installed command here (not where Python
    itself lives in a folder only root may enter, as pyenv's under /root)."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        return False
    probe = Installed(base, venv, base, True).shell(
        "handout --version && python -c 'import weasyprint'", base)
    return probe.returncode == 0


def _package_files(venv: Path) -> dict[str, bytes]:
    found = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import handoutkit, pathlib; print(pathlib.Path("
                            "handoutkit.__file__).parent)"],
                           check=True, capture_output=True, text=True).stdout.strip()
    return {str(path): path.read_bytes() for path in sorted(Path(found).rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts}


@pytest.fixture(scope="module")
def installed(wheel: Path) -> Iterator[Installed]:
    """The wheel built from this tree and installed into a new virtualenv (its dependencies
    come from the suite's own environment, so nothing is downloaded)."""
    base = Path(tempfile.mkdtemp(prefix="handoutkit-installed-"))
    try:
        base.chmod(0o777)
        (base / "home").mkdir(mode=0o777)
        (base / "home").chmod(0o777)
        venv = base / "venv"
        # No pip of its own (ensurepip alone takes seconds): the suite's pip is reached
        # through the path below, and a `pip` command that runs it as this environment's.
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                       capture_output=True, timeout=COMMAND_TIMEOUT)
        # The suite's site-packages after the new environment's own, as a plain path: its
        # .pth files (the editable install of this tree among them) are not read.
        purelib = Path(subprocess.run(
            [str(venv / "bin" / "python"), "-c",
             "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True).stdout.strip())
        (purelib / "zz-handoutkit-test-deps.pth").write_text(
            sysconfig.get_paths()["purelib"] + "\n")
        pip = venv / "bin" / "pip"
        pip.write_text(f"#!{venv / 'bin' / 'python'}\nimport sys\n"
                       "from pip._internal.cli.main import main\nsys.exit(main())\n")
        pip.chmod(0o755)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps", "--no-index",
                        str(wheel)], check=True, capture_output=True, timeout=COMMAND_TIMEOUT)
        where = subprocess.run([str(venv / "bin" / "python"), "-c",
                                "import handoutkit; print(handoutkit.__file__)"],
                               check=True, capture_output=True, text=True).stdout
        assert Path(where).is_relative_to(purelib), where  # the wheel's copy, not this tree
        package = _package_files(venv)
        yield Installed(base, venv, wheel, _can_run_as_nobody(base, venv))
        # As for a user who may not write there: no command changed the installed package.
        assert _package_files(venv) == package, "a command wrote into the installed package"
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def new_project(installed: Installed) -> Path:
    """A project made by ``handout init`` from the installed wheel."""
    made = installed.run("init", "clinic", cwd=installed.folder("made"))
    assert made.returncode == 0, made.stderr
    return installed.base / "made" / "clinic"


@pytest.fixture(scope="module")
def repo_project(installed: Installed) -> Path:
    """This repository's topics, region profiles and catalogs, copied as a user copies them
    (the theme stays in the package)."""
    target = installed.folder("copied")
    for name in ("handouts", "locales", "examples"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, target / name)
    if installed.as_nobody:  # the copy is the user's own
        for folder, dirs, files in os.walk(target):
            for name in [".", *dirs, *files]:
                os.chown(Path(folder, name), NOBODY, NOBODY)
    return target


def test_the_installed_package_is_the_one_run(installed: Installed, new_project: Path) -> None:
    python = installed.venv / "bin" / "python"
    result = installed.shell(f"{python} -c 'import handoutkit; print(handoutkit.__file__)'",
                             new_project)
    assert str(installed.venv) in result.stdout and str(ROOT) not in result.stdout


def test_translators_commands_work_in_a_new_project(installed: Installed,
                                                   new_project: Path) -> None:
    status = installed.run("i18n", "status", "--json", cwd=new_project)
    assert status.returncode == 0, status.stderr
    rows = json.loads(status.stdout)["catalogs"]
    theme = next(row for row in rows if row["domain"] == "handoutkit" and row["lang"] == "es")
    # The theme's catalog is named by its place in the package, never by a server path.
    assert theme["path"].startswith("handoutkit/theme/locales/es/"), theme
    for args in (("i18n", "status", "--lang", "es"), ("i18n", "update"),
                 ("i18n", "review", "es", "--by", "Ana Pérez"), ("check",), ("build",),
                 ("i18n", "status")):
        result = installed.run(*args, cwd=new_project)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
    # `review` signed the project's own copy of the theme's catalog; the package is untouched.
    own = new_project / "locales" / "es" / "LC_MESSAGES" / "handoutkit.po"
    assert "X-Reviewed-By: Ana Pérez" in own.read_text()
    spanish = pdf_text(new_project / "build/hand-washing/es/hand-washing.es.easy.a4.pdf")
    assert "Ana Pérez" in spanish


def test_the_repository_topics_check_and_build_when_installed(installed: Installed,
                                                              repo_project: Path) -> None:
    for args in (("list", "--json"), ("check", HANDOUT, "--lang", "es"),
                 ("i18n", "status", "--json"), ("i18n", "check")):
        result = installed.run(*args, cwd=repo_project)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
    built = installed.run("build", HANDOUT, "--lang", "es", "-l", "easy", cwd=repo_project)
    assert built.returncode == 0, built.stderr
    pdf = repo_project / "build" / HANDOUT / "es" / f"{HANDOUT}.es.easy.a4.pdf"
    assert "Fuentes" in pdf_text(pdf)  # the theme's words, from the package


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def desk(installed: Installed, project: Path) -> Iterator[httpx.Client]:
    """``handout serve`` as a user starts it, until the test ends."""
    port = _free_port()
    log = (installed.base / f"desk-{port}.log").open("w")
    process = subprocess.Popen(
        installed.command(["handout", "serve", "--port", str(port), "--workers", "1"]),
        cwd=project, env=installed.env(), stdout=log, stderr=subprocess.STDOUT)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as client:
            deadline = time.monotonic() + COMMAND_TIMEOUT  # a hang guard, not a timing
            while True:
                assert process.poll() is None, Path(log.name).read_text()
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "the desk never answered"
                    time.sleep(0.1)  # polling for the port to open: there is no event to await
            yield client
    finally:
        process.terminate()
        process.wait(timeout=COMMAND_TIMEOUT)
        log.close()


def test_the_desk_serves_refuses_with_409_and_keeps_its_pool(installed: Installed,
                                                             tmp_path: Path) -> None:
    project = installed.folder("desk") / "clinic"
    made = installed.run("init", "clinic", cwd=project.parent)
    assert made.returncode == 0, made.stderr
    started = installed.run("i18n", "init", "fr", "--topic", "hand-washing", cwd=project)
    assert started.returncode == 0, started.stderr
    with desk(installed, project) as client:
        assert client.get("/").status_code == 200
        handouts = client.get("/api/handouts")
        assert handouts.status_code == 200
        assert [h["id"] for h in handouts.json()["handouts"]] == ["hand-washing"]
        assert client.get("/api/render", params={"handout": "hand-washing", "lang": "en",
                                                 "level": "easy"}).status_code == 200
        french = {"handout": "hand-washing", "lang": "fr", "level": "easy"}
        refused = client.get("/api/render", params=french)
        assert refused.status_code == 409, refused.text
        [reason] = refused.json()["detail"]
        assert "not built: only 0% of its" in reason["message"]
        page = client.get("/", params=french)
        assert page.status_code == 200
        assert "may not be printed" in page.text and "not built: only 0%" in page.text
        assert 'id="print"' not in page.text and 'id="download"' not in page.text
        assert client.get("/healthz").json()["pools_replaced"] == 0


def test_the_desk_follows_the_projects_release_policy(installed: Installed,
                                                      repo_project: Path) -> None:
    (repo_project / "handout.toml").write_text("[build]\nrequire_review = true\n")
    try:
        spanish = {"handout": HANDOUT, "lang": "es", "level": "easy"}
        with desk(installed, repo_project) as client:
            refused = client.get("/api/render", params=spanish)
            assert refused.status_code == 409, refused.text
            assert "draft translation" in refused.json()["detail"][0]["message"]
            assert client.get("/api/render", params={**spanish, "lang": "en"}
                              ).status_code == 200
        built = installed.run("build", HANDOUT, "--lang", "es", "-l", "easy", "-o",
                              "policy-build", cwd=repo_project)
        assert built.returncode == 1 and "draft translation" in built.stderr
        flag = installed.run("build", HANDOUT, "--lang", "es", "-l", "easy", "-o",
                             "policy-build", "--allow-drafts", cwd=repo_project)
        assert flag.returncode == 0, flag.stderr  # a command-line flag overrides the file
    finally:
        (repo_project / "handout.toml").unlink()


# --- the README's examples ----------------------------------------------------------------------

MARK = re.compile(r"<!--\s*(not run|run):\s*(.*?)\s*-->")


def readme_blocks() -> list[tuple[str, int, str | None, str]]:
    """Every ``sh`` block of the README and the docs: (file, line, mark, code)."""
    blocks = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        if not path.is_file():
            continue
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines):
            if line.strip() != "```sh":
                continue
            end = next(i for i in range(number + 1, len(lines)) if lines[i].strip() == "```")
            above = next((lines[i] for i in range(number - 1, -1, -1) if lines[i].strip()), "")
            found = MARK.search(above)
            mark = f"{found.group(1)}: {found.group(2)}" if found else None
            blocks.append((path.name, number + 1, mark, "\n".join(lines[number + 1:end])))
    return blocks


def test_every_readme_block_is_run_or_says_why_not() -> None:
    blocks = readme_blocks()
    assert blocks
    unmarked = [f"{name}:{line}" for name, line, mark, _ in blocks if mark is None]
    assert not unmarked, f"sh blocks with neither <!-- run: … --> nor <!-- not run: … -->: " \
                         f"{unmarked}"
    assert all(mark.split(":", 1)[1].strip() for _, _, mark, _ in blocks if mark)


def test_the_readme_blocks_marked_run_work_as_written(installed: Installed) -> None:
    """Each block runs as a user types it: the install block in an empty folder holding the
    wheel, the others in the project that block made."""
    runs = [(name, line, mark, code) for name, line, mark, code in readme_blocks()
            if mark and mark.startswith("run:")]
    assert runs
    empty = installed.folder("readme")
    shutil.copy(installed.wheel, empty / installed.wheel.name)
    (empty / installed.wheel.name).chmod(0o644)
    project = empty / "clinic-handouts"
    for name, line, mark, code in runs:
        cwd = empty if "empty folder" in mark else project
        result = installed.shell(code, cwd)
        assert result.returncode == 0, (f"{name}:{line}", code, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr, f"{name}:{line}"
    assert (project / "handouts" / "hepatitis-c-testing" / "handout.yaml").is_file()
    assert (project / "locales" / "pt_BR" / "LC_MESSAGES" / "hand-washing.po").is_file()
    assert (project / "locales" / "fr" / "LC_MESSAGES" / "hand-washing.po").is_file()


def test_extract_gives_an_installed_project_the_themes_template(installed: Installed,
                                                                new_project: Path) -> None:
    result = installed.run("i18n", "extract", cwd=new_project)
    assert result.returncode == 0, result.stderr
    template = new_project / "locales" / "handoutkit.pot"
    assert template.is_file() and 'msgid "Page %(page)s of %(pages)s"' in template.read_text()


def test_the_ci_recipes_run_the_checks_a_pull_request_needs(installed: Installed,
                                                           new_project: Path) -> None:
    """Each recipe installs the wheel and runs `handout i18n check` and `handout check`; the
    same commands pass in a project made by `handout init`."""
    import yaml

    github = yaml.safe_load((ROOT / "examples/ci/github-actions.yml").read_text())
    steps = [step.get("run", "") for step in github["jobs"]["check"]["steps"]]
    gitlab = yaml.safe_load((ROOT / "examples/ci/gitlab-ci.yml").read_text())
    for commands in (steps, gitlab["translations"]["script"]):
        assert any(command.startswith("pip install") for command in commands)
        assert "handout i18n check" in commands and "handout check" in commands
    layout = "handout i18n update && git diff --exit-code -- locales"
    assert layout in steps and layout in gitlab["translations"]["script"]
    # A copy under git, made as the commands' user (the project is shared by other tests).
    git = "git -c user.name=ci -c user.email=ci@example.org"
    copied = installed.shell(f"cp -a {new_project} ci && cd ci && git init -q && "
                             f"{git} add -A && {git} commit -qm start", installed.base)
    assert copied.returncode == 0, copied.stderr
    project = installed.base / "ci"
    for command in ("handout i18n check", "handout check", layout):
        result = installed.shell(command, project)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
    # A catalog in another tool's layout (here an extra blank line) fails the step.
    catalog = next(project.glob("locales/*/LC_MESSAGES/*.po"))
    exported = installed.shell(f"sed -i '0,/^$/s//\\n/' {catalog} && "
                               f"{git} commit -qam 'as exported'", project)
    assert exported.returncode == 0, exported.stderr
    assert installed.shell(layout, project).returncode == 1
