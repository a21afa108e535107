"""Inlined $ref remembers reference texts per key, bounded: when the memory fills up it starts
again, and every reference stays the id the key gives."""
from __future__ import annotations

import pytest

from fhiradapter.ids import mapped_id
from fhiradapter.mapping import compiler

BODY = """\
sources:
  contacts: {file: contacts.csv}
resources:
  - name: c
    source: contacts
    key: {$col: id}
    template:
      resourceType: Encounter
      status: finished
      subject: {$ref: {type: Patient, kind: member}, key: {$col: member}}
"""


def test_references_stay_right_when_the_memory_refills(mapper, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compiler, "_REFERENCES_PER_NODE", 3)
    members = ["M1", "M2", "M3", "M4", "M5", "M1", "M6", "M2", "M1"]
    rows = "".join(f"{i},{m}\n" for i, m in enumerate(members))
    result = mapper(BODY, {"contacts.csv": "id,member\n" + rows})
    subjects = [e["subject"]["reference"] for e in result.resources("Encounter")]
    assert subjects == [f"Patient/{mapped_id('test-agency', 'Patient', 'member', m)}" for m in members]
