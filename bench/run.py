"""Benchmarks: the handoutkit pipeline against bare WeasyPrint, at one document and at scale.

Run it from the repository root after `make setup`:

    .venv/bin/python bench/run.py                     # writes bench/RESULTS.md
    .venv/bin/python bench/run.py --against COMMIT    # and COMMIT's figures beside this tree's
    .venv/bin/python bench/run.py --quick --out FILE  # the start-up and scale figures only

Every figure comes from this run on this machine; nothing here is a test or a threshold. With
``--against``, the commit is checked out into a temporary ``git worktree`` and each
measurement runs once per tree with ``PYTHONPATH`` at that tree's ``src/`` (and that tree's
project files), the trees' commands in turns, so that drift hits both alike; the worktree is
removed afterwards. Processes are timed with bytecode caching on, as an installed package is.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from corpus import TOPIC, make_project  # noqa: E402 - siblings, importable once bench/ is on the path

HANDOUT = TOPIC
#: Rounds of each in-process measurement (section 1) and of each timed process.
REPEAT = 15
PROCESS_REPEAT = 7
#: Corpus sizes, as multiples of the topic's documents: the project with N - 1 extra copies.
SIZES = (1, 4, 8, 16)
ONE_DOCUMENT = [HANDOUT, "--lang", "en", "-l", "standard", "--paper", "a4"]


@dataclass(frozen=True)
class Tree:
    """A checkout measured: its ``src/`` is imported, its project files are built."""

    name: str
    root: Path

    @property
    def slug(self) -> str:
        return self.name.replace(" ", "-")

    def env(self) -> dict[str, str]:
        env = {**os.environ, "PYTHONPATH": str(self.root / "src")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its bytecode
        return env

    def handout(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "handoutkit", *args]

    def child(self, *args: str) -> Any:
        """Run a measurement of this file in a process that imports this tree."""
        out = subprocess.run([sys.executable, __file__, "--child", *args], env=self.env(),
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out)


# --- timing -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figure:
    """Milliseconds of one action over interleaved rounds: the median, and the spread."""

    low: float
    median: float
    high: float

    @classmethod
    def of(cls, seconds: list[float]) -> Figure:
        return cls(min(seconds) * 1000, statistics.median(seconds) * 1000, max(seconds) * 1000)

    def text(self, digits: int = 0, unit: str = " ms") -> str:
        """``median (min–max)``, e.g. ``184 (179–201) ms``."""
        return f"{self.median:.{digits}f} ({self.low:.{digits}f}–{self.high:.{digits}f}){unit}"


def interleaved(actions: dict[str, Callable[[], object]], repeat: int = REPEAT
                ) -> dict[str, Figure]:
    """Each action's figure, run in turns so that drift hits all alike."""
    for action in actions.values():
        action()  # warm-up: imports, fonts, template compilation, bytecode
    samples: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeat):
        for name, action in actions.items():
            start = time.perf_counter()
            action()
            samples[name].append(time.perf_counter() - start)
    return {name: Figure.of(values) for name, values in samples.items()}


def processes(commands: dict[str, tuple[list[str], dict[str, str]]],
              repeat: int = PROCESS_REPEAT) -> dict[str, Figure]:
    """Each command's wall time as a whole process, the commands run in turns."""
    def run(command: list[str], env: dict[str, str]) -> Callable[[], object]:
        return lambda: subprocess.run(command, env=env, check=True, capture_output=True)

    return interleaved({name: run(*spec) for name, spec in commands.items()}, repeat)


# --- measurements run inside a tree's process (--child) -----------------------------------

@contextmanager
def layout_through(wrap: Callable[[Any], Any]) -> Iterator[Any]:
    """Send the pipeline's page layouts through ``wrap(html_to_pdf)``, wherever the tree's
    pipeline looks the function up (``pdf`` when it is called, or ``pipeline`` once imported);
    yields the real one."""
    from handoutkit import pdf, pipeline

    layout = pdf.html_to_pdf
    modules = [m for m in (pdf, pipeline) if getattr(m, "html_to_pdf", None) is layout]
    for module in modules:
        module.html_to_pdf = wrap(layout)  # type: ignore[attr-defined]
    try:
        yield layout
    finally:
        for module in modules:
            module.html_to_pdf = layout  # type: ignore[attr-defined]


