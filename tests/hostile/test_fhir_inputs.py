"""Hostile FHIR resources and Bundles through `validate` and `rules check`, and hostile NDJSON/JSON
exports through `map` (hypothesis, derandomized: the same inputs on every run). Each invocation
ends with exit 0/1/2, and no planted value shows in the console without --show-values."""
from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from .corpus import HOSTILE
from .support import ALLOWED_EXITS, check_summary, invoke, report_texts

REPO = Path(__file__).parents[2]
EXAMPLES = REPO / "tests" / "hostile" / "data"

MARK = "ZZPHIVALUE"
NO_SHRINK = (Phase.explicit, Phase.generate)   # a whole CLI run per example: report the failure as found

# FHIR-shaped records: a member record of the reference example, as a Bundle and as NDJSON
PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1984-07-02", "gender": "female",
           "name": [{"family": "Quill", "given": ["Ada"]}],
           "identifier": [{"system": "https://fhiradapter.org/fhir/sid/x/member", "value": "M001"}]}
ENCOUNTER = {"resourceType": "Encounter", "id": "e1", "status": "finished",
             "meta": {"profile": ["https://fhiradapter.org/fhir/StructureDefinition/mt-cmp-encounter"]},
             "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
             "type": [{"coding": [{"system": "https://fhiradapter.org/fhir/CodeSystem/bh-contact-mode",
                                   "code": "face-to-face"}]}],
             "serviceType": {"coding": [{"system": "https://fhiradapter.org/fhir/CodeSystem/bh-program",
                                         "code": "mt-cmp"}]},
             "subject": {"reference": "Patient/p1"},
             "period": {"start": "2025-03-08T10:00:00-07:00", "end": "2025-03-08T11:00:00-07:00"}}

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10 ** 40), max_value=10 ** 40),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40),
    st.sampled_from([MARK, MARK + "\u202e", "../../" + MARK, "Patient/" + MARK, "urn:uuid:" + MARK,
                     MARK + "-07:00", "America/" + MARK]),
    st.sampled_from([v for v in HOSTILE if isinstance(v, str) and len(v) < 6000]))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(
        ["id", "code", "system", "reference", "value", "start", "end", "url", "status", "zz"]), inner, max_size=4)),
    max_leaves=12)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, prefix + (i,))
    return found


def _replace(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[path[0]] = _replace(node[path[0]], path[1:], value)
    return copy


@st.composite
def hostile_resource(draw: st.DrawFn) -> Any:
    base = draw(st.sampled_from([PATIENT, ENCOUNTER]))
    resource: Any = base
    for _ in range(draw(st.integers(1, 3))):
        # names (elements, resourceType) and ids locate an issue and are echoed as such; other values must not show
        paths = [p for p in _paths(resource) if p and p not in (("resourceType",), ("id",))]
        if not paths:
            break
        resource = _replace(resource, draw(st.sampled_from(paths)), draw(json_values))
    return resource


def _no_mark(text: str) -> None:
    assert MARK not in text, "a planted record value shows in the console"


@settings(max_examples=8, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck), phases=NO_SHRINK)
@given(st.lists(hostile_resource(), min_size=15, max_size=25))
def test_validate_and_rules_check_on_hostile_resources(tmp_path_factory: pytest.TempPathFactory,
                                                       resources: list[Any]) -> None:
    folder = tmp_path_factory.mktemp("fhir")
    ndjson = folder / "resources.ndjson"
    lines = [json.dumps(r, ensure_ascii=False) for r in resources]
    lines.insert(len(lines) // 2, '{"resourceType": "Patient", "id": "' + "9" * 5000)   # broken line
    lines.insert(1, "[" * 50_000)
    ndjson.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    bundle = folder / "bundle.json"
    bundle.write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                  "entry": [{"fullUrl": f"urn:uuid:{i:08d}-0000-4000-8000-000000000000",
                                             "resource": r} for i, r in enumerate(resources)]},
                                 ensure_ascii=False), encoding="utf-8", errors="surrogatepass")
    for argv in (["validate", str(ndjson)], ["validate", "--program", "mt-cmp", str(bundle)],
                 ["rules", "check", "--program", "mt-cmp", str(ndjson)], ["rules", "check", str(bundle)]):
        result = invoke(argv)
        assert result.code in ALLOWED_EXITS, (argv, result.text[-2000:])
        assert "internal error" not in result.text
        _no_mark(result.text)


