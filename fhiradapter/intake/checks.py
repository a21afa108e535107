"""What the gateway checks: `$validate` (the same as `fhiradapter validate`) and a submitted Bundle
(profiles, references, program rules over each member's record including earlier accepted submissions,
the sender's organization, and whether every entry can be forwarded exactly once)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fhiradapter.outcome import Issue
from fhiradapter.validator import Validator

from .auth import Principal, org_issues, parent_links
from .config import ValidationSettings
from .members import MemberStore, bundle_members, resource_key

SUBMISSION_TYPES = ("transaction", "batch")


class UnknownProfile(Exception):
    pass


@dataclass(slots=True)
class BundleVerdict:
    issues: list[Issue] = field(default_factory=list)
    # (member key, [(resource key, resource with _fullUrl)]) to remember once accepted
    remember: list[tuple[str, list[tuple[str, dict[str, Any]]]]] = field(default_factory=list)
    parents: list[tuple[str, str]] = field(default_factory=list)   # Organization.partOf links

    @property
    def accepted(self) -> bool:
        return not any(i.is_error for i in self.issues)


class Checks:
    def __init__(self, settings: ValidationSettings, members: MemberStore | None) -> None:
        self.validator = Validator(igs=settings.igs, rules=settings.rules, timezone=settings.timezone or None)
        self.members = members

    def known_profile(self, url: str) -> bool:
        return self.validator.compiler.profile_root(url) is not None

    def validate(self, resource: Any, profile: str | None = None) -> list[Issue]:
        """Exactly `fhiradapter validate --format json` on a file holding `resource` (rules run on a
        Bundle, a member record; not on a lone resource), without the file name."""
        if profile and not self.known_profile(profile):
            raise UnknownProfile(profile)
        is_bundle = isinstance(resource, dict) and resource.get("resourceType") == "Bundle"
        return self.validator.validate_resource(resource, profile=profile,
                                                run_rules=self.validator.rules and is_bundle)

    def check_submission(self, bundle: dict[str, Any], principal: Principal) -> BundleVerdict:
        verdict = BundleVerdict()
        raw = bundle.get("entry")
        entries: list[Any] = raw if isinstance(raw, list) else []
        verdict.issues.extend(self.validator.validate_bundle(bundle, run_rules=False))
        resources = [(e["resource"], f"Bundle.entry[{i}].resource") for i, e in enumerate(entries)
                     if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
        if principal.authenticated:
            known = self.members.parents() if self.members is not None else {}
            verdict.issues.extend(org_issues(principal, resources, known))
        verdict.parents = parent_links([r for r, _ in resources])
        for index, entry in enumerate(entries):
            problem = forwarding_issue(entry, index)
            if problem is not None:
                verdict.issues.append(problem)
        if self.validator.rules:
            self._member_rules(entries, verdict)
        for issue in verdict.issues:
            issue.source = None   # the request has no file name; entries are named by expression
        return verdict

    def _member_rules(self, entries: list[Any], verdict: BundleVerdict) -> None:
        members, shared = bundle_members(entries)
        for member, indexes in members.items():
            current = [*indexes, *shared]
            resources: list[dict[str, Any]] = []
            keys: list[str] = []
            for i in current:
                resource = dict(entries[i]["resource"])
                if isinstance(entries[i].get("fullUrl"), str):
                    resource["_fullUrl"] = entries[i]["fullUrl"]
                resources.append(resource)
                keys.append(resource_key(entries[i], entries[i]["resource"]))
            prior = self.members.prior(member, keys) if self.members is not None else []
            exprs = [f"Bundle.entry[{i}].resource" for i in current] + [_prior_expr(r) for r in prior]
            found = self.validator.rules_for(resources + prior, None, exprs)
            about_prior = [issue for k, issue in found if k is not None and k >= len(current)]
            verdict.issues.extend(issue for k, issue in found if k is None or k < len(current))
            if about_prior:
                # A finding placed on an earlier resource counts when this submission caused it (e.g. the
                # 4th billable day of a week, reported on the week's first contact): not one the earlier
                # record had on its own (that was answered when it was accepted).
                before = {_key(i) for _, i in self.validator.rules_for(prior, None, [_prior_expr(r) for r in prior])}
                verdict.issues.extend(i for i in about_prior if _key(i) not in before)
            verdict.remember.append((member, [(keys[n], resources[n]) for n in range(len(indexes))]))


def _prior_expr(resource: dict[str, Any]) -> str:
    """How an issue names a resource of an earlier submission: the rules' own `Type.where(id='…')`."""
    rtype = str(resource.get("resourceType"))
    rid = resource.get("id")
    return f"{rtype}.where(id='{rid}')" if isinstance(rid, str) and rid else rtype


def _key(issue: Issue) -> tuple[str | None, str | None, str]:
    return issue.rule, issue.expression, issue.message


_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.")


def forwarding_issue(entry: Any, index: int) -> Issue | None:
    """Can the outbox forward this entry so that a retry never stores it twice? The same rule as
    `fhiradapter send` (exchange/inputs.py), checked here without copying the entry: PUT Type/id, a
    conditional create, or no request and an id or identifier to make one from."""
    where = f"Bundle.entry[{index}]"
    resource = entry.get("resource") if isinstance(entry, dict) else None
    if not isinstance(resource, dict):
        return Issue("error", "required", "entry has no resource to forward", expression=where, entry=index)
    request = entry.get("request")
    if request is None:
        rid = resource.get("id")
        if isinstance(rid, str) and 0 < len(rid) <= 64 and set(rid) <= _ID_CHARS or _has_identifier(resource):
            return None
        return _not_idempotent(where, index)
    if not isinstance(request, dict):
        return Issue("error", "structure", "entry.request must be an object", expression=f"{where}.request",
                     entry=index)
    method = str(request.get("method", "")).upper()
    url = str(request.get("url", ""))
    if method == "PUT" and url:
        if "?" not in url:
            rid = url.split("/", 1)[1] if "/" in url else ""
            if resource.get("id") not in (None, rid):
                return Issue("error", "invariant", "request.url id and resource.id differ",
                             expression=f"{where}.request.url", entry=index)
        return None
    if method == "POST":
        return None if request.get("ifNoneExist") or _has_identifier(resource) else _not_idempotent(where, index)
    return Issue("error", "not-supported", f"request.method {method or '(missing)'} is not accepted: only PUT, "
                 "and POST with ifNoneExist (or an identifier to make one from)",
                 expression=f"{where}.request.method", entry=index)


def _has_identifier(resource: dict[str, Any]) -> bool:
    return any(isinstance(i, dict) and i.get("system") and i.get("value") for i in resource.get("identifier") or [])


def _not_idempotent(where: str, index: int) -> Issue:
    return Issue("error", "business-rule", "entry cannot be forwarded idempotently: no id in request.url, no "
                 "ifNoneExist, and the resource has no identifier (system and value); a retry could create it "
                 "twice", expression=f"{where}.resource", entry=index)