def child_per_pdf(project_dir: str, html_out: str) -> dict[str, Any]:
    """One two-page A4 handout: the whole pipeline against WeasyPrint alone on its HTML.

    The HTML is the page the pipeline itself lays out (caught on its way to WeasyPrint), and
    is written to ``html_out`` for the one-shot bare script.
    """
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    from handoutkit import BuildOptions, Job, Project, render_pdf
    from handoutkit.pdf import PDF_VARIANT

    project = Project(Path(project_dir))
    job = Job(HANDOUT, "en", "standard", "a4")
    options = BuildOptions(out_dir=Path(html_out).parent)
    seen: dict[str, Any] = {}

    def catching(layout: Any) -> Any:
        def catch(html: str, *args: Any, **kwargs: Any) -> Any:
            seen.update(html=html, args=args, kwargs=kwargs)
            return layout(html, *args, **kwargs)
        return catch

    with layout_through(catching) as layout:
        render_pdf(project, job, options=options)
    html = seen["html"]
    # The stylesheet's folder: the page links it, and its icons, relative to that.
    # Trees before the theme moved into the package kept it in the project's templates/.
    theme = getattr(project, "theme", None)
    css = theme.find("handout.css") if theme else project.root / "templates" / "handout.css"
    base = css.parent.as_uri() + "/"
    # Newer trees apply the stylesheet themselves (parsed once per process), older pages link
    # it; a bare script parses it with each page either way.
    linked = 'rel="stylesheet"' in html
    Path(html_out).write_text(json.dumps({"html": html, "base_url": base,
                                          "css": None if linked else str(css),
                                          "pdf_variant": PDF_VARIANT}))
    shared = FontConfiguration()
    # The pipeline parses the stylesheet once per process: bare WeasyPrint gets the same
    # (parsed once, outside the timed call), or the comparison flatters the pipeline.
    parsed_once = [] if linked else [weasyprint.CSS(filename=css, font_config=shared)]

    def sheets() -> list[Any]:
        return [] if linked else [weasyprint.CSS(filename=css)]

    # The same output options as handoutkit: tagged PDF/UA-1.
    ms = interleaved({
        "bare_fresh": lambda: weasyprint.HTML(string=html, base_url=base).write_pdf(
            stylesheets=sheets(), pdf_tags=True, pdf_variant=PDF_VARIANT),
        "bare_shared": lambda: weasyprint.HTML(string=html, base_url=base).write_pdf(
            stylesheets=parsed_once, font_config=shared, pdf_tags=True,
            pdf_variant=PDF_VARIANT),
        "render": lambda: layout(html, *seen["args"], **seen["kwargs"]),
        "pipeline": lambda: render_pdf(project, job, options=options),
    })
    return {"figures": {name: asdict(figure) for name, figure in ms.items()},
            "ratio": ms["pipeline"].median / ms["bare_shared"].median}


def child_prime(project_dir: str, out_dir: str) -> dict[str, Any]:
    """Build a project's plan for the no-op figures, laying out each distinct page once.

    A topic's copies render the same HTML as the topic itself, and the same HTML gives the same
    PDF: the copies' PDFs are the original's bytes, every other step of the build is real.
    """
    from handoutkit import BuildOptions, PlanRequest, Project, build, plan_jobs, read_settings

    pages: dict[Any, Any] = {}

    def remembering(layout: Any) -> Any:
        def once(*args: Any, **kwargs: Any) -> Any:
            key = (args, tuple(sorted(kwargs.items())))
            if key not in pages:
                pages[key] = layout(*args, **kwargs)
            return pages[key]
        return once

    project = Project(Path(project_dir))
    jobs = plan_jobs(project, read_settings(project).plan or PlanRequest())
    with layout_through(remembering):
        report = build(project, jobs, BuildOptions(out_dir=Path(out_dir), jobs=1))
    return {"documents": len(jobs), "failed": len(report.failed), "laid_out": len(pages)}


