"""The HL7 reference validator tool itself (tools/reference-validator): file mode and batch mode."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from reference_support import JVM_FLAGS, ReferenceValidator, Request

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "profiles" / "examples" / "Encounter-mt-cmp-encounter-example.json"
INVALID = REPO / "profiles" / "invalid" / "mt-cmp-encounter-phone-contact.json"


def test_batch_answers_each_request_in_order_with_an_operation_outcome(reference: ReferenceValidator) -> None:
    good = json.loads(EXAMPLE.read_text())
    bad = {"resourceType": "Patient", "id": "p1", "gender": "not-a-gender", "birthDate": "2024-13-01"}
    answers = reference.validate([Request("good", good), Request("bad", bad), Request("file", path=INVALID),
                                  Request("good-again", json.dumps(good, indent=2))])
    assert [a.name for a in answers] == ["good", "bad", "file", "good-again"]
    assert [a.valid for a in answers] == [True, False, False, True]
    assert all(a.outcome["resourceType"] == "OperationOutcome" for a in answers)
    locations = {e["expression"][0] for e in answers[1].errors}
    assert {"Patient.gender", "Patient.birthDate"} <= locations, answers[1].errors
    # the profile's own invariant, from our package (mt-cmp-enc-1: CMP contacts are face-to-face/telehealth)
    ids = [x.get("valueString", "") for e in answers[2].errors for x in e["extension"]]
    assert any(i.endswith("#mt-cmp-enc-1") for i in ids), answers[2].errors


def test_batch_survives_unparseable_input(reference: ReferenceValidator) -> None:
    broken, after = reference.validate([Request("broken", "{not json"), Request("after", json.loads(EXAMPLE.read_text()))])
    assert not broken.valid and broken.errors
    assert after.valid


def test_file_mode_tags_ndjson_lines_and_sets_the_exit_code(reference_validator_jar: Path,
                                                            exported_package: Path, tmp_path: Path) -> None:
    nd = tmp_path / "Encounter.ndjson"
    nd.write_text(json.dumps(json.loads(EXAMPLE.read_text())) + "\n" + json.dumps(json.loads(INVALID.read_text())) + "\n")
    proc = subprocess.run(["java", *JVM_FLAGS, "-jar", str(reference_validator_jar), "--package", str(exported_package),
                           str(nd)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stderr
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [(x["name"], x["valid"]) for x in lines] == [(f"{nd}:1", True), (f"{nd}:2", False)]
