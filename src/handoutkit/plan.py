"""The build plan: which documents to make, as plain values the build maps over.

A plan comes from the command line, or from the project's ``handout.toml`` when the command
line names nothing: ``[plan]`` lists handouts, languages, levels, regions, papers and a clinic.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field, replace
from itertools import product
from pathlib import Path, PurePosixPath
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import InputError, Problem
from .languages import PAPERS, closest_language
from .levels import LEVEL_NAMES
from .project import SOURCE_LANGUAGE, Project
from .regions import load_region, region_codes

PLAN_FILE = "handout.toml"
_M = TypeVar("_M", bound=BaseModel)


@dataclass(frozen=True, order=True)
class Job:
    """One PDF to make."""

    handout: str
    lang: str
    level: str
    paper: str = "a4"
    region: str | None = None
    large_print: bool = False
    #: A second language printed below each section, for bilingual prints.
    also: str | None = None
    #: A translator's preview (untranslated strings highlighted): written beside, never over,
    #: the print PDF.
    preview: bool = False

    def __post_init__(self) -> None:
        # What a job can be checked against without a project: the project's own names
        # (topics, languages, regions) are make_plan's to check, in the same words.
        _choose("level", "reading level", [self.level], list(LEVEL_NAMES), "handout list")
        _choose("paper", "paper size", [self.paper], list(PAPERS), "handout build --help")
        for field_name in ("handout", "lang", "also", "region"):
            value = getattr(self, field_name)
            if value is not None and not _NAME.fullmatch(value):
                raise InvalidChoice(field_name, value, [], f"{field_name} {value[:40]!r} is "
                                    "not a name (letters, digits, '-' and '_' only)")

    @property
    def output(self) -> PurePosixPath:
        """Where the PDF goes, relative to the build folder."""
        parts = [self.handout, self.lang + (f"+{self.also}" if self.also else ""), self.level]
        if self.region:
            parts.append(self.region)
        parts.append(self.paper)
        if self.large_print:
            parts.append("large")
        if self.preview:
            parts.append("preview")
        return PurePosixPath(self.handout, self.lang, ".".join(parts) + ".pdf")

    def __str__(self) -> str:
        extras = [x for x in (self.region, "large print" if self.large_print else None,
                              f"+{self.also}" if self.also else None,
                              "preview" if self.preview else None) if x]
        return f"{self.handout} [{', '.join([self.lang, self.level, self.paper, *extras])}]"


@dataclass(frozen=True)
class PlanRequest:
    """What was asked for; an empty list means "all there is" (or the region's defaults)."""

    handouts: list[str] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    papers: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    large_print: bool = False
    also: str | None = None
    clinic: Path | None = None
    preview: bool = False
    #: The handout.toml this plan was read from: a value it names that does not exist is
    #: reported at its line there.
    source: Path | None = None


#: What a topic id, language code or region code looks like (each names a file or folder).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")


def make_plan(project: Project, handouts: list[str] | None = None,
              langs: list[str] | None = None, levels: list[str] | None = None,
              papers: list[str] | None = None, regions: list[str] | None = None,
              large_print: bool = False, also: str | None = None,
              preview: bool = False) -> list[Job]:
    """Every combination asked for, each topic in the languages it has.

    A topic is built in the source language and in every language with its catalog. Without
    languages, a region picks its own (those the topic has; the source language if it has
    none of them); the region ``""`` is the neutral, region-less leaflet. A language asked
    for by name must exist for each topic named; when no topic is named, topics without that
    language are left out.
    """
    available_langs = project.languages()
    named_topics = bool(handouts)
    langs = [project.canonical(lang) for lang in langs] if langs else langs
    also = project.canonical(also) if also else also
    handouts = _choose("handout", "handout", handouts, project.handout_ids(), "handout list")
    levels = _choose("level", "reading level", levels, list(LEVEL_NAMES), "handout list")
    if papers:
        _choose("paper", "paper size", papers, list(PAPERS), "handout build --help")
    named_regions = [code for code in regions or () if code]  # "" is no region
    if named_regions:
        _choose("region", "region", named_regions, region_codes(project.handouts_dir),
                "handout list")
    _choose("lang", "language", langs, available_langs, "handout i18n status")
    if also:
        _choose("also", "language", [also], available_langs, "handout i18n status")
    topic_langs = {handout: project.topic_languages(handout) for handout in handouts}
    if named_topics:
        for handout in handouts:
            asked = [("lang", lang) for lang in langs or []] + ([("also", also)] if also else [])
            for field_name, lang in asked:
                if lang not in topic_langs[handout]:
                    raise InvalidChoice(
                        field_name, lang, topic_langs[handout],
                        f"{handout} has no {lang} translation; it is built in "
                        f"{', '.join(topic_langs[handout])}",
                        f"start one with `handout i18n init {lang} --topic {handout}`")
    elif langs and not any(lang in topic_langs[h] for h in handouts for lang in langs):
        raise InputError.at(f"no handout has a {', '.join(langs)} translation",
                            hint="`handout i18n status` shows each topic's languages")
    jobs = []
    region_codes_asked: list[str | None] = [*regions] if regions else [None]
    for region_code in region_codes_asked:
        region = load_region(project.handouts_dir, region_code) if region_code else None
        chosen_papers = papers or [region.paper if region else "a4"]
        for handout in handouts:
            has = topic_langs[handout]
            if langs:
                chosen = [lang for lang in langs if lang in has]
            elif region:
                chosen = [lang for lang in region.languages if lang in has] or [SOURCE_LANGUAGE]
            else:
                chosen = has
            second = also if also in has else None
            for lang, level, paper in product(chosen, levels, chosen_papers):
                jobs.append(Job(handout, lang, level, paper, region_code or None, large_print,
                                second if second != lang else None, preview))
    return jobs


def choose_job(project: Project, handout: str, lang: str, level: str,
               region: str | None = None, paper: str | None = None,
               large_print: bool = False, also: str | None = None) -> Job:
    """One document, every choice checked by :func:`make_plan`, the one maker of jobs: the
    print desk's page and API agree with the CLI on names, defaults and errors."""
    [job] = make_plan(project, [handout], [lang], [level], [paper] if paper else None,
                      [region] if region else None, large_print, also)
    return job


@dataclass(frozen=True)
class Choice:
    """One document as a person chooses it (the desk's form and API, ``handout preview``):
    unchecked values, made into a checked :class:`Job` by :meth:`job`."""

    #: ``None``: the project's first topic.
    handout: str | None = None
    lang: str = "en"
    level: str = "easy"
    region: str | None = None
    paper: str | None = None
    large_print: bool = False
    also: str | None = None

    def job(self, project: Project) -> Job:
        """The document, every choice checked by :func:`choose_job` (an :class:`InputError`
        naming the field and the allowed values otherwise)."""
        handout = self.handout
        if handout is None:
            ids = project.handout_ids()
            if not ids:
                raise InputError.at(f"no topics in {project.handouts_dir}",
                                    hint="add handouts/<topic>/handout.yaml")
            handout = ids[0]
        # A code from a browser or a record system (es-MX, spa, zh-CN) asks for the project's
        # language it names; one the project lacks is refused below, by name.
        langs = project.languages()
        lang = closest_language(self.lang, langs) or self.lang
        also = (closest_language(self.also, langs) or self.also) if self.also else None
        return choose_job(project, handout, lang, self.level, self.region, self.paper,
                          self.large_print, also)


class InvalidChoice(InputError):
    """A choice that is not one of the allowed values (an option, a request parameter)."""

    def __init__(self, field_name: str, value: str, allowed: list[str],
                 message: str | None = None, hint: str | None = None):
        self.field_name, self.value, self.allowed = field_name, value[:40], allowed
        self._args = (field_name, value, allowed, message, hint)
        super().__init__(Problem(message or f"unknown {field_name} {self.value!r}; allowed: "
                                 f"{', '.join(allowed) or 'none'}", hint=hint))

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), self._args)


