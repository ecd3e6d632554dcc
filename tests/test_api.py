"""The Python API as an integrator meets it: validated jobs, options honoured, one error
family, immutable results, and the CLI's edges."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import handoutkit
from handoutkit import (
    BuildBusy,
    BuildOptions,
    DocumentRefused,
    HandoutkitError,
    InputError,
    InvalidChoice,
    Job,
    Project,
    check_readability,
    load_clinic,
    render_pdf,
)
from handoutkit.cli import app
from handoutkit.serve import create_app

from .conftest import HANDOUT, ROOT, squash

runner = CliRunner()


def test_a_job_is_checked_when_made() -> None:
    with pytest.raises(InvalidChoice) as refused:
        Job(HANDOUT, "en", "easy", paper="legal")
    assert refused.value.field_name == "paper" and "unknown paper size 'legal'" in str(
        refused.value)
    with pytest.raises(InvalidChoice) as refused:
        Job(HANDOUT, "en", "hardest")
    assert refused.value.field_name == "level"
    with pytest.raises(InvalidChoice) as refused:
        Job("../etc", "en", "easy")
    assert refused.value.field_name == "handout"


def test_render_pdf_prints_the_clinic_whatever_the_options(tmp_path: Path) -> None:
    from pypdf import PdfReader

    clinic = load_clinic(ROOT / "examples" / "clinic" / "clinic.toml")
    data, result = render_pdf(Project(ROOT), Job(HANDOUT, "en", "easy"), clinic=clinic,
                              options=BuildOptions(out_dir=tmp_path))
    (tmp_path / "clinic.pdf").write_bytes(data)
    text = "".join(page.extract_text() for page in PdfReader(tmp_path / "clinic.pdf").pages)
    assert "RiversideCommunityClinic" in squash(text) and result.status == "built"


def test_every_error_is_of_one_family_and_exported() -> None:
    for error in (InputError, InvalidChoice, DocumentRefused, BuildBusy,
                  handoutkit.UnknownReference, handoutkit.DeskBusy):
        assert issubclass(error, HandoutkitError)
        assert error.__name__ in handoutkit.__all__


def test_results_are_immutable_all_the_way_down() -> None:
    [report] = check_readability(Project(ROOT), [Job(HANDOUT, "en", "easy")])
    assert isinstance(report.measures, tuple) and isinstance(report.hardest, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.measures = ()  # type: ignore[misc]
    assert not hasattr(report.measures, "clear")


@pytest.mark.parametrize("command", ["build", "list", "check"])
def test_a_project_folder_that_is_missing_or_not_a_project_is_exit_2(
        tmp_path: Path, command: str) -> None:
    missing = runner.invoke(app, [command, "--project", str(tmp_path / "missing")])
    assert missing.exit_code == 2 and "no such folder" in missing.stderr
    assert not (tmp_path / "missing").exists()
    empty = runner.invoke(app, [command, "--project", str(tmp_path)])
    assert empty.exit_code == 2 and "not a handoutkit project" in empty.stderr
    assert not (tmp_path / "build").exists()


def test_the_api_docs_need_no_network() -> None:
    with TestClient(create_app(Project(ROOT), allowed_hosts=["testserver"])) as client:
        page = client.get("/docs")
    assert page.status_code == 200 and "/api/render" in page.text
    assert "<script" not in page.text and "cdn" not in page.text.lower()
    assert HANDOUT in page.text  # the choices the project allows


def test_no_module_imports_one_that_imports_it_back() -> None:
    """The stages build on each other one way: no import cycle, lazy imports included."""
    import ast

    package = ROOT / "src" / "handoutkit"
    graph: dict[str, set[str]] = {}
    for path in package.glob("*.py"):
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
        graph[path.stem] = found - {path.stem}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for step in graph.get(start, ()):
            if step == goal or (step not in seen and reaches(step, goal, seen | {step})):
                return True
        return False

    cycles = sorted(module for module in graph if reaches(module, module, {module}))
    assert not cycles, f"modules on an import cycle: {cycles}"


def test_no_function_is_over_sixty_lines_unless_it_says_why() -> None:
    """A newcomer reads any function at once; a longer one says at its top why it is long."""
    import ast

    long = []
    for path in sorted((ROOT / "src" / "handoutkit").glob("*.py")):
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                body = node.body[1] if len(node.body) > 1 and isinstance(
                    node.body[0], ast.Expr) else node.body[0]
                top = lines[body.lineno - 4:body.lineno]
                if size > 60 and not any("Long by design" in line for line in top):
                    long.append(f"{path.name}:{node.lineno} {node.name} ({size} lines)")
    assert not long, long


#: The layers over the library: they parse, route and print, and call only what the root exports.
LAYERS = ("cli.py", "serve.py", "preview.py")


def test_the_cli_desk_and_preview_import_only_the_root_package() -> None:
    """``from . import Name`` of an exported name, never a module of the package: a newcomer
    finds everything the layers use in ``handoutkit.__all__``."""
    import ast

    exported = set(handoutkit.__all__)
    wrong = []
    for name in LAYERS:
        path = ROOT / "src" / "handoutkit" / name
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                names = [alias.name for alias in node.names]
                if node.level != 1 or node.module or not exported.issuperset(names):
                    wrong.append(f"{name}:{node.lineno}: from {'.' * node.level}"
                                 f"{node.module or ''} import {', '.join(names)}")
            elif isinstance(node, ast.ImportFrom) and node.module:
                if node.module.split(".")[0] == "handoutkit":
                    wrong.append(f"{name}:{node.lineno}: from {node.module} import ...")
            elif isinstance(node, ast.Import):
                wrong += [f"{name}:{node.lineno}: import {alias.name}" for alias in node.names
                          if alias.name.split(".")[0] == "handoutkit"]
    assert not wrong, "\n".join(wrong)


def _documented_constant(module: str, attribute: str) -> bool:
    """Whether ``attribute``'s assignment in ``module`` has a ``#:`` line above it or a
    string after it."""
    import ast

    source = (ROOT / "src" / "handoutkit" / f"{module}.py").read_text()
    lines = source.splitlines()
    body = ast.parse(source).body
    for index, node in enumerate(body):
        targets = node.targets if isinstance(node, ast.Assign) else [
            node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == attribute for t in targets):
            above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
            after = body[index + 1] if index + 1 < len(body) else None
            string_after = (isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                            and isinstance(after.value.value, str))
            return above.startswith("#:") or string_after
    return False


def test_every_name_the_root_exports_says_what_it_is_for() -> None:
    """Classes and functions by their own docstring (not one a dataclass or a base class
    made), constants by a ``#:`` comment above their assignment."""
    import inspect

    assert set(handoutkit.__all__) == {*handoutkit._EXPORTS, "__version__"}
    missing = []
    for name in handoutkit.__all__:
        module, _, attribute = handoutkit._EXPORTS.get(name, "__init__").partition(":")
        value = getattr(handoutkit, name)
        if inspect.isclass(value):
            doc = value.__dict__.get("__doc__") or ""
            if doc.startswith(f"{value.__name__}("):  # the signature a dataclass writes
                doc = ""
        elif inspect.isroutine(value):
            doc = value.__doc__ or ""
        else:
            doc = "a documented constant" if _documented_constant(module, attribute or name) else ""
        if len(doc.split()) < 3:
            missing.append(name)
    assert not missing, f"exported without saying what it is for: {missing}"
