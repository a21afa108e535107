"""The supervisor of credentialed staff (001 §3418.12) is a participant typed RESP: the program
encounter profiles accept it without an extensible-binding warning; unknown types still warn."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from fhiradapter.validator import validate_issues

EXAMPLE = Path(__file__).resolve().parents[2] / "profiles" / "examples" / "Encounter-dc-cs-encounter-example.json"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"


def _with_second_participant(code: str) -> dict:
    encounter = json.loads(EXAMPLE.read_text())
    encounter["participant"].append({"type": [{"coding": [{"system": PARTICIPATION, "code": code}]}],
                                     "individual": {"reference": "Practitioner/example-practitioner"}})
    return encounter


@pytest.mark.parametrize("code", ["RESP", "SPRF", "ATND"])
def test_supervisor_and_base_participant_types_are_accepted(code):
    assert validate_issues(_with_second_participant(code), rules=False) == []


def test_unknown_participant_type_is_an_extensible_binding_warning():
    issues = validate_issues(_with_second_participant("XYZ"), rules=False)
    # XYZ is no code of v3-ParticipationType, which R4 holds complete: also an error (code-unknown)
    assert [(i.severity, i.expression, i.rule) for i in issues] == [
        ("error", "Encounter.participant[1].type[0].coding[0].code", "code-unknown"),
        ("warning", "Encounter.participant[1].type[0]", "binding")]
