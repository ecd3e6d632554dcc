"""The ``handout`` command: parses arguments, calls the library, prints. Nothing else.

Exit codes: 0 all went well; 1 a document failed a check (too long, too hard to read, a
missing translation under ``--strict``); 2 the input is wrong (a file, a name, an option).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import __version__
from .errors import InputError
from .languages import PAPERS
from .levels import LEVELS
from .plan import Job, PlanRequest, plan_jobs, read_settings

if TYPE_CHECKING:
    from .builder import Progress
    from .pipeline import DocumentResult
from .project import Project

EXIT_FAILED = 1
EXIT_INPUT = 2

app = typer.Typer(
    name="handout",
    help="Make plain-language patient handouts as printable PDFs, one per language and "
         "reading level.",
    epilog="Examples:\n\n"
           "  handout build                         build the plan in handout.toml\n\n"
           "  handout build TOPIC -l easy --paper letter\n\n"
           "  handout check --region US-AL\n\n"
           "  handout list --json",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

Paper = Enum("Paper", {name: name for name in PAPERS}, type=str)  # type: ignore[misc]


@contextmanager
def user_errors(as_json: bool = False) -> Iterator[None]:
    """Print input errors without a traceback and exit 2; let bugs surface as bugs.

    With ``--json`` the errors are also printed as JSON on stdout, for the program reading it.
    """
    try:
        yield
    except InputError as exc:
        for problem in exc.problems:
            typer.echo(f"error: {problem}", err=True)
        if as_json:
            from . import report

            typer.echo(report.dumps(report.error(exc.problems)))
        raise typer.Exit(EXIT_INPUT) from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"handout {__version__}")
        raise typer.Exit()


ProjectOption = Annotated[
    Path | None,
    typer.Option("--project", "-C", help="The project folder (default: the nearest folder "
                 "above the current one that holds handouts/).", show_default=False)]


def _project(path: Path | None) -> Project:
    return Project(path.resolve()) if path else Project.find()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", "-V", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Make plain-language patient handouts as printable PDFs."""