BARE_SCRIPT = """import json, sys, weasyprint
page = json.loads(open(sys.argv[1], encoding="utf-8").read())
sheets = [weasyprint.CSS(filename=page["css"])] if page["css"] else []
weasyprint.HTML(string=page["html"], base_url=page["base_url"]).write_pdf(
    sys.argv[2], stylesheets=sheets, pdf_tags=True, pdf_variant=page["pdf_variant"])
"""
#: The same script with WeasyPrint's C libraries loaded by soname, as handoutkit loads them
#: (pdf.py): without the ldconfig, gcc and ld runs of ``ctypes.util.find_library``.
BARE_SONAME_SCRIPT = ("import ctypes.util\nctypes.util.find_library = lambda name: None\n"
                      + BARE_SCRIPT)


# --- the trees' figures, side by side -----------------------------------------------------

def per_pdf(trees: list[Tree], work: Path) -> dict[str, dict[str, Any]]:
    found = {}
    for tree in trees:
        child = tree.child("per-pdf", str(tree.root), str(work / f"{tree.slug}.json"))
        found[tree.name] = {**{name: Figure(**figure)
                               for name, figure in child["figures"].items()},
                            "ratio": child["ratio"]}
    return found


def startup(trees: list[Tree], work: Path) -> dict[str, dict[str, Any]]:
    """Whole processes: ``--help`` against ``python -c pass``, imports, and a one-document
    build against a one-shot script giving WeasyPrint the same page (the HTML per_pdf kept)."""
    bare, bare_soname = work / "bare.py", work / "bare-soname.py"
    bare.write_text(BARE_SCRIPT)
    bare_soname.write_text(BARE_SONAME_SCRIPT)
    plain = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    commands = {"floor": ([sys.executable, "-c", "pass"], plain),
                # What Typer 0.29 parses every option with: itself, and a pydantic adapter.
                "framework": ([sys.executable, "-c", "import typer, pydantic, typer._adapters"],
                              plain)}
    for tree in trees:
        page, out = work / f"{tree.slug}.json", work / f"one-{tree.slug}"
        commands |= {
            f"{tree.name}/help": (tree.handout("--help"), tree.env()),
            f"{tree.name}/import_cli": ([sys.executable, "-c", "import handoutkit.cli"],
                                        tree.env()),
            f"{tree.name}/import_build": (
                [sys.executable, "-c", "import handoutkit.cli, handoutkit.builder"], tree.env()),
            f"{tree.name}/one_doc": (tree.handout("build", *ONE_DOCUMENT, "--force", "-q", "-j",
                                                  "1", "-o", str(out), "-C", str(tree.root)),
                                     tree.env()),
            f"{tree.name}/bare_script": ([sys.executable, str(bare), str(page),
                                          str(work / f"bare-{tree.slug}.pdf")], plain),
            f"{tree.name}/bare_soname": ([sys.executable, str(bare_soname), str(page),
                                          str(work / f"bare-soname-{tree.slug}.pdf")], plain)}
    ms = processes(commands)
    figures = {}
    for tree in trees:
        mine = {key.split("/", 1)[1]: value for key, value in ms.items()
                if key.startswith(f"{tree.name}/")}
        figures[tree.name] = {**mine, "floor": ms["floor"], "framework": ms["framework"],
                              "help_ratio": mine["help"].median / ms["floor"].median,
                              "one_doc_ratio": mine["one_doc"].median
                              / mine["bare_script"].median,
                              "one_doc_ratio_soname": mine["one_doc"].median
                              / mine["bare_soname"].median}
    return figures