NDJSON_MAPPING = """\
fhiradapter-mapping: 1
id: hostile-ndjson
version: 1.0.0
agency: hostile-agency
timezone: America/New_York
sources:
  visits: {file: visits.ndjson, format: ndjson}
lookups:
  mode: {map: {F2F: face-to-face, TH: telehealth}}
resources:
  - name: visit
    source: visits
    key: {$col: id}
    member: {$ref: {type: Patient, kind: patient}, key: {$col: member}}
    template:
      resourceType: Encounter
      status: finished
      class: {system: "http://terminology.hl7.org/CodeSystem/v3-ActCode", code: AMB}
      type: [{coding: [{system: "https://fhiradapter.org/fhir/CodeSystem/bh-contact-mode",
                        code: {$lookup: mode, col: mode, required: true}}]}]
      subject: {$ref: {type: Patient, kind: patient}, key: {$col: member}}
      period:
        start: {$datetime: {$col: start}, format: "%Y-%m-%dT%H:%M"}
      length: {value: {$col: minutes, as: decimal}, unit: min}
      extension:
        - url: https://fhiradapter.org/fhir/StructureDefinition/note
          valueString: {$col: note}
        - $if: {matches: [{$col: note}, "^[A-Z]"]}
          then: {url: https://fhiradapter.org/fhir/StructureDefinition/flag, valueBoolean: true}
"""


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    """A seeded JSON value: hostile scalars, the marker, or small containers of them."""
    kind = rng.random()
    if kind < 0.15 and depth < 3:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(3))]
    if kind < 0.25 and depth < 3:
        return {rng.choice(["id", "code", "zz"]): _random_value(rng, depth + 1) for _ in range(rng.randrange(3))}
    return rng.choice([None, True, 0, -1, 10 ** 30, -(10 ** 19), 1.5e308, 1e-320, "", MARK, "../" + MARK,
                       MARK + "\u202e", rng.choice([v for v in HOSTILE if isinstance(v, str)])])


@pytest.mark.parametrize("seed", range(10))
def test_map_on_hostile_ndjson(tmp_path_factory: pytest.TempPathFactory, seed: int) -> None:
    rng = random.Random(seed)
    records = []
    for _ in range(150):
        record = {"id": f"V{rng.randrange(10 ** 6)}", "member": f"M{rng.randrange(20)}", "mode": "F2F",
                  "start": "2025-03-08T10:00", "minutes": 30, "note": "fine"}
        for key in rng.sample(sorted(record), rng.randrange(1, 4)):
            record[key] = _random_value(rng)
        records.append(record)
    folder = tmp_path_factory.mktemp("ndjson")
    (folder / "m.yaml").write_text(NDJSON_MAPPING)
    (folder / "in").mkdir()
    lines = [json.dumps(r, ensure_ascii=False).encode("utf-8", "surrogatepass") for r in records]
    for _ in range(5):   # raw damage: a bad byte, a cut line, a huge number, deep nesting, NaN
        i = rng.randrange(len(lines))
        lines[i] = rng.choice([lines[i][:-3] + b"\xff\"}", lines[i][: len(lines[i]) // 2],
                               b'{"id": ' + b"7" * 5000 + b"}", b"[" * 100_000, b'{"id": NaN}'])
    (folder / "in" / "visits.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    result = invoke(["map", "--mapping", str(folder / "m.yaml"), str(folder / "in"),
                     "--out", str(folder / "out")])
    assert result.code in (1, 0), result.text[-2000:]
    summary = check_summary(folder / "out", {"visits.ndjson": len(lines)})
    assert summary is not None
    for text in [result.text, *report_texts(folder / "out").values()]:
        _no_mark(text)


def test_map_on_the_shipped_json_export_with_hostile_values(tmp_path: Path) -> None:
    """Every string of the shipped JSON export replaced, in turn, by hostile values (seeded)."""
    source = REPO / "examples" / "casemgmt-json"
    doc = json.loads((source / "casemgmt-export.json").read_text())
    rng = random.Random(7)
    paths = [p for p in _paths(doc) if p]
    for round_ in range(4):
        mutated = doc
        for _ in range(60):
            mutated = _replace(mutated, rng.choice(paths), rng.choice(
                [MARK, 10 ** 30, -1e300, [], {}, None, True, "9" * 5000, "x" * 50_000, "\u202e" + MARK]))
            paths = [p for p in _paths(mutated) if p]
        folder = tmp_path / f"r{round_}"
        shutil.copytree(source, folder / "in")
        (folder / "in" / "casemgmt-export.json").write_text(json.dumps(mutated, ensure_ascii=False))
        result = invoke(["map", "--mapping", str(REPO / "mappings" / "casemgmt-json-mt-cmp.yaml"),
                         str(folder / "in"), "--out", str(folder / "out")])
        assert result.code in ALLOWED_EXITS, result.text[-2000:]
        if result.code != 2:
            check_summary(folder / "out")
            for text in [result.text, *report_texts(folder / "out").values()]:
                _no_mark(text)
