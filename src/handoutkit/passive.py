"""Passive voice by rule, for the languages that have a rule here (English, Spanish).

A passive is a form of the auxiliary ("be" or "get"; Spanish "ser") followed, after at most
two adverbs, by a past participle: "Naloxone is sprayed into the nose", "It can be given
again", "La naloxona fue aprobada". What a rule gets wrong, and how it is kept out:

* participles that describe a state and take "very" (tired, worried, located): adjectives,
  listed in :data:`_ENGLISH_ADJECTIVES`;
* Spanish words ending like a participle that are not one ("rápido", "válido"): a participle
  carries no written accent before its ending unless it is the stressed í of -ído ("leído");
* Spanish "estar" + participle (a state) and the "se" passive (the natural Spanish form,
  which plain-language guides do not discourage) are not counted.

Validated against sentences from published health pages labelled by hand
(``tests/data/passive-voice-*.tsv``, their sources in their headers).
"""

from __future__ import annotations

import re
from collections.abc import Callable


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_ENGLISH_AUXILIARIES = _set(
    "am is are was were be been being get gets got gotten getting isn't aren't wasn't "
    "weren't")
_GET_FORMS = _set("get gets got gotten getting")
_ENGLISH_ADVERBS = _set(
    "not also often still never always usually just only then even already sometimes "
    "quickly easily safely really rarely best well now")
_ENGLISH_IRREGULAR = _set(
    "given taken made done seen known found shown written sold bought kept left held told "
    "brought caught put set hurt cut spread meant sent built paid driven eaten drunk worn "
    "stolen hidden broken chosen forgotten spoken frozen beaten bitten thrown grown drawn "
    "blown torn shaken swollen born borne hit let lost read sought taught thought understood "
    "withdrawn overdone undone bound fed led shot struck stuck sung swept felt heard laid "
    "lent lit met mistaken overtaken run shut slept spent split stung won wound")
#: Participles used as adjectives after "be": a state, not an action done to the subject.
_ENGLISH_ADJECTIVES = _set(
    "tired worried interested married located scared excited concerned confused pleased "
    "satisfied surprised bored upset depressed stressed embarrassed ashamed supposed "
    "related aged advanced detailed limited skilled qualified experienced prepared "
    "dedicated determined alarmed annoyed amazed frightened exhausted disappointed "
    "relaxed involved")
_SPANISH_AUXILIARIES = _set(
    "es son era eran fue fueron será serán sería serían sea sean fuera fueran fuese fuesen "
    "ser sido siendo soy eres somos")
_SPANISH_ADVERBS = _set(
    "no también siempre ya solo sólo más muy nunca casi ahora bien mal frecuentemente "
    "generalmente normalmente rápidamente")
_SPANISH_IRREGULAR = _set(
    "hecho hecha hechos hechas dicho dicha dichos dichas puesto puesta puestos puestas visto "
    "vista vistos vistas escrito escrita escritos escritas abierto abierta abiertos abiertas "
    "cubierto cubierta cubiertos cubiertas muerto muerta muertos muertas vuelto vuelta "
    "vueltos vueltas roto rota rotos rotas resuelto resuelta resueltos resueltas impreso "
    "impresa impresos impresas frito frita fritos fritas provisto provista provistos "
    "provistas devuelto devuelta devueltos devueltas descubierto descubierta descubiertos "
    "descubiertas prescrito prescrita prescritos prescritas satisfecho satisfecha")
_SPANISH_PARTICIPLE = re.compile(r"(?:ad|id|íd)(?:o|a|os|as)$")
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


def passive_phrases(sentence: str, lang: str) -> list[str] | None:
    """The passive verb phrases of ``sentence``, or None for a language with no rule."""
    if lang == "en":
        return _phrases(sentence, _ENGLISH_AUXILIARIES, _ENGLISH_ADVERBS, _english_participle)
    if lang == "es":
        return _phrases(sentence, _SPANISH_AUXILIARIES, _SPANISH_ADVERBS, _spanish_participle)
    return None


def _phrases(sentence: str, auxiliaries: frozenset[str], adverbs: frozenset[str],
             participle: Callable[[str], bool]) -> list[str]:
    tokens = _TOKEN.findall(sentence)
    lowered = [t.lower() for t in tokens]
    found = []
    for index, token in enumerate(lowered):
        if token not in auxiliaries:
            continue
        follow = index + 1
        while follow < len(lowered) and follow - index <= 2 and (
                lowered[follow] in adverbs or lowered[follow].endswith("ly")):
            follow += 1
        if follow >= len(lowered) or not participle(lowered[follow]):
            continue
        if token in _GET_FORMS and lowered[follow] == "used":
            continue  # "get used to" is an idiom (grow familiar), not a passive
        found.append(" ".join(tokens[index:follow + 1]))
    return found


def _english_participle(word: str) -> bool:
    if word in _ENGLISH_ADJECTIVES:
        return False
    return word in _ENGLISH_IRREGULAR or (word.endswith("ed") and len(word) > 3)


def _spanish_participle(word: str) -> bool:
    if word in _SPANISH_IRREGULAR:
        return True
    if not _SPANISH_PARTICIPLE.search(word) or word == "sido":
        return False
    stem = word[:word.rindex("d")]
    # "rápido", "válido": an accent before the ending marks an adjective; "leído" is -ído.
    return not any(c in "áéíóú" for c in stem)
