"""The ``handout`` command: parses arguments, calls the library, prints. Nothing else.

Exit codes: 0 all went well; 1 a document failed a check (too long, too hard to read, a
missing translation under ``--strict``); 2 the input is wrong (a file, a name, an option);
130 the build was interrupted (Ctrl-C, SIGTERM, SIGHUP).
"""

# No ``from __future__ import annotations`` here, unlike the library: Typer reads every
# command's annotations at each start, and as strings it compiles each one again (13 ms of a
# 300 ms no-op). Names imported only for type checking are quoted.
import datetime as dt
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from . import (
    LEVELS,
    PAPERS,
    SOURCE_LANGUAGE,
    InputError,
    Problem,
    Project,
    UnknownReference,
    __version__,
)

if TYPE_CHECKING:
    from . import BuildReport, DocumentResult, Job, PlanRequest, Progress, ReadabilityReport

EXIT_FAILED = 1
EXIT_INPUT = 2
#: Ended by Ctrl-C, SIGTERM or SIGHUP (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130

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
        _input_error(exc.problems, as_json)
    except OSError as exc:
        # The machine's, not the content's: a full disk, a folder it may not write or read.
        where = Path(exc.filename) if isinstance(exc.filename, str) else None
        _input_error([Problem(f"cannot read or write: {exc.strerror or exc}", where,
                              hint="check the folder's permissions and free space")], as_json)


def _input_error(problems: list[Problem], as_json: bool) -> NoReturn:
    for problem in problems:
        typer.echo(f"error: {problem}", err=True)
    if as_json:
        from . import json_report

        typer.echo(json_report("error", problems))
    raise typer.Exit(EXIT_INPUT) from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"handout {__version__}")
        raise typer.Exit()


ProjectOption = Annotated[
    Path | None,
    typer.Option("--project", "-C", help="The project folder (default: the nearest folder "
                 "above the current one that holds handouts/).", show_default=False)]


def _completions(values: Callable[[Project], Iterable[str]], incomplete: str) -> list[str]:
    """Shell completion from the project the shell is in: nothing, quietly, outside one."""
    try:
        return [value for value in values(Project.find()) if value.startswith(incomplete)]
    except InputError:
        return []


def complete_handouts(incomplete: str) -> list[str]:
    return _completions(Project.handout_ids, incomplete)


def complete_languages(incomplete: str) -> list[str]:
    return _completions(Project.languages, incomplete)


def complete_regions(incomplete: str) -> list[str]:
    from . import region_codes

    return _completions(lambda project: region_codes(project.handouts_dir), incomplete)


#: The release policy's flags, as `handout build` and `handout site` take them.
StrictOption = Annotated[bool | None, typer.Option(
    "--strict/--no-strict",
    help="Fail a document if any string would print in English for lack of a "
         "translation, or a regional fact is past its review date (default: [build] "
         "strict in handout.toml, else off).", show_default=False)]
RequireReviewOption = Annotated[bool | None, typer.Option(
    "--require-review/--allow-drafts",
    help="Refuse draft translations: only those a reviewer signed off (default: "
         "[build] require_review in handout.toml, else off).", show_default=False)]
QuietOption = Annotated[bool, typer.Option(
    "--quiet", "-q", help="Print only errors.")]
#: The translators' commands that write files say which, in JSON, for a platform's script.
WrittenJsonOption = Annotated[bool, typer.Option(
    "--json", help="Print the files written as JSON.")]
VerboseOption = Annotated[bool, typer.Option(
    "--verbose", "-v", help="Also print the details: every document, file and check.")]


@dataclass(frozen=True)
class Output:
    """What a command prints besides its errors: nothing (-q), the usual, or details (-v).

    Results go to stdout; progress and details go to stderr, so a pipe gets only results.
    """

    quiet: bool = False
    verbose: bool = False

    def result(self, message: str) -> None:
        if not self.quiet:
            typer.echo(message)

    def detail(self, message: str) -> None:
        if self.verbose and not self.quiet:
            typer.echo(message, err=True)


def _project(path: Path | None) -> Project:
    """The project of ``--project``, which must be one, or the nearest above this folder."""
    if path is None:
        return Project.find()
    root = path.resolve()
    if not root.is_dir():
        raise InputError.at("no such folder", path, hint="--project names a project folder")
    if not (root / "handout.toml").is_file() and not (root / "handouts").is_dir():
        raise InputError.at("not a handoutkit project (no handout.toml or handouts/ in it)",
                            path, hint="make one with `handout init FOLDER`")
    return Project(root)


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", "-V", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Make plain-language patient handouts as printable PDFs."""


