"""handoutkit: plain-language patient handouts from content sources and gettext catalogs.

The build flow, one module per stage:

    content     → load and validate ``handouts/<topic>/handout.yaml`` (``regions`` for places)
    plan        → the topic × language × level × region × paper documents to make (``Job``)
    translate   → every printed string through ``locales/<lang>/LC_MESSAGES/*.po``
    readability → score the printed text in its own language against the level's target
    literacy    → the plain-language checks (stigma, jargon, uncommon words, passive voice)
    render      → Jinja2 HTML, then WeasyPrint PDF through a fetcher that loads only our assets
    verify      → check the PDF (pages, glyphs, PDF/UA) before it may be written
    output      → write atomically and record it in ``build/manifest.json``

The public API is what this module exports (the CLI and the print desk use it)::

    from handoutkit import BuildOptions, Project, build, make_plan
    project = Project.find()
    report = build(project, make_plan(project, ["my-topic"], ["en"]), BuildOptions(out_dir=...))

Names are imported on first use, so ``import handoutkit`` stays cheap for ``--help``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name → the module that defines it.
_EXPORTS = {
    "Project": "project",
    "Job": "plan", "PlanRequest": "plan", "make_plan": "plan", "plan_jobs": "plan",
    "choose_job": "plan", "read_settings": "plan", "Policy": "plan", "InvalidChoice": "plan",
    "BuildOptions": "pipeline", "BuildReport": "builder", "DocumentResult": "pipeline",
    "build": "builder", "render_pdf": "pipeline", "check_readability": "pipeline",
    "DocumentRefused": "pipeline", "assess": "pipeline",
    "ReadabilityReport": "readability", "TranslationRecord": "catalog",
    "HandoutkitError": "errors", "InputError": "errors", "UnknownReference": "errors",
    "Problem": "errors", "BuildBusy": "output",
    "Clinic": "clinic", "load_clinic": "clinic",
    "language": "languages", "PAPERS": "languages",
}
__all__ = [
    "PAPERS", "BuildBusy", "BuildOptions", "BuildReport", "Clinic", "DocumentRefused",
    "DocumentResult", "HandoutkitError", "InputError", "InvalidChoice", "Job", "PlanRequest",
    "Policy", "Problem", "Project", "ReadabilityReport", "TranslationRecord",
    "UnknownReference", "__version__", "assess", "build", "check_readability", "choose_job",
    "language", "load_clinic", "make_plan", "plan_jobs", "read_settings", "render_pdf",
]

if TYPE_CHECKING:
    from .builder import BuildReport, build
    from .catalog import TranslationRecord
    from .clinic import Clinic, load_clinic
    from .errors import HandoutkitError, InputError, Problem, UnknownReference
    from .languages import PAPERS, language
    from .output import BuildBusy
    from .pipeline import (
        BuildOptions,
        DocumentRefused,
        DocumentResult,
        assess,
        check_readability,
        render_pdf,
    )
    from .plan import (
        InvalidChoice,
        Job,
        PlanRequest,
        Policy,
        choose_job,
        make_plan,
        plan_jobs,
        read_settings,
    )
    from .project import Project
    from .readability import ReadabilityReport


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'handoutkit' has no attribute {name!r}")
