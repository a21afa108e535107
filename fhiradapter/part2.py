"""42 CFR Part 2: which outgoing resources are substance use disorder (SUD) records, and how they are marked.

A resource is SUD data (data-driven, two tables below) when
- the agency export flags it: the mapping sets `meta.security` v3-ActCode `SUD` from the row's SUD flag
  (`sud_related` in the CSV exports), or any label of `SUD_LABELS`; or
- it carries an ICD-10-CM code of a substance use disorder (`SUD_ICD10_PREFIXES`: F10–F19, "mental and
  behavioural disorders due to psychoactive substance use") in `code`, `reasonCode` or `diagnosis`.

Every such resource leaving the adapter (`map`, `run`) is marked the same way (`mark()`):
- `meta.security` v3-ActUSPrivacyLaw `42CFRPart2` (the privacy law), v3-ActCode `SUD` (sensitivity) and `NORDSCLCD`
  (refrain policy: no redisclosure without the patient's consent), the DS4P way of labelling Part 2 data;
- the § 2.32 redisclosure notice as human-readable narrative (`text`, status `additional`): the notice
  must *accompany* each disclosure, and narrative is the part of a resource that travels with it through any
  Bundle, server or export; the NORDSCLCD label is its machine-readable twin.
"""
from __future__ import annotations

import re
from typing import Any

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PRIVACY_LAW = "http://terminology.hl7.org/CodeSystem/v3-ActUSPrivacyLaw"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"

# codes that make a resource Part 2 data when found in meta.security (either system)
SUD_LABELS = frozenset({"SUD", "42CFRPart2", "ETH", "ETHUD"})
# ICD-10-CM categories of substance use disorders (F10 alcohol … F19 other psychoactive substances)
SUD_ICD10_PREFIXES = tuple(f"F1{n}" for n in range(10))

PART2_CITATION = "42 CFR Part 2 § 2.32, notice to accompany disclosure"
# § 2.32(a): each disclosure made with the patient's written consent carries one of the written statements;
# this is the short one the rule allows
REDISCLOSURE_NOTICE = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."

MARKS: tuple[dict[str, str], ...] = (
    # the code is in v3-ActCode too, but R4 4.0.1's security-labels value set (extensible on meta.security)
    # takes it from v3-ActUSPrivacyLaw: with ActCode every SUD resource would draw a binding warning
    {"system": PRIVACY_LAW, "code": "42CFRPart2", "display": "42 CFR Part2"},
    {"system": ACT_CODE, "code": "SUD", "display": "substance use disorder information sensitivity"},
    {"system": ACT_CODE, "code": "NORDSCLCD", "display": "no redisclosure without consent directive"},
)
_NOTICE_P = f'<p>{REDISCLOSURE_NOTICE} ({PART2_CITATION})</p>'
_DIV_END = re.compile(r"</div>\s*$")
_CODED = ("code", "reasonCode", "diagnosis")
_NEVER_MARKED = ("Patient", "Consent", "Provenance")   # the member, the consent itself, the audit trail


def _sud_coded(value: Any) -> bool:
    """Whether a CodeableConcept (or diagnosis, or a list of them) holds an ICD-10-CM F10–F19 coding;
    short-circuits on the first (mapping and the program rules ask about every resource)."""
    if isinstance(value, list):
        for item in value:
            if _sud_coded(item):
                return True
        return False
    if isinstance(value, dict):
        if "coding" in value:
            for coding in value.get("coding") or []:
                if isinstance(coding, dict) and coding.get("system") == ICD10CM:
                    code = coding.get("code")
                    if isinstance(code, str) and code.upper().startswith(SUD_ICD10_PREFIXES):
                        return True
            return False
        if "condition" in value or "concept" in value:   # diagnosis.condition / .concept
            return _sud_coded(value.get("concept"))
    return False


def is_sud(resource: dict[str, Any]) -> bool:
    """Whether the resource is SUD data (an SUD label, or an ICD-10-CM F10–F19 code)."""
    meta = resource.get("meta")
    labels = meta.get("security") if isinstance(meta, dict) else None
    if isinstance(labels, list) and any(isinstance(s, dict) and s.get("code") in SUD_LABELS for s in labels):
        return True
    for key in _CODED:
        value = resource.get(key)
        if value is not None and _sud_coded(value):   # most resources lack most of them
            return True
    return False


def may_be_sud(resource_type: str, template: dict[str, Any]) -> bool:
    """Whether a mapping template (its YAML) can make SUD data, decided once per template instead of
    testing each resource: only through `code`, `reasonCode`, `diagnosis` or labels in meta.security.
    A directive ($...) where labels would be, or any of those elements, counts as 'can'."""
    if resource_type in _NEVER_MARKED:
        return False
    if any(key in template for key in _CODED):
        return True
    meta = template.get("meta")
    if meta is None:
        return False
    if not isinstance(meta, dict) or any(isinstance(k, str) and k.startswith("$") for k in meta):
        return True
    labels = meta.get("security")
    if labels is None:
        return False
    if not isinstance(labels, list):
        return True
    for label in labels:
        if not isinstance(label, dict) or any(isinstance(k, str) and k.startswith("$") for k in label):
            return True
        code = label.get("code")
        if not isinstance(code, str) or code in SUD_LABELS:
            return True
    return False


def is_marked(resource: dict[str, Any]) -> bool:
    """Whether the resource carries the 42CFRPart2 label (either system)."""
    meta = resource.get("meta")
    labels = meta.get("security") if isinstance(meta, dict) else None
    return isinstance(labels, list) and any(isinstance(s, dict) and s.get("code") == "42CFRPart2" for s in labels)


def mark(resource: dict[str, Any]) -> bool:
    """Label an SUD resource and add the redisclosure notice (in place); False when it is no SUD data."""
    if resource.get("resourceType") in _NEVER_MARKED or not is_sud(resource):
        return False
    meta = resource.get("meta")
    if not isinstance(meta, dict):
        meta = resource["meta"] = {}
    labels = meta.get("security")
    if not isinstance(labels, list):
        labels = meta["security"] = []
    have = {(s.get("system"), s.get("code")) for s in labels if isinstance(s, dict)}
    for label in MARKS:
        if (label["system"], label["code"]) not in have:
            labels.append(dict(label))
    text = resource.get("text")
    div = text.get("div") if isinstance(text, dict) else None
    if isinstance(text, dict) and isinstance(div, str) and _DIV_END.search(div):
        if REDISCLOSURE_NOTICE not in div:
            text["div"] = _DIV_END.sub(_NOTICE_P + "</div>", div)
    else:
        # key order of a resource: text follows meta/implicitRules/language
        items = list(resource.items())
        resource.clear()
        placed = False
        for key, value in items:
            if not placed and key not in ("resourceType", "id", "meta", "implicitRules", "language"):
                resource["text"] = {"status": "additional",
                                    "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{_NOTICE_P}</div>'}
                placed = True
            if key != "text":
                resource[key] = value
        if not placed:
            resource["text"] = {"status": "additional",
                                "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{_NOTICE_P}</div>'}
    return True
