"""`fhiradapter validate` conveniences vendors know from the HL7 validator (issue 16): --ig id#version from
the local FHIR package cache, --format html, and JSON that names each input."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from validator_support import ENCOUNTER

from fhiradapter.cli import cli

PROFILE = "https://acme.example/fhir/StructureDefinition/acme-encounter"


def run(*args: str) -> "object":
    return CliRunner().invoke(cli, ["validate", *args], catch_exceptions=False)


def _cache_package(home: Path) -> None:
    """acme.test#1.0.0 in {home}/.fhir/packages, laid out as SUSHI and the HL7 validator keep it."""
    package = home / ".fhir" / "packages" / "acme.test#1.0.0" / "package"
    package.mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"name": "acme.test", "version": "1.0.0",
                                                      "fhirVersions": ["4.0.1"],
                                                      "dependencies": {"hl7.fhir.r4.core": "4.0.1"}}))
    sd = {"resourceType": "StructureDefinition", "id": "acme-encounter", "url": PROFILE, "name": "AcmeEncounter",
          "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False, "type": "Encounter",
          "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Encounter", "derivation": "constraint",
          "differential": {"element": [{"id": "Encounter", "path": "Encounter"},
                                       {"id": "Encounter.priority", "path": "Encounter.priority", "min": 1}]}}
    (package / "StructureDefinition-acme-encounter.json").write_text(json.dumps(sd))


def _encounter(tmp_path: Path) -> Path:
    path = tmp_path / "enc.json"
    path.write_text(json.dumps({k: v for k, v in ENCOUNTER.items() if k != "priority"}))
    return path


def test_ig_from_the_package_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _cache_package(tmp_path / "home")
    monkeypatch.setenv("FHIRADAPTER_FHIR_HOME", str(tmp_path / "home"))
    enc = _encounter(tmp_path)
    without = run(str(enc), "--profile", PROFILE, "--no-rules")
    assert without.exit_code == 2 and "no such StructureDefinition" in without.output
    result = run(str(enc), "--ig", "acme.test#1.0.0", "--profile", PROFILE, "--no-rules")
    assert result.exit_code == 1, result.output
    assert "Encounter.priority" in result.output and "minimum required = 1" in result.output


def test_ig_missing_from_the_cache_names_the_cache_and_its_versions(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _cache_package(tmp_path / "home")
    monkeypatch.setenv("FHIRADAPTER_FHIR_HOME", str(tmp_path / "home"))
    result = run(str(_encounter(tmp_path)), "--ig", "acme.test#2.0.0")
    assert result.exit_code == 2
    assert "not in the FHIR package cache" in result.output and "the cache has 1.0.0" in result.output


def test_json_and_bundle_name_each_input(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(ENCOUNTER))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(dict(ENCOUNTER, status="bogus")))
    lines = run(str(good), str(bad), "--format", "json", "--no-rules").output.splitlines()
    outcomes = [json.loads(line) for line in lines]
    assert [o["meta"]["source"] for o in outcomes] == [good.resolve().as_uri(), bad.resolve().as_uri()]
    result = run(str(good), str(bad), "--format", "bundle", "--no-rules")
    assert result.exit_code == 1
    bundle = json.loads(result.output)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    by_file = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    assert set(by_file) == {good.resolve().as_uri(), bad.resolve().as_uri()}
    assert all(r["resourceType"] == "OperationOutcome" for r in by_file.values())
    assert any(i["severity"] == "error" for i in by_file[bad.resolve().as_uri()]["issue"])
    assert not any(i["severity"] == "error" for i in by_file[good.resolve().as_uri()]["issue"])


def test_html_report(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(dict(ENCOUNTER, status="bogus")))
    out = tmp_path / "report.html"
    result = run(str(bad), "--format", "html", "--no-rules", "-o", str(out))
    assert result.exit_code == 1
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "FAILED" in page and str(bad) in page
    assert "Encounter.status" in page and "bogus" not in page   # no record values by default
