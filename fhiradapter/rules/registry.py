"""The rule catalogue: every program rule is registered here by the `@rule` decorator (checkable) or
`note()` (a seed statement the data cannot show), so adding a rule touches one place."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Literal

from ..citations import BY_SEED, OTHER_SOURCES, REGULATIONS, PolicySource, cite_regulation

if TYPE_CHECKING:
    from .record import MemberRecord

RuleSeverity = Literal["error", "warning", "information"]


@dataclass(slots=True)
class Finding:
    """What a check reports; the engine turns it into an `Issue` with the rule's id and citation."""
    message: str                           # no patient values: name resources, elements, weeks
    resource: dict[str, Any] | None = None           # the resource the finding is about
    path: str | None = None                # element path inside it, e.g. "period.start"
    others: list[tuple[dict[str, Any], str | None]] = field(default_factory=list)  # other resources involved
    severity: RuleSeverity | None = None   # overrides the rule's default when set


Check = Callable[["MemberRecord"], Iterable[Finding]]


@dataclass(slots=True, frozen=True)
class Rule:
    id: str
    program: str            # program id, or "all" for cross-program rules
    severity: RuleSeverity
    source: str             # seed file name: the internal key of fhiradapter.citations.SOURCES
    section: str
    statement: str          # one line
    checkable: bool = True
    reason_if_not: str | None = None
    check: Check | None = None
    issue_code: str = "business-rule"
    needs: str | None = None  # what the check needs besides the member record ("rosters", "recipient")

    @property
    def policy(self) -> PolicySource | None:
        """The cited policy (public title, issuer, number) from fhiradapter.citations."""
        return BY_SEED.get(self.source)

    @property
    def citation(self) -> str:
        """Public citation (title, issuer, number, section) for messages, the CLI and the guide."""
        policy = self.policy
        if policy is not None:
            return policy.cite(self.section)
        if self.source in REGULATIONS:
            return cite_regulation(self.source, self.section)
        return OTHER_SOURCES.get(self.source, f"{self.source} {self.section}")


_RULES: dict[str, Rule] = {}


def _register(item: Rule) -> None:
    if item.id in _RULES:
        raise ValueError(f"duplicate rule id {item.id}")
    if not item.id.startswith(f"{item.program}-"):
        raise ValueError(f"rule id {item.id} must start with its program '{item.program}-'")
    _RULES[item.id] = item


def rule(*, id: str, program: str, severity: RuleSeverity, source: str, section: str, statement: str,
         issue_code: str = "business-rule", needs: str | None = None) -> Callable[[Check], Check]:
    """Register a checkable rule; the decorated function yields `Finding`s for one member record."""
    def wrap(fn: Check) -> Check:
        _register(Rule(id=id, program=program, severity=severity, source=source, section=section,
                       statement=statement, check=fn, issue_code=issue_code, needs=needs))
        return fn
    return wrap


def note(*, id: str, program: str, source: str, section: str, statement: str, reason: str,
         severity: RuleSeverity = "information") -> None:
    """Register a seed statement that member data cannot show, with the reason."""
    _register(Rule(id=id, program=program, severity=severity, source=source, section=section,
                   statement=statement, checkable=False, reason_if_not=reason))


def registered() -> list[Rule]:
    return list(_RULES.values())
