"""Benchmarks: the handoutkit pipeline against bare WeasyPrint, measured in one run.

Run it from the repository root after `make setup`:

    .venv/bin/python bench/run.py            # writes bench/RESULTS.md

Every figure comes from this run on this machine; nothing here is a test or a threshold.
"""

from __future__ import annotations

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
from pathlib import Path

import weasyprint
from weasyprint.text.fonts import FontConfiguration

from handoutkit import (
    BuildOptions,
    Job,
    PlanRequest,
    Project,
    __version__,
    plan_jobs,
    read_settings,
    render_pdf,
)
from handoutkit import build as build_documents
from handoutkit.catalog import TranslationRecord
from handoutkit.pdf import PDF_VARIANT, html_to_pdf
from handoutkit.render import render_html
from handoutkit.translate import catalogs_for, translate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import serve_load  # noqa: E402 - the sibling script, importable once bench/ is on the path

HANDOUT = "kratom-chronic-pain"
REPEAT = 15


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def interleaved(actions: dict[str, object], repeat: int = REPEAT) -> dict[str, float]:
    """Median milliseconds of each action, run in turns so that drift hits all alike."""
    for action in actions.values():
        action()  # type: ignore[operator]  # warm-up: imports, fonts, template compilation
    samples: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeat):
        for name, action in actions.items():
            start = time.perf_counter()
            action()  # type: ignore[operator]
            samples[name].append(time.perf_counter() - start)
    return {name: median_ms(values) for name, values in samples.items()}


def per_pdf(project: Project, out: Path) -> dict[str, float]:
    """One two-page A4 handout: the whole pipeline against WeasyPrint alone on its HTML."""
    job = Job(HANDOUT, "en", "standard", "a4")
    options = BuildOptions(out_dir=out)

    def pipeline() -> None:  # load, translate, score, render and verify, as a build does
        render_pdf(project, job, options=options)

    from handoutkit.content import load_handout

    catalogs = catalogs_for(project, job.lang, [HANDOUT])
    doc = translate(load_handout(project.handout_path(HANDOUT)), job, catalogs)
    html = render_html(doc, catalogs, project.theme,
                       TranslationRecord("en", "source", 0, ())).html
    base = project.theme.find("handout.css").parent.as_uri() + "/"
    shared = FontConfiguration()
    # The same output options as handoutkit: tagged PDF/UA-1.
    ms = interleaved({
        "bare_fresh": lambda: weasyprint.HTML(string=html, base_url=base).write_pdf(
            pdf_tags=True, pdf_variant=PDF_VARIANT),
        "bare_shared": lambda: weasyprint.HTML(string=html, base_url=base).write_pdf(
            font_config=shared, pdf_tags=True, pdf_variant=PDF_VARIANT),
        "render": lambda: html_to_pdf(html, project.theme.dirs),
        "pipeline": pipeline,
    })
    return {"bare_fresh_fontconfig_ms": ms["bare_fresh"],
            "bare_shared_fontconfig_ms": ms["bare_shared"],
            "handoutkit_render_ms": ms["render"], "handoutkit_pipeline_ms": ms["pipeline"],
            "overhead_vs_bare": ms["pipeline"] / ms["bare_shared"] - 1}


def matrix(project: Project, work: Path) -> dict[str, float]:
    jobs = plan_jobs(project, read_settings(project).plan or PlanRequest())
    figures: dict[str, float] = {"documents": len(jobs)}
    for workers in (1, 2):
        out = work / f"matrix-{workers}"
        start = time.perf_counter()
        report = build_documents(project, jobs, BuildOptions(out_dir=out, jobs=workers))
        figures[f"jobs{workers}_s"] = time.perf_counter() - start
        assert not report.failed
    figures["speedup"] = figures["jobs1_s"] / figures["jobs2_s"]
    figures["pdfs_per_s_jobs1"] = len(jobs) / figures["jobs1_s"]
    figures["pdfs_per_s_jobs2"] = len(jobs) / figures["jobs2_s"]
    identical = all((work / "matrix-1" / str(j.output)).read_bytes()
                    == (work / "matrix-2" / str(j.output)).read_bytes() for j in jobs)
    figures["jobs2_identical_bytes"] = float(identical)
    return figures


def rebuilds(work: Path) -> dict[str, float]:
    """A no-op rebuild, and one after a translator fixes one Spanish entry (CLI, as used)."""
    project_dir = work / "project"
    for name in ("handouts", "locales", "templates", "handout.toml"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, project_dir / name)
    handout = Path(sys.executable).with_name("handout")
    command = [str(handout), "build", "--json", "-o", str(work / "inc"), "-C", str(project_dir)]
    subprocess.run(command, check=True, capture_output=True)

    def run() -> tuple[float, dict]:  # type: ignore[type-arg]
        start = time.perf_counter()
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        return time.perf_counter() - start, json.loads(out)

    noop_s, noop = run()
    po = project_dir / "locales" / "es" / "LC_MESSAGES" / f"{HANDOUT}.po"
    po.write_text(po.read_text().replace("Es del mismo grupo de plantas que el café.",
                                         "Es pariente de la planta del café."))
    edit_s, edited = run()
    rebuilt = [d["path"] for d in edited["documents"] if d["status"] == "built"]
    return {"noop_s": noop_s, "noop_rebuilt": sum(d["status"] == "built"
                                                  for d in noop["documents"]),
            "edit_s": edit_s, "edit_rebuilt": len(rebuilt),
            "edit_rebuilt_paths": rebuilt}  # type: ignore[dict-item]


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
    manifest = json.loads((out / "manifest.json").read_text())
    found = {}
    for entry in manifest["outputs"]:
        if entry["level"] == "standard" and not entry["region"]:
            found[entry["lang"]] = entry["bytes"]
    return found