#: What a name printed on a handout (a reviewer's, a "prepared for" one) may not hold: control
#: characters, line and paragraph separators, and the formatting characters that reorder or
#: hide text (bidi embeddings, overrides, isolates and marks, zero-width characters). The
#: desk's OpenAPI document states the same rule as a pattern.
NAME_PATTERN = (r"^[^\x00-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e"
                r"\u2060-\u2069\ufeff]*$")
#: The Unicode categories of those characters, for anything the pattern does not list.
_NOT_IN_NAMES = ("Cc", "Cf", "Zl", "Zp")


def printed_name(field_name: str, value: str, max_length: int) -> str:
    """``value`` if it is a name a handout may print; an :class:`InvalidChoice` otherwise,
    with the same words for the CLI and the desk."""
    if (not value.strip() or len(value) > max_length or not re.match(NAME_PATTERN, value)
            or any(unicodedata.category(char) in _NOT_IN_NAMES for char in value)):
        raise InvalidChoice(field_name, "", [], f"{field_name}: plain text of 1 to "
                            f"{max_length} characters, without control, line-break or "
                            "text-direction characters")
    return value


def _choose(field_name: str, what: str, asked: list[str] | None, available: list[str],
            command: str) -> list[str]:
    if not asked:
        return available
    for name in asked:
        if name not in available:
            raise InvalidChoice(field_name, name, available,
                                f"unknown {what} {name[:40]!r}; available: "
                                f"{', '.join(available) or 'none'}",
                                f"`{command}` shows what there is")
    return list(dict.fromkeys(asked))


