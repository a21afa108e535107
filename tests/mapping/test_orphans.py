"""Issue 12 defect 1: what references a rejected row, or a resource no output contains, is held back
(errors.ndjson "held back: depends on FILE:LINE"); no Bundle carries an Encounter without its Patient."""
from __future__ import annotations

import json

BODY = """\
sources:
  members: {file: members.csv}
  orgs: {file: orgs.csv}
  contacts: {file: contacts.csv}
resources:
  - name: member
    source: members
    key: {$col: id}
    template:
      resourceType: Patient
      birthDate: {$date: {$col: dob, required: true}, format: "%m/%d/%Y"}
  - name: organization
    source: orgs
    key: {$col: id}
    template:
      resourceType: Organization
      name: {$col: name}
  - name: contact
    source: contacts
    key: {$col: id}
    template:
      resourceType: Encounter
      status: finished
      class: {system: "http://terminology.hl7.org/CodeSystem/v3-ActCode", code: AMB}
      subject: {$ref: member, key: {$col: member}}
      serviceProvider: {$ref: organization, key: {$col: org}}
"""
FILES = {
    "members.csv": "id,dob\nM1,01/02/1980\nM2,\n",           # M2 (line 3) is rejected: no birth date
    "orgs.csv": "id,name\nO1,Agency\n",
    "contacts.csv": "id,member,org\nC1,M1,O1\nC2,M2,O1\nC3,M2,O1\nC4,M1,O9\n",   # O9: no such organization
}


def test_rejected_patient_takes_its_encounters_out_of_ndjson_and_bundles(mapper) -> None:
    result = mapper(BODY, FILES)
    encounters = result.resources("Encounter")
    assert [e["identifier"][0]["value"] for e in encounters] == ["C1"]
    held = [e for e in result.errors if e["stage"] == "held-back"]
    assert [(e["file"], e["line"]) for e in held] == [("contacts.csv", 3), ("contacts.csv", 4), ("contacts.csv", 5)]
    messages = [e["issues"][0]["message"] for e in held]
    assert messages[0].startswith("contacts.csv:3: held back: depends on members.csv:3 (Encounter.subject")
    assert messages[1].startswith("contacts.csv:4: held back: depends on members.csv:3")
    assert "held back: depends on Organization/" in messages[2] and "which no output contains" in messages[2]
    assert "Encounter.serviceProvider" in messages[2]
    # every Bundle's references resolve inside the output: no Encounter without its Patient
    ids = {(r["resourceType"], r["id"]) for t in ("Patient", "Organization", "Encounter") for r in result.resources(t)}
    for path in (result.out / "bundles").glob("*.json"):
        for entry in json.loads(path.read_text())["entry"]:
            res = entry["resource"]
            for name in ("subject", "serviceProvider"):
                if name in res:
                    assert tuple(res[name]["reference"].split("/")) in ids, (path.name, name)
    assert result.summary["rows"] == {"read": 7, "mapped": 3, "rejected": 4}
    assert result.summary["files"]["contacts.csv"] == {"read": 4, "mapped": 1, "rejected": 3}
    assert result.summary["resources"]["Encounter"] == 1


def test_reference_to_a_type_the_mapping_never_makes_is_the_servers(mapper) -> None:
    """A reference to a resource type no template makes (here a payer Organization the server has) is
    not held back: the mapper cannot know it is missing."""
    body = BODY.replace("  - name: organization\n    source: orgs\n    key: {$col: id}\n    template:\n"
                        "      resourceType: Organization\n      name: {$col: name}\n", "")
    body = body.replace("{$ref: organization, key: {$col: org}}", "{$ref: {type: Organization, kind: payer}, key: {$col: org}}")
    body = body.replace("  orgs: {file: orgs.csv}\n", "")
    files = {k: v for k, v in FILES.items() if k != "orgs.csv"}
    result = mapper(body, files)
    assert [e["identifier"][0]["value"] for e in result.resources("Encounter")] == ["C1", "C4"]
