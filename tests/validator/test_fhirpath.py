"""The fast FHIRPath subset agrees with fhirpathpy where both evaluate, and refuses what it lacks."""
from __future__ import annotations

import json

import fhirpathpy
import pytest
from fhirpathpy.models import models

from validator_support import EXAMPLES, INVALID
from fhiradapter.fhirpath import Unsupported, compile_expression
from fhiradapter.validator.invariants import _OPTIONS

PROFILE_DIR = EXAMPLES.parent


def _expressions() -> list[str]:
    out = {
        "reasonCode.exists() or reasonReference.exists()",
        "status = 'finished' implies period.end.exists()",
        "(period.start | period.end).count() >= 1",
        "identifier.where(system.startsWith('https://')).exists()",
        "type.coding.code.distinct().count() = type.coding.code.count()",
        "type.coding.code.isDistinct()",
        "id.length() <= 64",
        "participant.all(individual.reference.startsWith('Practitioner/'))",
        "meta.profile.first().endsWith('encounter')",
        "status.hasValue() and class.hasValue().not()",
        "status != 'cancelled' xor status = 'cancelled'",
        "extension.exists().not() or extension.url.exists()",
        "iif(status = 'finished', period.exists(), true)",
        "(identifier.count() + name.count()) > 0",
        "type.count() * 2 - 1 >= 1",
        "(status & '-x') = 'finished-x'",
    }
    for f in PROFILE_DIR.glob("StructureDefinition-*.json"):
        sd = json.loads(f.read_text())
        for e in sd.get("differential", {}).get("element", []):
            out.update(c["expression"] for c in e.get("constraint", []) if c.get("expression"))
    return sorted(out)


def _resources() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*.json")) + sorted(INVALID.glob("*.json"))]


def _norm(result: list) -> list:
    return [v for v in result if not isinstance(v, dict)]


@pytest.mark.parametrize("expression", _expressions())
def test_agrees_with_fhirpathpy(expression):
    fast = compile_expression(expression)
    slow = fhirpathpy.compile(expression, models["r4"], _OPTIONS)
    compared = 0
    for res in _resources():
        try:
            got = fast(res, {"resource": res})
        except Unsupported:
            continue
        want = slow(res, {"resource": res})
        assert _norm(got) == _norm(want), (expression, res.get("id"))
        compared += 1
    assert compared > 0


@pytest.mark.parametrize("expression", [
    "name.memberOf('http://x')", "value is Quantity", "descendants().exists()", "$index > 1", "a ~ b",
])
def test_unsupported_constructs_are_refused(expression):
    with pytest.raises(Unsupported):
        compile_expression(expression)


def test_empty_and_three_valued_logic():
    assert compile_expression("a.exists() implies b")({}, {}) == [True]
    assert compile_expression("a = 'x'")({}, {}) == []
    assert compile_expression("a or b = 'y'")({"b": "y"}, {}) == [True]
    assert compile_expression("a and b = 'y'")({"a": False, "b": "y"}, {}) == [False]
