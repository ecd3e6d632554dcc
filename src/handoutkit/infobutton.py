"""Answer a record system's infobutton request (HL7 Context-Aware Knowledge Retrieval, the
URL-based implementation guide), as MedlinePlus Connect does, with this project's handouts.

A request names what the patient has (``mainSearchCriteria.v.c`` with its code system's OID in
``.v.cs``, several criteria numbered ``mainSearchCriteria.v.c1``…), who reads
(``informationRecipient`` PAT or PROV), in which language
(``informationRecipient.languageCode.c``: ISO 639, BCP 47, or MedlinePlus Connect's ``sp``),
and the answer's form (``knowledgeResponseType``: ``text/xml`` for an Atom feed,
``application/json``, ``text/html`` to open the desk). Each topic whose codes match
(ICD-10-CM by prefix) is an entry: its title and summary in the language served, a link to
each level's PDF (and site page, when the site is built), and whether its translation is a
draft. A language the project lacks for a topic, or whose document the release policy
refuses, is served in English, and the entry says so.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

from .codes import BY_OID, SYSTEMS, matches
from .content import HandoutSource
from .languages import PAPERS, closest_language, language
from .levels import LEVEL_NAMES
from .pipeline import BuildOptions, Inputs, assess
from .plan import InvalidChoice, Job, site_page
from .project import SOURCE_LANGUAGE, Project
from .regions import region_codes

ATOM = "http://www.w3.org/2005/Atom"
RESPONSE_TYPES = ("text/xml", "application/json", "text/html")
#: Readers: a patient's handout opens at the easy level, a provider's at the standard one.
RECIPIENT_LEVEL = {"PAT": "easy", "PROV": "standard"}


@dataclass(frozen=True)
class Criterion:
    system: str
    code: str
    display: str


@dataclass(frozen=True)
class InfoRequest:
    criteria: tuple[Criterion, ...]
    recipient: str
    asked_language: str
    response_type: str
    region: str | None = None
    paper: str | None = None


def _one(params: Mapping[str, Sequence[str]], name: str, default: str = "") -> str:
    values = params.get(name) or [default]
    return values[0].strip()


def parse_request(params: Mapping[str, Sequence[str]]) -> InfoRequest:
    """The request's criteria and choices; an input error names a parameter that is wrong."""
    criteria = []
    for suffix in ["", *(str(n) for n in range(1, 10))]:
        code = _one(params, f"mainSearchCriteria.v.c{suffix}")
        if not code:
            continue
        oid = _one(params, f"mainSearchCriteria.v.cs{suffix}")
        system = BY_OID.get(oid)
        if system is None:
            known = ", ".join(f"{s.oid} ({s.name})" for s in SYSTEMS.values())
            raise InvalidChoice(f"mainSearchCriteria.v.cs{suffix}", oid,
                                [s.oid for s in SYSTEMS.values()],
                                f"mainSearchCriteria.v.cs{suffix}: code system {oid[:60]!r} "
                                f"is not one this desk answers; it knows {known}")
        criteria.append(Criterion(system.name, code[:40],
                                  _one(params, f"mainSearchCriteria.v.dn{suffix}")[:200]))
    if not criteria:
        raise InvalidChoice("mainSearchCriteria.v.c", "", [],
                            "mainSearchCriteria.v.c: no code given",
                            hint="e.g. mainSearchCriteria.v.c=F11.20&mainSearchCriteria.v.cs="
                                 "2.16.840.1.113883.6.90")
    recipient = _one(params, "informationRecipient", "PAT").upper()
    if recipient not in RECIPIENT_LEVEL:
        raise InvalidChoice("informationRecipient", recipient, list(RECIPIENT_LEVEL),
                            f"informationRecipient {recipient[:20]!r}: PAT or PROV")
    response = _one(params, "knowledgeResponseType", "text/xml")
    if response not in RESPONSE_TYPES:
        raise InvalidChoice("knowledgeResponseType", response, list(RESPONSE_TYPES),
                            f"knowledgeResponseType {response[:40]!r}: one of "
                            f"{', '.join(RESPONSE_TYPES)}")
    return InfoRequest(tuple(criteria), recipient,
                       _one(params, "informationRecipient.languageCode.c", SOURCE_LANGUAGE),
                       response, _one(params, "region") or None, _one(params, "paper") or None)


