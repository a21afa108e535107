"""The shipped mappings over the example exports: exactly the documented rows are rejected, row
accounting adds up, the output has the shapes of docs/design.md, and validation rejects exactly the
documented profile violations."""
from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from fhiradapter.canonical import PROGRAMS, profile_url, sd_url

from fhiradapter.mapping.errorfile import read_errors

from .support import (EXAMPLES, MAPPINGS, consent_held_in_errors, documented, documented_consent_held, documented_held,
                      held_in_errors, resources, run_cli)

PROFILED = ("Encounter", "CarePlan", "Consent", "ServiceRequest", "EpisodeOfCare")
STAY_SYSTEM = "https://fhiradapter.org/fhir/CodeSystem/bh-stay-type"
PROGRAM_SYSTEM = "https://fhiradapter.org/fhir/CodeSystem/bh-program"


def csv_records(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as fh:
        return sum(1 for _ in csv.DictReader(fh))


@pytest.mark.parametrize("program", PROGRAMS)
def test_rejected_rows_are_exactly_the_documented_ones(program: str, mapped: dict[str, Path]) -> None:
    bad, together = documented("map")
    expected = {(d.file, d.line) for d in bad + together if d.program == program}
    errors = list(read_errors(mapped[program] / "errors.ndjson"))
    got = {(e["file"], e["line"]) for e in errors if e["stage"] != "held-back"}
    assert got == expected
    assert all(e["stage"] in ("map", "held-back") for e in errors)
    # what references a rejected row, or a resource no row makes, is held back (README table)
    assert held_in_errors(errors) == documented_held(program, "map")
    # what the state-limits table lets go only with consent, for members without one (README table)
    assert consent_held_in_errors(errors) == documented_consent_held(program)


@pytest.mark.parametrize("program", PROGRAMS)
def test_errors_name_the_column_and_element_but_not_the_value(program: str, mapped: dict[str, Path]) -> None:
    bad, _ = documented("map")
    text = (mapped[program] / "errors.ndjson").read_text(encoding="utf-8")
    issues = [i for e in list(read_errors(mapped[program] / "errors.ndjson")) for i in e["issues"]]
    unnamed = set()
    for row in (b for b in bad if b.program == program):
        where = f"{row.file}:{row.line}"
        mine = [i for i in issues if i["message"].startswith(where)]
        assert mine, f"no issue names {where}"
        assert any(i.get("expression") for i in mine) or row.column == "plan_id", mine
        if row.column != "plan_id":        # an orphan activity names the row, not a column
            if not any(row.column in i.get("column", "") for i in mine):
                unnamed.add((program, row.file, row.column))
        if row.value:
            assert row.value not in text, f"{where}: the value is echoed without --show-values"
    assert unnamed == set(), "errors that do not name their column"


@pytest.mark.parametrize("program", PROGRAMS)
def test_rows_read_equal_mapped_plus_rejected(program: str, mapped: dict[str, Path]) -> None:
    summary = json.loads((mapped[program] / "summary.json").read_text())
    rows = summary["rows"]
    assert rows["read"] == rows["mapped"] + rows["rejected"]
    present = {p.name for p in (EXAMPLES / program).glob("*.csv")}
    for name, count in summary["files"].items():
        assert count["read"] == count["mapped"] + count["rejected"], name
        if name in present:
            assert count["read"] == csv_records(EXAMPLES / program / name), name
        else:   # an optional file this export does not have
            assert count["read"] == 0, name
    assert present <= set(summary["files"])
    assert rows["rejected"] == len(list(read_errors(mapped[program] / "errors.ndjson")))


@pytest.mark.parametrize("program", PROGRAMS)
def test_resources_have_the_design_shapes(program: str, mapped: dict[str, Path]) -> None:
    out = resources(mapped[program])
    types = Counter(r["resourceType"] for r in out)
    for needed in ("Patient", "Organization", "Practitioner", "Encounter", "ServiceRequest", "CarePlan", "Consent"):
        assert types[needed] > 0, needed
    for r in out:
        program_codes = [c["code"] for c in r.get("serviceType", {}).get("coding", []) if c["system"] == PROGRAM_SYSTEM]
        is_stay = r["resourceType"] == "Encounter" and any(
            c["system"] == STAY_SYSTEM for t in r["type"] for c in t["coding"])
        if r["resourceType"] in PROFILED and not is_stay and program_codes != ["dc-act"]:
            assert r["meta"]["profile"] == [profile_url(program, r["resourceType"])], r["meta"]["source"]
        elif r["resourceType"] == "Coverage":     # one shared profile, not per program
            assert r["meta"]["profile"] == [sd_url("bh-coverage")], r["meta"]["source"]
        else:
            assert "profile" not in r.get("meta", {}), r["meta"]["source"]
        assert r["identifier"][0]["system"].startswith("https://fhiradapter.org/fhir/sid/")
    plans = [r for r in out if r["resourceType"] == "CarePlan"]
    assert all(r["activity"] and r["intent"] == "plan" for r in plans)
    assert all(r["category"][0]["coding"][0]["code"] == "assess-plan" for r in plans)


def test_program_specific_facts(mapped: dict[str, Path]) -> None:
    by = {p: resources(mapped[p]) for p in PROGRAMS}

    def billing(enc: dict) -> dict:
        ext = next(e for e in enc["extension"] if e["url"].endswith("ext-billing"))
        return {e["url"]: next(v for k, v in e.items() if k.startswith("value")) for e in ext["extension"]}

    cmp_billed = [billing(e) for e in by["mt-cmp"] if e["resourceType"] == "Encounter" and "serviceType" in e]
    assert all(b["unitType"] == "per-diem" and b["bundled"] is True for b in cmp_billed)
    dc = [e for e in by["dc-cs"] if e["resourceType"] == "Encounter"]
    act = [e for e in dc if e["serviceType"]["coding"][0]["code"] == "dc-act"]
    assert act, "the DC export carries ACT contacts for the same-day rule"
    cs_billed = [billing(e) for e in dc if e not in act and billing(e)["billable"]]
    assert cs_billed and all(b["code"]["code"] == "H0036" and b["unitType"] == "15-min" for b in cs_billed)
    supervised = [e for e in dc if len(e["participant"]) == 2]
    assert all(e["participant"][1]["type"][0]["coding"][0]["code"] == "RESP" for e in supervised)
    # Only the DC code is confirmed: no other program's output carries a HCPCS code.
    for p in ("mt-cmp", "mt-imr", "ma-csp", "pa-tcm"):
        assert not any("code" in billing(e) for e in by[p] if e["resourceType"] == "Encounter" and "serviceType" in e), p
    tcm = [e for e in by["pa-tcm"] if e["resourceType"] == "Encounter" and "serviceType" in e]
    assert all(len(e["serviceType"]["coding"]) == 2 for e in tcm)
    stays = {e["type"][0]["coding"][0]["code"]: e["class"]["code"] for e in by["pa-tcm"]
             if e["resourceType"] == "Encounter" and "serviceType" not in e}
    assert stays == {"inpatient-psychiatric": "IMP", "partial-hospitalization": "SS", "jail": "FLD",
                     "juvenile-detention": "FLD"}
    docs = [r for r in by["pa-tcm"] if r["resourceType"] == "DocumentReference"]
    summaries = [d for d in docs if "documents.csv" in d["meta"]["source"]]
    assert summaries and all(d["type"]["coding"][0]["code"] == "18842-5" for d in summaries)
    # every other one is a referral packet, the supportingInfo of its referral
    packets = {f"DocumentReference/{d['id']}" for d in docs if d not in summaries}
    assert packets and all(d["type"]["coding"][0]["code"] == "57133-1" for d in docs if d not in summaries)
    assert packets == {s["reference"] for r in by["pa-tcm"] if r["resourceType"] == "ServiceRequest"
                       for s in r.get("supportingInfo", [])}
    notices = [r for r in by["ma-csp"] if r["resourceType"] == "Communication"]
    kinds = {n["reasonCode"][0]["coding"][0]["code"] for n in notices}
    assert notices and kinds == {"termination-notice", "discharge-planning"}   # + aftercare plan copies
    copies = [n for n in notices if n["reasonCode"][0]["coding"][0]["code"] == "discharge-planning"]
    aftercare = {r["id"] for r in by["ma-csp"] if r["resourceType"] == "CarePlan"
                 and r["category"][2]["coding"][0]["code"] == "aftercare-plan"}
    assert copies and all(n["about"][0]["reference"].split("/")[1] in aftercare for n in copies)
    terminated = [r for r in by["ma-csp"] if r["resourceType"] == "CarePlan" and "extension" in r]
    assert terminated and all("end" in r["period"] for r in terminated)
    crisis = [r for r in by["ma-csp"] if r["resourceType"] == "CarePlan"
              and r["category"][2]["coding"][0]["code"] == "crisis-prevention-plan"]
    assert crisis and sum("partOf" in r for r in crisis) == len(crisis) - 1   # one documented violation
    referrals = [r for r in by["mt-cmp"] if r["resourceType"] == "ServiceRequest"]
    assert all(any(c["coding"][0]["code"] == "sdmi" for c in r["reasonCode"]) for r in referrals)
    groups = [r for r in by["mt-cmp"] if r["resourceType"] == "Group"]
    assert {g["code"]["coding"][0]["code"] for g in groups} == {"pact-mct", "cmp"}
    consents = [r for p in PROGRAMS for r in by[p] if r["resourceType"] == "Consent"]
    part2 = [c for c in consents if "policy" in c]
    assert part2 and all(c["provision"]["securityLabel"][0]["code"] == "42CFRPart2" for c in part2)
    assert all(c["provision"]["actor"][0]["role"]["coding"][0]["code"] == "IRCP" for c in consents)


def test_local_times_get_the_offset_of_their_date(mapped: dict[str, Path]) -> None:
    cmp = [e for e in resources(mapped["mt-cmp"]) if e["resourceType"] == "Encounter" and "serviceType" in e]
    starts = {e["period"]["start"][:10]: e["period"]["start"][-6:] for e in cmp}
    assert starts["2026-01-05"] == "-07:00" and starts["2026-04-20"] == "-06:00"
    # The crisis contact on the night of the change: 01:40 MST + 60 minutes = 03:40 MDT.
    night = [e for e in cmp if e["period"]["start"] == "2026-03-08T01:40:00-07:00"]
    assert len(night) == 1 and night[0]["period"]["end"] == "2026-03-08T03:40:00-06:00"
    dc = [e for e in resources(mapped["dc-cs"]) if e["resourceType"] == "Encounter"]
    offsets = {e["period"]["start"][:7]: e["period"]["start"][-6:] for e in dc}
    assert offsets["2026-02"] == "-05:00" and offsets["2026-04"] == "-04:00"


def test_rerun_gives_identical_files(tmp_path: Path, mapped: dict[str, Path]) -> None:
    code, _ = run_cli(["map", "--mapping", str(MAPPINGS / "mt-imr.yaml"), str(EXAMPLES / "mt-imr"),
                       "--out", str(tmp_path), "--no-progress", "--no-bundles"])
    assert code == 1   # rows were rejected
    for f in sorted((mapped["mt-imr"]).rglob("*")):
        if f.is_file():
            assert (tmp_path / f.relative_to(mapped["mt-imr"])).read_bytes() == f.read_bytes(), f.name


@pytest.mark.parametrize("program", PROGRAMS)
def test_run_rejects_exactly_the_documented_rows(program: str, ran: Path) -> None:
    """`fhiradapter run` validates against the program profiles: it rejects the mapper's rows plus
    exactly the README's stage-validate rows (each with the validator's issues), and nothing else."""
    bad_map, with_map = documented("map")
    bad_val, with_val = documented("validate")
    errors = list(read_errors(ran / program / "errors.ndjson"))
    assert held_in_errors(errors) == documented_held(program, "run")
    stage = {(e["file"], e["line"]): e["stage"] for e in errors if e["stage"] != "held-back"}
    primary = {(d.file, d.line): s for s, rows in (("map", bad_map), ("validate", bad_val))
               for d in rows if d.program == program}
    together = {(d.file, d.line) for d in with_map + with_val if d.program == program}
    assert set(stage) == set(primary) | together
    assert {k: stage[k] for k in primary} == primary
    summary = json.loads((ran / program / "summary.json").read_text())
    assert summary["rows"]["read"] == summary["rows"]["mapped"] + summary["rows"]["rejected"]
    assert summary["validation"] == "profiles+rules"


@pytest.mark.parametrize("name", [*PROGRAMS, "casemgmt-json-mt-cmp"])
def test_shipped_mappings_pass_check_against_their_example_input(name: str) -> None:
    folder = EXAMPLES / ("casemgmt-json" if name.startswith("casemgmt") else name)
    code, output = run_cli(["mapping", "check", str(MAPPINGS / f"{name}.yaml"), "--input", str(folder)])
    assert code == 0, output
    assert "0 error(s)" in output


@pytest.mark.parametrize("name", ["mt-cmp", "dc-cs"])
def test_golden_tests_of_the_shipped_mappings(name: str) -> None:
    """mappings/tests/{name}/: DST edges, quoting, strictness; expected output checked in."""
    code, output = run_cli(["mapping", "test", str(MAPPINGS / f"{name}.yaml")])
    assert code == 0, output
    assert "1 passed, 0 failed" in output
    expected = (MAPPINGS / "tests" / name / "expected" / "ndjson" / "Encounter.ndjson").read_text()
    assert {"mt-cmp": "2026-03-08T03:40:00-06:00", "dc-cs": "2026-11-01T01:00:00-05:00"}[name] in expected