@app.command()
def build(
    handouts: Annotated[list[str] | None, typer.Argument(
        help="Handout ids to build (default: all).", show_default=False,
        autocompletion=complete_handouts)] = None,
    level: Annotated[list[str] | None, typer.Option(
        "--level", "-l", help=f"Reading level: {', '.join(LEVELS)} (repeatable; default: all).",
        show_default=False)] = None,
    lang: Annotated[list[str] | None, typer.Option(
        "--lang", help="Language code such as en or es (repeatable; default: all).",
        show_default=False, autocompletion=complete_languages)] = None,
    paper: Annotated[list[Paper] | None, typer.Option(
        "--paper", help="Paper size (repeatable; default: the region's paper, else a4).",
        show_default=False)] = None,
    region: Annotated[list[str] | None, typer.Option(
        "--region", "-r", help="Region code such as US-AL or TH: its legal facts, help lines, "
        "emergency number, languages and paper (repeatable).", show_default=False,
        autocompletion=complete_regions)] = None,
    clinic: Annotated[Path | None, typer.Option(
        "--clinic", help="Clinic profile (TOML): name, phone, logo on every page.",
        show_default=False)] = None,
    large_print: Annotated[bool, typer.Option(
        "--large-print", help="Body text at least 16 pt (may take more pages).")] = False,
    also: Annotated[str | None, typer.Option(
        "--also", help="A second language printed under each section, e.g. --also en.",
        show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Build folder; a relative one is in the project folder, wherever "
        "you run the command from (default: build).", show_default=False)] = None,
    workers: Annotated[int | None, typer.Option(
        "--jobs", "-j", min=1, help="Worker processes (default: one per CPU core).",
        show_default=False)] = None,
    force: Annotated[bool, typer.Option(
        help="Rebuild every document, even those whose inputs have not changed.")] = False,
    fail_fast: Annotated[bool, typer.Option(
        help="Stop at the first document that fails.")] = False,
    strict: StrictOption = None,
    require_review: RequireReviewOption = None,
    preview: Annotated[bool, typer.Option(
        help="Highlight strings that are not translated yet (for translators); written "
             "as ….preview.pdf beside the print PDF, never over it.")] = False,
    allow_hard: Annotated[bool | None, typer.Option(
        "--allow-hard/--no-allow-hard",
        help="Write a PDF even if its text is too hard for its reading level; the manifest "
             "records the override (default: [build] allow_hard in handout.toml, else off).",
        show_default=False)] = None,
    shard: Annotated[str | None, typer.Option(
        "--shard", metavar="K/N",
        help="Build only the K-th of N equal shares of the documents (every machine building "
             "the same plan picks the same share), with its own manifest.K-of-N.json; join "
             "the shares' build folders with `handout manifest merge`.",
        show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
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

      handout build --shard 2/3      # one machine of three; then handout manifest merge
    """
    # Long by design: most of it is the options, declared in the signature as Typer reads
    # them, and the help text with its examples; the work is in the library it calls.
    from . import (
        BuildBusy,
        BuildOptions,
        PlanRequest,
        Shard,
        build_documents,
        default_jobs,
        ended_by_signals,
        load_clinic,
        plan_jobs,
        read_settings,
    )

    with user_errors(as_json):
        proj = _project(project)
        settings = read_settings(proj)
        share = Shard.parse(shard) if shard else None
        request = PlanRequest(handouts or [], lang or [], level or [],
                              [p.value for p in paper or []], region or [], large_print, also,
                              clinic)
        if request == PlanRequest():
            request = settings.plan or request
        jobs = plan_jobs(proj, replace(request, preview=preview))
        mine = share.select(jobs) if share else jobs  # build_documents deals the share out
        # Relative to the project, wherever the command runs: no stray build/ in a subfolder.
        out_dir = proj.root / (out or "build")
        policy = settings.policy.overridden(strict=strict, allow_hard=allow_hard,
                                            require_review=require_review)
        options = BuildOptions.under(
            policy, out_dir=out_dir, jobs=workers or default_jobs(), force=force,
            fail_fast=fail_fast, clinic=load_clinic(request.clinic) if request.clinic else None,
            shard=share)
        if preview:  # it shows a translator what is missing: never held back for that
            options = replace(options, min_coverage=0.0)
        output = Output(quiet or as_json, verbose)
        _warn_about_catalogs(proj, sorted({job.lang for job in mine}), output)
        if not request.langs and not output.quiet:
            _note_languages_left_out(proj, mine)
        output.detail(f"{len(mine)} document(s) into {_shown(out_dir)}")
        try:
            with ended_by_signals(), _progress(len(mine), output) as progress:
                report = build_documents(proj, jobs, options, progress)
        except BuildBusy as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(EXIT_FAILED) from None
        except KeyboardInterrupt:
            typer.echo("interrupted: the documents written so far are whole, and nothing "
                       "half-written is left; run the build again to finish", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None

    _report_build(report, output, as_json)


def _report_build(report: "BuildReport", output: Output, as_json: bool) -> None:
    """Say what a build did, per document and in sum, and exit with what it means: 0 all made
    or up to date, 1 a document failed a check, 2 an input is malformed."""
    # A message that many documents share (a broken file they all read, a stale fact) is
    # said once, with the documents it concerns.
    said: dict[tuple[str, str], list[str]] = {}
    for result in report.results:
        if result.english_strings and result.status == "built" and not output.quiet:
            said.setdefault(("warning", result.english_strings), []).append(str(result.job))
        for problem in result.problems:
            said.setdefault(("note" if result.ok else "error", problem), []).append(
                str(result.job))
        if not output.quiet:
            for warning in result.warnings:
                said.setdefault(("warning", warning), []).append(str(result.job))
    for (kind, message), jobs in said.items():
        others = f" and {len(jobs) - 1} other document(s)" if len(jobs) > 1 else ""
        typer.echo(f"{kind}: {jobs[0]}{others}: {message}", err=True)
    if as_json:
        from . import json_report

        typer.echo(json_report("build", report))
    incomplete = report.count("incomplete")
    held = f", {incomplete} not built (translation incomplete)" if incomplete else ""
    output.result(f"{report.count('built')} built, {report.count('skipped')} up to date{held}, "
               f"{len(report.failed)} failed; manifest: {_shown(report.manifest_path)}")
    if report.failed:
        # A malformed file is wrong input (2) even while the documents that do not need it
        # were made; otherwise some documents failed a check (1).
        invalid = any(result.status == "invalid" for result in report.results)
        raise typer.Exit(EXIT_INPUT if invalid else EXIT_FAILED)


@app.command()
def check(
    handouts: Annotated[list[str] | None, typer.Argument(
        help="Handout ids to check (default: all).", show_default=False,
        autocompletion=complete_handouts)] = None,
    level: Annotated[list[str] | None, typer.Option(
        "--level", "-l", help="Reading level (repeatable; default: all).",
        show_default=False)] = None,
    lang: Annotated[list[str] | None, typer.Option(
        "--lang", help="Language code (repeatable; default: all).", show_default=False,
        autocompletion=complete_languages)] = None,
    region: Annotated[list[str] | None, typer.Option(
        "--region", "-r", help="Region code: score the regional leaflet (its legal fact "
        "and languages).", show_default=False, autocompletion=complete_regions)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
    project: ProjectOption = None,
) -> None:
    """Score each handout's printed text for readability and health literacy at its level.

    English is scored with Flesch-Kincaid and SMOG, Spanish with Fernández-Huerta and
    Szigriszt-Pazos (INFLESZ); other languages with sentence length (language-independent).
    Every language is checked for stigmatising words and unexplained jargon from the
    project's glossary (locales/glossary.csv): either fails the easy level, stigma every
    level. Uncommon words, acronyms, passive voice, long list items and lexical density are
    advice, each with a target (-v lists every finding on its sentence, with the plain
    alternative where the glossary has one). A failing document lists what to change.
    Exits 1 if any fails.

    Examples:

      handout check

      handout check TOPIC --lang en --level easy -v

      handout check TOPIC --json      # every measure, target and finding, with its msgctxt

      handout check --region US-AL
    """
    # Long by design: most of it is the options, declared in the signature as Typer reads
    # them, and the help text with its examples; the work is in the library it calls.
    from . import InputError, PlanRequest, check_readability, plan_jobs, read_settings

    with user_errors(as_json):
        proj = _project(project)
        settings = read_settings(proj)
        request = PlanRequest(handouts or [], lang or [], level or [], [], region or [])
        if request == PlanRequest():
            request = settings.plan or request
        # One document per topic, language, level and region: paper does not change the text.
        planned = list({(j.handout, j.lang, j.level, j.region): j
                        for j in plan_jobs(proj, request)}.values())
        # As a build does, a broken topic or region fails only the documents made from it:
        # each topic and region is scored apart, the others still are.
        groups: dict[tuple[str, str | None], list[Job]] = {}
        for job in planned:
            groups.setdefault((job.handout, job.region), []).append(job)
        jobs, reports, broken = [], [], []
        for group in groups.values():
            try:
                reports += check_readability(proj, group)
                jobs += group
            except InputError as exc:
                broken += [p for p in exc.problems if p not in broken]
        _warn_about_catalogs(proj, sorted({job.lang for job in jobs}), Output(quiet or as_json))
    for problem in broken:
        typer.echo(f"error: {problem}", err=True)
    # A translation a build would not print yet is English text: not the language's to
    # score, nor a failure (a language just started with `i18n init`).
    least = settings.policy.min_coverage
    scored = [report for report in reports if report.translated >= least]
    if as_json:
        from . import json_report

        typer.echo(json_report("check", jobs, reports, broken, least=least))
    else:
        output = Output(quiet, verbose)
        for job, report in zip(jobs, reports, strict=True):
            if report.translated >= least:
                _print_report(job, report, output, verbose)
            else:
                output.result(f"skip  {job.handout:<22} {job.lang:<8} {job.level:<9} not "
                              f"scored: {report.translated:.0%} of its text is translated "
                              f"(a build prints it from {least:.0%}; `handout i18n status`)")
    if broken:
        raise typer.Exit(EXIT_INPUT)
    if not all(report.passed for report in scored):
        raise typer.Exit(EXIT_FAILED)


def _print_report(job: "Job", report: "ReadabilityReport", output: Output, verbose: bool) -> None:
    """One document's line, then what to change: a failure even with -q, advice with -v."""
    gate = "; ".join(m.describe() for m in report.measures if m.gating)
    where = f" {job.region}" if job.region else ""
    line = (f"{'pass' if report.passed else 'FAIL'}  {job.handout:<22} {job.lang:<8} "
            f"{job.level:<9}{where} {gate}")
    if report.passed:
        output.result(line)
    else:
        typer.echo(line)
    for hard in report.hardest if report.formulas_failed or verbose else ():
        typer.echo(f"      [{hard.context}] {hard.text!r}: {', '.join(hard.reasons)}")
    for finding in (f for f in report.findings if f.blocks):
        typer.echo(f"      must change [{finding.context}] {finding.sentence!r}: "
                   f"{finding.describe()}")
    advice = [f for f in report.findings if not f.blocks]
    if verbose:
        typer.echo("      also: " + "; ".join(m.describe() for m in report.measures
                                              if not m.gating))
        for finding in advice:
            typer.echo(f"      consider [{finding.context}] {finding.sentence!r}: "
                       f"{finding.describe()}")
    elif advice:
        kinds = Counter(f.kind for f in advice)
        output.result("      advice: " + ", ".join(f"{n} {kind}" for kind, n in sorted(
            kinds.items())) + " (-v lists them)")


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="The new project's folder (new or empty).")],
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Make a new project that builds at once: a handout.toml, one example topic, catalogs
    for one more language (Spanish) and a README for its authors.

    Examples:

      handout init clinic-handouts && cd clinic-handouts && handout build
    """
    from . import create_project

    output = Output(quiet, verbose)
    with user_errors():
        written = create_project(folder, dt.date.today())
    for path in written:
        output.detail(f"wrote {_shown(path)}")
    output.result(f"made {folder} ({len(written)} files). Next:\n\n"
               f"  cd {folder}\n  handout build          # PDFs into build/\n"
               "  handout new MY-TOPIC   # start your own topic")


@app.command()
def new(
    topic: Annotated[str, typer.Argument(help="The topic's id: lowercase letters, digits and "
                                         "hyphens, e.g. hepatitis-c-testing.")],
    title: Annotated[str | None, typer.Option(help="The printed title (default: from the id).",
                                              show_default=False)] = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
    project: ProjectOption = None,
) -> None:
    """Start a topic: handouts/TOPIC/handout.yaml with every field, each explained.

    Examples:

      handout new hepatitis-c-testing --title "Testing for hepatitis C"
    """
    from . import new_topic

    with user_errors():
        proj = _project(project)
        path = new_topic(proj, topic, title, dt.date.today())
    Output(quiet, verbose).result(f"wrote {_shown(path)}\n\nEdit it, then: handout check "
                                  f"{topic}; handout preview {topic}")


@app.command("list")
def list_handouts(
    stale: Annotated[bool, typer.Option(
        "--stale", help="List topics, regional facts and help lines past their review date; "
        "exits 1 if there are any.")] = False,
    plan: Annotated[bool, typer.Option(
        "--plan", help="Show what a bare `handout build` makes (from handout.toml).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
    project: ProjectOption = None,
) -> None:
    """List the handouts, languages, reading levels and regions there are.

    Examples:

      handout list --json

      handout list --stale

      handout list --plan
    """
    from . import load_region, load_topics, region_codes

    with user_errors(as_json):
        proj = _project(project)
        # A broken topic is reported (exit 2, or 1 for a fact naming an unknown region, at
        # the end) without hiding the others.
        sources, broken = load_topics(proj, proj.handout_ids())
        for error in broken.values():
            for problem in error.problems:
                typer.echo(f"error: {problem}", err=True)
        done = 0 if not broken else EXIT_FAILED if all(
            isinstance(error, UnknownReference) for error in broken.values()) else EXIT_INPUT
        regions = []
        for code in region_codes(proj.handouts_dir):  # likewise a broken region profile
            try:
                regions.append(load_region(proj.handouts_dir, code))
            except InputError as exc:
                for problem in exc.problems:
                    typer.echo(f"error: {problem}", err=True)
                done = EXIT_INPUT
        if plan:
            request, jobs = _plan_of(proj)
    if plan:
        _print_plan(request, jobs, as_json)
        raise typer.Exit(done)
    if stale:
        found = _print_stale(sources, regions, as_json)
        raise typer.Exit(done or (EXIT_FAILED if found else 0))
    data = _listing(proj, sources, broken, regions)
    if as_json:
        from . import json_report

        typer.echo(json_report("list", **data))
    elif quiet:  # the ids alone, one a line, for scripts: `for t in $(handout list -q)`
        for h in data["handouts"]:
            typer.echo(h["id"])
    else:
        _print_listing(data, regions, verbose)
    raise typer.Exit(done)


def _plan_of(project: Project) -> "tuple[PlanRequest, list[Job]]":
    """The plan in handout.toml and its documents (the plan's own schema is loaded only for
    ``--plan``)."""
    from . import PlanRequest, plan_jobs, read_settings

    request = read_settings(project).plan or PlanRequest()
    return request, plan_jobs(project, request)


def _print_plan(request: "PlanRequest", jobs: "list[Job]", as_json: bool) -> None:
    if as_json:
        from . import json_report

        typer.echo(json_report("plan", jobs, str(request.clinic) if request.clinic else None))
        return
    for job in jobs:
        typer.echo(f"  {job}")
    typer.echo(f"{len(jobs)} document(s)"
               + (f", clinic {request.clinic}" if request.clinic else ""))


def _print_stale(sources: Mapping[str, Any], regions: list[Any], as_json: bool) -> int:
    """The topics, facts and help lines past their review date; how many there are."""
    from . import stale_items

    today = dt.date.today()
    items = [item for s in sources.values() for item in s.stale(today)]
    items += [item for s in sources.values() for item in stale_items(None, s.facts, today)]
    items += [item for r in regions for item in stale_items(r, None, today)
              if item.path == r.path]
    if as_json:
        from . import json_report

        typer.echo(json_report("stale", items))
    else:
        for item in items:
            typer.echo(str(item))
        typer.echo(f"{len(items)} item(s) need review")
    return len(items)


def _listing(project: Project, sources: Mapping[str, Any], broken: Mapping[str, InputError],
             regions: list[Any]) -> dict[str, Any]:
    """What `handout list` shows, as the data its JSON holds."""
    return {
        "handouts": [{"id": s.id, "version": s.handout.version,
                      "reviewed": s.handout.reviewed.isoformat(),
                      "review_by": s.handout.review_by.isoformat(),
                      "languages": project.topic_languages(s.id),
                      "path": project.label(s.path)} for s in sources.values()],
        "languages": project.languages(),
        "levels": [{"name": lvl.name, "max_grade": lvl.max_grade, "max_pages": lvl.max_pages,
                    "description": lvl.description} for lvl in LEVELS.values()],
        "papers": list(PAPERS),
        "regions": [{"code": r.code, "name": r.name, "languages": list(r.languages),
                     "paper": r.paper, "emergency": r.emergency,
                     "legal_facts": sorted(s.id for s in sources.values()
                                           if s.facts and r.code in s.facts.facts.facts)}
                    for r in regions],
        "errors": [str(problem) for error in broken.values() for problem in error.problems],
    }


def _print_listing(data: dict[str, Any], regions: list[Any], verbose: bool) -> None:
    typer.echo("Handouts:")
    for h in data["handouts"]:
        typer.echo(f"  {h['id']}  v{h['version']}, reviewed {h['reviewed']}, "
                   f"review by {h['review_by']}; in {', '.join(h['languages'])}")
        if verbose:
            typer.echo(f"    {h['path']}")
    typer.echo(f"Languages: {', '.join(data['languages'])}")
    typer.echo("Levels:")
    for lvl in LEVELS.values():
        typer.echo(f"  {lvl.name:<9} {lvl.description}")
    typer.echo(f"Paper: {', '.join(PAPERS)}")
    typer.echo("Regions:" if data["regions"] else
               "Regions: none (handouts/regions/<code>.yaml adds one)")
    for r in data["regions"]:
        facts = "legal facts" if r["legal_facts"] else "neutral legal box"
        typer.echo(f"  {r['code']:<6} {r['name']:<16} {', '.join(r['languages'])}; "
                   f"{r['paper']}; emergency {r['emergency']}; {facts}")
        if verbose:
            region = next(item for item in regions if item.code == r["code"])
            for line in region.help_lines:
                typer.echo(f"         help line: {line.name} {line.phone} ({line.hours})")


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
    root_path: Annotated[str, typer.Option(
        "--root-path", help="The path a reverse proxy serves the desk under (e.g. /desk), "
        "for the API docs; the page's own links are relative.",
        show_default=False)] = "",
    trusted_proxy: Annotated[list[str] | None, typer.Option(
        "--trusted-proxy", help="Address or network (10.0.0.0/24) of a reverse proxy whose "
        "X-Forwarded-For is believed (repeatable). None by default: rate limits count the "
        "connecting address.", show_default=False)] = None,
    cache_dir: Annotated[Path | None, typer.Option(
        "--cache-dir", help="Keep rendered documents in this folder too, named by their "
        "build key; desks sharing it reuse each other's renders.",
        show_default=False)] = None,
    build_dir: Annotated[Path | None, typer.Option(
        "--build-dir", help="Where `handout build` wrote the plan: a request for a document "
        "built there from the same inputs and policy is served as built, not rendered "
        "(default: the project's build/).", show_default=False)] = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
    project: ProjectOption = None,
) -> None:
    """Run the print desk: a local web page and HTTP API that render handouts on demand.

    Open the printed URL in a browser at the front desk; a record system can call
    /api/render, or ask /infobutton for the handouts of a diagnosis, medicine or lab code
    (HL7's infobutton request, as MedlinePlus Connect answers it). The OpenAPI description
    is at /openapi.json, readable at /docs.

    Example:

      handout serve --clinic examples/clinic/clinic.toml --port 8080

      handout serve --root-path /desk --trusted-proxy 127.0.0.1 --cache-dir cache
    """
    from . import serve_desk

    with user_errors():
        proj = _project(project)
        # -v logs every request (the "prepared for" name is scrubbed); -q only problems.
        serve_desk(proj, host, port, clinic, workers, allow_host, root_path, trusted_proxy,
              cache_dir, build_dir, echo=Output(quiet, verbose).result,
              log_level="error" if quiet else "info" if verbose else "warning")


@app.command("preview")
def preview_command(
    handout: Annotated[str | None, typer.Argument(
        help="Handout id (default: the project's first).", show_default=False,
        autocompletion=complete_handouts)] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language code such as es or th.",
                                      autocompletion=complete_languages)] = "en",
    level: Annotated[str, typer.Option(
        "--level", "-l", help=f"Reading level: {', '.join(LEVELS)}.")] = "easy",
    region: Annotated[str | None, typer.Option(
        "--region", "-r", help="Region code such as US-AL or TH.", show_default=False,
        autocompletion=complete_regions)] = None,
    paper: Annotated[Paper | None, typer.Option(
        "--paper", help="Paper size (default: the region's paper, else a4).",
        show_default=False)] = None,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port on 127.0.0.1.")] = 8000,
    open_browser: Annotated[bool, typer.Option(
        "--open/--no-open", help="Open the page in a web browser.")] = True,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
    project: ProjectOption = None,
) -> None:
    """Preview one document in a browser, rebuilt whenever a .po, YAML or template file
    changes, beside its translation coverage, fallbacks and readability.

    Untranslated strings are highlighted; a broken file is shown with its file and line
    until it is fixed. Serves on the loopback address only.

    Example:

      handout preview kratom-chronic-pain --lang es --level standard
    """
    from . import Choice, serve_preview

    with user_errors():
        serve_preview(_project(project), Choice(handout, lang, level, region,
                                                paper.value if paper else None),
                      port, open_browser, echo=Output(quiet, verbose).result,
                      access_log=verbose)


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

@app.command("site")
def site_command(
    handouts: Annotated[list[str] | None, typer.Argument(
        help="Handout ids (default: the plan in handout.toml).", show_default=False,
        autocompletion=complete_handouts)] = None,
    lang: Annotated[list[str] | None, typer.Option(
        "--lang", help="Language code (repeatable; default: the plan's).",
        show_default=False, autocompletion=complete_languages)] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="The site folder (default: [site] out in handout.toml, else "
        "build/site).", show_default=False)] = None,
    build_dir: Annotated[Path | None, typer.Option(
        "--build-dir", help="Where `handout build` wrote the PDFs the pages link (default: "
        "build/).", show_default=False)] = None,
    strict: StrictOption = None,
    require_review: RequireReviewOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
    project: ProjectOption = None,
) -> None:
    """Write the online version: an accessible static site of the plan's documents.

    One page per topic, language, level and region, made from the same text and gates as the
    PDFs (a document the policy refuses is not published; a draft carries the draft mark),
    each linking the same page in its other languages and the PDFs the build made. Every
    link is relative: copy the folder to any static host, or let `handout serve` show it at
    /site/. Run `handout build` first so the pages can link their PDFs; a second run
    rewrites only what changed.

    Examples:

      handout build && handout site

      handout site kratom-chronic-pain --lang es -o public
    """
    # Long by design: most of it is the options, declared in the signature as Typer reads
    # them, and the help text with its examples; the work is in the library it calls.
    from . import BuildOptions, PlanRequest, build_site, plan_jobs, read_settings

    with user_errors(as_json):
        proj = _project(project)
        settings = read_settings(proj)
        request = PlanRequest(handouts or [], lang or [])
        if request == PlanRequest():
            request = settings.plan or request
        jobs = plan_jobs(proj, request)
        policy = settings.policy.overridden(strict=strict, require_review=require_review)
        builds = proj.root / (build_dir or "build")
        options = BuildOptions.under(policy, out_dir=builds)
        target = proj.root / (out or settings.site.out)
        report = build_site(proj, jobs, options, target, builds, settings.site.base)
    for kind, documents in (("note", report.held), ("error", report.refused)):
        for job, problems in documents:
            for problem in problems:
                typer.echo(f"{kind}: {job}: not published: {problem}", err=True)
    for job, warnings in report.warned:  # published, as a build makes it, with its warnings
        for warning in warnings:
            typer.echo(f"warning: {job}: {warning}", err=True)
    if as_json:
        from . import json_report

        typer.echo(json_report("site", report))
    else:
        output = Output(quiet, verbose)
        for name in report.written:
            output.detail(f"wrote {name}")
        held = f", {len(report.held)} held (translation incomplete)" if report.held else ""
        output.result(f"{len(report.pages)} page(s), {len(report.written)} file(s) written, "
                      f"{len(report.refused)} refused{held}, into {_shown(report.out_dir)}")
    if report.refused:
        raise typer.Exit(EXIT_FAILED)


manifest_app = typer.Typer(
    help="The build folder's manifest: join the parts of a build split across machines.",
    no_args_is_help=True)
app.add_typer(manifest_app, name="manifest")


@manifest_app.command("merge")
def manifest_merge(
    folder: Annotated[Path | None, typer.Argument(
        help="The build folder holding every share's PDFs and manifest.K-of-N.json "
             "(default: the project's build/).", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
    project: ProjectOption = None,
) -> None:
    """Join the manifest parts of a sharded build into the one manifest.json.

    Each share (`handout build --shard K/N`, one machine or CI job each, all on one image)
    writes its PDFs and manifest.K-of-N.json; copy every share's build folder into one, as
    CI artifacts are downloaded, then merge. Parts that are missing, of another tool
    version, built with other fonts, or whose PDFs are not the bytes recorded are refused,
    each named (exit 2).

    Examples:

      handout manifest merge

      handout manifest merge dist/handouts --json
    """
    from . import merge_manifests

    with user_errors(as_json):
        build_dir = folder if folder is not None else _project(project).root / "build"
        merged = merge_manifests(build_dir)
    if as_json:
        from . import json_report

        typer.echo(json_report("manifest-merge", merged))
    else:
        output = Output(quiet, verbose)
        for part in merged.parts:
            output.detail(f"joined {part}")
        output.result(f"{merged.documents} document(s) from {len(merged.parts)} "
                      f"part(s) into {_shown(merged.path)}")


LangOption = Annotated[list[str] | None, typer.Option(
    "--lang", help="Only this language (repeatable; default: all).", show_default=False,
    autocompletion=complete_languages)]


@i18n_app.command("extract")
def i18n_extract(quiet: QuietOption = False, verbose: VerboseOption = False,
                 as_json: WrittenJsonOption = False, project: ProjectOption = None) -> None:
    """Write one .pot template per domain under locales/, fresh from the content and templates."""
    from . import write_templates

    with user_errors(as_json):
        proj = _project(project)
        _written(proj, "i18n extract", write_templates(proj), quiet, verbose, as_json)


TopicOption = Annotated[str | None, typer.Option(
    "--topic", help="Only this handout's catalog (default: every handout's).",
    show_default=False, autocompletion=complete_handouts)]


@i18n_app.command("init")
def i18n_init(
    lang: Annotated[str, typer.Argument(help="Locale code, such as es, th or zh_Hans.")],
    topic: TopicOption = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
    as_json: WrittenJsonOption = False,
    project: ProjectOption = None,
) -> None:
    """Start a language's catalogs, with its plural rule filled in.

    Catalogs that exist already are kept, so this also adds a language to a new topic.

    Examples:

      handout i18n init pt_BR

      handout i18n init es --topic TOPIC
    """
    from . import init_language

    with user_errors(as_json):
        proj = _project(project)
        _written(proj, "i18n init", init_language(proj, lang, topic), quiet, verbose, as_json)


@i18n_app.command("review")
def i18n_review(
    lang: Annotated[str, typer.Argument(help="Locale code of the catalogs reviewed.")],
    by: Annotated[str, typer.Option("--by", help="The reviewer's name, as printed on the "
                                    "handouts.", show_default=False)],
    date: Annotated[str | None, typer.Option(
        "--date", help="The review date, YYYY-MM-DD (default: today).",
        show_default=False)] = None,
    topic: TopicOption = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the catalogs signed off as JSON.")] = False,
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
    from . import review_catalogs

    with user_errors(as_json):
        proj = _project(project)
        try:
            when = dt.date.fromisoformat(date) if date else dt.date.today()
        except ValueError:
            raise InputError.at(f"--date {date!r} is not a date (YYYY-MM-DD)") from None
        signed = review_catalogs(proj, lang, by, when, topic)
    if as_json:
        from . import json_report

        typer.echo(json_report("review", lang=proj.canonical(lang), by=by.strip(),
                               date=when.isoformat(), topic=topic, catalogs=[
                                   {"path": proj.label(path), "entries": count}
                                   for path, count in signed]))
        return
    for path, count in signed:
        Output(quiet, verbose).result(f"signed off {count} entries in {proj.label(path)}")


@i18n_app.command("update")
def i18n_update(lang: LangOption = None, quiet: QuietOption = False,
                verbose: VerboseOption = False,
                as_json: Annotated[bool, typer.Option(
                    "--json", help="Print what changed in each catalog as JSON.")] = False,
                project: ProjectOption = None) -> None:
    """Merge new and changed source strings into every catalog.

    A string whose English text changed keeps its translation, marked fuzzy: it prints in
    English until a translator confirms it. Strings no longer in the source are kept as
    obsolete (#~) entries and never print.
    """
    from . import update_catalogs

    with user_errors(as_json):
        proj = _project(project)
        results = update_catalogs(proj, lang)
    if as_json:
        from . import json_report

        typer.echo(json_report("catalog-update", results))
        return
    output = Output(quiet, verbose)
    for result in results:
        fuzzy = f" ({', '.join(result.now_fuzzy)})" if result.now_fuzzy else ""
        line = (f"{result.path}: {result.added} new, "
                f"{len(result.now_fuzzy)} now fuzzy{fuzzy}, {result.obsoleted} obsoleted")
        # Catalogs the update left as they were are a detail.
        if result.added or result.now_fuzzy or result.obsoleted:
            output.result(line)
        else:
            output.detail(line)


@i18n_app.command("status")
def i18n_status(lang: LangOption = None,
                as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
                quiet: QuietOption = False, verbose: VerboseOption = False,
                project: ProjectOption = None) -> None:
    """Coverage per language and catalog: translated, fuzzy, untranslated, obsolete.

    With -q, only the catalogs that need work (below 100 %, or with errors).
    """
    from . import catalog_status

    with user_errors(as_json):
        proj = _project(project)
        rows = catalog_status(proj, lang)
    if as_json:
        from . import json_report

        typer.echo(json_report("status", rows))
        return
    output = Output(verbose=verbose)
    output.result(f"{'lang':<8} {'catalog':<24} {'done':>6} {'transl':>6} {'fuzzy':>5} "
                  f"{'untr':>5} {'obs':>4} {'errors':>6}  review")
    for row in rows:
        if quiet and row.percent >= 100 and not row.errors:
            continue
        review = (f"reviewed by {row.reviewed_by} on {row.reviewed_on}"
                  if row.review == "reviewed" else row.review)
        typer.echo(f"{row.lang:<8} {row.domain:<24} {row.percent:>5.1f}% {row.translated:>6} "
                   f"{row.fuzzy:>5} {row.untranslated:>5} {row.obsolete:>4} {row.errors:>6}  "
                   f"{review}")
        output.detail(f"         {row.path}")


@i18n_app.command("check")
def i18n_check(
    lang: LangOption = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Also print every finding as JSON, for a CI job or a platform's "
                       "hook.")] = False,
    quiet: QuietOption = False, verbose: VerboseOption = False,
    project: ProjectOption = None,
) -> None:
    """Find broken placeholders, wrong plural forms, markup and syntax errors in catalogs.

    Exits 2 when it finds any, naming the file and line of each. Glossary advice (a
    preferred word not used) is printed as a warning and never fails.

    Examples:

      handout i18n check --lang es

      handout i18n check --json > findings.json
    """
    from . import check_catalogs

    with user_errors(as_json):
        proj = _project(project)
        findings = check_catalogs(proj, lang)
    for finding in findings:
        typer.echo(f"{'warning' if finding.advice else 'error'}: {finding.problem}", err=True)
    if as_json:
        from . import json_report

        typer.echo(json_report("catalog-check", findings))
    if any(not finding.advice for finding in findings):
        raise typer.Exit(EXIT_INPUT)
    Output(quiet or as_json, verbose).result("all catalogs pass")


@i18n_app.command("glossary")
def i18n_glossary(lang: LangOption = None, quiet: QuietOption = False,
                  verbose: VerboseOption = False, as_json: WrittenJsonOption = False,
                  project: ProjectOption = None) -> None:
    """Write locales/glossary/<lang>.tbx from locales/glossary.csv, for a platform's glossary.

    TermBase eXchange, one file per language, as Weblate imports glossaries: kept terms
    marked untranslatable, the project's preferred translations as targets, notes as
    explanations.

    Examples:

      handout i18n glossary

      handout i18n glossary --lang es
    """
    from . import export_tbx

    with user_errors(as_json):
        proj = _project(project)
        _written(proj, "i18n glossary", export_tbx(proj, lang), quiet, verbose, as_json)


@i18n_app.command("compile")
def i18n_compile(quiet: QuietOption = False, verbose: VerboseOption = False,
                 as_json: WrittenJsonOption = False, project: ProjectOption = None) -> None:
    """Write .mo files beside the .po files, for other gettext tools. Builds don't need them."""
    from . import compile_catalogs

    with user_errors(as_json):
        proj = _project(project)
        _written(proj, "i18n compile", compile_catalogs(proj), quiet, verbose, as_json)


def _written(proj: Project, command: str, paths: Iterable[Path], quiet: bool, verbose: bool,
             as_json: bool) -> None:
    """Say which files ``command`` wrote: a line each, or one JSON document."""
    files = [proj.label(path) for path in paths]
    if as_json:
        from . import json_report

        typer.echo(json_report("written", command=command, files=files))
        return
    for label in files:
        Output(quiet, verbose).result(f"wrote {label}")


@contextmanager
def _progress(total: int, out: "Output") -> "Iterator[Progress | None]":
    """Progress on stderr: a bar on a terminal, a line per document elsewhere, nothing when
    quiet. Up-to-date documents go by silently unless -v."""
    if out.quiet:
        yield None
        return
    if not sys.stderr.isatty() or out.verbose:
        done = 0

        def plain(job: "Job", result: "DocumentResult | None") -> None:
            nonlocal done
            if result is None:
                return
            done += 1
            line = {"built": f"wrote {_shown(result.path)} ({result.pages} page(s))",
                    "incomplete": f"not built (translation incomplete) {job}",
                    "skipped": f"up to date {_shown(result.path)}" if out.verbose else "",
                    }.get(result.status, f"FAILED {job}")
            if line:
                typer.echo(f"[{done}/{total}] {line}", err=True)

        yield plain
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    # On stderr, like all progress: `handout build > log` still shows it on the terminal.
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), transient=True,
                  console=Console(stderr=True)) as bar:
        task = bar.add_task("building", total=total)

        def fancy(job: "Job", result: "DocumentResult | None") -> None:
            if result is None:
                # Escaped: rich would read "[en, easy, a4]" as markup and drop it.
                bar.update(task, description=escape(f"building {job}"))
            else:
                bar.advance(task)

        yield fancy


def _note_languages_left_out(project: Project, jobs: "list[Job]") -> None:
    """A region's language a topic has no catalog for is left out of its leaflets: said, so
    that a group does not find a Germany leaflet made in English only and wonder why."""
    from . import load_region

    made: dict[tuple[str, str], set[str]] = {}
    for job in jobs:
        if job.region:
            made.setdefault((job.handout, job.region), set()).add(job.lang)
    for (handout, code), langs in sorted(made.items()):
        left = [lang for lang in load_region(project.handouts_dir, code).languages
                if lang not in langs]
        if left:
            typer.echo(f"note: {handout} for {code}: no {', '.join(left)} translation, so made "
                       f"in {', '.join(sorted(langs))} (`handout i18n init {left[0]} --topic "
                       f"{handout}` starts one)", err=True)


def _warn_about_catalogs(project: Project, langs: list[str], output: Output) -> None:
    """Warn of topic folders without a readable handout.yaml and catalog folders named by no
    locale (both skipped, never a stop), and of the theme's corrected translations a
    project's own catalog still keeps."""
    if output.quiet:
        return
    for folder in project.folders_without_a_topic():
        typer.echo(f"warning: {project.label(folder)}: no readable handout.yaml (missing, or a "
                   "link to nothing); this folder is not built", err=True)
    from . import superseded_translations  # the translators' tools: loaded only to warn

    for problem in project.shadowed_locale_folders():
        where = project.label(problem.file) if problem.file else ""
        typer.echo(f"warning: {where}: {problem.message} ({problem.hint})", err=True)
    for folder in project.unknown_locale_folders():
        typer.echo(f"warning: {project.label(folder)}: not a locale code Babel knows (such as "
                   "es, pt_BR, pt-BR or zh-CN); its catalogs are skipped", err=True)
    translated = [lang for lang in langs if lang != SOURCE_LANGUAGE]
    for problem in superseded_translations(project, translated):
        typer.echo(f"warning: {problem}", err=True)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
