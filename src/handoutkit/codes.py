"""Clinical codes on topics, so a record system can find the handout for a problem, a medicine
or a lab result (the desk's ``/infobutton``).

One entry per code system: its name in ``handout.yaml``, its HL7 OID (how an infobutton
request names it), and the shape of a valid code, check digit included where the system
has one:

* ICD-10-CM (problems): a letter, two characters, then up to four after a dot. A request
  matches a topic's code by prefix, so ``F11.20`` finds a topic coded ``F11``.
* SNOMED CT (problems, findings): an SCTID, 6 to 18 digits whose last is a Verhoeff check
  digit, with a concept's partition identifier (``00`` or ``10``) before it.
* RxNorm (medications): an RXCUI, up to 8 digits.
* LOINC (lab tests): up to 7 digits, a hyphen and a mod-10 check digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class CodeSystem:
    name: str
    oid: str
    #: Whether a requested code matches a topic's code that begins it (ICD-10-CM's hierarchy).
    by_prefix: bool = False


SYSTEMS: dict[str, CodeSystem] = {system.name: system for system in (
    CodeSystem("ICD-10-CM", "2.16.840.1.113883.6.90", by_prefix=True),
    CodeSystem("SNOMED CT", "2.16.840.1.113883.6.96"),
    CodeSystem("RxNorm", "2.16.840.1.113883.6.88"),
    CodeSystem("LOINC", "2.16.840.1.113883.6.1"),
)}
BY_OID: dict[str, CodeSystem] = {system.oid: system for system in SYSTEMS.values()}

_ICD10CM = re.compile(r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?")
_RXCUI = re.compile(r"[1-9][0-9]{0,7}")
_LOINC = re.compile(r"([0-9]{1,7})-([0-9])")
_SCTID = re.compile(r"[1-9][0-9]{5,17}")

# Verhoeff's dihedral-group tables (SNOMED CT's check digit).
_MULTIPLY = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6], [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
_PERMUTE = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2], [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]]


def verhoeff_valid(digits: str) -> bool:
    check = 0
    for position, digit in enumerate(reversed(digits)):
        check = _MULTIPLY[check][_PERMUTE[position % 8][int(digit)]]
    return check == 0


def loinc_valid(number: str, check: str) -> bool:
    """LOINC's mod-10 check digit (the Luhn-like scheme LOINC's users' guide describes)."""
    digits = [int(d) for d in number]
    odd = "".join(str(d) for d in digits[::-1][::2])[::-1]
    even = "".join(str(d) for d in digits[::-1][1::2])[::-1]
    total = sum(int(c) for c in str(int(odd) * 2)) + sum(int(c) for c in even or "0")
    return (10 - total % 10) % 10 == int(check)


def code_problem(system: str, code: str) -> str | None:
    """Why ``code`` is not a code of ``system`` as written, or ``None`` if it is."""
    if system == "ICD-10-CM" and not _ICD10CM.fullmatch(code):
        return f"{code!r} is not an ICD-10-CM code (a letter, two characters, then up to " \
               "four after a dot: F11.20)"
    if system == "RxNorm" and not _RXCUI.fullmatch(code):
        return f"{code!r} is not an RxNorm RXCUI (up to eight digits: 7242)"
    if system == "LOINC":
        match = _LOINC.fullmatch(code)
        if not match:
            return f"{code!r} is not a LOINC code (digits, a hyphen, a check digit: 2160-0)"
        if not loinc_valid(*match.groups()):
            return f"{code!r}: its LOINC check digit is wrong"
    if system == "SNOMED CT":
        if not _SCTID.fullmatch(code):
            return f"{code!r} is not a SNOMED CT identifier (6 to 18 digits)"
        if code[-3:-1] not in ("00", "10"):
            return f"{code!r} is not a concept identifier (its partition is not 00 or 10)"
        if not verhoeff_valid(code):
            return f"{code!r}: its SNOMED CT check digit is wrong"
    return None


def matches(system: CodeSystem, topic_code: str, asked: str) -> bool:
    """Whether a requested code finds a topic's code (ICD-10-CM by prefix, dots ignored)."""
    if system.by_prefix:
        return asked.replace(".", "").upper().startswith(topic_code.replace(".", "").upper())
    return asked.strip() == topic_code
