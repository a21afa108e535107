"""Limits: request size (413), entries per Bundle (413), a bounded validation pool (429 + Retry-After),
validation time-out (503 + Retry-After; the submission is not recorded, so the sender can try again)."""
from __future__ import annotations

import copy
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import requests

from .conftest import FHIR_JSON, Example, StartService


def _big_bundle(example: Example, entries: int) -> dict[str, Any]:
    """One member's contacts copied (new ids) until the Bundle has `entries` entries: slow to validate."""
    source = example.members[0]["entry"]
    encounters = [e for e in source if e["resource"]["resourceType"] == "Encounter"]
    out: list[dict[str, Any]] = []
    while len(out) < entries:
        entry = copy.deepcopy(encounters[len(out) % len(encounters)])
        new_id = str(uuid.uuid4())
        entry["resource"]["id"] = new_id
        entry["fullUrl"] = f"urn:uuid:{new_id}"
        entry["request"] = {"method": "PUT", "url": f"Encounter/{new_id}"}
        out.append(entry)
    return {"resourceType": "Bundle", "type": "transaction", "entry": [copy.deepcopy(source[0]), *out]}


def test_request_too_large(start_service: StartService, example: Example) -> None:
    service = start_service({"limits": {"max_body_bytes": 4000}})
    response = service.post("/", example.shared)
    assert response.status_code == 413
    assert "larger than 4000 bytes" in response.json()["issue"][0]["details"]["text"]

    def chunks() -> Iterator[bytes]:   # no Content-Length: the limit holds while reading
        for _ in range(100):
            yield b" " * 100
        yield b"{}"

    response = requests.post(f"{service.base}/$validate", data=chunks(), headers=FHIR_JSON, timeout=30)
    assert response.status_code == 413


def test_too_many_entries(start_service: StartService, example: Example) -> None:
    service = start_service({"limits": {"max_entries": 5}})
    response = service.post("/", example.shared)
    assert response.status_code == 413
    assert f"has {len(example.shared['entry'])} entries; at most 5" in response.text


def test_full_validation_pool_answers_429_with_retry_after(start_service: StartService, example: Example) -> None:
    service = start_service({"limits": {"validation_workers": 1, "validation_queue": 0, "retry_after_seconds": 3,
                                        "max_entries": 5000}})
    big = _big_bundle(example, 3000)
    encounter = example.members[0]["entry"][3]["resource"]
    done = threading.Event()
    result: dict[str, Any] = {}

    def submit() -> None:
        result["response"] = service.post("/", big, timeout=120)
        done.set()

    thread = threading.Thread(target=submit)
    thread.start()
    refused: list[requests.Response] = []
    while not done.is_set() and not refused:
        response = service.post("/$validate", encounter)
        if response.status_code == 429:
            refused.append(response)
        time.sleep(0.01)
    thread.join(120)
    assert refused, "the pool never filled up while a 3,000-entry Bundle was being validated"
    assert refused[0].headers["Retry-After"] == "3"
    assert refused[0].json()["issue"][0]["code"] == "throttled"
    assert result["response"].status_code in (202, 422)   # judged, whatever the verdict
    assert service.post("/$validate", encounter).status_code == 200   # the pool is free again


def test_validation_time_out(start_service: StartService, example: Example) -> None:
    service = start_service({"limits": {"validation_timeout_seconds": 0.05, "max_entries": 5000}})
    big = _big_bundle(example, 2000)
    response = service.post("/", big, headers={"X-Request-Id": "slow-1"})
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.json()["issue"][0]["code"] == "timeout"
    # not recorded: the same X-Request-Id is processed again later, not answered from the ledger
    assert service.get("/submissions").json()["total"] == 0