def startup() -> dict[str, float]:
    handout = Path(sys.executable).with_name("handout")
    help_s = statistics.median(
        _wall([str(handout), "--help"]) for _ in range(5))
    import_s = statistics.median(
        _wall([sys.executable, "-c", "import weasyprint"]) for _ in range(5))
    return {"help_s": help_s, "import_weasyprint_s": import_s}


def _wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "?")
    return (f"{os.cpu_count()} × {cpu}, {int(memory) // 1024 // 1024} GiB RAM; "
            f"Python {platform.python_version()}, WeasyPrint {weasyprint.__version__}, "
            f"handoutkit {__version__}; {platform.platform()}")


def main() -> None:
    project = Project(ROOT)
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        pdf = per_pdf(project, work / "one")
        grid = matrix(project, work)
        pdf_sizes = sizes(work / "matrix-1")
        incremental = rebuilds(work)
        memory = {"Latin scripts (en, es, id, vi)": worker_peak_mb(
                      work, "--lang", "en", "--lang", "es", "--lang", "id", "--lang", "vi"),
                  "Thai": worker_peak_mb(work, "--lang", "th"),
                  "Arabic": worker_peak_mb(work, "--lang", "ar"),
                  "Chinese": worker_peak_mb(work, "--lang", "zh_Hans"),
                  "the whole plan": worker_peak_mb(work)}
    start = startup()
    desk = serve_load.report(serve_load.run())
    report = f"""# Benchmark results

Machine: {machine()}
Run: {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}; reproduce with `.venv/bin/python bench/run.py`.
Medians of {REPEAT} rounds after a warm-up; in section 1 the four variants run in turns in one
process, so that drift (CPU clock, memory growth) hits them alike.

## 1. One two-page A4 handout (English, standard level): pipeline vs bare WeasyPrint

| what | ms per PDF |
| --- | ---: |
| bare WeasyPrint, same final HTML and PDF/UA options, new FontConfiguration each time | {pdf['bare_fresh_fontconfig_ms']:.1f} |
| bare WeasyPrint, same final HTML, one shared FontConfiguration | {pdf['bare_shared_fontconfig_ms']:.1f} |
| handoutkit render step (our URL fetcher, log capture, tagged PDF) | {pdf['handoutkit_render_ms']:.1f} |
| handoutkit full pipeline (translate, score, render HTML, PDF, verify, atomic write) | {pdf['handoutkit_pipeline_ms']:.1f} |

Pipeline overhead over bare WeasyPrint (shared FontConfiguration): **{pdf['overhead_vs_bare'] * 100:+.1f} %** (target: within 10 %).

## 2. The whole plan (`handout.toml`): serial vs two workers

| what | value |
| --- | ---: |
| documents | {grid['documents']:.0f} |
| `--jobs 1` | {grid['jobs1_s']:.2f} s ({grid['pdfs_per_s_jobs1']:.1f} PDFs/s) |
| `--jobs 2` | {grid['jobs2_s']:.2f} s ({grid['pdfs_per_s_jobs2']:.1f} PDFs/s) |
| speed-up | **{grid['speedup']:.2f}×** (target ≥ 1.7× on 2 cores) |
| `--jobs 2` PDFs byte-identical to `--jobs 1` | {'yes' if grid['jobs2_identical_bytes'] else 'NO'} |

## 3. Incremental rebuilds (the CLI in a subprocess, start-up included)

| what | time | documents rebuilt |
| --- | ---: | ---: |
| no-op rebuild of the whole plan | {incremental['noop_s']:.2f} s | {incremental['noop_rebuilt']} |
| after editing one Spanish `.po` entry (`what-is-it.plant.easy`) | {incremental['edit_s']:.2f} s | {incremental['edit_rebuilt']} |

Rebuilt after the edit: {', '.join(f'`{Path(p).name}`' for p in incremental['edit_rebuilt_paths'])}.

## 4. Memory and PDF sizes

Peak resident memory of the largest process of a `--jobs 2` build (each run on its own):

| documents | MB |
| --- | ---: |
""" + "".join(f"| {what} | {mb:.0f} |\n" for what, mb in memory.items()) + """
A Chinese document costs more because WeasyPrint loads the Noto Sans CJK collections
(about 20 MB each, regular and bold) to subset them.

Fonts are subset (HarfBuzz); standard-level PDFs, no region:

| language (script) | bytes |
| --- | ---: |
""" + "".join(f"| {lang} | {size:,} |\n" for lang, size in sorted(pdf_sizes.items())) + f"""
## 5. Start-up

| what | seconds |
| --- | ---: |
| `handout --help` (does not import WeasyPrint) | {start['help_s']:.3f} |
| `python -c "import weasyprint"`, for comparison | {start['import_weasyprint_s']:.3f} |
""" + desk
    (ROOT / "bench" / "RESULTS.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