@dataclass(frozen=True)
class Shard:
    """One of ``count`` shares of a plan (``--shard K/N``). The plan's documents are ordered by
    a hash of their output names and dealt out in turn, so every machine that builds the same
    plan picks the same share, and shares differ by at most one document."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.index <= self.count <= 1000:
            raise InputError.at(f"shard {self.index}/{self.count}: K/N needs 1 ≤ K ≤ N ≤ 1000",
                                hint="e.g. --shard 2/3 builds the second of three shares")

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = re.fullmatch(r"\s*(\d{1,4})\s*/\s*(\d{1,4})\s*", text)
        if not match:
            raise InputError.at(f"shard {text[:20]!r} is not K/N",
                                hint="e.g. --shard 2/3 builds the second of three shares")
        return cls(int(match.group(1)), int(match.group(2)))

    def select(self, jobs: list[Job]) -> list[Job]:
        """This share of the whole plan ``jobs``, in the plan's order."""
        def rank(job: Job) -> bytes:
            return hashlib.sha256(str(job.output).encode("utf-8")).digest()

        dealt = sorted(range(len(jobs)), key=lambda i: (rank(jobs[i]), i))
        mine = set(dealt[self.index - 1::self.count])
        return [job for i, job in enumerate(jobs) if i in mine]

    @property
    def manifest_name(self) -> str:
        """The manifest part this share writes (``handout manifest merge`` joins them)."""
        return f"manifest.{self.index}-of-{self.count}.json"


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class PlanTable(_Table):
    handouts: list[str] = []
    languages: list[str] = []
    levels: list[str] = []
    papers: list[str] = []
    regions: list[str] = []
    large_print: bool = False
    also: str | None = None
    #: A clinic profile, relative to ``handout.toml``.
    clinic: str | None = None


class Policy(_Table):
    """What a document must reach before it may be written (``[build]`` in handout.toml)."""

    #: A translated document whose printed strings are translated below this share is not
    #: built (it would be mostly English under another language's name).
    min_coverage: float = Field(0.9, ge=0.0, le=1.0)
    #: Refuse draft translations: for a clinic whose policy is to print reviewed ones only.
    require_review: bool = False
    #: Refuse a document that would print a string in English for want of a translation, or
    #: a regional fact or help line past its review date.
    strict: bool = False
    #: Print a document even when its text is too hard for its level (the manifest says so).
    allow_hard: bool = False

    def overridden(self, **flags: bool | float | None) -> Policy:
        """This policy with the command-line flags that were given (``None``: not given)."""
        return self.model_copy(update={name: value for name, value in flags.items()
                                       if value is not None})


