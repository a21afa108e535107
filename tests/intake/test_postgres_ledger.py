"""The ledger on PostgreSQL (one setting: ledger.dsn): the same answers as on SQLite, rows readable with
any PostgreSQL client, one claim per (sender, X-Request-Id) under concurrency, no record values."""
from __future__ import annotations

import concurrent.futures
from pathlib import Path

import psycopg
import pytest
from fhir_server_fixtures import FhirServer

from fhiradapter.intake.ledger import open_ledger

from .conftest import Example, StartService, cli, free_port


@pytest.fixture
def pg(postgres_dsn: str) -> str:
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS intake_submissions")
    return postgres_dsn


def test_gateway_keeps_its_ledger_in_postgresql(start_service: StartService, pg: str, server: FhirServer,
                                                example: Example) -> None:
    service = start_service({"ledger": {"dsn": pg}, "upstream": {"url": server.base}})
    assert service.post("/", example.shared, headers={"X-Request-Id": "pg-shared"}).status_code == 200
    first = service.post("/", example.members[0], headers={"X-Request-Id": "pg-member"})
    assert first.status_code == 200, first.text
    again = service.post("/", example.members[0], headers={"X-Request-Id": "pg-member"})
    assert again.headers["X-Intake-Replayed"] == "true" and again.json() == first.json()
    with psycopg.connect(pg) as conn:
        rows = conn.execute("SELECT request_id, verdict, delivery, entries FROM intake_submissions "
                            "ORDER BY received_at").fetchall()
        dump = " ".join(str(r) for r in conn.execute("SELECT * FROM intake_submissions").fetchall())
    assert rows == [("pg-shared", "accepted", "delivered", len(example.shared["entry"])),
                    ("pg-member", "accepted", "delivered", len(example.members[0]["entry"]))]
    assert not (service.data_dir / "ledger.sqlite").exists()
    patient = example.members[0]["entry"][0]["resource"]
    assert patient["name"][0]["family"] not in dump and patient["identifier"][0]["value"] not in dump
    # rejected submissions are recorded too, with their issues
    bad = service.post("/", {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {"resourceType": "Patient", "gender": "nonsense"}, "request": {"method": "POST", "url": "Patient"}}]},
        headers={"X-Request-Id": "pg-bad"})
    assert bad.status_code == 422
    sub = service.submission(bad.headers["Location"].rsplit("/", 1)[1])
    assert sub["verdict"] == "rejected" and sub["outcome"]["issue"][0]["expression"][0].startswith("Bundle.entry[0]")


def test_one_claim_per_request_id_under_concurrency(pg: str, tmp_path: Path) -> None:
    ledger = open_ledger(pg, tmp_path)

    def claim(_: int) -> bool:
        return ledger.claim("Organization/a", "same-id", "transaction", 3, "hash")[1]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(claim, range(16)))
    assert results.count(True) == 1
    assert len(ledger.find("Organization/a", 10)) == 1


def test_unreachable_postgresql_is_a_clear_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'[ledger]\ndsn = "postgresql://nobody@127.0.0.1:{free_port()}/x"\n', encoding="utf-8")
    result = cli("serve", "--config", str(config), "--port", str(free_port()), "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 2
    assert "PostgreSQL ledger unreachable" in result.stderr and "Traceback" not in result.stderr