def noop_scale(trees: list[Tree], work: Path, sizes: tuple[int, ...]
               ) -> dict[str, dict[int, dict[str, float]]]:
    """A no-op ``handout build`` of the plan, in projects with ``size - 1`` extra copies of
    the topic (its facts and catalogs included): each tree builds its own copies first. The
    floor script (bench/floor.py: read the manifest, hash each input, stat each PDF) runs in
    the same turns on this tree's copy."""
    from handoutkit.theme import BUILTIN_THEME

    commands, counts = {}, {}
    for tree in trees:
        for size in sizes:
            project = make_project(tree.root, work / tree.slug / f"x{size}", size - 1)
            where = ["-o", str(project / "build"), "-C", str(project)]
            primed = tree.child("prime", str(project), str(project / "build"))
            assert not primed["failed"], (tree.name, size, primed)
            check = subprocess.run(tree.handout("build", "--json", *where), env=tree.env(),
                                   check=True, capture_output=True, text=True).stdout
            statuses = {d["status"] for d in json.loads(check)["documents"]}
            assert statuses == {"skipped"}, (tree.name, size, statuses)  # a true no-op
            commands[f"{tree.name}/{size}"] = (tree.handout("build", "-q", *where), tree.env())
            counts[f"{tree.name}/{size}"] = primed["documents"]
            if tree.root == ROOT:
                commands[f"floor/{size}"] = ([sys.executable, str(ROOT / "bench" / "floor.py"),
                                              str(project), str(project / "build"),
                                              str(BUILTIN_THEME)], tree.env())
    ms = processes(commands)
    return {tree.name: {size: {"documents": counts[f"{tree.name}/{size}"],
                               "ms": ms[f"{tree.name}/{size}"].median,
                               "figure": ms[f"{tree.name}/{size}"],
                               "floor": ms[f"floor/{size}"]} for size in sizes}
            for tree in trees}


@contextmanager
def checkout(commit: str) -> Iterator[Tree]:
    """``commit`` in a temporary git worktree, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="handoutkit-against-"))
    path = folder / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), commit],
                   check=True, capture_output=True)
    try:
        name = subprocess.run(["git", "-C", str(path), "rev-parse", "--short", "HEAD"],
                              check=True, capture_output=True, text=True).stdout.strip()
        yield Tree(name, path)
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)],
                       check=False, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


# --- this tree only: the whole plan, edits, memory, sizes ---------------------------------

def matrix(work: Path, rounds: int = 3) -> dict[str, Any]:
    """The whole plan with one worker and with two, each as a user runs it: a fresh `handout
    build --force` process (its workers started by a cold CLI, not forked from this warmed
    process), the two in turns for ``rounds`` rounds."""
    from handoutkit import PlanRequest, Project, plan_jobs, read_settings

    project = Project(ROOT)
    jobs = plan_jobs(project, read_settings(project).plan or PlanRequest())
    handout = str(Path(sys.executable).with_name("handout"))
    commands = {f"jobs{workers}": (
        [handout, "build", "-q", "--force", "-j", str(workers), "-o",
         str(work / f"matrix-{workers}"), "--project", str(ROOT)], dict(os.environ))
        for workers in (1, 2)}
    seconds = processes(commands, rounds)
    identical = all((work / "matrix-1" / str(j.output)).read_bytes()
                    == (work / "matrix-2" / str(j.output)).read_bytes() for j in jobs)
    return {"documents": len(jobs), "jobs1": seconds["jobs1"], "jobs2": seconds["jobs2"],
            "speedup": seconds["jobs1"].median / seconds["jobs2"].median,
            "identical": identical, "rounds": rounds}


def rebuilds(work: Path) -> dict[str, Any]:
    """A no-op rebuild, and one after a translator fixes one Spanish entry (CLI, as used)."""
    project_dir = make_project(ROOT, work / "project")
    handout = Path(sys.executable).with_name("handout")
    command = [str(handout), "build", "--json", "-o", str(work / "inc"), "-C", str(project_dir)]
    subprocess.run(command, check=True, capture_output=True)

    def run() -> tuple[float, dict[str, Any]]:
        start = time.perf_counter()
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        return time.perf_counter() - start, json.loads(out)

    noop_s, noop = run()
    po = project_dir / "locales" / "es" / "LC_MESSAGES" / f"{HANDOUT}.po"
    text = po.read_text("utf-8")
    start = text.index('msgctxt "what-is-it.plant.easy"')
    end = text.index("\n\n", start)
    entry = text[start:end].replace("del sudeste de Asia", "del Sudeste Asiático")
    assert entry != text[start:end]
    po.write_text(text[:start] + entry + text[end:], "utf-8")
    edit_s, edited = run()
    rebuilt = [d["path"] for d in edited["documents"] if d["status"] == "built"]
    return {"noop_s": noop_s, "noop_rebuilt": sum(d["status"] == "built"
                                                  for d in noop["documents"]),
            "edit_s": edit_s, "edit_rebuilt": len(rebuilt), "edit_rebuilt_paths": rebuilt}


def worker_peak_mb(work: Path, *args: str) -> float:
    """Peak resident memory of the largest process of a `handout build -j 2`, run on its own.

    A wrapper process runs the build, so the figure counts only that build's processes (this
    bench process has grown large by then, and forked workers would inherit it).
    """
    handout = Path(sys.executable).with_name("handout")
    command = [str(handout), "build", "-q", "-j", "2", "--force", "-o", str(work / "mem"),
               "-C", str(ROOT), *args]
    wrapper = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", wrapper, *command], check=True,
                         capture_output=True, text=True).stdout
    return int(out.split()[-1]) / 1024


def sizes(out: Path) -> dict[str, int]:
    """Each standard, region-less PDF's size, by topic and language (one topic must not
    overwrite another's figures)."""
    manifest = json.loads((out / "manifest.json").read_text())
    found = {}
    for entry in manifest["outputs"]:
        if entry["level"] == "standard" and not entry["region"]:
            found[f"{entry['handout']}/{entry['lang']}"] = entry["bytes"]
    return found


