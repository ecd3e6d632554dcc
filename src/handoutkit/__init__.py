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

The public API is what this module exports; the CLI (``cli.py``), the print desk
(``serve.py``) and the live preview (``preview.py``) use nothing else::

    from handoutkit import BuildOptions, Project, build, make_plan
    project = Project.find()
    report = build(project, make_plan(project, ["my-topic"], ["en"]), BuildOptions(out_dir=...))

Project and content:
    ``Project`` the project folder; ``SOURCE_LANGUAGE`` the language content is written in;
    ``load_topics`` every topic, the broken ones apart; ``Clinic``/``load_clinic`` a clinic
    profile; ``language`` a language's profile; ``PAPERS`` the paper sizes; ``LEVELS`` the
    reading levels; ``region_codes``/``load_region`` region profiles; ``stale_items`` facts
    past their review date; ``create_project``/``new_topic`` a new project or topic.

Plan:
    ``Choice`` one document as a person chooses it; ``Job`` one checked document;
    ``PlanRequest``/``plan_jobs``/``make_plan``/``choose_job`` the documents to make;
    ``Shard`` one machine's share of a plan; ``read_settings``/``Policy`` ``handout.toml``.

Build:
    ``build``/``build_documents`` write PDFs and the manifest; ``BuildOptions`` how;
    ``BuildReport``/``DocumentResult`` what came of it; ``Progress`` the progress callback;
    ``default_jobs`` worker processes; ``merge_manifests`` join a sharded build;
    ``ended_by_signals`` Ctrl-C, SIGTERM and SIGHUP end a build cleanly;
    ``render_pdf``/``assess``/``check_readability`` one document in memory;
    ``ReadabilityReport``/``TranslationRecord`` a document's scores and translation.

Translators:
    ``write_templates``, ``init_language``, ``update_catalogs``, ``review_catalogs``,
    ``catalog_status``, ``check_catalogs``, ``compile_catalogs``,
    ``superseded_translations``, ``export_tbx``: the ``handout i18n`` workflow.

Web (site, print desk, live preview):
    ``build_site`` the static online version; ``RenderService``/``Limits``/``DeskDocument``/
    ``choice_values``/``MAX_PREPARED_FOR``/``NAME_PATTERN``/``printed_name`` the desk's engine;
    ``render_desk``/``desk_choices`` its page; ``parse_infobutton``/``infobutton_feed`` its
    infobutton answers; ``serve_desk`` run it; ``LivePreview`` the preview's engine;
    ``serve_preview`` run it; ``LOOPBACK_HOSTS``/``host_name`` the hosts they answer to;
    ``listening_socket`` the port they listen on.

Errors:
    ``HandoutkitError`` the family; ``InputError`` (``InvalidChoice``, ``UnknownReference``)
    wrong input, as ``Problem`` values; ``DocumentRefused``, ``BuildBusy``, ``DeskBusy``.

JSON:
    ``json_report`` every ``--json`` shape the CLI prints.

Names are imported on first use, so ``import handoutkit`` stays cheap for ``--help``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: The version of handoutkit, as ``handout --version`` prints it and every manifest records.
__version__ = "0.1.0"

