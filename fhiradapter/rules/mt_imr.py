"""Montana Illness Management and Recovery, policy 410 (003_b1943e64eef8a2d8.txt)."""
from __future__ import annotations

from typing import Any, Iterator

from .. import canonical as c
from .common import billed_without_plan, hcpcs_coding, missing_sdmi
from .record import MemberRecord, codes, describe, has_code, sub_ext_value
from .registry import Finding, note, rule

P, SRC = "mt-imr", "003_b1943e64eef8a2d8.txt"


def _involved(record: MemberRecord) -> bool:
    return bool(record.contacts(P, finished_only=False) or record.referrals(P) or record.plans(P))


def _includes_imr(plan: dict[str, Any]) -> bool:
    if has_code(plan.get("category"), c.PROGRAM_SYSTEM, P):
        return True
    activity_codes = [codes(((a or {}).get("detail") or {}).get("code"), c.service_component_system(P))
                      for a in plan.get("activity") or [] if isinstance(a, dict)]
    return any(activity_codes)


@rule(id="mt-imr-itp-chooses-imr", program=P, severity="error", source=SRC,
      section="Medical Necessity Criteria (2)",
      statement="The member's most current ITP (active CarePlan of type itp, latest) includes IMR as the chosen treatment.")
def itp_chooses_imr(record: MemberRecord) -> Iterator[Finding]:
    if not _involved(record):
        return
    active = [p for p in record.plans(plan_type="itp") if p.get("status") == "active"]
    if not active:
        yield Finding("no active Individualized Treatment Plan (CarePlan, status active, category "
                      "bh-plan-type|itp) shows IMR as the member's chosen treatment", record.patient())
        return
    current = active[-1]  # plans() sorts by created, then period.start
    if not _includes_imr(current):
        yield Finding(f"the most current ITP {describe(current)} does not include IMR (category "
                      f"bh-program|mt-imr or an activity from the mt-imr service components)",
                      current, "activity", [(p, None) for p in active[:-1] if _includes_imr(p)])


@rule(id="mt-imr-referral-sdmi", program=P, severity="error", source=SRC,
      section="Medical Necessity Criteria (1)",
      statement="The referral documents that the member meets the SDMI criteria.")
def referral_sdmi(record: MemberRecord) -> Iterator[Finding]:
    yield from missing_sdmi(record, P)


@rule(id="mt-imr-not-bundled", program=P, severity="error", source=SRC,
      section="Service Requirements (2)",
      statement="IMR is not a bundled service: billable contacts are not billed bundled or at a daily rate.")
def not_bundled(record: MemberRecord) -> Iterator[Finding]:
    for enc in record.billable_contacts(P):
        line = record.billing(enc)
        if sub_ext_value(line, "bundled") is True or sub_ext_value(line, "unitType") == "per-diem":
            yield Finding(f"billable {describe(enc)} is billed as a bundled/per-diem service", enc, "extension")


@rule(id="mt-imr-hcpcs-billed", program=P, severity="error", source=SRC,
      section="Service Requirements (2)",
      statement="IMR is billed using the appropriate HCPCS code (a HCPCS coding is present on each billable contact).")
def hcpcs_billed(record: MemberRecord) -> Iterator[Finding]:
    for enc in record.billable_contacts(P):
        if hcpcs_coding(record, enc) is None:
            yield Finding(f"billable {describe(enc)} has no HCPCS code in ext-billing.code "
                          f"(the code itself is unconfirmed, so only its presence is checked)", enc, "extension")


@rule(id="mt-imr-itp-documents-billed-services", program=P, severity="error", source=SRC,
      section="Service Requirements (3)",
      statement="Billed services are documented in the member's individualized treatment plan.")
def itp_documents(record: MemberRecord) -> Iterator[Finding]:
    yield from billed_without_plan(record, P)


@rule(id="mt-imr-medical-necessity-documented", program=P, severity="error", source=SRC,
      section="Utilization Management (3)",
      statement="The member's file documents that the member meets the medical necessity criteria.")
def medical_necessity(record: MemberRecord) -> Iterator[Finding]:
    if not _involved(record):
        return
    referrals = record.referrals(P)
    if not any(has_code(sr.get("reasonCode"), c.ELIGIBILITY_SYSTEM, "medical-necessity-documented")
               for sr in referrals):
        target = referrals[-1] if referrals else record.patient()
        yield Finding("no mt-imr referral carries reasonCode bh-eligibility-criterion|medical-necessity-documented",
                      target, "reasonCode" if referrals else None)


note(id="mt-imr-practitioner-trained", program=P, source=SRC, section="Provider Requirements",
     statement="IMR practitioners and their clinical supervisor are trained in IMR; paraprofessionals and peers work under clinical supervision in a licensed MHC.",
     reason="IMR training is not a coded qualification in bh-practitioner-qualification, and MHC licensure is an agency fact")
note(id="mt-imr-samhsa-materials", program=P, source=SRC, section="Service Requirements (1)",
     statement="The SAMHSA IMR Practitioners Guide and Educational Handouts are used.",
     reason="the materials used in a session are not recorded in the data contract")
note(id="mt-imr-no-prior-auth", program=P, source=SRC, section="Utilization Management (1), (2)",
     statement="Prior authorization and continued stay reviews are not required.",
     reason="a permission, not a requirement: nothing to find")