def machine() -> str:
    import weasyprint

    from handoutkit import __version__

    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "?")
    return (f"{os.cpu_count()} × {cpu}, {int(memory) // 1024 // 1024} GiB RAM; "
            f"Python {platform.python_version()}, WeasyPrint {weasyprint.__version__}, "
            f"handoutkit {__version__}; {platform.platform()}")


# --- the report ---------------------------------------------------------------------------

def _table(trees: list[Tree], rows: list[tuple[str, Callable[[str], str], str]]) -> str:
    """One row per figure, one column per tree (and the issue's target, if any row has one)."""
    targets = any(target for _, _, target in rows)
    head = ["what", *(tree.name for tree in trees), *(["target"] if targets else [])]
    lines = [f"| {' | '.join(head)} |", "| --- |" + " ---: |" * (len(head) - 1)]
    for what, value, target in rows:
        cells = [what, *(value(tree.name) for tree in trees), *([target] if targets else [])]
        lines.append(f"| {' | '.join(cells)} |")
    return "\n".join(lines) + "\n"


def _seconds(figure: Figure) -> str:
    return f"{figure.median / 1000:.2f} s ({figure.low / 1000:.2f}–{figure.high / 1000:.2f})"


def pdf_section(trees: list[Tree], pdf: dict[str, dict[str, Any]]) -> str:
    def ms(key: str) -> Callable[[str], str]:
        return lambda name: pdf[name][key].text(1, "")

    return f"""## 1. One two-page A4 handout (English, standard level): pipeline vs bare WeasyPrint

Milliseconds per PDF, median (min–max) of {REPEAT} rounds after a warm-up, the four variants
in turns in one process per tree. Both bare rows parse the stylesheet once, outside the timed
call, as the pipeline does once per process.

""" + _table(trees, [
        ("bare WeasyPrint, same final HTML and PDF/UA options, new FontConfiguration each time",
         ms("bare_fresh"), ""),
        ("bare WeasyPrint, same final HTML, one shared FontConfiguration", ms("bare_shared"), ""),
        ("handoutkit render step (our URL fetcher, log capture, tagged PDF)", ms("render"), ""),
        ("handoutkit full pipeline (load, translate, score, render HTML, PDF, verify)",
         ms("pipeline"), ""),
        ("**pipeline ÷ bare WeasyPrint** (shared FontConfiguration)",
         lambda name: f"**{pdf[name]['ratio']:.2f}×** (medians)", "≤ 1.0×")])