def answer(project: Project, sources: Mapping[str, HandoutSource], request: InfoRequest,
           options: BuildOptions, site_dir: Path | None) -> list[dict[str, Any]]:
    """The entries for the topics the request's codes find, in the project's topic order."""
    if request.region and request.region not in region_codes(project.handouts_dir):
        raise InvalidChoice("region", request.region, region_codes(project.handouts_dir))
    if request.paper and request.paper not in PAPERS:
        raise InvalidChoice("paper", request.paper, list(PAPERS))
    found = []
    for topic, source in sources.items():
        if any(code.system == c.system and matches(SYSTEMS[c.system], code.code, c.code)
               for code in source.handout.codes for c in request.criteria):
            found.append(topic)
    entries = []
    for topic in found:
        langs = project.topic_languages(topic)
        wanted = closest_language(request.asked_language, langs)
        level = RECIPIENT_LEVEL[request.recipient]
        served, note = wanted or SOURCE_LANGUAGE, ""
        if wanted is None and request.asked_language.lower() not in ("", "en", "eng"):
            note = f"no {request.asked_language} version; served in English"
        job = Job(topic, served, level, request.paper or "a4", request.region)
        inputs = Inputs(project, [job, replace(job, lang=SOURCE_LANGUAGE)])
        judged = assess(inputs, job, options)
        if judged.problems and served != SOURCE_LANGUAGE:
            note = f"the {served} version is not released here; served in English"
            served = SOURCE_LANGUAGE
            job = replace(job, lang=served)
            judged = assess(inputs, job, options)
        printed = inputs.printed(job, None)
        record = judged.translation
        state = "source" if served == SOURCE_LANGUAGE else (
            record.status if record else "draft")
        links = []
        for each in LEVEL_NAMES:
            query = {"handout": topic, "lang": served, "level": each}
            query |= {k: v for k, v in (("region", request.region),
                                        ("paper", request.paper)) if v}
            links.append({"level": each, "type": "application/pdf",
                          "href": f"/api/render?{urlencode(query)}"})
            page = site_page(replace(job, level=each))
            if site_dir is not None and (site_dir / page).is_file():
                links.append({"level": each, "type": "text/html", "href": f"/site/{page}"})
        entries.append({
            "topic": topic, "title": printed.title.value, "summary": printed.summary.value,
            "language": served, "hreflang": language(served).html_lang,
            "requested_language": request.asked_language, "note": note,
            "translation": state, "updated": source.handout.reviewed.isoformat(),
            "codes": [{"system": c.system, "code": c.code, "display": c.display}
                      for c in source.handout.codes],
            "links": links, "refused": list(judged.problems)})
    return entries


def atom_feed(entries: list[dict[str, Any]], request: InfoRequest, base: str) -> bytes:
    """The entries as the Atom feed the implementation guide describes (and MedlinePlus
    Connect returns)."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    criteria = ", ".join(f"{c.system} {c.code}" for c in request.criteria)
    ET.SubElement(feed, f"{{{ATOM}}}title").text = f"Patient handouts for {criteria}"
    # An empty feed is as new as the answer; otherwise as new as its newest entry.
    updated = max((f"{e['updated']}T00:00:00Z" for e in entries), default=dt.datetime.now(
        dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = updated
    # An IRI: the request's criteria, percent-encoded (a space is not allowed in one).
    ET.SubElement(feed, f"{{{ATOM}}}id").text = f"{base}infobutton?" + urlencode([
        (f"mainSearchCriteria.v.{part}{i or ''}", value)
        for i, c in enumerate(request.criteria)
        for part, value in (("c", c.code), ("cs", SYSTEMS[c.system].oid))])
    ET.SubElement(ET.SubElement(feed, f"{{{ATOM}}}author"), f"{{{ATOM}}}name").text = \
        "handoutkit print desk"
    for entry in entries:
        node = ET.SubElement(feed, f"{{{ATOM}}}entry",
                             {"{http://www.w3.org/XML/1998/namespace}lang": entry["hreflang"]})
        ET.SubElement(node, f"{{{ATOM}}}title", {"type": "text"}).text = entry["title"]
        for link in entry["links"]:
            ET.SubElement(node, f"{{{ATOM}}}link", {
                "href": base + link["href"].lstrip("/"), "rel": "alternate",
                "type": link["type"], "hreflang": entry["hreflang"],
                "title": link["level"]})
        ET.SubElement(node, f"{{{ATOM}}}id").text = f"{base}site/{entry['topic']}"
        ET.SubElement(node, f"{{{ATOM}}}updated").text = f"{entry['updated']}T00:00:00Z"
        summary = entry["summary"] + (f" [{entry['note']}]" if entry["note"] else "")
        ET.SubElement(node, f"{{{ATOM}}}summary", {"type": "text"}).text = summary
        ET.SubElement(node, f"{{{ATOM}}}category", {
            "scheme": "https://handoutkit.org/infobutton/translation",
            "term": entry["translation"]})
        for code in entry["codes"]:
            ET.SubElement(node, f"{{{ATOM}}}category", {
                "scheme": SYSTEMS[code["system"]].oid, "term": code["code"],
                "label": code["display"]})
    ET.indent(feed)
    text: str = ET.tostring(feed, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n").encode("utf-8")


def json_feed(entries: list[dict[str, Any]], request: InfoRequest, base: str) -> bytes:
    """The entries in the JSON form of MedlinePlus Connect's feed (``_value`` for text)."""
    feed = {"feed": {
        "title": {"_value": ", ".join(f"{c.system} {c.code}" for c in request.criteria)},
        "entry": [{
            "title": {"_value": e["title"], "type": "text"},
            "summary": {"_value": e["summary"], "type": "text"},
            "link": [{"href": base + link["href"].lstrip("/"), "rel": "alternate",
                      "type": link["type"], "title": link["level"]} for link in e["links"]],
            "language": e["language"], "requested_language": e["requested_language"],
            "note": e["note"], "translation": e["translation"], "updated": e["updated"],
        } for e in entries]}}
    return json.dumps(feed, ensure_ascii=False, indent=2).encode("utf-8")


def feed(entries: list[dict[str, Any]], request: InfoRequest, base: str) -> tuple[bytes, str]:
    """The entries in the format ``request`` asks for: the body and its media type (JSON, or
    an Atom feed for anything else)."""
    if request.response_type == "application/json":
        return json_feed(entries, request, base), "application/json"
    return atom_feed(entries, request, base), "text/xml"
