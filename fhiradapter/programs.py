"""The programs table: one row per behavioral-health program the adapter supports.

Adding a sixth program means a row here, its FSH (profiles/fsh/input/fsh/{id}.fsh), its mapping
(mappings/{id}.yaml) and its rule module (fhiradapter/rules/{rule_module}.py); the CLI choices, the
rule loader, `validate`'s profile choice and the default agency time zone of the rules all read
this table.

Citations are by public title, issuer and section; `seed` only says which file of the policy
collection (../shared/seeds) the row was written from, for maintainers.
"""
from __future__ import annotations

from dataclasses import dataclass

# The zone used when a member record names no program (and no --timezone is given).
FALLBACK_TIMEZONE = "America/Denver"


@dataclass(frozen=True, slots=True)
class Program:
    id: str                       # bh-program code, profile id prefix, mapping file stem
    title: str
    payer: str
    citation: str                 # public title, issuer (and policy number) of the program policy
    seed: str                     # the policy text in the seed collection (maintainers only)
    timezone: str                 # the agency's IANA zone: dates are judged in it
    profiles: tuple[str, ...]     # resource types the program profiles ({id}-{type lower})
    rule_module: str              # fhiradapter.rules.{rule_module}
    # optional mapping sources its rules need: when absent from an export, `run` warns naming the file
    # and those rules report "not evaluated" (issue 12 defect 8)
    inputs: tuple[str, ...] = ()
    # the weekly contact requirement the run report charts against: (contacts per member per week,
    # the rule that checks it); None where the policy sets no weekly minimum
    weekly: tuple[int, str] | None = None
    # the state whose law limits releases to the payer (fhiradapter/data/release-limits.csv)
    state: str = ""


_PROFILED = ("CarePlan", "Encounter", "Consent", "ServiceRequest", "EpisodeOfCare")

PROGRAM_TABLE: tuple[Program, ...] = (
    Program("mt-cmp", "Community Maintenance Program (CMP)", "Montana Medicaid (DPHHS)",
            "Community Maintenance Program (CMP), Montana DPHHS Medicaid BHDD Provider Manual",
            "000_90208eba930f2875.txt", "America/Denver", _PROFILED, "mt_cmp", ("enrollments",),
            weekly=(1, "mt-cmp-weekly-quality-contact"), state="MT"),
    Program("mt-imr", "Illness Management and Recovery (IMR)", "Montana Medicaid (DPHHS)",
            "Illness Management and Recovery, Policy 410, Montana DPHHS Medicaid BHDD Provider Manual",
            "003_b1943e64eef8a2d8.txt", "America/Denver", _PROFILED, "mt_imr", state="MT"),
    Program("dc-cs", "MHRS Community Support", "DC Medicaid (DHCF/DBH)",
            "Mental Health Rehabilitation Services, Community Support, 22-A DCMR §3418, "
            "District of Columbia Department of Mental Health",
            "001_531c4a09cf20a817.txt", "America/New_York", _PROFILED, "dc_cs", state="DC"),
    Program("ma-csp", "Community Support Program (CSP)", "Commonwealth Care Alliance",
            "Community Support Program (CSP), Performance Specification #010, Commonwealth Care Alliance "
            "(Massachusetts)",
            "002_a91a28d9256cacc7.txt", "America/New_York", _PROFILED, "ma_csp", ("communications",),
            state="MA"),
    Program("pa-tcm", "Targeted Case Management (TCM)", "PerformCare (Pennsylvania HealthChoices)",
            "Targeted Case Management Role Expectations, Policy CM-040, PerformCare (Pennsylvania)",
            "004_55627d390f551fcd.txt", "America/New_York", _PROFILED, "pa_tcm", ("stays", "documents", "enrollments"),
            state="PA"),
)

BY_ID: dict[str, Program] = {p.id: p for p in PROGRAM_TABLE}
PROGRAM_IDS: tuple[str, ...] = tuple(p.id for p in PROGRAM_TABLE)


def program(program_id: str) -> Program | None:
    return BY_ID.get(program_id)


def timezone_for(programs: set[str] | list[str] | tuple[str, ...] | None) -> str:
    """The agency zone of the programs a record names: the first in table order (records naming
    programs of different zones are rare: a DC record with ACT contacts names dc-act, not in the table)."""
    for item in PROGRAM_TABLE:
        if programs and item.id in programs:
            return item.timezone
    return FALLBACK_TIMEZONE
