"""The health-literacy checks: passive voice against hand labels, the glossary's stigma and
jargon words as a gate, advice measures with targets, and "not measured" where a language
has no word list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handoutkit import Project
from handoutkit.cli import app
from handoutkit.glossary import GLOSSARY_FILE, load_glossary
from handoutkit.passive import passive_phrases

from .conftest import HANDOUT, ROOT

runner = CliRunner()
DATA = ROOT / "tests" / "data"
MEASURES = {"stigma", "jargon", "complex-words", "passive-voice", "long-items",
            "lexical-density"}


def _labelled(lang: str) -> tuple[str, list[tuple[str, str]]]:
    text = (DATA / f"passive-voice-{lang}.tsv").read_text("utf-8")
    rows = [line.split("\t") for line in text.splitlines()
            if line.strip() and not line.startswith("#")][1:]
    return text, [(label, sentence) for label, sentence, _ in rows]


@pytest.mark.parametrize(("lang", "least"), [("en", 50), ("es", 30)])
def test_passive_voice_agrees_with_hand_labels_on_published_sentences(lang: str,
                                                                      least: int) -> None:
    text, rows = _labelled(lang)
    assert len(rows) >= least and "https://" in text and "checked 2026" in text
    assert sum(label == "passive" for label, _ in rows) >= 0.4 * len(rows)
    found = [("passive" if passive_phrases(sentence, lang) else "active") == label
             for label, sentence in rows]
    assert sum(found) / len(rows) >= 0.9, [s for ok, (_, s) in zip(found, rows,
                                                                      strict=True) if not ok]


def test_passive_rules_know_their_traps() -> None:
    assert passive_phrases("Naloxone can be given again.", "en") == ["be given"]
    assert passive_phrases("They are very tired.", "en") == []          # an adjective
    assert passive_phrases("Your body can get used to it.", "en") == []  # an idiom
    assert passive_phrases("La naloxona fue aprobada en 2023.", "es") == ["fue aprobada"]
    assert passive_phrases("Es rápido y es válido.", "es") == []        # accented: adjectives
    assert passive_phrases("Se vende sin receta.", "es") == []          # pasiva refleja
    assert passive_phrases("Kratom is a plant.", "th") is None           # no rule: not measured


def _set_easy_point(project: Project, section: str, point: str, easy: str) -> None:
    """Replace one point's easy text in the project's copy of the topic."""
    import yaml

    path = project.handout_path(HANDOUT)
    data = yaml.safe_load(path.read_text())
    entry = next(p for s in data["sections"] if s["id"] == section for p in s["points"]
                 if p["id"] == point)
    entry["text"] = {"easy": easy, "standard": entry["text"]["standard"]}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


def _check(project: Project, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["check", HANDOUT, "--lang", "en", "--level", "easy", *args,
                               "--project", str(project.root)])


@pytest.mark.parametrize(("text", "word", "kind", "instead"), [
    ("Never mix kratom with benzodiazepines or alcohol.", "benzodiazepines", "jargon",
     "medicines for anxiety or trouble sleeping"),
    ("Never mix kratom with alcohol. An addict may not stop.", "addict", "stigma",
     "person with a substance use disorder"),
])
def test_unexplained_jargon_and_stigmatising_words_fail_the_easy_gate(
        project: Project, text: str, word: str, kind: str, instead: str) -> None:
    _set_easy_point(project, "risks", "never-mix", text)
    result = _check(project)
    assert result.exit_code == 1, result.output
    assert f"{'stigmatising word' if kind == 'stigma' else 'jargon'} {word!r} → {instead!r}" \
        in result.output
    shape = json.loads(_check(project, "--json").stdout)
    [document] = shape["documents"]
    finding = next(f for f in document["findings"] if f["words"] == word)
    assert finding == {"kind": kind, "msgctxt": "risks.never-mix.easy", "words": word,
                       "alternative": instead, "blocks": True,
                       "sentence": finding["sentence"]}
    assert not document["passed"]
    # --allow-hard still writes it, and the manifest says it was overridden.
    built = runner.invoke(app, ["build", HANDOUT, "--lang", "en", "-l", "easy", "--paper",
                                "a4", "--allow-hard", "-o", str(project.root / "out"),
                                "--project", str(project.root)])
    assert built.exit_code == 0, built.output
    manifest = json.loads((project.root / "out" / "manifest.json").read_text())
    [entry] = manifest["outputs"]
    assert entry["readability"]["override"] is True
    assert any(f["words"] == word and f["blocks"] for f in entry["readability"]["findings"])


def test_a_term_explained_in_brackets_passes(project: Project) -> None:
    _set_easy_point(project, "risks", "never-mix",
                    "Never mix kratom with benzodiazepines (pills for worry or sleep).")
    result = _check(project, "--json")
    [document] = json.loads(result.stdout)["documents"]
    assert not [f for f in document["findings"] if f["kind"] == "jargon"]
    assert result.exit_code == 0, result.output


def test_check_json_lists_the_measures_with_targets_for_every_document() -> None:
    result = runner.invoke(app, ["check", "--json", "--project", str(ROOT)])
    assert result.exit_code == 0, result.output
    documents = json.loads(result.stdout)["documents"]
    assert len(documents) > 20
    for document in documents:
        measures = {m["key"]: m for m in document["measures"]}
        assert set(measures) >= MEASURES, document["lang"]
        assert all(isinstance(measures[k]["target"], float | int) for k in MEASURES)
        assert measures["stigma"]["gating"] and not measures["passive-voice"]["gating"]
        assert measures["jargon"]["gating"] == (document["level"] == "easy")
        for finding in document["findings"]:
            assert finding["msgctxt"] and finding["kind"]


def test_a_language_without_a_word_list_reads_not_measured() -> None:
    result = runner.invoke(app, ["check", HANDOUT, "--lang", "th", "--json", "--project",
                                 str(ROOT)])
    for document in json.loads(result.stdout)["documents"]:
        measures = {m["key"]: m for m in document["measures"]}
        for key in ("complex-words", "passive-voice", "lexical-density"):
            assert measures[key]["measured"] is False and measures[key]["passed"] is False
            assert measures[key]["value"] is None
        assert document["passed"]  # advice never fails a document


def test_the_glossary_rows_are_sourced_and_a_bad_row_names_its_line(tmp_path: Path) -> None:
    terms = load_glossary(ROOT / "locales" / GLOSSARY_FILE)
    avoid = [t for t in terms if t.avoid]
    assert {t.avoid for t in avoid} == {"stigma", "jargon"}
    sources = (ROOT / "locales" / "glossary-SOURCES.md").read_text()
    assert all(t.plain and t.source and t.source in sources for t in avoid)
    bad = tmp_path / GLOSSARY_FILE
    bad.write_text("term,note,translate,avoid\naddict,,yes,rude\n")
    from handoutkit import InputError

    with pytest.raises(InputError) as caught:
        load_glossary(bad)
    assert caught.value.problems[0].line == 2 and "avoid is 'rude'" in str(caught.value)


_LOOKUP = """
import json, sys
from handoutkit import frequencies
words = sys.argv[1].split()
values = {w: frequencies.zipf({w}, "en") for w in words}
top = sorted(frequencies.most_frequent("en", 150))
frequencies.save()
print(json.dumps({"values": values, "top": top, "imported": "wordfreq" in sys.modules}))
"""


def _lookup(cache: Path, words: str) -> dict[str, object]:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _LOOKUP, words], capture_output=True,
                          text=True, timeout=120, env={"XDG_CACHE_HOME": str(cache),
                                                       "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_word_frequencies_are_wordfreqs_and_the_next_process_needs_no_wordfreq(
        tmp_path: Path) -> None:
    import wordfreq

    words = "kratom naloxone breathing the tolerance"
    expected = {w: wordfreq.zipf_frequency(w, "en") for w in words.split()}
    top = sorted(wordfreq.top_n_list("en", 150))
    first = _lookup(tmp_path, words)
    assert first == {"values": expected, "top": top, "imported": True}
    again = _lookup(tmp_path, words)
    assert again == {"values": expected, "top": top, "imported": False}  # from the cache
    assert _lookup(tmp_path, "kratom xylazine")["imported"] is True  # a new word: looked up
    [kept] = (tmp_path / "handoutkit").glob("zipf-*_en-*.json")
    assert set(json.loads(kept.read_text())["zipf"]) >= {*words.split(), "xylazine"}


def test_a_damaged_or_unwritable_frequency_cache_is_only_slower(tmp_path: Path) -> None:
    import wordfreq

    expected = {"naloxone": wordfreq.zipf_frequency("naloxone", "en")}
    _lookup(tmp_path, "naloxone")
    [kept] = (tmp_path / "handoutkit").glob("zipf-*_en-*.json")
    for damage in ('{"zipf": {"naloxone": "NaN"}, "top": 3}', "not json", '{"zipf": []}'):
        kept.write_text(damage)
        assert _lookup(tmp_path, "naloxone")["values"] == expected, damage
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be")
    assert _lookup(blocked, "naloxone")["values"] == expected