def startup_section(trees: list[Tree], start: dict[str, dict[str, Any]]) -> str:
    def ms(key: str) -> Callable[[str], str]:
        return lambda name: start[name][key].text()

    return f"""## 5. Start-up: whole processes

Wall time of each command as a new process, median (min–max) of {PROCESS_REPEAT} rounds in
turns after a warm-up; ratios are of medians. The one-document build is `handout build {' '.join(ONE_DOCUMENT)} --force -j 1`; the
bare script imports WeasyPrint and lays out the HTML that build prints, with the same options.
Importing WeasyPrint, the bare script also pays for its library search (`ctypes.util.find_library`
runs ldconfig, gcc and ld for each library name that is not the soname), which handoutkit
skips (`pdf.py`); the last two rows compare with a script that skips it too.

""" + _table(trees, [
        ("`python -c pass` (the floor)", ms("floor"), ""),
        ("`import typer, pydantic, typer._adapters` (the CLI framework)", ms("framework"), ""),
        ("`handout --help`", ms("help"), ""),
        ("**`--help` ÷ floor**", lambda name: f"**{start[name]['help_ratio']:.1f}×**", ""),
        ("`import handoutkit.cli`", ms("import_cli"), ""),
        ("`import handoutkit.cli, handoutkit.builder`", ms("import_build"), ""),
        ("one-document `handout build`", ms("one_doc"), ""),
        ("one-shot bare WeasyPrint script, same HTML", ms("bare_script"), ""),
        ("**one-document build ÷ bare script**",
         lambda name: f"**{start[name]['one_doc_ratio']:.2f}×**", "≤ 1.2×"),
        ("the bare script, WeasyPrint's libraries loaded by soname", ms("bare_soname"), ""),
        ("one-document build ÷ that script",
         lambda name: f"{start[name]['one_doc_ratio_soname']:.2f}×", "")])


def goals_section(pdf: dict[str, Any], start: dict[str, Any],
                  noop: dict[int, dict[str, Any]], grid: dict[str, Any] | None) -> str:
    """Each goal of this tree, met or missed, with its figure and, for a miss, what the
    figures of this run say it is made of."""
    lines = ["## Goals, this tree", "", "| goal | figure | met |", "| --- | ---: | --- |"]

    def goal(what: str, figure: str, met: bool) -> None:
        lines.append(f"| {what} | {figure} | {'yes' if met else '**no**'} |")

    noop_ms, floor_ms = noop[1]["ms"], noop[1]["floor"].median
    imports_ms = start["import_build"].median - start["floor"].median
    framework_ms = start["framework"].median - start["floor"].median
    goal("no-op ÷ floor script ≤ 5×", f"{noop_ms / floor_ms:.1f}×", noop_ms <= 5 * floor_ms)
    extra_ms = start["one_doc"].median - start["bare_script"].median
    goal("one-document build ÷ one-shot bare script ≤ 1.2×", f"{start['one_doc_ratio']:.2f}×",
         start["one_doc_ratio"] <= 1.2)
    goal("pipeline ÷ bare WeasyPrint per PDF, in one process ≤ 1.0×", f"{pdf['ratio']:.2f}×",
         pdf["ratio"] <= 1.0)
    if grid:
        goal("`-j 2` ÷ `-j 1` on 2 cores ≥ 1.7×", f"{grid['speedup']:.2f}×",
             grid["speedup"] >= 1.7)
    lines += ["", "What the misses are made of, from this run's figures:", "",
              f"- The no-op takes {noop_ms:.0f} ms against the floor's {floor_ms:.0f} ms. "
              f"Importing the CLI and the builder takes {imports_ms:.0f} ms over bare Python "
              f"({imports_ms / noop_ms:.0%} of the no-op). {framework_ms:.0f} ms of it are the "
              "CLI framework: Typer 0.29 coerces every option through a pydantic "
              "`TypeAdapter`, so any command that takes an option imports pydantic. The other "
              f"{imports_ms - framework_ms:.0f} ms are handoutkit's modules: the schemas "
              "(pydantic models) of `handout.toml` and of the region profiles, and YAML, which "
              "a no-op needs to expand the plan (the catalogs and the content's schemas load "
              "only where a document changed). The rest is "
              "expanding the plan, reading the manifest, and hashing the inputs. With the "
              f"framework's {framework_ms:.0f} ms, a no-op within 5× the floor leaves "
              f"{5 * floor_ms - framework_ms - start['floor'].median:.0f} ms for handoutkit's "
              "imports and work.",
              f"- The one-document build takes {extra_ms:.0f} ms more than the bare script, "
              f"which imports only WeasyPrint. Of that, {imports_ms:.0f} ms are the same "
              "imports; the rest is loading and checking the topic, its catalogs and regions, "
              "translating, scoring, rendering the HTML, writing and verifying the PDF, and "
              "the manifest (per PDF in a warm process, section 1, the pipeline adds "
              f"{pdf['pipeline'].median - pdf['bare_shared'].median:.0f} ms to WeasyPrint's "
              f"{pdf['bare_shared'].median:.0f} ms).",
              "- Part of the bare script's time is WeasyPrint's search for its C libraries, "
              "which handoutkit skips; against a bare script that skips it too, the "
              f"one-document build is {start['one_doc_ratio_soname']:.2f}×.", ""]
    return "\n".join(lines) + "\n"