class I18nSettings(_Table):
    """How the catalogs present the project to translators (``[i18n]`` in handout.toml)."""

    #: Where translators report a problem in an English string (a URL or an address): the
    #: catalogs' ``Report-Msgid-Bugs-To``. Empty, as xgettext leaves it, when not given.
    report_bugs_to: str = Field("", max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")
    #: How a new language's folder is named when the project's folders show no style, or
    #: both: ``posix`` (``pt_BR``, gettext's) or ``bcp47`` (``pt-BR``, Pontoon's and
    #: Crowdin's). Every command reads either spelling.
    folder_style: Literal["posix", "bcp47"] = "posix"


class ProjectTable(_Table):
    """Who the project is (``[project]`` in handout.toml)."""

    #: The organisation that publishes the project's leaflets, printed as "Published by …"
    #: unless a topic names its own (a clinic print names the clinic).
    publisher: str | None = Field(None, max_length=120, pattern=r"^[^\x00-\x1f\x7f]*$")


class SiteSettings(_Table):
    """The online version (``[site]`` in handout.toml), written by ``handout site``."""

    #: Where the site is published, e.g. ``https://handouts.example.org/``: with it, a
    #: document with no clinic or topic URL prints a QR code to its own page, and the site
    #: gets a sitemap. Without it the site still works from any folder.
    base_url: str | None = Field(None, pattern=r"^https://[^\s?#]+$", max_length=200)
    #: The folder ``handout site`` writes, relative to the project.
    out: str = Field("build/site", pattern=r"^[^\x00-\x1f\x7f]+$", max_length=200)

    @property
    def base(self) -> str | None:
        """``base_url`` ending in one slash, for joining page paths to it."""
        return self.base_url.rstrip("/") + "/" if self.base_url else None


def site_page(job: Job) -> str:
    """The path of ``job``'s page in the site: one per topic, language, level and region."""
    region = f".{job.region}" if job.region else ""
    return f"{job.lang}/{job.handout}/{job.level}{region}.html"


class _PlanFile(_Table):
    project: ProjectTable = ProjectTable()
    plan: PlanTable | None = None
    build: Policy = Policy()
    i18n: I18nSettings = I18nSettings()
    site: SiteSettings = SiteSettings()


@dataclass(frozen=True)
class ProjectSettings:
    """``handout.toml``: the plan for a bare ``handout build``, and the build policy."""

    plan: PlanRequest | None
    policy: Policy
    i18n: I18nSettings
    project: ProjectTable = field(default_factory=ProjectTable)
    site: SiteSettings = field(default_factory=SiteSettings)


def read_settings(project: Project) -> ProjectSettings:
    """The project's ``handout.toml`` (defaults where there is none)."""
    path = project.root / PLAN_FILE
    if not path.exists():
        return ProjectSettings(None, Policy(), I18nSettings(), ProjectTable())
    settings: _PlanFile = validate_toml(_PlanFile, load_toml(path, "plan file"), path)
    plan = settings.plan
    if plan and plan.clinic and not (path.parent / plan.clinic).is_file():
        raise InputError.at(f"[plan] clinic: no clinic profile at {plan.clinic!r}", path,
                            toml_line_of(path, ("plan", "clinic")),
                            hint="the path is relative to handout.toml")
    request = PlanRequest(
        handouts=plan.handouts, langs=plan.languages, levels=plan.levels, papers=plan.papers,
        regions=plan.regions, large_print=plan.large_print, also=plan.also,
        clinic=(path.parent / plan.clinic) if plan.clinic else None, source=path) if plan else None
    return ProjectSettings(request, settings.build, settings.i18n, settings.project,
                           settings.site)


def validate_toml(model: type[_M], data: dict[str, Any], path: Path) -> _M:
    """Validate a TOML file's data; each error names its key's line and what to write."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        from .yamlfile import data_loc, describe, relevant_errors

        problems = []
        for err in relevant_errors(exc):
            # pydantic's union member names ("dict[str,constrained-str]") are not the file's
            loc = data_loc(data, tuple(err["loc"]), err["type"] == "missing")
            key = ".".join(str(p) for p in loc)
            hint: str | None
            if err["type"] == "missing":
                message, hint = f"{key}: required field is missing", f"add `{key} = ...`"
            elif err["type"] == "extra_forbidden":
                message, hint = f"{key}: unknown key", "check its spelling in the README"
            else:
                said, hint = describe(err)
                message = f"{key}: {said}"
            problems.append(Problem(message, path, toml_line_of(path, loc), hint))
        raise InputError(list(dict.fromkeys(problems))) from None


def toml_line_of(path: Path, loc: tuple[int | str, ...]) -> int | None:
    """The line that sets the last named key of ``loc`` (inside its table, if it has one)."""
    names = [str(part) for part in loc if isinstance(part, str)]
    if not names:
        return None
    table, key = (names[0] if len(names) > 1 else None), names[-1]
    in_table = table is None
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_table = table is None or stripped.strip("[] ") == table
            if table is not None and stripped.strip("[] ") == table and key == table:
                return number
        elif in_table and stripped.split("=")[0].strip() == key:
            return number
    # A key of an inline table (note = { en = 5 }): the line that sets the table.
    return toml_line_of(path, (table,)) if table is not None else None


#: The handout.toml key of each plan field, as InvalidChoice names the field.
_PLAN_KEYS = {"handout": "handouts", "lang": "languages", "level": "levels", "paper": "papers",
              "region": "regions", "also": "also"}


def plan_jobs(project: Project, request: PlanRequest) -> list[Job]:
    """Expand a request; the region ``""`` means the neutral, region-less leaflet."""
    try:
        return make_plan(project, request.handouts, request.langs, request.levels,
                         request.papers, request.regions, request.large_print, request.also,
                         request.preview)
    except InvalidChoice as exc:
        if request.source is None:
            raise
        key = _PLAN_KEYS.get(exc.field_name, exc.field_name)
        raise InputError([replace(problem, file=request.source,
                                  line=toml_line_of(request.source, ("plan", key)))
                          for problem in exc.problems]) from None


def load_toml(path: Path, kind: str) -> dict[str, Any]:
    from .yamlfile import read_text

    text = read_text(path, 256 * 1024, kind)
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise InputError.at("TOML nested too deeply", path,
                            hint="check the brackets: plan and clinic files are flat") from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line = None
        if "(at line " in message:
            line = int(message.split("(at line ")[1].split(",")[0])
            message = message.split(" (at line ")[0]
        raise InputError.at(f"TOML syntax error: {message}", path, line,
                            hint="check quotes, brackets and `key = value` on this line") from None
