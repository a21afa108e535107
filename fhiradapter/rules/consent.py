"""All-program rules on releasing a member's data: consent for the recipient and purpose, and 42 CFR
Part 2 consent for SUD-labelled records."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterator

from .. import canonical as c
from .record import MemberRecord, codes, describe, has_code, ref_key
from .registry import Finding, rule

# Resources about the member that travel with the record; reference data and the consents themselves
# are not 'data concerned'.
NOT_RELEASED = frozenset({"Patient", "Practitioner", "PractitionerRole", "Organization", "Location", "Group",
                          "Consent", "Provenance", "OperationOutcome"})
DATE_PATHS = ("period.start", "authoredOn", "created", "sent", "date", "recordedDate", "effectiveDateTime",
              "issued", "occurrenceDateTime")
SUD_LABELS = frozenset({"SUD", "42CFRPart2"})
CONSENT_SECTION = ("Components of Service ('If the Member consents ...'); Discharge Planning "
                   "('When consent is given, a copy ... will be forwarded')")


def _date_of(record: MemberRecord, res: dict[str, Any]) -> tuple[date, str | None]:
    for path in DATE_PATHS:
        day = record.day(res, path)
        if day is not None:
            return day, path
    return record.as_of, None


def _matches_recipient(record: MemberRecord, actor_ref: dict[str, Any] | None, recipient: str) -> bool:
    if not isinstance(actor_ref, dict):
        return False
    if "|" in recipient:  # "system|value": an identifier; a reference never holds '|'
        system, value = recipient.split("|", 1)
        idents: list[dict[str, Any]] = [actor_ref["identifier"]] if isinstance(actor_ref.get("identifier"), dict) else []
        target = record.resolve(actor_ref)
        if target:
            idents += [i for i in target.get("identifier") or [] if isinstance(i, dict)]
        return any(i.get("system") == system and i.get("value") == value for i in idents)
    return ref_key(actor_ref) == ref_key({"reference": recipient})


def _actor_ok(record: MemberRecord, provision: dict[str, Any], recipient: str | None) -> bool | None:
    """True/False if the provision names actors, None when it names none (applies to anyone)."""
    actors = [a for a in provision.get("actor") or [] if isinstance(a, dict)]
    if not actors:
        return None
    if recipient is None:
        return True
    return any(has_code(a.get("role"), c.PARTICIPATION_TYPE_SYSTEM, "IRCP")
               and _matches_recipient(record, a.get("reference"), recipient) for a in actors)


def _purpose_ok(provision: dict[str, Any], purpose: str | None) -> bool | None:
    purposes = {p.get("code") for p in provision.get("purpose") or [] if isinstance(p, dict)}
    if not purposes:
        return None
    return purpose is None or purpose in purposes


def _period_ok(record: MemberRecord, provision: dict[str, Any], day: date, element: str = "period") -> bool:
    start, end = record.day(provision, f"{element}.start"), record.day(provision, f"{element}.end")
    return (start is None or start <= day) and (end is None or day <= end)


def release_date(record: MemberRecord) -> date:
    """The day the data leaves: config.as_of (or today) when given, else the current date."""
    cfg = record.config
    return cfg.as_of or cfg.today or datetime.now(record.zone).date()


def _permits(record: MemberRecord, consent: dict[str, Any], res: dict[str, Any], day: date, recipient: str | None,
             purpose: str | None) -> bool:
    """Whether `consent` permits releasing `res` (dated `day`).

    With a recipient (a release): provision.period must cover the release date and
    provision.dataPeriod, when present, the resource's date (FHIR R4 semantics of the two periods).
    Without one (plain validation): the consent must have been in force on the resource's date (or, for
    data older than the consent, on its first day)."""
    if consent.get("status") != "active":
        return False
    provision = consent.get("provision") or {}
    if provision.get("type", "permit") != "permit":
        return False
    if recipient is not None and _actor_ok(record, provision, recipient) is not True:
        return False
    if _purpose_ok(provision, purpose) is False:
        return False
    when = release_date(record) if recipient is not None else day
    if recipient is None:
        # data older than the consent (a referral received before the member signed at intake) is
        # released under it: judged on the consent's first day (issue 12: SUD diagnoses label referrals)
        start = record.day(provision, "period.start")
        if start is not None and day < start:
            when = start
    if not _period_ok(record, provision, when) or not _period_ok(record, provision, day, "dataPeriod"):
        return False
    consent_programs = codes(consent.get("category"), c.PROGRAM_SYSTEM)
    res_programs = record.programs_of(res)
    if consent_programs and res_programs and not consent_programs & res_programs:
        return False
    for sub in provision.get("provision") or []:  # a nested deny for this recipient/purpose/date wins
        if isinstance(sub, dict) and sub.get("type") == "deny" and _period_ok(record, sub, when) \
                and _period_ok(record, sub, day, "dataPeriod") \
                and _actor_ok(record, sub, recipient) is not False and _purpose_ok(sub, purpose) is not False:
            return False
    return True


def _is_part2(consent: dict[str, Any]) -> bool:
    if any(isinstance(p, dict) and p.get("uri") == c.PART2_POLICY_URI for p in consent.get("policy") or []):
        return True
    labels = (consent.get("provision") or {}).get("securityLabel") or []
    return any(isinstance(label, dict) and label.get("code") == "42CFRPart2" for label in labels)


def _released(record: MemberRecord) -> list[dict[str, Any]]:
    """The resources that travel with the record (own, then shared); once per record (three rules ask),
    the shared ones once per run."""
    def build() -> list[dict[str, Any]]:
        own = [r for r in record.resources if _is_released(r)]
        if record.shared is None:
            return own
        shared = record.shared.memo(("released",), lambda: [r for r in record.shared.resources if _is_released(r)]
                                    if record.shared is not None else [])
        return own + shared if shared else own
    return record.memo(("released",), build)


def _is_released(r: Any) -> bool:
    # A CareTeam that names no subject is a standing team (reference data, as its Organization is).
    return (isinstance(r, dict) and bool(r.get("resourceType")) and r.get("resourceType") not in NOT_RELEASED
            and not (r.get("resourceType") == "CareTeam" and "subject" not in r))


def _sud_labelled(record: MemberRecord, res: dict[str, Any]) -> bool:
    """SUD data: an SUD/42CFRPart2 label, or an ICD-10-CM F10–F19 code (fhiradapter/part2.py)."""
    return record.is_sud(res)


def _one_finding(resources: list[tuple[dict[str, Any], str | None]], text: str, severity: str | None = None) -> Finding:
    """All uncovered resources of a member in one finding: the cause is usually one missing consent."""
    first, path = resources[0]
    names = ", ".join(describe(r) for r, _ in resources)
    what = describe(first) if len(resources) == 1 else f"{len(resources)} resources ({names})"
    return Finding(text.format(what=what), first, path, resources[1:], severity=severity)  # type: ignore[arg-type]


@rule(id="all-consent-recipient", program="all", severity="error", source="002_a91a28d9256cacc7.txt",
      section=CONSENT_SECTION, issue_code="security", needs="recipient",
      statement="Data leaves only under an active Consent permitting the recipient (provision.actor IRCP) and purpose for the dates concerned.")
def consent_recipient(record: MemberRecord) -> Iterator[Finding]:
    recipient, purpose = record.config.recipient, record.config.purpose
    if recipient is None:
        return
    consents = record.of_type("Consent")
    uncovered: list[tuple[dict[str, Any], str | None]] = []
    for res in _released(record):
        day, path = _date_of(record, res)
        if not any(_permits(record, cons, res, day, recipient, purpose) for cons in consents):
            uncovered.append((res, path))
    if uncovered:
        purpose_text = f"purpose {purpose}" if purpose else "any purpose"
        yield _one_finding(uncovered, "no active Consent permits releasing {what} to the recipient for "
                           + purpose_text + " (provision.period covering the release date, provision.dataPeriod the "
                           "date of the data)")


@rule(id="all-consent-part2", program="all", severity="error", source="42 CFR Part 2",
      section="§ 2.33, uses and disclosures permitted with written consent", issue_code="security",
      statement="SUD-labelled records (meta.security SUD or 42CFRPart2) are released only under a consent with 42 CFR Part 2 language.")
def consent_part2(record: MemberRecord) -> Iterator[Finding]:
    recipient, purpose = record.config.recipient, record.config.purpose
    consents = record.of_type("Consent")
    uncovered: list[tuple[dict[str, Any], str | None]] = []
    for res in _released(record):
        if not _sud_labelled(record, res):
            continue
        day, _ = _date_of(record, res)
        if not any(_is_part2(cons) and _permits(record, cons, res, day, recipient, purpose) for cons in consents):
            uncovered.append((res, "meta.security"))
    if uncovered:
        when = "for this release" if recipient else "on the date of the data"
        yield _one_finding(uncovered, "{what} labelled as substance use disorder data not covered by an active "
                           "Consent with 42 CFR Part 2 language (policy.uri or provision.securityLabel 42CFRPart2) "
                           + when, severity=None if recipient else "warning")


# kinds of data a provision can name: resource types (class), codes, or the security labels it covers
_KIND_LABELS = frozenset({"SUD", "42CFRPart2", "ETH", "ETHUD"})


def part2_missing(consent: dict[str, Any]) -> list[str]:
    """The 42 CFR Part 2 § 2.31 elements a Part 2 consent lacks, as element paths with the element's name."""
    provision: dict[str, Any] = consent["provision"] if isinstance(consent.get("provision"), dict) else {}
    missing = []
    actors = [a for a in provision.get("actor") or [] if isinstance(a, dict)]
    if not any(has_code(a.get("role"), c.PARTICIPATION_TYPE_SYSTEM, "IRCP") and isinstance(a.get("reference"), dict)
               and (a["reference"].get("reference") or a["reference"].get("identifier")) for a in actors):
        missing.append("recipient (provision.actor role IRCP)")
    if not any(isinstance(p, dict) and p.get("code") for p in provision.get("purpose") or []):
        missing.append("purpose (provision.purpose)")
    kinds = [k for k in (provision.get("class") or []) + (provision.get("code") or []) if isinstance(k, dict)]
    kinds += [s for s in provision.get("securityLabel") or [] if isinstance(s, dict) and s.get("code") in _KIND_LABELS]
    if not kinds:
        missing.append("amount and kind of data (provision.class, provision.code or provision.securityLabel)")
    if not (provision.get("period") or {}).get("end"):
        missing.append("expiry (provision.period.end)")
    if not (consent.get("sourceAttachment") or consent.get("sourceReference")):
        missing.append("the signed form with the revocation statement and signature (sourceAttachment or "
                       "sourceReference)")
    if not consent.get("dateTime"):
        missing.append("signature date (dateTime)")
    return missing


@rule(id="all-consent-part2-elements", program="all", severity="error", source="42 CFR Part 2",
      section="§ 2.31, Consent requirements", issue_code="security",
      statement="When SUD data is shared, each active 42 CFR Part 2 consent names the recipient, the purpose, the "
                "amount and kind of data, its expiry, and records the signed form (revocation statement, "
                "signature) and the signature date.")
def consent_part2_elements(record: MemberRecord) -> Iterator[Finding]:
    if not any(_sud_labelled(record, res) for res in _released(record)):
        return   # no SUD data is shared: Part 2 does not apply to this record
    for consent in record.of_type("Consent"):
        if consent.get("status") != "active" or not _is_part2(consent):
            continue
        missing = part2_missing(consent)
        if missing:
            yield Finding(f"{describe(consent)} is a 42 CFR Part 2 consent for SUD data but lacks "
                          f"{len(missing)} of the required elements: {'; '.join(missing)}", consent,
                          "provision" if not missing[0].startswith("the signed") else "sourceAttachment")
