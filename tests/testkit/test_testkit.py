"""`fhiradapter testkit run` against the real FHIR test server and against files: the example output's
clean members pass; a planted broken sample fails exactly the tests its breaks concern."""
from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import requests

from fhiradapter.canonical import PROFILED_RESOURCES

from .conftest import PROGRAMS, cli

ALWAYS = ("access", "profiles", "references", "rules")


def _report(out: Path) -> dict[str, dict[str, Any]]:
    report = json.loads((out / "TestReport.json").read_text(encoding="utf-8"))
    assert report["resourceType"] == "TestReport" and report["status"] == "completed"
    return {t["name"]: t["action"][0]["assert"] for t in report["test"]}


def _failing(out: Path) -> set[str]:
    return {name for name, a in _report(out).items() if a["result"] == "fail"}


def _resources_of(folder: Path, resource_type: str) -> list[dict[str, Any]]:
    return [e["resource"] for f in sorted(folder.glob("*.json"))
            for e in json.loads(f.read_text(encoding="utf-8"))["entry"] if e["resource"]["resourceType"] == resource_type]


def _check_must_support(out: Path, sample: Path, program: str = "mt-cmp") -> None:
    """Must-support coverage reports exactly the elements the sample never fills (checked independently
    here for the plain top-level ones) and never an element the sample does fill."""
    tests = _report(out)
    for resource_type, test in (("Encounter", f"must-support.{program}-encounter"),
                                ("CarePlan", f"must-support.{program}-careplan")):
        resources = _resources_of(sample, resource_type)
        detail = tests[test].get("detail", "")
        for element in ("identifier", "period", "subject", "serviceProvider", "status"):
            if any(element in r for r in resources):
                assert f"{resource_type}.{element} " not in detail, (test, element)
        missing = [line.split("must-support element ")[1].split(" ")[0] for line in detail.splitlines()
                   if "must-support element " in line]
        for element in missing:
            top = element.split(".")[1]
            if ":" not in top and "[x]" not in top and element.count(".") == 1:
                assert not any(top in r for r in resources), f"{element} reported missing but present"


def _send(server: Any, sample: Path, state: Path) -> None:
    sent = cli("send", str(sample), "--endpoint", server.base, "--state", str(state), "--bundle-size", "50")
    assert sent.returncode == 0, sent.stdout + sent.stderr


@pytest.mark.node
@pytest.mark.parametrize("program", PROGRAMS)
def test_server_loaded_with_the_example_output_passes(program: str, server: Any, clean_samples: Any,
                                                      tmp_path: Path) -> None:
    """Every test of the program's kit passes (or is skipped with its reason) against the real FHIR
    server loaded with the example output's clean members: the example exports fill every must-support
    element, resolve every reference and break no rule."""
    sample = clean_samples(program)
    _send(server, sample, tmp_path / "outbox.sqlite")
    out = tmp_path / "report"
    proc = cli("testkit", "run", "--program", program, "--endpoint", server.base, "--out", str(out))
    tests = _report(out)
    failing = {name for name, a in tests.items() if a["result"] == "fail"}
    assert not failing, proc.stdout
    assert proc.returncode == 0, proc.stderr
    must_support = {n: a for n, a in tests.items() if n.startswith("must-support.")}
    assert len(must_support) == len(PROFILED_RESOURCES) and all(a["result"] == "pass" for a in must_support.values())
    assert all("must-support elements seen" in a["message"] for a in must_support.values())
    for name in ("access.capability", "access.read-patient", "access.search-Encounter", "access.search-Consent",
                 "access.search-CarePlan", "access.search-ServiceRequest", "access.read-references",
                 "references.Encounter", "references.CarePlan", "references.ServiceRequest",
                 f"profile.{program}-encounter.base"):
        assert tests[name]["result"] == "pass", name
    # the resources the must-support elements point at were read from the server and resolve
    for resource_type in ("Condition", "Goal", "CareTeam", "Location", "DocumentReference"):
        assert tests[f"references.{resource_type}"]["result"] == "pass", resource_type
        assert tests[f"profile.base.{resource_type}"]["result"] == "pass", resource_type
    assert tests["access.bulk-export"]["result"] == "skip"
    assert "no $export" in tests["access.bulk-export"]["message"]
    assert "12 of 12 patients read" in tests["access.read-patient"]["message"]
    _check_must_support(out, sample, program)
    if program == "mt-cmp":
        for name in ("rules.mt-cmp-billable-days-per-week", "profile.mt-cmp-encounter.invariant-mt-cmp-enc-1"):
            assert tests[name]["result"] == "pass", name
    junit = ET.parse(out / "junit.xml").getroot()
    assert int(junit.get("tests", "0")) == len(tests) and int(junit.get("failures", "-1")) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "record values are not shown" in html and "access.bulk-export" in html


