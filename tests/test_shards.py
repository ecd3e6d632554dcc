"""A build split across machines (`--shard K/N`) and joined (`handout manifest merge`) is the
same build: the same PDF bytes and manifest entries; a merge refuses parts that do not fit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handoutkit import Project, Shard, make_plan
from handoutkit.cli import app

from .conftest import ROOT, short_project

runner = CliRunner()
TOPICS = ["kratom-chronic-pain", "opioid-overdose-naloxone"]
PLAN = [*TOPICS, "--lang", "en", "--lang", "es", "--level", "easy", "--paper", "a4"]


def _build(project: Project, out: Path, *extra: str) -> None:
    result = runner.invoke(app, ["build", *PLAN, "-o", str(out), "-q", *extra,
                                 "--project", str(project.root)])
    assert result.exit_code == 0, result.output


def _entries(folder: Path) -> dict[str, dict[str, object]]:
    manifest = json.loads((folder / "manifest.json").read_text())
    return {e["path"]: {k: v for k, v in e.items() if k != "stamp"}
            for e in manifest["outputs"]}


#: One worker runs the module, so its build is made once.
pytestmark = pytest.mark.xdist_group("shards")

@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Path, Path]:
    """One plain build, and the same plan built in three shares copied into one folder."""
    root = tmp_path_factory.mktemp("shards")
    project = short_project(root)  # how a build splits does not depend on its pages' length
    _build(project, root / "single")
    merged = root / "merged"
    for index in (1, 2, 3):
        _build(project, root / f"share{index}", "--shard", f"{index}/3")
        shutil.copytree(root / f"share{index}", merged, dirs_exist_ok=True)
    return project, root / "single", merged


def test_three_shares_merged_equal_one_build(builds: tuple[Project, Path, Path]) -> None:
    project, single, merged = builds
    parts = sorted(p.name for p in merged.glob("manifest.*-of-3.json"))
    assert parts == [f"manifest.{k}-of-3.json" for k in (1, 2, 3)]
    result = runner.invoke(app, ["manifest", "merge", str(merged), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["documents"] == len(_entries(single)) == 4
    assert _entries(merged) == _entries(single)
    for path in _entries(single):
        assert (merged / path).read_bytes() == (single / path).read_bytes(), path
    # The merged folder is a build like any other: building the plan into it makes nothing.
    again = runner.invoke(app, ["build", *PLAN, "-o", str(merged), "--json",
                                "--project", str(project.root)])
    assert again.exit_code == 0, again.output
    assert {d["status"] for d in json.loads(again.stdout)["documents"]} == {"skipped"}


def test_shares_are_stable_and_cover_the_plan_once() -> None:
    jobs = make_plan(Project(ROOT), TOPICS)
    shares = [Shard(k, 4).select(jobs) for k in (1, 2, 3, 4)]
    assert sorted(str(j.output) for share in shares for j in share) == sorted(
        str(j.output) for j in jobs)
    assert max(map(len, shares)) - min(map(len, shares)) <= 1  # dealt out, not left to chance
    # The same share whatever order the plan lists its documents in.
    assert Shard(2, 4).select(jobs) == Shard.parse(" 2/4 ").select(list(reversed(jobs)))[::-1]


def test_a_merge_refuses_what_does_not_fit(builds: tuple[Project, Path, Path],
                                           tmp_path: Path) -> None:
    _, _, merged = builds
    folder = tmp_path / "copy"
    shutil.copytree(merged, folder)
    (folder / "manifest.2-of-3.json").unlink()
    part = folder / "manifest.3-of-3.json"
    data = json.loads(part.read_text())
    data["tool_version"] = "0.0.1"
    part.write_text(json.dumps(data))
    victim = next(folder.rglob("*.pdf"))
    victim.write_bytes(victim.read_bytes() + b"%")
    result = runner.invoke(app, ["manifest", "merge", str(folder)])
    assert result.exit_code == 2
    assert "missing part(s): manifest.2-of-3.json" in result.stderr
    assert "different handoutkit versions" in result.stderr and "0.0.1" in result.stderr
    assert "not the PDF its part records" in result.stderr
    assert "Traceback" not in result.output
    bad = runner.invoke(app, ["build", "--shard", "4/3", "--project", str(ROOT)])
    assert bad.exit_code == 2 and "1 ≤ K ≤ N" in bad.stderr