@app.command()
def build(
    handouts: Annotated[list[str] | None, typer.Argument(
        help="Handout ids to build (default: all).", show_default=False)] = None,
    level: Annotated[list[str] | None, typer.Option(
        "--level", "-l", help=f"Reading level: {', '.join(LEVELS)} (repeatable; default: all).",
        show_default=False)] = None,
    lang: Annotated[list[str] | None, typer.Option(
        "--lang", help="Language code such as en or es (repeatable; default: all).",
        show_default=False)] = None,
    paper: Annotated[list[Paper] | None, typer.Option(
        "--paper", help="Paper size (repeatable; default: the region's paper, else a4).",
        show_default=False)] = None,
    region: Annotated[list[str] | None, typer.Option(
        "--region", "-r", help="Region code such as US-AL or TH: its legal facts, help lines, "
        "emergency number, languages and paper (repeatable).", show_default=False)] = None,
    clinic: Annotated[Path | None, typer.Option(
        "--clinic", help="Clinic profile (TOML): name, phone, logo on every page.",
        show_default=False)] = None,
    large_print: Annotated[bool, typer.Option(
        "--large-print", help="Body text at least 16 pt (may take more pages).")] = False,
    also: Annotated[str | None, typer.Option(
        "--also", help="A second language printed under each section, e.g. --also en.",
        show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Build folder (default: build/ in the project folder, wherever "
        "you run the command from).", show_default=False)] = None,
    workers: Annotated[int | None, typer.Option(
        "--jobs", "-j", min=1, help="Worker processes (default: one per CPU core).",
        show_default=False)] = None,
    force: Annotated[bool, typer.Option(
        help="Rebuild every document, even those whose inputs have not changed.")] = False,
    fail_fast: Annotated[bool, typer.Option(
        help="Stop at the first document that fails.")] = False,
    strict: Annotated[bool, typer.Option(
        help="Fail a document if any string would print in English for lack of a "
             "translation, or a regional fact is past its review date.")] = False,
    require_review: Annotated[bool, typer.Option(
        help="Refuse draft translations: build only those a reviewer signed off "
             "(`require_review = true` under [build] in handout.toml does the same).")] = False,
    preview: Annotated[bool, typer.Option(
        help="Highlight strings that are not translated yet (for translators); written "
             "as ….preview.pdf beside the print PDF, never over it.")] = False,
    allow_hard: Annotated[bool, typer.Option(
        help="Write a PDF even if its text is too hard for its reading level; the manifest "
             "records the override.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
    project: ProjectOption = None,
) -> None:
    """Build handout PDFs into the build folder, with a manifest.

    Each PDF goes to OUT/<handout>/<lang>/<handout>.<lang>.<level>[.<region>].<paper>.pdf
    (with +<also> after the language and .large before .pdf when asked) and is listed in
    OUT/manifest.json with its inputs' hashes and page count. A document
    that fails a check leaves its previous PDF in place. With no selection at all, the
    project's handout.toml plan says what to build (see `handout list --plan`).

    A topic is built in English and in each language that has its catalog; a translation
    that covers less than [build] min_coverage of the printed strings (90 % by default) is
    not built and is reported. Every non-English PDF says whether its translation is a
    draft or was signed off (`handout i18n review`).

    Examples:

      handout build

      handout build TOPIC --level standard --paper letter

      handout build --region US-AL --lang es --level easy

      handout build --clinic clinic.toml --large-print --also en --lang es

      handout build --lang es --require-review

      handout build --lang th --preview
    """
    from .builder import build_documents, default_jobs
    from .clinic import load_clinic
    from .output import BuildBusy
    from .pipeline import BuildOptions

    with user_errors(as_json):
        proj = _project(project)
        settings = read_settings(proj)
        request = PlanRequest(handouts or [], lang or [], level or [],
                              [p.value for p in paper or []], region or [], large_print, also,
                              clinic)
        if request == PlanRequest():
            request = settings.plan or request
        jobs = plan_jobs(proj, replace(request, preview=preview))
        out_dir = (out if out.is_absolute() else Path.cwd() / out) if out else (
            proj.root / "build")
        options = BuildOptions(out_dir=out_dir, strict=strict, allow_hard=allow_hard,
                               require_review=require_review or settings.policy.require_review,
                               min_coverage=settings.policy.min_coverage,
                               jobs=workers or default_jobs(), force=force, fail_fast=fail_fast,
                               clinic=load_clinic(request.clinic) if request.clinic else None)
        show = not (quiet or as_json)
        try:
            with _progress(len(jobs), show) as progress:
                report = build_documents(proj, jobs, options, progress)
        except BuildBusy as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(EXIT_FAILED) from None

    for result in report.results:
        if result.fallbacks and result.status == "built" and not as_json and not quiet:
            typer.echo(f"warning: {result.job}: {len(result.fallbacks)} string(s) not translated, "
                       f"printed in English: {', '.join(result.fallbacks)}", err=True)
        for problem in result.problems:
            kind = "note" if result.ok else "error"
            typer.echo(f"{kind}: {result.job}: {problem}", err=True)
        if not quiet:
            for warning in result.warnings:
                typer.echo(f"warning: {result.job}: {warning}", err=True)
    if as_json:
        from . import report as shapes

        typer.echo(shapes.dumps(shapes.build(report)))
    elif show:
        incomplete = report.count("incomplete")
        held = f", {incomplete} not built (translation incomplete)" if incomplete else ""
        typer.echo(f"{report.count('built')} built, {report.count('skipped')} up to date{held}, "
                   f"{len(report.failed)} failed; manifest: {_shown(report.manifest_path)}")
    if report.failed:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def check(
    handouts: Annotated[list[str] | None, typer.Argument(
        help="Handout ids to check (default: all).", show_default=False)] = None,
    level: Annotated[list[str] | None, typer.Option(
        "--level", "-l", help="Reading level (repeatable; default: all).",
        show_default=False)] = None,
    lang: Annotated[list[str] | None, typer.Option(
        "--lang", help="Language code (repeatable; default: all).", show_default=False)] = None,
    region: Annotated[list[str] | None, typer.Option(
        "--region", "-r", help="Region code: score the regional leaflet (its legal fact "
        "and languages).", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    project: ProjectOption = None,
) -> None:
    """Score each handout's printed text for readability against its level's target.

    English is scored with Flesch-Kincaid and SMOG, Spanish with Fernández-Huerta and
    Szigriszt-Pazos (INFLESZ); other languages with sentence length (language-independent).
    A failing document lists its three hardest sentences and why. Exits 1 if any fails.

    Examples:

      handout check

      handout check TOPIC --lang en --level easy --json

      handout check --region US-AL
    """
    from .pipeline import check_readability

    with user_errors(as_json):
        proj = _project(project)
        request = PlanRequest(handouts or [], lang or [], level or [], [], region or [])
        if request == PlanRequest():
            request = read_settings(proj).plan or request
        # One document per topic, language, level and region: paper does not change the text.
        jobs = list({(j.handout, j.lang, j.level, j.region): j
                     for j in plan_jobs(proj, request)}.values())
        reports = check_readability(proj, jobs)
    if as_json:
        from . import report as shapes

        typer.echo(shapes.dumps(shapes.check(jobs, reports)))
    else:
        for job, report in zip(jobs, reports, strict=True):
            mark = "pass" if report.passed else "FAIL"
            measures = "; ".join(m.describe() for m in report.measures)
            where = f" {job.region}" if job.region else ""
            typer.echo(f"{mark}  {job.handout:<22} {job.lang:<8} {job.level:<9}{where} "
                       f"{measures}")
            if not report.passed:
                for hard in report.hardest:
                    typer.echo(f"      [{hard.context}] {hard.text!r}: {', '.join(hard.reasons)}")
    if not all(report.passed for report in reports):
        raise typer.Exit(EXIT_FAILED)


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="The new project's folder (new or empty).")],
) -> None:
    """Make a new project that builds at once: a handout.toml, one example topic, catalogs
    for one more language (Spanish) and a README for its authors.

    Examples:

      handout init clinic-handouts && cd clinic-handouts && handout build
    """
    from .scaffold import create_project

    with user_errors():
        written = create_project(folder, dt.date.today())
    typer.echo(f"made {folder} ({len(written)} files). Next:\n\n"
               f"  cd {folder}\n  handout build          # PDFs into build/\n"
               "  handout new MY-TOPIC   # start your own topic")


@app.command()
def new(
    topic: Annotated[str, typer.Argument(help="The topic's id: lowercase letters, digits and "
                                         "hyphens, e.g. hepatitis-c-testing.")],
    title: Annotated[str | None, typer.Option(help="The printed title (default: from the id).",
                                              show_default=False)] = None,
    project: ProjectOption = None,
) -> None:
    """Start a topic: handouts/TOPIC/handout.yaml with every field, each explained.

    Examples:

      handout new hepatitis-c-testing --title "Testing for hepatitis C"
    """
    from .scaffold import new_topic

    with user_errors():
        proj = _project(project)
        path = new_topic(proj, topic, title, dt.date.today())
    typer.echo(f"wrote {_shown(path)}\n\nEdit it, then: handout check {topic}; "
               f"handout preview {topic}")


@app.command("list")
def list_handouts(
    stale: Annotated[bool, typer.Option(
        "--stale", help="List regional facts and help lines past their review date; exits 1 "
        "if there are any.")] = False,
    plan: Annotated[bool, typer.Option(
        "--plan", help="Show what a bare `handout build` makes (from handout.toml).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    project: ProjectOption = None,
) -> None:
    """List the handouts, languages, reading levels and regions there are.

    Examples:

      handout list --json

      handout list --stale

      handout list --plan
    """
    from . import report as shapes
    from .pipeline import load_handouts
    from .regions import load_region, region_codes, stale_items

    with user_errors(as_json):
        proj = _project(project)
        sources = load_handouts(proj, proj.handout_ids())
        languages = proj.languages()
        regions = [load_region(proj.handouts_dir, code)
                   for code in region_codes(proj.handouts_dir)]
        if plan:
            request = read_settings(proj).plan or PlanRequest()
            jobs = plan_jobs(proj, request)
    if plan:
        if as_json:
            typer.echo(shapes.dumps(shapes.plan(
                jobs, str(request.clinic) if request.clinic else None)))
        else:
            for job in jobs:
                typer.echo(f"  {job}")
            typer.echo(f"{len(jobs)} document(s)"
                       + (f", clinic {request.clinic}" if request.clinic else ""))
        return
    if stale:
        today = dt.date.today()
        items = [item for s in sources.values() for item in stale_items(None, s.facts, today)]
        items += [item for r in regions for item in stale_items(r, None, today)
                  if item.path == r.path]
        if as_json:
            typer.echo(shapes.dumps(shapes.stale(items)))
        else:
            for item in items:
                typer.echo(str(item))
            typer.echo(f"{len(items)} item(s) need review")
        if items:
            raise typer.Exit(EXIT_FAILED)
        return
    data: dict[str, Any] = {
        "handouts": [{"id": s.id, "version": s.handout.version,
                      "reviewed": s.handout.reviewed.isoformat(),
                      "review_by": s.handout.review_by.isoformat(),
                      "languages": proj.topic_languages(s.id),
                      "path": str(s.path.relative_to(proj.root))} for s in sources.values()],
        "languages": languages,
        "levels": [{"name": lvl.name, "max_grade": lvl.max_grade, "max_pages": lvl.max_pages,
                    "description": lvl.description} for lvl in LEVELS.values()],
        "papers": list(PAPERS),
        "regions": [{"code": r.code, "name": r.name, "languages": list(r.languages),
                     "paper": r.paper, "emergency": r.emergency,
                     "legal_facts": sorted(s.id for s in sources.values()
                                           if s.facts and r.code in s.facts.facts.facts)}
                    for r in regions],
    }
    if as_json:
        typer.echo(shapes.dumps(shapes.envelope("list", **data)))
        return
    typer.echo("Handouts:")
    for h in data["handouts"]:
        typer.echo(f"  {h['id']}  v{h['version']}, reviewed {h['reviewed']}, "
                   f"review by {h['review_by']}; in {', '.join(h['languages'])}")
    typer.echo(f"Languages: {', '.join(languages)}")
    typer.echo("Levels:")
    for lvl in LEVELS.values():
        typer.echo(f"  {lvl.name:<9} {lvl.description}")
    typer.echo(f"Paper: {', '.join(PAPERS)}")
    typer.echo("Regions:")
    for r in data["regions"]:
        facts = "legal facts" if r["legal_facts"] else "neutral legal box"
        typer.echo(f"  {r['code']:<6} {r['name']:<16} {', '.join(r['languages'])}; "
                   f"{r['paper']}; emergency {r['emergency']}; {facts}")


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")
                    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    clinic: Annotated[Path | None, typer.Option(
        "--clinic", help="Clinic profile (TOML) printed on every handout.",
        show_default=False)] = None,
    workers: Annotated[int, typer.Option(
        "--workers", min=1, help="Render worker processes.")] = 2,
    allow_host: Annotated[list[str] | None, typer.Option(
        "--allow-host", help="A host name clients use to reach the desk (repeatable; "
        "required with a non-loopback --host). Requests naming any other host are refused.",
        show_default=False)] = None,
    project: ProjectOption = None,
) -> None:
    """Run the print desk: a local web page and HTTP API that render handouts on demand.

    Open the printed URL in a browser at the front desk; a record system can call
    /api/render. The OpenAPI description is at /openapi.json.

    Example:

      handout serve --clinic examples/clinic/clinic.toml --port 8080
    """
    from .serve import serve

    with user_errors():
        proj = _project(project)
        serve(proj, host, port, clinic, workers, allow_host)


i18n_app = typer.Typer(
    help="The translator's workflow: templates, catalogs, coverage and checks.",
    epilog="Examples:\n\n"
           "  handout i18n extract          regenerate locales/*.pot from the sources\n\n"
           "  handout i18n init pt_BR       start a new language\n\n"
           "  handout i18n update           merge new and changed strings into every .po\n\n"
           "  handout i18n status --json    coverage per language\n\n"
           "  handout i18n check            broken placeholders, plural forms, markup",
    no_args_is_help=True)
app.add_typer(i18n_app, name="i18n")

LangOption = Annotated[list[str] | None, typer.Option(
    "--lang", help="Only this language (repeatable; default: all).", show_default=False)]


@i18n_app.command("extract")
def i18n_extract(project: ProjectOption = None) -> None:
    """Write one .pot template per domain under locales/, fresh from the content and templates."""
    from .i18n import write_templates

    with user_errors():
        proj = _project(project)
        for path in write_templates(proj):
            typer.echo(f"wrote {path.relative_to(proj.root)}")


TopicOption = Annotated[str | None, typer.Option(
    "--topic", help="Only this handout's catalog (default: every handout's).",
    show_default=False)]


@i18n_app.command("init")
def i18n_init(
    lang: Annotated[str, typer.Argument(help="Locale code, such as es, th or zh_Hans.")],
    topic: TopicOption = None,
    project: ProjectOption = None,
) -> None:
    """Start a language's catalogs, with its plural rule filled in.

    Catalogs that exist already are kept, so this also adds a language to a new topic.

    Examples:

      handout i18n init pt_BR

      handout i18n init es --topic TOPIC
    """
    from .i18n import init_language

    with user_errors():
        proj = _project(project)
        for path in init_language(proj, lang, topic):
            typer.echo(f"wrote {path.relative_to(proj.root)}")


@i18n_app.command("review")
def i18n_review(
    lang: Annotated[str, typer.Argument(help="Locale code of the catalogs reviewed.")],
    by: Annotated[str, typer.Option("--by", help="The reviewer's name, as printed on the "
                                    "handouts.", show_default=False)],
    date: Annotated[str | None, typer.Option(
        "--date", help="The review date, YYYY-MM-DD (default: today).",
        show_default=False)] = None,
    topic: TopicOption = None,
    project: ProjectOption = None,
) -> None:
    """Sign off a language's translations after a medical translator checked them.

    Records the reviewer, the date and a fingerprint of every entry reviewed in each
    catalog's header. Handouts whose every printed string is covered then say "reviewed"
    and print the reviewer's name; editing a reviewed entry later, or a change of its
    English text, makes the handouts that print it drafts again.

    Examples:

      handout i18n review es --by "Ana Pérez"

      handout i18n review ar --topic TOPIC --by "Omar Haddad" --date 2026-12-01
    """
    from .i18n import review_catalogs

    with user_errors():
        proj = _project(project)
        try:
            when = dt.date.fromisoformat(date) if date else dt.date.today()
        except ValueError:
            raise InputError.at(f"--date {date!r} is not a date (YYYY-MM-DD)") from None
        for path, count in review_catalogs(proj, lang, by, when, topic):
            typer.echo(f"signed off {count} entries in {path.relative_to(proj.root)}")


@i18n_app.command("update")
def i18n_update(lang: LangOption = None, project: ProjectOption = None) -> None:
    """Merge new and changed source strings into every catalog.

    A string whose English text changed keeps its translation, marked fuzzy: it prints in
    English until a translator confirms it. Strings no longer in the source are kept as
    obsolete (#~) entries and never print.
    """
    from .i18n import update_catalogs

    with user_errors():
        proj = _project(project)
        results = update_catalogs(proj, lang)
    for result in results:
        fuzzy = f" ({', '.join(result.now_fuzzy)})" if result.now_fuzzy else ""
        typer.echo(f"{Path(result.path).relative_to(proj.root)}: {result.added} new, "
                   f"{len(result.now_fuzzy)} now fuzzy{fuzzy}, {result.obsoleted} obsoleted")


@i18n_app.command("status")
def i18n_status(lang: LangOption = None,
                as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
                project: ProjectOption = None) -> None:
    """Coverage per language and catalog: translated, fuzzy, untranslated, obsolete."""
    from .i18n import status

    with user_errors(as_json):
        proj = _project(project)
        rows = status(proj, lang)
    if as_json:
        from . import report as shapes

        typer.echo(shapes.dumps(shapes.status(rows)))
        return
    typer.echo(f"{'lang':<8} {'catalog':<24} {'done':>6} {'transl':>6} {'fuzzy':>5} "
               f"{'untr':>5} {'obs':>4} {'errors':>6}  review")
    for row in rows:
        review = (f"reviewed by {row.reviewed_by} on {row.reviewed_on}"
                  if row.review == "reviewed" else row.review)
        typer.echo(f"{row.lang:<8} {row.domain:<24} {row.percent:>5.1f}% {row.translated:>6} "
                   f"{row.fuzzy:>5} {row.untranslated:>5} {row.obsolete:>4} {row.errors:>6}  "
                   f"{review}")


@i18n_app.command("check")
def i18n_check(lang: LangOption = None, project: ProjectOption = None) -> None:
    """Find broken placeholders, wrong plural forms, markup and syntax errors in catalogs.

    Exits 2 when it finds any, naming the file and line of each.
    """
    from .i18n import check_project

    with user_errors():
        proj = _project(project)
        findings = check_project(proj, lang)
    for finding in findings:
        typer.echo(f"error: {finding.problem}", err=True)
    if findings:
        raise typer.Exit(EXIT_INPUT)
    typer.echo("all catalogs pass")


@i18n_app.command("compile")
def i18n_compile(project: ProjectOption = None) -> None:
    """Write .mo files beside the .po files, for other gettext tools. Builds don't need them."""
    from .i18n import compile_catalogs

    with user_errors():
        proj = _project(project)
        for path in compile_catalogs(proj):
            typer.echo(f"wrote {path.relative_to(proj.root)}")


@contextmanager
def _progress(total: int, show: bool) -> Iterator[Progress | None]:
    """A progress bar on a terminal, plain lines elsewhere, nothing when quiet."""
    if not show:
        yield None
        return
    if not sys.stderr.isatty():
        done = 0

        def plain(job: Job, result: DocumentResult | None) -> None:
            nonlocal done
            if result is None:
                return
            done += 1
            if result.status == "built":
                typer.echo(f"[{done}/{total}] wrote {_shown(result.path)} ({result.pages} page(s))")
            elif result.status == "incomplete":
                typer.echo(f"[{done}/{total}] not built (translation incomplete) {job}")
            elif result.status != "skipped":  # up-to-date documents go by silently
                typer.echo(f"[{done}/{total}] FAILED {job}")

        yield plain
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), transient=True) as bar:
        task = bar.add_task("building", total=total)

        def fancy(job: Job, result: DocumentResult | None) -> None:
            if result is None:
                bar.update(task, description=f"building {job}")
            else:
                bar.advance(task)

        yield fancy


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
