"""A seeded corpus of mutated resources for the differential test against the HL7 reference validator.

Each mutant is one of our profile examples (profiles/examples) with ONE edit of one kind, chosen by a
seeded random generator, so the corpus is the same on every run and every machine. The kinds cover what
the spec lets an instance get wrong: cardinality, JSON types, primitive formats, codes, slices,
extensions, references, invariants, unknown elements, plus edits that keep the resource valid (so the
corpus also asks "is this still valid?").

    from mutation_corpus import corpus
    for m in corpus(seed=13, size=10_000): m.name, m.kind, m.resource
"""
from __future__ import annotations

import copy
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import orjson

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "profiles" / "examples"

Json = Any
PathT = tuple[str | int, ...]


@dataclass(frozen=True)
class Mutant:
    name: str                # "<kind>-<n>-<example stem>": stable for a seed
    kind: str                # the MUTATIONS key
    detail: str              # what was changed, at which path (no record values: the examples are synthetic anyway)
    resource: dict[str, Any]


def examples() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*.json"))]


def _walk(node: Json, path: PathT = ()) -> Iterator[tuple[PathT, Json]]:
    yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, path + (i,))


def _get(node: Json, path: PathT) -> Json:
    for p in path:
        node = node[p]
    return node


def _set(node: Json, path: PathT, value: Json) -> None:
    _get(node, path[:-1])[path[-1]] = value


def _delete(node: Json, path: PathT) -> None:
    parent = _get(node, path[:-1])
    del parent[path[-1]]


def _key(path: PathT) -> str:
    """The last property name on the path (array indices skipped)."""
    for p in reversed(path):
        if isinstance(p, str):
            return p
    return ""


def _fhirpath(path: PathT) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out.lstrip(".")


def _pick(rng: random.Random, r: dict[str, Any], want: Callable[[PathT, Json], bool]) -> PathT | None:
    spots = [p for p, v in _walk(r) if p and p[0] != "resourceType" and want(p, v)]
    return rng.choice(spots) if spots else None


DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T")

# --- one function per mutation kind: (rng, resource) -> detail or None (not applicable) ---------------


def m_delete(rng: random.Random, r: dict[str, Any]) -> str | None:
    """cardinality: drop an element (required ones make the resource invalid, optional ones do not)."""
    p = _pick(rng, r, lambda p, v: isinstance(p[-1], str) and p != ("id",))
    if p is None:
        return None
    _delete(r, p)
    return f"deleted {_fhirpath(p)}"


def m_duplicate_single(rng: random.Random, r: dict[str, Any]) -> str | None:
    """cardinality: a single-valued element given as an array of two."""
    p = _pick(rng, r, lambda p, v: isinstance(p[-1], str) and not isinstance(v, list) and not p[-1].startswith("_"))
    if p is None:
        return None
    v = _get(r, p)
    _set(r, p, [v, copy.deepcopy(v)])
    return f"{_fhirpath(p)} as an array of two"


def m_duplicate_item(rng: random.Random, r: dict[str, Any]) -> str | None:
    """cardinality / slices: one array item repeated (exceeds a max or a slice's max)."""
    p = _pick(rng, r, lambda p, v: isinstance(v, list) and bool(v))
    if p is None:
        return None
    arr = _get(r, p)
    arr.insert(rng.randrange(len(arr) + 1), copy.deepcopy(rng.choice(arr)))
    return f"{_fhirpath(p)}: an item repeated"


def m_array_unwrapped(rng: random.Random, r: dict[str, Any]) -> str | None:
    """types: an array element given as a single value."""
    p = _pick(rng, r, lambda p, v: isinstance(v, list) and bool(v) and isinstance(p[-1], str))
    if p is None:
        return None
    _set(r, p, _get(r, p)[0])
    return f"{_fhirpath(p)} as a single value"


def m_wrong_json_type(rng: random.Random, r: dict[str, Any]) -> str | None:
    """types: a primitive given the wrong JSON type (string <-> number <-> boolean, object for a primitive)."""
    p = _pick(rng, r, lambda p, v: isinstance(v, (str, bool, int, float)) and p[-1] != "resourceType")
    if p is None:
        return None
    v = _get(r, p)
    if isinstance(v, bool):
        new: Json = rng.choice(["true", 1, {"value": v}])
    elif isinstance(v, (int, float)):
        new = rng.choice([str(v), True, [v]])
    else:
        new = rng.choice([1, True, {"value": v}, 2.5])
    _set(r, p, new)
    return f"{_fhirpath(p)} given JSON type {type(new).__name__}"


