"""Property tests: mutated resources and arbitrary JSON never make the validator raise or hit its
internal-error guard; the answer is always an OperationOutcome."""
from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from validator_support import EXAMPLES, INVALID
from fhiradapter.outcome import operation_outcome

SEEDS = [json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*.json")) + sorted(INVALID.glob("*.json"))[:10]]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=False)
    | st.text(max_size=12) | st.sampled_from(["", " ", "2024-02-30", "urn:uuid:x", "#x", "Patient/1"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["resourceType", "id", "url", "value", "valueString", "extension", "coding",
                         "system", "code", "reference", "start", "end", "_status", "status", "x"]),
        inner, max_size=4),
    max_leaves=12,
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_paths(v, prefix + (k,)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_paths(v, prefix + (i,)))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    res = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(res)
        path = draw(st.sampled_from(paths))
        if not path:
            continue
        parent = res
        for p in path[:-1]:
            parent = parent[p]
        key = path[-1]
        action = draw(st.sampled_from(["replace", "delete", "wrap", "unwrap", "add"]))
        if action == "replace":
            parent[key] = draw(json_values)
        elif action == "delete":
            del parent[key]
        elif action == "wrap":
            parent[key] = [parent[key]]
        elif action == "unwrap" and isinstance(parent[key], list) and parent[key]:
            parent[key] = parent[key][0]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["zzz", "_code", "valueQuantity", "contained", "meta"]))] = \
                draw(json_values)
    return res


def _check(validator, value: Any) -> None:
    issues = validator.validate_resource(value)
    assert not [i for i in issues if i.rule == "internal"], [i.message for i in issues]
    outcome = operation_outcome(issues)
    assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"]
    json.dumps(outcome)


@settings(max_examples=1000, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated())
def test_mutated_resources(validator, value):
    _check(validator, value)


@settings(max_examples=500, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(json_values)
def test_arbitrary_json(validator, value):
    _check(validator, value)


@settings(max_examples=200, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(mutated(), min_size=1, max_size=3), st.sampled_from(["collection", "transaction", "document"]))
def test_mutated_bundles(validator, resources, btype):
    bundle = {"resourceType": "Bundle", "type": btype,
              "entry": [{"fullUrl": f"urn:uuid:00000000-0000-4000-8000-00000000000{i}", "resource": r}
                        for i, r in enumerate(resources)]}
    _check(validator, bundle)