def scale_section(trees: list[Tree], noop: dict[str, dict[int, dict[str, float]]],
                  sizes_run: tuple[int, ...]) -> str:
    rows: list[tuple[str, Callable[[str], str], str]] = []
    for number, size in enumerate(sizes_run):
        def cell(name: str, size: int = size, before: int | None = (
                sizes_run[number - 1] if number else None)) -> str:
            figures = noop[name][size]
            text = f"{figures['ms'] / 1000:.2f} s ({figures['documents']:.0f} documents"
            if before is None:
                return text + ")"
            earlier = noop[name][before]
            slope = (figures["ms"] - earlier["ms"]) / (figures["documents"] - earlier["documents"])
            return text + f"; +{slope:.2f} ms for each document added since {before}×)"

        rows.append((f"{size}× the topic" + (" (the project as shipped)" if size == 1 else ""),
                     cell, "< 0.5 s at 800 documents" if number == len(sizes_run) - 1 else ""))
    if 1 in sizes_run:
        rows.append(("floor script (bench/floor.py: read the manifest, hash each input, stat "
                     "each PDF), as shipped", lambda name: noop[name][1]["floor"].text(), ""))
        rows.append(("no-op as shipped (median (min–max))",
                     lambda name: noop[name][1]["figure"].text(), ""))
        rows.append(("**no-op ÷ floor**, as shipped", lambda name: (
            f"**{noop[name][1]['ms'] / noop[name][1]['floor'].median:.1f}×**"), "≤ 5×"))
    if 1 in sizes_run and 8 in sizes_run:
        rows.append(("**no-op at 8× ÷ no-op as shipped**",
                     lambda name: f"**{noop[name][8]['ms'] / noop[name][1]['ms']:.2f}×**",
                     "≤ 1.5×"))
    return f"""### No-op rebuilds of a many-topic project

The project with extra copies of `{HANDOUT}` under new ids, each with its regional facts and
every language's catalog; a no-op `handout build` of the plan (a new process, start-up
included), medians of {PROCESS_REPEAT} rounds in turns. Each tree first builds its own copies
(the copies' pages are laid out once: the same HTML gives the same PDF). The cost of each
further document, between one size and the one before, shows whether the no-op grows linearly.

""" + _table(trees, rows)


