"""Every JSON shape handoutkit prints, made in one place from the library's own values.

Each document another program reads carries ``"format": "handoutkit.<kind>/<n>"`` (the shape
and its version: a change that could break a reader bumps ``n``) and the tool's version.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from . import __version__

if TYPE_CHECKING:
    from .builder import BuildReport, MergedManifest
    from .checks import Finding
    from .errors import Problem
    from .i18n import CatalogStatus, UpdateResult
    from .pipeline import DocumentResult
    from .plan import Job
    from .readability import ReadabilityReport
    from .regions import StaleItem
    from .site import SiteReport

#: The version of each shape.
FORMATS = {"build": 1, "check": 1, "list": 1, "plan": 1, "stale": 1, "status": 1, "error": 1,
           "site": 1, "manifest-merge": 1, "catalog-check": 1, "written": 1,
           "catalog-update": 1, "review": 1}


def json_report(kind: str, *values: Any, **data: Any) -> str:
    """The JSON a ``--json`` command prints, as text: ``kind`` names the shape (a key of
    ``FORMATS``), made from the library's ``values`` by this module's function of that name
    (``build``, ``check``, ``site``, …), or from ``data`` as it is (``list``)."""
    if kind not in FORMATS:
        raise ValueError(f"no JSON shape {kind!r}")
    shape = _SHAPES.get(kind)
    if shape is None:
        return dumps(envelope(kind, **data))
    return dumps(shape(*values, **data))


def envelope(kind: str, **data: Any) -> dict[str, Any]:
    """``data`` under the shape's ``format`` and the tool's ``version``."""
    return {"format": f"handoutkit.{kind}/{FORMATS[kind]}", "version": __version__, **data}


def dumps(data: dict[str, Any]) -> str:
    """JSON as handoutkit prints it: indented, non-ASCII text as it is."""
    return json.dumps(data, indent=2, ensure_ascii=False)


def job_fields(job: Job) -> dict[str, Any]:
    """A document's choices, under the names the CLI and the desk's API use."""
    return {"handout": job.handout, "lang": job.lang, "level": job.level, "paper": job.paper,
            "region": job.region, "large_print": job.large_print, "also": job.also,
            "preview": job.preview, "output": str(job.output)}


def document(result: DocumentResult) -> dict[str, Any]:
    return {**job_fields(result.job), "path": str(result.path), "ok": result.ok,
            "status": result.status, "pages": result.pages, "sha256": result.sha256,
            "fallbacks": result.fallbacks, "problems": result.problems,
            "warnings": result.warnings,
            "translation": result.translation.as_dict() if result.translation else None,
            "readability": result.readability.as_dict() if result.readability else None}


def build(report: BuildReport) -> dict[str, Any]:
    return envelope("build", ok=not report.failed, manifest=str(report.manifest_path),
                    documents=[document(r) for r in report.results])


def check(jobs: Iterable[Job], reports: Iterable[ReadabilityReport],
          broken: Iterable[Problem] = (), least: float = 0.0) -> dict[str, Any]:
    """The documents scored, and the input errors of those that could not be (a broken
    topic or region fails only its own). A document translated less than ``least`` (the
    build's min_coverage) is ``scored: false``: its English text is not its language's."""
    documents = [{**job_fields(job), **report.as_dict(), "scored": report.translated >= least}
                 for job, report in zip(jobs, reports, strict=True)]
    problems = [problem(p) for p in broken]
    return envelope("check", ok=all(d["passed"] for d in documents if d["scored"])
                    and not problems, documents=documents, problems=problems)


def plan(jobs: list[Job], clinic: str | None) -> dict[str, Any]:
    return envelope("plan", count=len(jobs), clinic=clinic,
                    documents=[job_fields(job) for job in jobs])


def stale(items: list[StaleItem]) -> dict[str, Any]:
    return envelope("stale", count=len(items), items=[
        {"what": i.what, "review_by": i.review_by.isoformat(), "file": str(i.path)}
        for i in items])


def status(rows: list[CatalogStatus]) -> dict[str, Any]:
    return envelope("status", catalogs=[row.as_dict() for row in rows])


def problem(p: Problem) -> dict[str, Any]:
    return {"message": p.message, "file": str(p.file) if p.file else None, "line": p.line,
            "hint": p.hint}


def error(problems: list[Problem]) -> dict[str, Any]:
    return envelope("error", ok=False, problems=[problem(p) for p in problems])


def catalog_check(findings: list[Finding]) -> dict[str, Any]:
    """``i18n check``: an ``error`` fails the check (``blocks_build``: a build would stop on
    it too); a ``warning`` is advice."""
    return envelope("catalog-check", ok=all(f.advice for f in findings), findings=[
        {"severity": "warning" if f.advice else "error", "blocks_build": f.blocks_build,
         **problem(f.problem)} for f in findings])


def site(report: SiteReport) -> dict[str, Any]:
    return envelope("site", ok=not report.refused, folder=str(report.out_dir),
                    pages=list(report.pages), written=list(report.written),
                    refused=[{**job_fields(job), "problems": list(problems)}
                             for job, problems in report.refused],
                    held=[{**job_fields(job), "problems": list(problems)}
                          for job, problems in report.held],
                    warned=[{**job_fields(job), "warnings": list(warnings)}
                            for job, warnings in report.warned])


def manifest_merge(merged: MergedManifest) -> dict[str, Any]:
    return envelope("manifest-merge", manifest=str(merged.path), parts=list(merged.parts),
                    documents=merged.documents)


def catalog_update(results: list[UpdateResult]) -> dict[str, Any]:
    """``i18n update``: per catalog, the entries added, made fuzzy (by context) and obsoleted."""
    return envelope("catalog-update", catalogs=[
        {"path": r.path, "added": r.added, "now_fuzzy": list(r.now_fuzzy),
         "obsoleted": r.obsoleted} for r in results])


_SHAPES: dict[str, Any] = {"build": build, "check": check, "plan": plan, "stale": stale,
                           "status": status, "error": error, "site": site,
                           "manifest-merge": manifest_merge, "catalog-check": catalog_check,
                           "catalog-update": catalog_update}
