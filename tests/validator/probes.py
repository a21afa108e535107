"""Base-R4 probe resources shared by the agreement test: name -> (resource, valid?)."""
from __future__ import annotations

import copy
from typing import Any

from validator_support import ENCOUNTER


def _enc(**changes: Any) -> dict:
    e = copy.deepcopy(ENCOUNTER)
    for k, v in changes.items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    return e


PROBES: dict[str, dict] = {
    "ok-encounter": _enc(),
    "bad-status": _enc(status="bogus"),
    "missing-status": _enc(status=None),
    "unknown-element": _enc(colour="blue"),
    "bad-instant": _enc(meta={"lastUpdated": "2024-03-01T10:00:00"}),
    "bad-date": _enc(period={"start": "2024-02-30"}),
    "object-for-array": _enc(identifier={"system": "urn:x", "value": "1"}),
    "array-for-object": _enc(subject=[{"reference": "Patient/p1"}]),
    "per-1": _enc(period={"start": "2024-03-02", "end": "2024-03-01"}),
    "empty-object": _enc(serviceProvider={}),
    "ext-1": _enc(extension=[{"url": "http://example.org/x"}]),
    "ref-1": _enc(subject={"reference": "#missing"}),
    # a reference the validators resolve (a contained resource): both check its target type; the type in
    # an unresolved "Practitioner/x" is a --strict check of ours that the HL7 validator leaves offline
    "wrong-target-type": _enc(subject={"reference": "#pr"}, contained=[{"resourceType": "Practitioner", "id": "pr"}]),
    "choice-two-types": {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                         "valueString": "a", "valueBoolean": True},
    "ok-observation": {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                       "valueQuantity": {"value": 1.5, "unit": "mg"}},
    "ppc-1": {"resourceType": "Consent", "status": "active", "scope": {"text": "x"}, "category": [{"text": "x"}]},
}
