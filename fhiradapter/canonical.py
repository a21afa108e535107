"""Canonical URLs and code systems shared by profiles, mappings, rules and exchange (see docs/design.md)."""
from __future__ import annotations

from .programs import PROGRAM_IDS

BASE = "https://fhiradapter.org/fhir"
PACKAGE_NAME = "fhiradapter.bh"


PROGRAMS: tuple[str, ...] = PROGRAM_IDS   # the programs table (fhiradapter/programs.py) lists them
PROFILED_RESOURCES: tuple[str, ...] = ("CarePlan", "Encounter", "Consent", "ServiceRequest", "EpisodeOfCare")
# profiles every program shares (not per program): the member's payer coverage
SHARED_PROFILES: tuple[str, ...] = ("bh-coverage",)


def sd_url(sd_id: str) -> str:
    return f"{BASE}/StructureDefinition/{sd_id}"


def cs_url(cs_id: str) -> str:
    return f"{BASE}/CodeSystem/{cs_id}"


def vs_url(vs_id: str) -> str:
    return f"{BASE}/ValueSet/{vs_id}"


def profile_url(program: str, resource_type: str) -> str:
    return sd_url(f"{program}-{resource_type.lower()}")


PROGRAM_SYSTEM = cs_url("bh-program")
CONTACT_MODE_SYSTEM = cs_url("bh-contact-mode")
CONTACT_TYPE_SYSTEM = cs_url("bh-contact-type")
PLAN_TYPE_SYSTEM = cs_url("bh-plan-type")
STAY_TYPE_SYSTEM = cs_url("bh-stay-type")
SERVICE_SETTING_SYSTEM = cs_url("bh-service-setting")
QUALIFICATION_SYSTEM = cs_url("bh-practitioner-qualification")
ELIGIBILITY_SYSTEM = cs_url("bh-eligibility-criterion")
TCM_TYPE_SYSTEM = cs_url("pa-tcm-type")
LOI_AREA_SYSTEM = cs_url("mt-loi-area")
LOI_LEVEL_SYSTEM = cs_url("mt-loi-level")
ROSTER_SYSTEM = cs_url("bh-roster")


def service_component_system(program: str) -> str:
    return cs_url(f"{program}-service-component")


EXT_BILLING = sd_url("ext-billing")
EXT_SERVICE_SETTING = sd_url("ext-service-setting")
EXT_LEVEL_OF_IMPAIRMENT = sd_url("ext-level-of-impairment")
EXT_TERMINATION_KIND = sd_url("ext-termination-kind")

HCPCS_SYSTEM = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
CPT_SYSTEM = "http://www.ama-assn.org/go/cpt"
ICD10CM_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED_SYSTEM = "http://snomed.info/sct"
LOINC_SYSTEM = "http://loinc.org"
ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ACT_REASON_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
PARTICIPATION_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
CONSENT_SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
US_CORE_CAREPLAN_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category"
PART2_POLICY_URI = "https://www.ecfr.gov/current/title-42/chapter-I/subchapter-A/part-2"
