"""Issue 14 §5: the same agency exports an Organization with the same org_id in two programs (mt-cmp and
mt-imr) but different NPI, address and phone. Their ids must differ, so the payer's server keeps both
instead of the last one sent silently replacing the other."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fhiradapter.cli import cli
from fhiradapter.exchange.client import FhirClient
from fhiradapter.exchange.journal import Journal
from fhiradapter.exchange.sender import Sender

from .builders import write_out

pytestmark = pytest.mark.node

ROOT = Path(__file__).resolve().parents[2]


def _organizations(program: str, out: Path) -> list[dict]:
    result = CliRunner().invoke(cli, ["map", "--mapping", str(ROOT / "mappings" / f"{program}.yaml"),
                                      str(ROOT / "examples" / program), "--out", str(out), "--no-bundles"])
    assert result.exit_code in (0, 1), result.output
    return [json.loads(line) for line in (out / "ndjson" / "Organization.ndjson").read_text().splitlines()]


def _npis(org: dict) -> set[str]:
    return {i["value"] for i in org.get("identifier", []) if i.get("system") == "http://hl7.org/fhir/sid/us-npi"}


def test_same_org_id_in_two_programs_gives_two_resources_on_the_server(server, tmp_path):
    cmp_orgs = _organizations("mt-cmp", tmp_path / "cmp")
    imr_orgs = _organizations("mt-imr", tmp_path / "imr")
    # The examples really are the case of the issue: the same source org ids, different content.
    def source_keys(orgs: list[dict]) -> set[str]:
        return {o["identifier"][0]["value"].split("|")[-1] for o in orgs}
    shared = source_keys(cmp_orgs) & source_keys(imr_orgs)
    assert len(shared) >= 3
    assert {o["id"] for o in cmp_orgs}.isdisjoint({o["id"] for o in imr_orgs})

    bundles = {name: {"resourceType": "Bundle", "type": "transaction",
                      "entry": [{"resource": o, "request": {"method": "PUT", "url": f"Organization/{o['id']}"}}
                                for o in orgs]}
               for name, orgs in (("cmp-orgs", cmp_orgs), ("imr-orgs", imr_orgs))}
    out = write_out(tmp_path / "out", bundles)
    summary = Sender(FhirClient(server.base), Journal(out / "outbox.sqlite"), checker=lambda b, s: []).run([out])
    assert summary.ok and summary.delivered == 2
    assert server.counts()["Organization"] == len(cmp_orgs) + len(imr_orgs)
    on_server = server.search("Organization?_count=100")["entry"]
    npis = set().union(*(_npis(e["resource"]) for e in on_server))
    assert set().union(*map(_npis, cmp_orgs)) | set().union(*map(_npis, imr_orgs)) == npis
