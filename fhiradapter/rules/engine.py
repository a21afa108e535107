"""Run the registered rules over one member record and report `Issue`s."""
from __future__ import annotations

import logging
from typing import Any, Iterable

from ..citations import publicize
from ..outcome import RULE_SYSTEM, Issue, Target
from .config import RuleConfig
from .record import MemberRecord
from .registry import Finding, Rule, registered
from .shared import SharedData

log = logging.getLogger(__name__)


def catalogue(program: str | None = None) -> list[Rule]:
    """Every rule (checkable or not), optionally of one program (plus the 'all' rules)."""
    from . import load_all
    load_all()
    rules = registered()
    if program:
        rules = [r for r in rules if r.program in (program, "all")]
    return rules


# run_rules' rule list per set of active programs, valid while the catalogue holds the same rules
_runnable_for: list[Rule] = []
_runnable: dict[frozenset[str], list[Rule]] = {}


def _rules_to_run(active: set[str]) -> list[Rule]:
    """The checkable rules of the active programs and the 'all' rules, in catalogue order. Remembered
    per program set (run_rules runs once per member); a changed catalogue (tests add rules) is seen by
    comparing the rule list, which is cheap while its items are the same objects."""
    global _runnable_for
    rules = catalogue()
    if rules != _runnable_for:
        _runnable_for = rules
        _runnable.clear()
    key = frozenset(active)
    found = _runnable.get(key)
    if found is None:
        found = _runnable[key] = [r for r in rules if r.checkable and r.check is not None
                                  and (r.program == "all" or r.program in active)]
    return found


def fhirpath(resource: dict[str, Any] | None, path: str | None) -> str | None:
    """`Encounter.where(id='abc').period.start`: valid FHIRPath that names the resource."""
    if resource is None:
        return None
    root = str(resource.get("resourceType"))
    rid = resource.get("id")
    if isinstance(rid, str) and rid:
        safe = rid.replace("\\", "\\\\").replace("'", "\\'")
        root = f"{root}.where(id='{safe}')"
    return f"{root}.{path}" if path else root


def target(resource: dict[str, Any] | None, path: str | None) -> Target | None:
    """The resource fhirpath() names by id, as data (None when it has no id to name it by)."""
    rid = resource.get("id") if resource is not None else None
    if resource is None or not isinstance(rid, str) or not rid:
        return None
    return Target(str(resource.get("resourceType")), rid, path or "")


def judged(record: MemberRecord) -> str:
    """Which period the rules judged (issue 12 defect 3): up to the evaluation date, from the start of
    the extract window when one is set."""
    start = record.config.data_from
    return (f"period judged: {start.isoformat()} to {record.as_of.isoformat()}" if start
            else f"period judged: up to {record.as_of.isoformat()}")


# Rule.citation per rule id (with the rule it was built for: tests register other rules under an id):
# built from the citations table on each call, the same for every finding
_citations: dict[str, tuple[Rule, str]] = {}
# publicize() rewrites only text holding one of these (its patterns all contain one): skip the rest
_INTERNAL_MARKS = ("issue", ".txt", ".md")


def _citation(rule: Rule) -> str:
    found = _citations.get(rule.id)
    if found is None or found[0] is not rule:
        found = _citations[rule.id] = (rule, rule.citation)
    return found[1]


def _issue(rule: Rule, finding: Finding, period: str) -> Issue:
    extra = [x for x in (fhirpath(res, path) for res, path in finding.others) if x]
    message = finding.message
    if any(mark in message for mark in _INTERNAL_MARKS):
        message = publicize(message)
    return Issue(severity=finding.severity or rule.severity, code=rule.issue_code,
                 message=f"{message} ({period}) [{_citation(rule)}]",
                 expression=fhirpath(finding.resource, finding.path), rule=rule.id,
                 rule_system=RULE_SYSTEM, extra_expressions=extra, target=target(finding.resource, finding.path))


def run_rules(member_resources: list[dict[str, Any]], *, programs: set[str] | None = None,
              config: RuleConfig | None = None, shared: SharedData | None = None) -> list[Issue]:
    """Check one member's records against the program rules; programs=None → the programs the
    resources' bh-program codings name. `shared`: the run's member-less reference data, indexed once
    (rules/shared.py); the same findings as with those resources appended to member_resources."""
    config = config or RuleConfig()
    member_resources = list(member_resources or [])
    # with no zone set: the agency zone of the record's program (programs table)
    record = MemberRecord(member_resources, config, shared=shared,
                          zone_from=set(programs) if programs is not None else "named")
    active = set(programs) if programs is not None else record.programs()
    issues: list[Issue] = []
    period = judged(record)
    for rule in _rules_to_run(active):
        try:
            check = rule.check
            assert check is not None   # _rules_to_run keeps only rules with a check
            findings: Iterable[Finding] = list(check(record))
        except Exception as exc:  # one broken rule must not stop the others
            log.debug("rule %s failed", rule.id, exc_info=True)
            issues.append(Issue(severity="warning", code="exception", rule=rule.id, rule_system=RULE_SYSTEM,
                                message=f"rule {rule.id} could not be evaluated ({type(exc).__name__}); "
                                        f"its findings are missing [{_citation(rule)}]"))
            continue
        issues.extend(_issue(rule, f, period) for f in findings)
    for message in record.problems.values():
        issues.append(Issue(severity="warning", code="value", message=message))
    return issues