def m_bad_primitive(rng: random.Random, r: dict[str, Any]) -> str | None:
    """primitives: a string value broken for its format (dates, times, ids, codes, uris, whitespace)."""
    p = _pick(rng, r, lambda p, v: isinstance(v, str) and p[-1] != "resourceType")
    if p is None:
        return None
    v: str = _get(r, p)
    key = _key(p)
    if DATETIME_RE.match(v):
        new = rng.choice([v.replace("T", " "), v[:10] + "T25:00:00Z", v[:16], v.replace("-", "/", 1),
                          v[:10] + "T10:00:00", "2024-02-30T10:00:00Z"])
    elif DATE_RE.match(v):
        new = rng.choice(["2024-13-01", "2024-02-30", v + "T", "24-01-01", v.replace("-", "")])
    elif key == "id":
        new = rng.choice(["has space", "a" * 65, "under_score", ""])
    elif key in ("code", "status", "gender", "intent", "use", "mode", "type") and isinstance(p[-1], str):
        new = rng.choice([" " + v, v + " ", "two  spaces", ""])
    elif key in ("system", "url", "reference") or v.startswith(("http", "urn:")):
        new = rng.choice([v.replace("/", " / ", 1), "", " " + v])
    else:
        new = rng.choice(["", "   ", v + "\u0000", " \t "])
    if new == v:
        return None
    _set(r, p, new)
    return f"{_fhirpath(p)} broken for its format"


def m_bad_number(rng: random.Random, r: dict[str, Any]) -> str | None:
    """primitives: numbers outside their type (decimal for integer, negative for positiveInt, huge)."""
    p = _pick(rng, r, lambda p, v: isinstance(v, (int, float)) and not isinstance(v, bool))
    if p is None:
        return None
    v = _get(r, p)
    new = rng.choice([v + 0.5, -abs(v) - 1, 2**40, 0])
    _set(r, p, new)
    return f"{_fhirpath(p)} set to another number"


def m_unknown_code(rng: random.Random, r: dict[str, Any]) -> str | None:
    """codes: a code or Coding.code that no bound value set holds."""
    p = _pick(rng, r, lambda p, v: isinstance(v, str) and _key(p) in ("code", "status", "intent", "gender", "use",
                                                                      "provision", "mode", "priority"))
    if p is None:
        return None
    _set(r, p, rng.choice(["not-a-code", "zz-unknown", "X999"]))
    return f"{_fhirpath(p)}: unknown code"


def m_other_system(rng: random.Random, r: dict[str, Any]) -> str | None:
    """codes / slices: a Coding moved to another code system (breaks bindings and slice patterns)."""
    p = _pick(rng, r, lambda p, v: isinstance(v, str) and _key(p) == "system" and p[-1] == "system")
    if p is None:
        return None
    _set(r, p, rng.choice(["http://example.org/other-system", "urn:oid:2.16.840.1.113883.6.96",
                           "https://fhiradapter.org/fhir/CodeSystem/bh-program"]))
    return f"{_fhirpath(p)}: another code system"


def m_drop_coding(rng: random.Random, r: dict[str, Any]) -> str | None:
    """slices: one coding (or CodeableConcept) removed, so a required slice may be missing."""
    p = _pick(rng, r, lambda p, v: isinstance(p[-1], int) and isinstance(v, dict)
              and ("system" in v or "coding" in v))
    if p is None:
        return None
    _delete(r, p)
    return f"{_fhirpath(p)} removed"


def m_extension(rng: random.Random, r: dict[str, Any]) -> str | None:
    """extensions: unknown url, no value, value and children (ext-1), wrong value type, or removed."""
    p = _pick(rng, r, lambda p, v: isinstance(v, dict) and "url" in v and isinstance(p[-1], int)
              and _key(p) in ("extension", "modifierExtension"))
    if p is None:
        return None
    ext = _get(r, p)
    choice = rng.randrange(5)
    if choice == 0:
        ext["url"] = "https://fhiradapter.org/fhir/StructureDefinition/no-such-extension"
        what = "unknown url"
    elif choice == 1:
        for k in [k for k in ext if k.startswith("value")]:
            del ext[k]
        what = "value removed"
    elif choice == 2:
        ext.setdefault("valueString", "x")
        ext.setdefault("extension", []).append({"url": "child", "valueString": "y"})
        what = "value and child extensions"
    elif choice == 3:
        for k in [k for k in ext if k.startswith("value")]:
            del ext[k]
        ext["valueBoolean"] = True
        what = "value of another type"
    else:
        _delete(r, p)
        what = "removed"
    return f"{_fhirpath(p)}: {what}"


