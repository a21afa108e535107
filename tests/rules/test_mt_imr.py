"""mt-imr rules (003_b1943e64eef8a2d8.txt)."""
from __future__ import annotations

from datetime import date

from fhiradapter import canonical as c
from rules_factories import billing, contact, findings, patient, plan, referral

P = "mt-imr"
AS_OF = date(2026, 3, 1)
IMR_ACTIVITY = ((c.service_component_system(P), "goal-setting"),)
SESSION = billing(unit="session", bundled=False, code="TEST1")  # placeholder: the IMR code is unconfirmed


def test_current_itp_includes_imr() -> None:
    ok = [patient(), plan(P, "itp", "2026-01-20"), contact(P, "2026-02-02T10:00:00-07:00")]
    assert findings(ok, "mt-imr-itp-chooses-imr", as_of=AS_OF) == []
    # a newer active ITP (an mt-cmp plan) no longer lists IMR: the most current one counts
    newer = plan("mt-cmp", "itp", "2026-02-10", created="2026-02-10")
    issues = findings(ok + [newer], "mt-imr-itp-chooses-imr", as_of=AS_OF)
    assert len(issues) == 1 and newer["id"] in issues[0].expression


def test_imr_activity_in_a_shared_itp_counts() -> None:
    shared = plan("mt-cmp", "itp", "2026-01-20", activities=IMR_ACTIVITY)
    record = [patient(), shared, contact(P, "2026-02-02T10:00:00-07:00")]
    assert findings(record, "mt-imr-itp-chooses-imr", as_of=AS_OF) == []


def test_no_active_itp_is_a_finding() -> None:
    record = [patient(), plan(P, "itp", "2025-01-20", status="completed"), contact(P, "2026-02-02T10:00:00-07:00")]
    assert len(findings(record, "mt-imr-itp-chooses-imr", as_of=AS_OF)) == 1


def test_referral_sdmi() -> None:
    assert findings([patient(), referral(P, "2026-01-05")], "mt-imr-referral-sdmi", as_of=AS_OF) == []
    assert len(findings([patient(), referral(P, "2026-01-05", reasons=("sed",))], "mt-imr-referral-sdmi",
                        as_of=AS_OF)) == 1


def test_not_bundled() -> None:
    assert findings([patient(), contact(P, "2026-02-02T10:00:00-07:00", bill=SESSION)], "mt-imr-not-bundled",
                    as_of=AS_OF) == []
    bundled = billing(unit="per-diem", bundled=True, code="TEST1")
    assert len(findings([patient(), contact(P, "2026-02-02T10:00:00-07:00", bill=bundled)], "mt-imr-not-bundled",
                        as_of=AS_OF)) == 1


def test_hcpcs_code_present() -> None:
    assert findings([patient(), contact(P, "2026-02-02T10:00:00-07:00", bill=SESSION)], "mt-imr-hcpcs-billed",
                    as_of=AS_OF) == []
    no_code = billing(unit="session", bundled=False)
    assert len(findings([patient(), contact(P, "2026-02-02T10:00:00-07:00", bill=no_code)], "mt-imr-hcpcs-billed",
                        as_of=AS_OF)) == 1


def test_billed_services_in_itp() -> None:
    enc = contact(P, "2026-02-02T10:00:00-07:00", bill=SESSION)
    assert findings([patient(), plan(P, "itp", "2026-01-20", activities=IMR_ACTIVITY), enc],
                    "mt-imr-itp-documents-billed-services", as_of=AS_OF) == []
    # a CMP-only plan covers the date but does not list IMR (issue 12 defect 5)
    cmp_only = plan(P, "itp", "2026-01-20", activities=((c.service_component_system("mt-cmp"), "case-management"),))
    assert len(findings([patient(), cmp_only, enc], "mt-imr-itp-documents-billed-services", as_of=AS_OF)) == 1
    ended = plan(P, "itp", "2025-06-01", end="2025-12-31", status="completed")
    assert len(findings([patient(), ended, enc], "mt-imr-itp-documents-billed-services", as_of=AS_OF)) == 1


def test_medical_necessity_documented() -> None:
    ok = referral(P, "2026-01-05", reasons=("sdmi", "medical-necessity-documented"))
    assert findings([patient(), ok], "mt-imr-medical-necessity-documented", as_of=AS_OF) == []
    assert len(findings([patient(), referral(P, "2026-01-05")], "mt-imr-medical-necessity-documented",
                        as_of=AS_OF)) == 1
