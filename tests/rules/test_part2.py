"""42 CFR Part 2 (issue 12): SUD data is known from the export's SUD flag or an F10–F19 diagnosis, leaves
labelled with the § 2.32 redisclosure notice, and the Part 2 consent has the § 2.31 elements."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from click.testing import CliRunner

import fhiradapter
from fhiradapter import canonical as c
from fhiradapter.cli import cli
from fhiradapter.part2 import REDISCLOSURE_NOTICE, is_sud, mark
from rules_factories import consent, contact, findings, patient, referral

REPO = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 6, 1)
RULE = "all-consent-part2-elements"


def _sud_contact() -> dict:
    res = contact("mt-cmp", "2026-02-03T10:00:00-07:00")
    res["meta"] = {"security": [{"system": c.ACT_CODE_SYSTEM, "code": "SUD"}]}
    return res


def _part2_consent() -> dict:
    res = consent("mt-cmp", "2026-01-01", "2027-12-31", part2=True)
    res["provision"]["securityLabel"] = [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActUSPrivacyLaw",
                                          "code": "42CFRPart2"}]
    res["sourceAttachment"] = {"title": "Part 2 consent form rev. 2024", "creation": "2026-01-01"}
    return res


def test_a_sud_diagnosis_makes_a_referral_part2_data() -> None:
    sr = referral("mt-cmp", "2026-01-05")
    assert not is_sud(sr)
    sr["reasonCode"].append({"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "F11.20"}]})
    assert is_sud(sr)
    mh = referral("mt-cmp", "2026-01-05")
    mh["reasonCode"].append({"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "F20.0"}]})
    assert not is_sud(mh) and not mark(mh) and "text" not in mh


def test_sud_data_leaves_labelled_with_the_redisclosure_notice_and_still_validates() -> None:
    enc = _sud_contact()
    assert mark(enc)
    labels = {(s["system"].rsplit("/", 1)[1], s["code"]) for s in enc["meta"]["security"]}
    assert labels == {("v3-ActCode", "SUD"), ("v3-ActUSPrivacyLaw", "42CFRPart2"), ("v3-ActCode", "NORDSCLCD")}
    assert enc["text"]["status"] == "additional" and REDISCLOSURE_NOTICE in enc["text"]["div"]
    mark(enc)   # idempotent
    assert len(enc["meta"]["security"]) == 3 and enc["text"]["div"].count(REDISCLOSURE_NOTICE) == 1
    outcome = fhiradapter.validate(enc)
    assert [i for i in outcome["issue"] if i["severity"] in ("error", "warning")] == []


def test_part2_consent_with_every_element_passes_and_each_missing_one_is_named() -> None:
    ok = [patient(), _part2_consent(), _sud_contact()]
    assert findings(ok, RULE, as_of=AS_OF) == []
    # no SUD data shared: Part 2 does not apply
    bare = _part2_consent()
    del bare["sourceAttachment"]
    assert findings([patient(), bare, contact("mt-cmp", "2026-02-03T10:00:00-07:00")], RULE, as_of=AS_OF) == []
    cases = {
        "recipient": lambda r: r["provision"].pop("actor"),
        "purpose": lambda r: r["provision"].pop("purpose"),
        "amount and kind": lambda r: r["provision"].pop("securityLabel"),
        "expiry": lambda r: r["provision"]["period"].pop("end"),
        "revocation statement and signature": lambda r: r.pop("sourceAttachment"),
        "signature date": lambda r: r.pop("dateTime"),
    }
    for name, edit in cases.items():
        broken = _part2_consent()
        edit(broken)
        issues = findings([patient(), broken, _sud_contact()], RULE, as_of=AS_OF)
        assert len(issues) == 1 and issues[0].code == "security", name
        assert "lacks 1 of the required elements" in issues[0].message and name in issues[0].message
        assert "42 CFR Part 2" in issues[0].message and "§ 2.31, Consent requirements" in issues[0].message


def test_data_older_than_the_part2_consent_is_released_under_it() -> None:
    # a referral received before the member signed at intake is not 'uncovered' SUD data
    early = _sud_contact()
    early["period"] = {"start": "2025-12-20T10:00:00-07:00"}
    assert findings([patient(), _part2_consent(), early], "all-consent-part2", as_of=AS_OF) == []


def test_run_labels_the_example_sud_contacts_and_reports_the_planted_consent(tmp_path: Path) -> None:
    out = tmp_path / "out"
    CliRunner().invoke(cli, ["run", "--program", "mt-cmp", str(REPO / "examples" / "mt-cmp"), "--out", str(out),
                             "--no-progress"])
    rows = {r["contact_id"]: r for r in _csv(REPO / "examples" / "mt-cmp" / "contacts.csv")}
    for line in (out / "ndjson" / "Encounter.ndjson").read_text().splitlines():
        enc = json.loads(line)
        value = enc["identifier"][0]["value"]
        if value in rows:
            flagged = rows[value]["sud_related"] == "Y"
            assert ("NORDSCLCD" in line) == flagged and (REDISCLOSURE_NOTICE in line) == flagged
    found = [json.loads(line) for line in (out / "findings.ndjson").read_text().splitlines()]
    codes = [f["issue"]["details"]["coding"][0]["code"] for f in found if f["stage"] == "rules"]
    assert codes.count(RULE) == 1


def _csv(path: Path) -> list[dict[str, str]]:
    import csv
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