def m_reference(rng: random.Random, r: dict[str, Any]) -> str | None:
    """references: wrong target type, malformed, dangling local #id, absolute URL of another type."""
    p = _pick(rng, r, lambda p, v: isinstance(v, str) and p[-1] == "reference")
    if p is None:
        return None
    v: str = _get(r, p)
    rid = v.rsplit("/", 1)[-1]
    new = rng.choice([f"Organization/{rid}", f"Patient/{rid}", f"Practitioner/{rid}", f"Device/{rid}",
                      "Patient/", "#missing", f"http://example.org/fhir/Network/{rid}", f"NotAType/{rid}",
                      f"urn:uuid:{rid}", f"Patient/{rid}/_history/1"])
    if new == v:
        return None
    _set(r, p, new)
    return f"{_fhirpath(p)} -> another form or target"


def m_invariant(rng: random.Random, r: dict[str, Any]) -> str | None:
    """invariants: per-1 (start after end), empty element (ele-1), text without div, contained orphan."""
    choice = rng.randrange(4)
    if choice == 0:
        p = _pick(rng, r, lambda p, v: isinstance(v, dict) and "start" in v and "end" in v)
        if p is None:
            return None
        period = _get(r, p)
        period["start"], period["end"] = period["end"], period["start"]
        if period["start"] == period["end"]:
            return None
        return f"{_fhirpath(p)}: start after end (per-1)"
    if choice == 1:
        p = _pick(rng, r, lambda p, v: isinstance(v, dict) and bool(v) and bool(p))
        if p is None:
            return None
        _set(r, p, {})
        return f"{_fhirpath(p)} emptied (ele-1)"
    if choice == 2:
        r["text"] = {"status": "generated"}
        return "text without div"
    r["contained"] = [{"resourceType": "Organization", "id": "orphan", "name": "Unreferenced"}]
    return "contained resource nobody references (dom-3)"


def m_unknown_element(rng: random.Random, r: dict[str, Any]) -> str | None:
    """structure: a property the definition does not have, at the root or inside a complex value."""
    p = _pick(rng, r, lambda p, v: isinstance(v, dict))
    target = r if p is None else _get(r, p)
    name = rng.choice(["unknownElement", "valueFoo", "Status", "_status", "extension_"])
    if name in target:
        return None
    target[name] = rng.choice(["x", 1, {"a": "b"}])
    return f"{_fhirpath(p or ())} + {name}"


def m_valid_edit(rng: random.Random, r: dict[str, Any]) -> str | None:
    """none: edits that keep the resource valid (another id, another valid date, narrative added)."""
    choice = rng.randrange(3)
    if choice == 0:
        r["id"] = f"mut-{rng.randrange(10**6)}"
        return "another id"
    if choice == 1:
        p = _pick(rng, r, lambda p, v: isinstance(v, str) and bool(DATE_RE.match(v)) and len(v) == 10)
        if p is None:
            return None
        _set(r, p, f"{rng.randrange(1990, 2024)}-0{rng.randrange(1, 10)}-1{rng.randrange(0, 10)}")
        return f"{_fhirpath(p)}: another valid date"
    r["text"] = {"status": "generated",
                 "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Generated narrative</p></div>"}
    return "narrative added"


MUTATIONS: dict[str, Callable[[random.Random, dict[str, Any]], str | None]] = {
    "cardinality-delete": m_delete,
    "cardinality-single-as-array": m_duplicate_single,
    "cardinality-repeat-item": m_duplicate_item,
    "type-array-as-single": m_array_unwrapped,
    "type-json": m_wrong_json_type,
    "primitive-format": m_bad_primitive,
    "primitive-number": m_bad_number,
    "code-unknown": m_unknown_code,
    "code-system": m_other_system,
    "slice-drop-coding": m_drop_coding,
    "extension": m_extension,
    "reference": m_reference,
    "invariant": m_invariant,
    "unknown-element": m_unknown_element,
    "valid-edit": m_valid_edit,
}


def corpus(seed: int = 13, size: int = 10_000) -> list[Mutant]:
    """`size` distinct mutants (by content), the same list for the same seed."""
    rng = random.Random(seed)
    bases = examples()
    kinds = sorted(MUTATIONS)
    out: list[Mutant] = []
    seen: set[bytes] = set()
    attempts = 0
    while len(out) < size and attempts < size * 20:
        attempts += 1
        kind = kinds[attempts % len(kinds)]
        base = rng.choice(bases)
        r = orjson.loads(orjson.dumps(base))   # a deep copy, ~10x faster than copy.deepcopy
        detail = MUTATIONS[kind](rng, r)
        if detail is None:
            continue
        key = orjson.dumps(r, option=orjson.OPT_SORT_KEYS)
        if key in seen:
            continue
        seen.add(key)
        out.append(Mutant(f"{kind}-{len(out):05d}-{base['resourceType']}-{base['id']}", kind, detail, r))
    return out