@pytest.mark.parametrize("program", PROGRAMS)
def test_whole_example_output_fails_only_its_planted_violations(program: str, example_output: Any,
                                                              tmp_path: Path) -> None:
    """The whole example output (planted problems included) passes every access, profile, must-support and
    reference test; the failing tests are exactly the rules `run` reported errors for, and a team-level
    finding is counted once, not once per member record."""
    output = example_output(program)
    rows = [json.loads(line) for line in (output / "findings.ndjson").read_text(encoding="utf-8").splitlines()]
    planted = {f"rules.{c['code']}" for r in rows if r["stage"] == "rules" and r["issue"]["severity"] == "error"
               for c in r["issue"]["details"]["coding"] if c["system"].endswith("/bh-rule")}
    assert planted, "the example output has planted rule violations"
    out = tmp_path / "report"
    proc = cli("testkit", "run", "--program", program, str(output / "bundles"), "--out", str(out))
    assert proc.returncode == 1, proc.stderr
    assert _failing(out) == planted, proc.stdout
    tests = _report(out)
    assert all(a["result"] == "pass" for n, a in tests.items() if n.startswith("must-support."))
    if program == "mt-cmp":
        assert tests["rules.mt-cmp-team-cmp-share"]["message"].startswith("1 findings")


def _plant(sample: Path, broken: Path) -> None:
    """Four breaks, each the concern of named tests (see PLANTED)."""
    shutil.copytree(sample, broken)
    files = sorted(p for p in broken.glob("*.json") if not p.name.startswith("000-"))
    first = json.loads(files[0].read_text(encoding="utf-8"))
    encounters = [e["resource"] for e in first["entry"] if e["resource"]["resourceType"] == "Encounter"]
    # 1. one contact with an Encounter.class outside the program's value set (a profile binding)
    encounters[0]["class"] = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"}
    # 2. a CarePlan author that is nowhere in the sample (reference integrity)
    plan = next(e["resource"] for e in first["entry"] if e["resource"]["resourceType"] == "CarePlan")
    plan["author"] = {"reference": "Practitioner/not-in-the-sample"}
    files[0].write_text(json.dumps(first), encoding="utf-8")
    # 3. a member whose contacts stop for three weeks mid-enrollment (the weekly quality-contact rule)
    second = json.loads(files[1].read_text(encoding="utf-8"))
    starts = sorted(e["resource"]["period"]["start"] for e in second["entry"]
                    if e["resource"]["resourceType"] == "Encounter")
    middle = starts[len(starts) // 2][:10]
    from datetime import date, timedelta
    gap_from = date.fromisoformat(middle)
    gap_to = gap_from + timedelta(days=21)
    second["entry"] = [e for e in second["entry"] if not (
        e["resource"]["resourceType"] == "Encounter"
        and gap_from.isoformat() <= e["resource"]["period"]["start"][:10] < gap_to.isoformat())]
    files[1].write_text(json.dumps(second), encoding="utf-8")
    # 4. no Encounter carries an identifier any more (must-support coverage)
    for path in files:
        bundle = json.loads(path.read_text(encoding="utf-8"))
        for e in bundle["entry"]:
            if e["resource"]["resourceType"] == "Encounter":
                e["resource"].pop("identifier", None)
        path.write_text(json.dumps(bundle), encoding="utf-8")


PLANTED = {"profile.mt-cmp-encounter.Encounter.class", "references.CarePlan",
           "rules.mt-cmp-weekly-quality-contact", "must-support.mt-cmp-encounter"}


def _check_planted(good_out: Path, bad_out: Path, broken: Path) -> None:
    assert not _failing(good_out)                 # the clean sample passes everything
    assert _failing(bad_out) == PLANTED           # exactly the planted breaks fail, nothing else
    tests = _report(bad_out)
    detail = tests["must-support.mt-cmp-encounter"]["detail"]
    assert detail.splitlines() == [line for line in detail.splitlines() if "Encounter.identifier" in line]
    assert "Encounter.identifier" in detail
    assert "Practitioner/not-in-the-sample does not resolve" in tests["references.CarePlan"]["detail"]
    assert tests["references.CarePlan"]["detail"].count("\n") == 0                    # that one reference
    assert tests["profile.mt-cmp-encounter.Encounter.class"]["detail"].count("\n") == 0   # one resource
    assert "1 findings" in tests["rules.mt-cmp-weekly-quality-contact"]["message"]
    _check_must_support(bad_out, broken)
    # No record values: the failing details name resources and elements, not the planted values.
    assert "IMP" not in (bad_out / "report.html").read_text(encoding="utf-8")


def test_files_planted_breaks_fail_exactly_their_tests(clean_sample: Path, tmp_path: Path) -> None:
    good_out, bad_out = tmp_path / "good", tmp_path / "bad"
    good = cli("testkit", "run", "--program", "mt-cmp", str(clean_sample), "--out", str(good_out))
    assert good.returncode == 0, good.stdout + good.stderr
    broken = tmp_path / "broken"
    _plant(clean_sample, broken)
    bad = cli("testkit", "run", "--program", "mt-cmp", str(broken), "--out", str(bad_out))
    assert bad.returncode == 1, bad.stderr
    _check_planted(good_out, bad_out, broken)


@pytest.mark.node
def test_server_planted_breaks_fail_exactly_their_tests(server: Any, clean_sample: Path, tmp_path: Path) -> None:
    """The same planted sample loaded into the real FHIR server: the same four tests fail, nothing else."""
    good_out, bad_out = tmp_path / "good", tmp_path / "bad"
    _send(server, clean_sample, tmp_path / "good.sqlite")
    good = cli("testkit", "run", "--program", "mt-cmp", "--endpoint", server.base, "--out", str(good_out))
    assert good.returncode == 0, good.stdout
    server.reset()
    broken = tmp_path / "broken"
    _plant(clean_sample, broken)
    # Loaded as a vendor's system would hold it: `send` refuses the invalid contact, so post the
    # transactions straight to the server (shared resources first).
    for path in sorted(broken.glob("*.json")):
        entries = json.loads(path.read_text(encoding="utf-8"))["entry"]
        for n in range(0, len(entries), 50):     # the server's transaction size limit
            response = requests.post(server.base, json={"resourceType": "Bundle", "type": "transaction",
                                                        "entry": entries[n:n + 50]},
                                     headers={"Content-Type": "application/fhir+json"}, timeout=60)
            assert response.status_code == 200, (path.name, response.text[:500])
    bad = cli("testkit", "run", "--program", "mt-cmp", "--endpoint", server.base, "--out", str(bad_out))
    assert bad.returncode == 1, bad.stderr
    _check_planted(good_out, bad_out, broken)


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    both = cli("testkit", "run", "--program", "mt-cmp", "x.json", "--endpoint", "http://127.0.0.1:9/fhir",
               "--out", str(tmp_path))
    assert both.returncode == 2 and "not both" in both.stderr
    missing = cli("testkit", "run", "--program", "mt-cmp", str(tmp_path / "nope"), "--out", str(tmp_path))
    assert missing.returncode == 2 and "no such file" in missing.stderr


@pytest.mark.node
def test_bulk_data_export_is_kicked_off_polled_and_downloaded(server: Any, clean_sample: Path, tmp_path: Path) -> None:
    from .bulkfront import BulkFront
    sent = cli("send", str(clean_sample), "--endpoint", server.base, "--state", str(tmp_path / "outbox.sqlite"),
               "--bundle-size", "50")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    out = tmp_path / "report"
    with BulkFront(server.root) as front:
        proc = cli("testkit", "run", "--program", "mt-cmp", "--endpoint", front.base, "--out", str(out))
    tests = _report(out)
    assert tests["access.bulk-export"]["result"] == "pass", tests["access.bulk-export"]
    assert "5 output files downloaded" in tests["access.bulk-export"]["message"]
    assert front.kickoffs and front.kickoffs[0].get("Prefer") == "respond-async"
    assert front.polls == 2 and sorted(front.downloads) == sorted(["Patient", "CarePlan", "Encounter",
                                                                     "ServiceRequest", "Consent"])
    failing = {name for name, a in tests.items() if a["result"] == "fail"}
    assert not {n for n in failing if n.split(".")[0] in ALWAYS}, proc.stdout


@pytest.mark.node
def test_bearer_auth_reaches_the_server_and_never_the_reports(server: Any, clean_sample: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from .bulkfront import BulkFront
    token = "testkit-s3cret-token-value"
    sent = cli("send", str(clean_sample), "--endpoint", server.base, "--state", str(tmp_path / "outbox.sqlite"),
               "--bundle-size", "50")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    monkeypatch.setenv("TESTKIT_TOKEN", token)
    with BulkFront(server.root, token=token) as front:
        refused = cli("testkit", "run", "--program", "mt-cmp", "--endpoint", front.base, "--no-bulk",
                      "--out", str(tmp_path / "no-auth"))
        allowed = cli("testkit", "run", "--program", "mt-cmp", "--endpoint", front.base, "--no-bulk",
                      "--auth", "bearer", "--token-env", "TESTKIT_TOKEN", "--out", str(tmp_path / "auth"))
    assert refused.returncode == 1
    assert _report(tmp_path / "no-auth")["access.capability"]["result"] == "fail"
    tests = _report(tmp_path / "auth")
    assert tests["access.capability"]["result"] == "pass" and tests["access.read-patient"]["result"] == "pass"
    assert tests["access.bulk-export"]["result"] == "skip"    # --no-bulk although the server offers it
    for report in (tmp_path / "auth").iterdir():
        assert token not in report.read_text(encoding="utf-8"), report.name
    assert token not in allowed.stdout + allowed.stderr
