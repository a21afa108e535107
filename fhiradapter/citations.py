"""Public citations of the five program policies: the ONE table that rules, profile texts and the guide use.

Outside readers (vendors, payers, auditors) cannot open the project's policy seed files, so anything they
see cites a policy by its public title, issuer, number and section. Inside the project a policy is keyed
by its seed file name (`../shared/seeds/`); `publicize()` rewrites such internal references, and the
build (tools/build_profiles.py) and the rule engine go through it, so an internal name never reaches the
package, a finding or the guide. docs/citations.md shows the same table for people.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PolicySource:
    """One program policy: how the project keys it (seed file) and how the public cites it."""
    seed: str               # internal key: the seed file name
    program: str            # program id (fhiradapter.canonical.PROGRAMS)
    issuer: str
    title: str              # the document's public title, with its number where it has one
    number: str | None      # policy / specification number, None when the document has none
    effective: str | None   # effective or revision date printed on the document (ISO), if any
    citation: str           # the prefix a section is appended to: "issuer title, <section>"
    program_name: str       # the program's public name

    def cite(self, section: str = "") -> str:
        """The public citation of a section, e.g. '..., Community Maintenance Program, Service Requirements (5)'."""
        section = section.strip()
        return f"{self.citation}, {section}" if section else self.citation


# Data, not code: one row per seed policy. Titles, numbers and dates are the ones printed on the documents.
SOURCES: tuple[PolicySource, ...] = (
    PolicySource(
        seed="000_90208eba930f2875.txt", program="mt-cmp",
        issuer="Montana Department of Public Health and Human Services (DPHHS), Behavioral Health and "
               "Developmental Disabilities Division (BHDD)",
        title="Medicaid Services Provider Manual for Substance Use Disorder and Adult Mental Health: "
              "Community Maintenance Program (CMP)",
        number=None, effective=None,
        citation="Montana DPHHS BHDD Provider Manual, Community Maintenance Program",
        program_name="Montana Community Maintenance Program (CMP)"),
    PolicySource(
        seed="003_b1943e64eef8a2d8.txt", program="mt-imr",
        issuer="Montana Department of Public Health and Human Services (DPHHS), Behavioral Health and "
               "Developmental Disabilities Division (BHDD)",
        title="Medicaid Services Provider Manual for Substance Use Disorder and Adult Mental Health: "
              "Policy 410, Illness Management and Recovery Services (IMR)",
        number="410", effective="2022-10-01",
        citation="Montana DPHHS BHDD Provider Manual, Policy 410 Illness Management and Recovery",
        program_name="Montana Illness Management and Recovery (IMR)"),
    PolicySource(
        seed="001_531c4a09cf20a817.txt", program="dc-cs",
        issuer="District of Columbia Department of Mental Health (DMH)",
        title="Mental Health Rehabilitation Services (MHRS), Section 3418 Community Support: Conditions of "
              "Payment",
        number="3418", effective=None,
        citation="DC DMH MHRS Community Support Conditions of Payment",
        program_name="District of Columbia MHRS Community Support"),
    PolicySource(
        seed="002_a91a28d9256cacc7.txt", program="ma-csp",
        issuer="Commonwealth Care Alliance (CCA), Massachusetts",
        title="Performance Specification #010, Community Support Program (CSP)",
        number="010", effective="2021-09-28",
        citation="CCA Performance Specification #010 Community Support Program",
        program_name="Commonwealth Care Alliance Community Support Program (CSP)"),
    PolicySource(
        seed="004_55627d390f551fcd.txt", program="pa-tcm",
        issuer="PerformCare (Pennsylvania HealthChoices behavioral-health managed care)",
        title="Policy CM-040, Targeted Case Management Role Expectations",
        number="CM-040", effective="2024-08-27",
        citation="PerformCare Policy CM-040 Targeted Case Management Role Expectations",
        program_name="PerformCare Targeted Case Management (TCM: ICM, RC, BCM)"),
)

# Rule sources that are not a program policy: internal key -> the public citation a reader sees.
OTHER_SOURCES: dict[str, str] = {
    "domain-notes.md": "42 CFR Part 2, Confidentiality of Substance Use Disorder Patient Records",
    "fhiradapter/data/billing-codes.csv": "fhiradapter billing-code table, confirmed rows (each row cites "
                                          "its fee schedule, e.g. 29 DCMR §5213.1)",
}

# Laws and regulations rules cite by section: key -> the public title a section is appended to
# ("42 CFR Part 2 § 2.31, Consent requirements"). Issuer and where to read it: docs/citations.md.
REGULATIONS: dict[str, str] = {
    "42 CFR Part 2": "42 CFR Part 2 (HHS, Confidentiality of Substance Use Disorder Patient Records; eCFR)",
    "55 Pa. Code Ch. 5100": "55 Pa. Code Chapter 5100 (Pennsylvania DHS, Mental Health Procedures)",
    "D.C. Code Ch. 7-12": "D.C. Code Title 7, Chapter 12 (District of Columbia Mental Health Information Act)",
}


def cite_regulation(key: str, section: str = "") -> str:
    """Public citation of a section of a law or regulation in REGULATIONS (KeyError names the key)."""
    title = REGULATIONS[key]
    return f"{title} {section}".strip()


BY_SEED: dict[str, PolicySource] = {s.seed: s for s in SOURCES}
BY_PROGRAM: dict[str, PolicySource] = {s.program: s for s in SOURCES}

# Project-internal pointers that mean nothing outside the repository, and what a reader sees instead.
# "issue 2 §3" is the shared-base requirement set; design.md is the project's design notes.
_SEED_RE = re.compile(r"\b(0\d\d_[0-9a-f]{16}\.txt)([ \t]+(?=[^\s);,]))?")
_INTERNAL: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bissue 2 §3\b"), "shared base"),
    (re.compile(r"\bissue \d+(?: §\s?\d+)?"), "fhiradapter design"),
    (re.compile(r"(?:docs/)?design\.md"), "fhiradapter design"),
    (re.compile(r"(?:docs/)?domain-notes\.md(?: §\s?\d+)?"), "fhiradapter billing notes"),
)
INTERNAL_REFERENCE = re.compile(r"0\d\d_[0-9a-f]{16}\.txt|\bissue \d+\b|design\.md|domain-notes\.md")


def source(seed_or_program: str) -> PolicySource:
    """The policy by seed file name or program id; KeyError names what was asked."""
    found = BY_SEED.get(seed_or_program) or BY_PROGRAM.get(seed_or_program)
    if found is None:
        raise KeyError(f"no policy source for {seed_or_program!r}")
    return found


def cite(seed_or_program: str, section: str = "") -> str:
    """Public citation of a section of a program policy."""
    return source(seed_or_program).cite(section)


def publicize(text: str) -> str:
    """Rewrite internal references in a text (seed file names, issue numbers, design.md) as public ones.

    "000_....txt Service Requirements (5)" becomes "Montana DPHHS BHDD Provider Manual, Community
    Maintenance Program, Service Requirements (5)"; text without internal references is returned as is.
    """
    def seed(match: re.Match[str]) -> str:
        src = BY_SEED.get(match.group(1))
        if src is None:
            return match.group(0)
        # A section follows: "<citation>, <section>"; otherwise the bare citation.
        return src.citation + (", " if match.group(2) else "")
    out = _SEED_RE.sub(seed, text)
    for pattern, replacement in _INTERNAL:
        out = pattern.sub(replacement, out)
    return out
