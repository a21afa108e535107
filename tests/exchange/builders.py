"""Small transaction Bundles shaped like the mapper's output (docs/design.md): deterministic ids,
identifiers, `fullUrl = urn:uuid:{id}`, Patient by PUT, contacts by conditional create, meta.source."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fhiradapter.ids import identifier_system, mapped_id
from fhiradapter.provenance import build_source

AGENCY = "testagency"
MAPPING = ("exchange-test", "1")


def member_bundle(member: str, contacts: int = 2, *, source_file: str = "contacts.csv",
                  first_line: int = 2, encounter_method: str = "POST") -> dict[str, Any]:
    pid = mapped_id(AGENCY, "Patient", "member", member)
    patient = {
        "resourceType": "Patient", "id": pid,
        "meta": {"source": build_source(*MAPPING, "members.csv", 2)},
        "identifier": [{"system": identifier_system(AGENCY, "member"), "value": member}],
        "name": [{"family": "Test", "given": [member]}],
    }
    entries: list[dict[str, Any]] = [{
        "fullUrl": f"urn:uuid:{pid}", "resource": patient,
        "request": {"method": "PUT", "url": f"Patient/{pid}"},
    }]
    for n in range(contacts):
        key = f"{member}-c{n}"
        eid = mapped_id(AGENCY, "Encounter", "contact", key)
        system = identifier_system(AGENCY, "contact")
        encounter = {
            "resourceType": "Encounter", "id": eid,
            "meta": {"source": build_source(*MAPPING, source_file, first_line + n)},
            "identifier": [{"system": system, "value": key}],
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "subject": {"reference": f"urn:uuid:{pid}"},
            "period": {"start": "2026-03-02T10:00:00-07:00"},
        }
        if encounter_method == "PUT":
            request = {"method": "PUT", "url": f"Encounter/{eid}"}
        else:
            encounter.pop("id")
            request = {"method": "POST", "url": "Encounter", "ifNoneExist": f"identifier={system}|{key}"}
        entries.append({"fullUrl": f"urn:uuid:{eid}", "resource": encounter, "request": request})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def write_out(folder: Path, bundles: dict[str, dict[str, Any]]) -> Path:
    """A map/run-style output folder: {folder}/bundles/{name}.json."""
    (folder / "bundles").mkdir(parents=True, exist_ok=True)
    for name, bundle in bundles.items():
        (folder / "bundles" / f"{name}.json").write_text(json.dumps(bundle, indent=1), encoding="utf-8")
    return folder


def members_out(folder: Path, count: int, contacts: int = 2, encounter_method: str = "POST") -> Path:
    return write_out(folder, {f"member-{i:03d}-1": member_bundle(f"M{i:03d}", contacts,
                                                                 source_file=f"contacts-{i:03d}.csv",
                                                                 encounter_method=encounter_method)
                              for i in range(count)})


def fhir_calls() -> list[Any]:
    """`responses.calls` without the CapabilityStatement probe (GET [base]/metadata) every run starts with,
    and without read-backs (batch Bundles of GETs, after a refusal or for --verify)."""
    import responses
    return [c for c in responses.calls if not c.request.url.endswith("/metadata")
            and b'"method":"GET"' not in _bytes(c.request.body)]


def _bytes(body: Any) -> bytes:
    return body.encode() if isinstance(body, str) else (body or b"")
