"""The desk's /infobutton, replayed with requests in the forms the HL7 URL-based
implementation guide and MedlinePlus Connect's documentation show: problem, medication and
lab codes, each response type, language codes as record systems send them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from handoutkit import Limits, Project
from handoutkit.cli import app as cli
from handoutkit.languages import closest_language
from handoutkit.serve import create_app

from .conftest import ROOT

ICD10CM, SNOMED, RXNORM, LOINC = ("2.16.840.1.113883.6.90", "2.16.840.1.113883.6.96",
                                  "2.16.840.1.113883.6.88", "2.16.840.1.113883.6.1")
OPIOID, KRATOM = "opioid-overdose-naloxone", "kratom-chronic-pain"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def desk() -> Iterator[TestClient]:
    app = create_app(Project(ROOT), limits=Limits(workers=1), allowed_hosts=["testserver"],
                     build_dir=Path("/nonexistent/handoutkit-build"))
    with TestClient(app) as client:
        yield client


def _ask(desk: TestClient, code: str, system: str, **extra: str):  # type: ignore[no-untyped-def]
    return desk.get("/infobutton", params={"mainSearchCriteria.v.c": code,
                                           "mainSearchCriteria.v.cs": system, **extra},
                    follow_redirects=False)


def test_a_problem_code_as_medlineplus_connect_sends_it(desk: TestClient) -> None:
    """ICD-10-CM by prefix: F11.20 (opioid dependence) finds the topic coded F11; the default
    answer is the guide's Atom feed."""
    answer = _ask(desk, "F11.20", ICD10CM, **{"mainSearchCriteria.v.dn": "Opioid dependence",
                                              "informationRecipient": "PAT"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/xml")
    feed = ET.fromstring(answer.content)
    assert feed.tag == f"{ATOM}feed"
    [entry] = feed.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "How naloxone can save a life"
    links = [link.get("href", "") for link in entry.findall(f"{ATOM}link")]
    assert any(f"handout={OPIOID}&lang=en&level=easy" in href for href in links)
    assert any("level=standard" in href for href in links)
    assert desk.get(links[0].removeprefix("http://testserver")).status_code == 200


@pytest.mark.parametrize(("code", "system", "topic"), [
    ("1725064", RXNORM, OPIOID),    # a medication: Narcan nasal spray
    ("T40.411A", ICD10CM, OPIOID),  # fentanyl poisoning, accidental, initial encounter
    ("82423001", SNOMED, KRATOM),   # chronic pain
    ("72732-1", LOINC, KRATOM),     # a lab test: mitragynine in urine
])
def test_medication_lab_and_snomed_codes_find_their_topic(desk: TestClient, code: str,
                                                          system: str, topic: str) -> None:
    answer = _ask(desk, code, system, knowledgeResponseType="application/json")
    assert answer.status_code == 200, answer.text
    entries = answer.json()["feed"]["entry"]
    assert len(entries) == 1 and f"handout={topic}" in entries[0]["link"][0]["href"]


@pytest.mark.parametrize(("asked", "served"), [
    ("sp", "es"), ("es", "es"), ("es-MX", "es"), ("spa", "es"), ("zh-CN", "zh_Hans"),
    ("ar", "ar"), ("vi", "vi")])
def test_language_codes_as_record_systems_send_them(desk: TestClient, asked: str,
                                                    served: str) -> None:
    answer = _ask(desk, "F11", ICD10CM, knowledgeResponseType="application/json",
                  **{"informationRecipient.languageCode.c": asked})
    [entry] = answer.json()["feed"]["entry"]
    assert entry["language"] == served and entry["note"] == ""
    assert entry["translation"] == "draft"  # the shipped translations are not signed off
    assert f"lang={served}&" in entry["link"][0]["href"]


def test_a_language_the_project_lacks_is_served_in_english_and_said_so(
        desk: TestClient) -> None:
    answer = _ask(desk, "F11", ICD10CM, knowledgeResponseType="application/json",
                  **{"informationRecipient.languageCode.c": "fr"})
    [entry] = answer.json()["feed"]["entry"]
    assert entry["language"] == "en" and "no fr version" in entry["note"]
    assert closest_language("pt-BR", ["en", "es"]) is None


def test_text_html_opens_the_desk_with_the_topic_and_language(desk: TestClient) -> None:
    answer = _ask(desk, "1725059", RXNORM, knowledgeResponseType="text/html",
                  **{"informationRecipient.languageCode.c": "sp"})
    assert answer.status_code == 303
    assert answer.headers["location"].endswith(f"/?handout={OPIOID}&lang=es")
    page = desk.get(answer.headers["location"])
    assert page.status_code == 200 and f"handout={OPIOID}&amp;lang=es" in page.text


def test_unknown_codes_and_bad_requests(desk: TestClient) -> None:
    empty = _ask(desk, "J45.909", ICD10CM, knowledgeResponseType="application/json")
    assert empty.status_code == 200 and empty.json()["feed"]["entry"] == []
    icd9 = _ask(desk, "304.00", "2.16.840.1.113883.6.103")
    assert icd9.status_code == 422 and "is not one this desk answers" in icd9.text
    assert desk.get("/infobutton").status_code == 422
    # Each refusal names its parameter and the values it takes, as the rest of the API does.
    for extra, field in (({"knowledgeResponseType": "text/csv"}, "knowledgeResponseType"),
                         ({"informationRecipient": "XX"}, "informationRecipient"),
                         ({"region": "ZZ"}, "region")):
        refused = _ask(desk, "F11", ICD10CM, **extra)
        assert refused.status_code == 422, refused.text
        [detail] = refused.json()["detail"]
        assert detail["field"] == field and detail["allowed"], detail
    # An empty feed is as new as the answer, and its id is an IRI (no spaces).
    feed = ET.fromstring(_ask(desk, "J45.909", ICD10CM).content)
    assert not feed.findtext(f"{ATOM}updated", "").startswith("2000")
    assert " " not in feed.findtext(f"{ATOM}id", " ")


def test_a_topic_that_cannot_be_read_is_named_not_answered_as_no_match(
        tmp_path: Path) -> None:
    """The topic the code belongs to has a broken handout.yaml: a 409 naming it, not an empty
    feed that tells the record system there is no handout."""
    for name in ("handouts", "locales"):
        shutil.copytree(ROOT / name, tmp_path / name)
    topic = tmp_path / "handouts" / OPIOID / "handout.yaml"
    topic.write_text(topic.read_text().replace("sections:", "sections: [", 1))
    app = create_app(Project(tmp_path), limits=Limits(workers=1), allowed_hosts=["testserver"])
    with TestClient(app) as client:
        answer = _ask(client, "F11.20", ICD10CM)
    assert answer.status_code == 409 and "handout.yaml:" in answer.text, answer.text


def test_the_endpoint_obeys_the_release_policy(tmp_path: Path) -> None:
    """A project that prints reviewed translations only answers in English, and says why."""
    for name in ("handouts", "locales"):
        shutil.copytree(ROOT / name, tmp_path / name)
    (tmp_path / "handout.toml").write_text("[build]\nrequire_review = true\n")
    app = create_app(Project(tmp_path), limits=Limits(workers=1),
                     allowed_hosts=["testserver"])
    with TestClient(app) as client:
        answer = _ask(client, "F11.20", ICD10CM, knowledgeResponseType="application/json",
                      **{"informationRecipient.languageCode.c": "sp"})
    [entry] = answer.json()["feed"]["entry"]
    assert entry["language"] == "en" and "not released here" in entry["note"]


def test_a_code_of_the_wrong_shape_names_its_file_and_line(tmp_path: Path) -> None:
    for name in ("handouts", "locales"):
        shutil.copytree(ROOT / name, tmp_path / name)
    content = tmp_path / "handouts" / KRATOM / "handout.yaml"
    content.write_text(content.read_text().replace('code: "82423001"', 'code: "82423002"'))
    result = CliRunner().invoke(cli, ["check", KRATOM, "--project", str(tmp_path), "--json"])
    assert result.exit_code == 2
    problem = json.loads(result.stdout)["problems"][0]
    assert "check digit is wrong" in problem["message"] and problem["line"]