def against_desk(trees: list[Tree], desks: dict[str, dict[str, float]]) -> str:
    def value(key: str, unit: str = " ms") -> Callable[[str], str]:
        return lambda name: f"{desks[name][key]:.1f}{unit}"

    return "\n### The desk, side by side\n\n" + _table(trees, [
        ("`/healthz`", value("healthz_ms"), ""),
        ("cache hit", value("hit_ms"), ""),
        ("cache hit ÷ `/healthz`", value("hit_ratio", "×"), "≤ 3×"),
        ("`/` page", value("page_ms"), ""),
        ("burst latency p50", value("p50_ms"), "")])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", metavar="COMMIT",
                        help="also measure COMMIT (a temporary git worktree), side by side")
    parser.add_argument("--quick", action="store_true",
                        help="only the per-PDF, start-up and scale figures")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="corpus sizes, multiples of the topic's documents (default: "
                             "%(default)s)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md",
                        help="where to write the report (default: %(default)s)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        print(json.dumps({"per-pdf": child_per_pdf, "prime": child_prime}[kind](*rest)))
        return
    sizes_run = tuple(int(size) for size in args.sizes.split(","))
    with tempfile.TemporaryDirectory() as temp, (
            checkout(args.against) if args.against else _nothing()) as other:
        work = Path(temp)
        trees = [Tree("this tree", ROOT), *([other] if other else [])]
        pdf = per_pdf(trees, work)
        start = startup(trees, work)
        noop = noop_scale(trees, work, sizes_run)
        desks: dict[str, dict[str, float]] = {}
        if not args.quick:
            grid = matrix(work)
            pdf_sizes = sizes(work / "matrix-1")
            incremental = rebuilds(work)
            memory = {"Latin scripts (en, es, id, vi)": worker_peak_mb(
                          work, "--lang", "en", "--lang", "es", "--lang", "id", "--lang", "vi"),
                      "Thai": worker_peak_mb(work, "--lang", "th"),
                      "Arabic": worker_peak_mb(work, "--lang", "ar"),
                      "Chinese": worker_peak_mb(work, "--lang", "zh_Hans"),
                      "the whole plan": worker_peak_mb(work)}
            import serve_load

            desks = {tree.name: serve_load.run(tree.root) for tree in trees}
    report = f"""# Benchmark results

Machine: {machine()}
Run: {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}; reproduce with `.venv/bin/python bench/run.py{f' --against {args.against}' if args.against else ''}`.
{f'Columns: this tree, and `{args.against}` ({trees[1].name}) checked out beside it; every ratio compares figures of the same run.' if args.against else ''}

""" + pdf_section(trees, pdf)
    if not args.quick:
        report += f"""
## 2. The whole plan (`handout.toml`): serial vs two workers

Each a new `handout build --force` process, the two in turns: median (min–max) of
{grid['rounds']} rounds after a warm-up.

| what | value |
| --- | ---: |
| documents | {grid['documents']:.0f} |
| `--jobs 1` | {_seconds(grid['jobs1'])} ({grid['documents'] / grid['jobs1'].median * 1000:.1f} PDFs/s) |
| `--jobs 2` | {_seconds(grid['jobs2'])} ({grid['documents'] / grid['jobs2'].median * 1000:.1f} PDFs/s) |
| speed-up (medians) | **{grid['speedup']:.2f}×** (target ≥ 1.7× on 2 cores) |
| `--jobs 2` PDFs byte-identical to `--jobs 1` | {'yes' if grid['identical'] else 'NO'} |

## 3. Incremental rebuilds (the CLI in a subprocess, start-up included)

| what | time | documents rebuilt |
| --- | ---: | ---: |
| no-op rebuild of the whole plan | {incremental['noop_s']:.2f} s | {incremental['noop_rebuilt']} |
| after editing one Spanish `.po` entry (`what-is-it.plant.easy`) | {incremental['edit_s']:.2f} s | {incremental['edit_rebuilt']} |

Rebuilt after the edit: {', '.join(f'`{Path(p).name}`' for p in incremental['edit_rebuilt_paths'])}.

"""
    else:
        report += "\n## 3. Incremental rebuilds\n\n"
    report += scale_section(trees, noop, sizes_run)
    if not args.quick:
        report += """
## 4. Memory and PDF sizes

Peak resident memory of the largest process of a `--jobs 2` build (each run on its own):

| documents | MB |
| --- | ---: |
""" + "".join(f"| {what} | {mb:.0f} |\n" for what, mb in memory.items()) + """
A Chinese document costs more because WeasyPrint loads the Noto Sans CJK collections
(about 20 MB each, regular and bold) to subset them.

Fonts are subset (HarfBuzz); standard-level PDFs, no region:

| topic / language | bytes |
| --- | ---: |
""" + "".join(f"| {name} | {size:,} |\n" for name, size in sorted(pdf_sizes.items()))
    report += "\n" + startup_section(trees, start)
    report += "\n" + goals_section(pdf["this tree"], start["this tree"], noop["this tree"],
                                   grid if not args.quick else None)
    if desks:
        import serve_load

        report += serve_load.report(desks["this tree"])
        if len(trees) > 1:
            report += against_desk(trees, desks)
    args.out.write_text(report)
    print(report)


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    main()