#: Public name → the module that defines it (``module:name`` where the root renames it).
_EXPORTS = {
    # project and content
    "Project": "project", "SOURCE_LANGUAGE": "project", "load_topics": "content:load_each",
    "Clinic": "clinic", "load_clinic": "clinic", "language": "languages", "PAPERS": "languages",
    "LEVELS": "levels", "region_codes": "regions", "load_region": "regions",
    "stale_items": "regions", "create_project": "scaffold", "new_topic": "scaffold",
    # plan
    "Choice": "plan", "Job": "plan", "PlanRequest": "plan", "plan_jobs": "plan",
    "make_plan": "plan", "choose_job": "plan", "Shard": "plan", "read_settings": "plan",
    "Policy": "plan",
    # build
    "build": "builder", "build_documents": "builder", "BuildOptions": "pipeline",
    "BuildReport": "builder", "DocumentResult": "pipeline", "Progress": "builder",
    "default_jobs": "builder", "merge_manifests": "builder", "render_pdf": "pipeline",
    "ended_by_signals": "output",
    "assess": "pipeline", "check_readability": "pipeline", "ReadabilityReport": "readability",
    "TranslationRecord": "rendered",
    # translators
    "write_templates": "i18n", "init_language": "i18n", "update_catalogs": "i18n",
    "review_catalogs": "i18n", "catalog_status": "i18n:status",
    "check_catalogs": "i18n:check_project", "compile_catalogs": "i18n",
    "superseded_translations": "i18n", "export_tbx": "glossary",
    # web: the site, the print desk, the live preview
    "build_site": "site", "RenderService": "deskservice", "Limits": "deskservice",
    "DeskDocument": "deskservice", "choice_values": "deskservice",
    "MAX_PREPARED_FOR": "deskservice", "NAME_PATTERN": "plan", "printed_name": "plan",
    "render_desk": "desk",
    "desk_choices": "desk:chosen_values", "parse_infobutton": "infobutton:parse_request",
    "infobutton_feed": "infobutton:feed", "serve_desk": "serve:serve",
    "LivePreview": "livepreview", "serve_preview": "preview", "LOOPBACK_HOSTS": "hosts",
    "host_name": "hosts", "listening_socket": "hosts",
    # errors
    "HandoutkitError": "errors", "InputError": "errors", "InvalidChoice": "plan",
    "UnknownReference": "errors", "Problem": "errors", "DocumentRefused": "pipeline",
    "BuildBusy": "output", "DeskBusy": "deskservice",
    # JSON
    "json_report": "report",
}
__all__ = [  # noqa: RUF022  (grouped by purpose, as _EXPORTS and the docstring are)
    # project and content
    "PAPERS", "LEVELS", "SOURCE_LANGUAGE", "Clinic", "Project", "create_project", "language",
    "load_clinic", "load_region", "load_topics", "new_topic", "region_codes", "stale_items",
    # plan
    "Choice", "Job", "PlanRequest", "Policy", "Shard", "choose_job", "make_plan", "plan_jobs",
    "read_settings",
    # build
    "BuildOptions", "BuildReport", "DocumentResult", "Progress", "ReadabilityReport",
    "TranslationRecord", "assess", "build", "build_documents", "check_readability",
    "default_jobs", "ended_by_signals", "merge_manifests", "render_pdf",
    # translators
    "catalog_status", "check_catalogs", "compile_catalogs", "export_tbx", "init_language",
    "review_catalogs", "superseded_translations", "update_catalogs", "write_templates",
    # web
    "LOOPBACK_HOSTS", "MAX_PREPARED_FOR", "NAME_PATTERN", "DeskDocument", "Limits",
    "LivePreview", "RenderService", "build_site", "choice_values", "desk_choices",
    "host_name", "infobutton_feed", "listening_socket", "parse_infobutton", "printed_name",
    "render_desk", "serve_desk", "serve_preview",
    # errors
    "BuildBusy", "DeskBusy", "DocumentRefused", "HandoutkitError", "InputError",
    "InvalidChoice", "Problem", "UnknownReference",
    # JSON
    "json_report",
    "__version__",
]

if TYPE_CHECKING:
    from .builder import (
        BuildReport,
        Progress,
        build,
        build_documents,
        default_jobs,
        merge_manifests,
    )
    from .clinic import Clinic, load_clinic
    from .content import load_each as load_topics
    from .desk import chosen_values as desk_choices
    from .desk import render_desk
    from .deskservice import (
        MAX_PREPARED_FOR,
        DeskBusy,
        DeskDocument,
        Limits,
        RenderService,
        choice_values,
    )
    from .errors import HandoutkitError, InputError, Problem, UnknownReference
    from .glossary import export_tbx
    from .hosts import LOOPBACK_HOSTS, host_name, listening_socket
    from .i18n import check_project as check_catalogs
    from .i18n import (
        compile_catalogs,
        init_language,
        review_catalogs,
        superseded_translations,
        update_catalogs,
        write_templates,
    )
    from .i18n import status as catalog_status
    from .infobutton import feed as infobutton_feed
    from .infobutton import parse_request as parse_infobutton
    from .languages import PAPERS, language
    from .levels import LEVELS
    from .livepreview import LivePreview
    from .output import BuildBusy, ended_by_signals
    from .pipeline import (
        BuildOptions,
        DocumentRefused,
        DocumentResult,
        assess,
        check_readability,
        render_pdf,
    )
    from .plan import (
        NAME_PATTERN,
        Choice,
        InvalidChoice,
        Job,
        PlanRequest,
        Policy,
        Shard,
        choose_job,
        make_plan,
        plan_jobs,
        printed_name,
        read_settings,
    )
    from .preview import serve_preview
    from .project import SOURCE_LANGUAGE, Project
    from .readability import ReadabilityReport
    from .regions import load_region, region_codes, stale_items
    from .rendered import TranslationRecord
    from .report import json_report
    from .scaffold import create_project, new_topic
    from .serve import serve as serve_desk
    from .site import build_site


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module, _, attribute = _EXPORTS[name].partition(":")
        return getattr(importlib.import_module(f".{module}", __name__), attribute or name)
    raise AttributeError(f"module 'handoutkit' has no attribute {name!r}")
