"""Upstream faults: down, 503, 429, a dropped answer. The submission is accepted and queued, delivered
later (also after a gateway restart), nothing lost or doubled on the real server, and the sender sees
the state (GET /submissions, X-Submission-State)."""
from __future__ import annotations

import json
from pathlib import Path

from exchange.faultproxy import FaultProxy
from fhir_server_fixtures import FhirServer

from .conftest import Example, StartService, cli


def _expected(example: Example) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in example.shared["entry"]:
        counts[entry["resource"]["resourceType"]] = counts.get(entry["resource"]["resourceType"], 0) + 1
    return counts


def test_503_429_and_a_lost_answer_are_retried_until_delivered(start_service: StartService, server: FhirServer,
                                                               example: Example) -> None:
    with FaultProxy(server.root, plan=["429", "drop-after", "503"]) as proxy:
        service = start_service({"upstream": {"url": proxy.url(), "max_attempts": 2, "wait_seconds": 0.5,
                                              "retry_interval_seconds": 0.5}})
        response = service.post("/", example.shared, headers={"X-Request-Id": "faulty"})
        assert response.status_code == 202
        assert response.headers["X-Submission-State"] == "queued"
        assert response.json()["type"] == "transaction-response"
        sub_id = response.headers["Location"].rsplit("/", 1)[1]
        sub = service.submission(sub_id)
        assert sub["verdict"] == "accepted" and sub["delivery"] in ("queued", "delivered")
        sub = service.wait_delivery(sub_id)
        assert sub["delivery"] == "delivered" and sub["deliveryAttempts"] >= 3
    assert proxy.actions()[:3] == ["429", "drop-after", "503"]
    # every try carried the same X-Request-Id
    assert len({request_id for _, path, request_id in proxy.log if path == "/fhir"}) == 1
    counts = server.counts()
    assert {t: counts.get(t, 0) for t in _expected(example)} == _expected(example)
    # the sender polling with its request id sees the upstream's answer now
    again = service.post("/", example.shared, headers={"X-Request-Id": "faulty"})
    assert again.status_code == 200 and again.headers["X-Submission-State"] == "delivered"
    assert all(e["response"]["status"].startswith("20") for e in again.json()["entry"])


def test_upstream_down_queued_survives_a_restart(start_service: StartService, server: FhirServer,
                                                 example: Example, tmp_path: Path) -> None:
    proxy = FaultProxy(server.root)
    proxy.__enter__()
    proxy.stop()   # nothing listens there: connection refused
    data = tmp_path / "shared-data"
    service = start_service({"upstream": {"url": proxy.url(), "wait_seconds": 0.5}}, data_dir=data)
    # the agency side: `fhiradapter send` gets 202 (accepted, queued) and records it as delivered to us
    out = tmp_path / "out"
    (out / "bundles").mkdir(parents=True)
    (out / "bundles" / "000-shared.json").write_text(json.dumps(example.shared), encoding="utf-8")
    result = cli("send", "--endpoint", service.base, str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    queued = service.get("/submissions?delivery=queued").json()
    assert queued["total"] == 1
    assert "connection" in (queued["submissions"][0]["deliveryDetail"] or "")
    assert server.counts().get("Organization", 0) == 0
    service.stop()
    # the gateway comes back (pointed at the upstream that is up now): the spooled submission goes out
    restarted = start_service({"upstream": {"url": server.base}}, data_dir=data)
    sub = restarted.wait_delivery(queued["submissions"][0]["id"])
    assert sub["delivery"] == "delivered"
    counts = server.counts()
    assert {t: counts.get(t, 0) for t in _expected(example)} == _expected(example)
    assert not list((data / "spool").glob("*.json"))   # PHI at rest only until delivered
