"""The named tests over a sample: profile requirements, must-support coverage, reference integrity and
the program rules. Each function returns TestResults; one registry (GROUPS) lists them in report order."""
from __future__ import annotations

import re
from datetime import date
from typing import Any, Callable, Iterator

from ..canonical import PROFILED_RESOURCES, PROGRAM_SYSTEM, profile_url
from ..conformance.registry import Registry
from ..members import member_key
from ..outcome import Issue
from ..rules import RuleConfig, catalogue, run_rules
from ..validator import Validator
from .model import Failure, Sample, SampleItem, TestResult

_INDEX = re.compile(r"\[\d+\]")
_SLICE_IN_MESSAGE = re.compile(r"slice '([^']+)'")
_PERIOD_JUDGED = re.compile(r" \(period judged: [^)]*\)")


# -- profile requirements ---------------------------------------------------------------------------

def _strip(path: str) -> str:
    return _INDEX.sub("", path)


def _chain(reg: Registry, url: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    sd = reg.resource(url)
    while sd is not None and sd.get("url", "").startswith("https://fhiradapter.org/") and sd not in out:
        out.append(sd)
        sd = reg.resource(str(sd.get("baseDefinition", "")))
    return out


def requirements(reg: Registry, url: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The constrained element paths (slice names removed, as a validator reports paths) and the
    invariants (key, human) of a profile and its local parents."""
    paths: list[str] = []
    invariants: list[tuple[str, str]] = []
    for sd in reversed(_chain(reg, url)):
        for element in sd.get("differential", {}).get("element", []):
            for c in element.get("constraint", []):
                invariants.append((str(c["key"]), str(c.get("human", ""))))
            constrained = (any(k in element for k in ("min", "max", "binding", "slicing", "type"))
                           or any(k.startswith(("pattern", "fixed")) for k in element))
            path = re.sub(r":[^.]+", "", str(element.get("id", "")))
            if constrained and path not in paths and "." in path:
                paths.append(path)
    return paths, invariants


def _attribute(issue: Issue, paths: list[str], keys: set[str]) -> str:
    """The requirement an issue belongs to: its invariant, else the longest constrained path it is in."""
    if issue.rule in keys:
        return f"invariant {issue.rule}"
    where = _strip(issue.expression or "")
    best = ""
    for path in paths:
        if (where == path or where.startswith(path + ".")) and len(path) > len(best):
            best = path
    return best or "base"


def _codes(node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        if isinstance(node.get("system"), str) and isinstance(node.get("code"), str):
            yield node["system"], node["code"]
        for value in node.values():
            yield from _codes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _codes(value)


def program_items(sample: Sample, program: str, resource_type: str) -> tuple[list[SampleItem], list[SampleItem]]:
    """The program's resources of a type (they claim the program profile or carry its bh-program code)
    and the others of that type (e.g. an inpatient-stay Encounter), which only base R4 applies to."""
    url = profile_url(program, resource_type)
    ours: list[SampleItem] = []
    others: list[SampleItem] = []
    for item in sample.of_type(resource_type):
        claimed = url in (item.resource.get("meta") or {}).get("profile", [])
        coded = (PROGRAM_SYSTEM, program) in set(_codes({k: v for k, v in item.resource.items()
                                                          if k in ("category", "serviceType", "type")}))
        (ours if claimed or coded else others).append(item)
    return ours, others


def profile_tests(sample: Sample, program: str, validator: Validator, reg: Registry) -> list[TestResult]:
    results: list[TestResult] = []
    for resource_type in PROFILED_RESOURCES:
        url = profile_url(program, resource_type)
        profile_id = url.rsplit("/", 1)[-1]
        items, others = program_items(sample, program, resource_type)
        if others:
            results.append(_base_validity(validator, others, f"profile.base.{resource_type}-other",
                                          f"{resource_type} outside the program: valid FHIR R4 (and declared profiles)"))
        paths, invariants = requirements(reg, url)
        keys = {k for k, _ in invariants}
        names = [f"invariant {k}" for k, _ in invariants] + paths + ["base"]
        titles = {f"invariant {k}": f"{profile_id}: invariant {k} ({human})" for k, human in invariants}
        titles.update({p: f"{profile_id}: {p} as the profile constrains it" for p in paths})
        titles["base"] = f"{profile_id}: base FHIR R4 structure, types and bindings"
        failures: dict[str, list[Failure]] = {name: [] for name in names}
        for item in items:
            for issue in validator.validate_resource(item.resource, profile=url):
                if issue.is_error:
                    failures[_attribute(issue, paths, keys)].append(
                        Failure(item.key, issue.expression, issue.message, item.origin))
        for name in names:
            test_id = f"profile.{profile_id}.{name.replace(' ', '-')}"
            if not items:
                results.append(TestResult(test_id, "profiles", titles[name], "skip",
                                          f"no {resource_type} in the sample"))
                continue
            bad = failures[name]
            results.append(TestResult(test_id, "profiles", titles[name], "fail" if bad else "pass",
                                      f"{len({f.resource for f in bad})} of {len(items)} {resource_type} fail"
                                      if bad else f"{len(items)} {resource_type} checked", bad))
    # Resources the program does not profile (Patient, Practitioner, ...) are checked against base R4.
    for resource_type in sample.types():
        if resource_type in PROFILED_RESOURCES:
            continue
        results.append(_base_validity(validator, sample.of_type(resource_type), f"profile.base.{resource_type}",
                                      f"{resource_type}: valid FHIR R4 (and its declared profiles)"))
    return results


def _base_validity(validator: Validator, items: list[SampleItem], test_id: str, title: str) -> TestResult:
    """One test: the items are valid against base R4 and the profiles they declare themselves."""
    bad = [Failure(i.key, issue.expression, issue.message, i.origin) for i in items
           for issue in validator.validate_resource(i.resource) if issue.is_error]
    return TestResult(test_id, "profiles", title, "fail" if bad else "pass",
                      f"{len({f.resource for f in bad})} of {len(items)} fail" if bad else f"{len(items)} checked",
                      bad)


# -- must-support coverage ----------------------------------------------------------------------------

def _matches(value: Any, pattern: Any) -> bool:
    """FHIR pattern semantics: every element of the pattern is present with the same value."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(_matches(value.get(k), v) for k, v in pattern.items())
    if isinstance(pattern, list):
        return isinstance(value, list) and all(any(_matches(v, p) for v in value) for p in pattern)
    return bool(value == pattern)


def _children(node: Any, name: str) -> list[Any]:
    if not isinstance(node, dict):
        return []
    if name.endswith("[x]"):
        stem = name[:-3]
        values = [v for k, v in node.items() if k.startswith(stem) and k[len(stem):][:1].isupper()]
    else:
        values = [node[name]] if name in node else []
    out: list[Any] = []
    for value in values:
        out.extend(value if isinstance(value, list) else [value])
    return out


class _ElementIndex:
    """Snapshot elements by id, to find what a slice requires of its members."""

    def __init__(self, snapshot: list[dict[str, Any]]) -> None:
        self.by_id = {str(e.get("id")): e for e in snapshot}

    def in_slice(self, slice_id: str, value: Any) -> bool:
        element = self.by_id.get(slice_id, {})
        for key, pattern in element.items():
            if key.startswith(("pattern", "fixed")) and not _matches(value, pattern):
                return False
        profiles = [p for t in element.get("type", []) for p in t.get("profile", [])]
        if slice_id.rsplit(".", 1)[-1].split(":")[0] in ("extension", "modifierExtension") and profiles:
            return isinstance(value, dict) and value.get("url") in profiles
        # Child patterns of the slice (e.g. system fixed under the slice) must hold too.
        prefix = slice_id + "."
        for child_id, child in self.by_id.items():
            if child_id.startswith(prefix) and child_id.count(".") == slice_id.count(".") + 1 and ":" not in child_id[len(prefix):]:
                for key, pattern in child.items():
                    if key.startswith(("pattern", "fixed")):
                        name = child_id[len(prefix):]
                        if not any(_matches(v, pattern) for v in _children(value, name)):
                            return False
        return True


def populated(resource: dict[str, Any], element_id: str, index: _ElementIndex) -> bool:
    """Is the element (id with slice names) present in the resource?"""
    steps = element_id.split(".")[1:]
    nodes: list[Any] = [resource]
    so_far = element_id.split(".")[0]
    for step in steps:
        name, _, slice_name = step.partition(":")
        so_far = f"{so_far}.{step}"
        nodes = [child for node in nodes for child in _children(node, name)]
        if slice_name:
            nodes = [n for n in nodes if index.in_slice(so_far, n)]
        if not nodes:
            return False
    return True


def must_support_tests(sample: Sample, program: str, reg: Registry) -> list[TestResult]:
    results: list[TestResult] = []
    for resource_type in PROFILED_RESOURCES:
        url = profile_url(program, resource_type)
        profile_id = url.rsplit("/", 1)[-1]
        sd = reg.structure_definition(url) or {}
        snapshot = sd.get("snapshot", {}).get("element", [])
        index = _ElementIndex(snapshot)
        must = [str(e["id"]) for e in snapshot if e.get("mustSupport")]
        items, _ = program_items(sample, program, resource_type)
        missing = [m for m in must if not any(populated(i.resource, m, index) for i in items)]
        failures = [Failure(f"{resource_type} (all {len(items)} in the sample)", m,
                            f"must-support element {m} is not populated in any {resource_type}") for m in missing]
        results.append(TestResult(
            f"must-support.{profile_id}", "must-support",
            f"{profile_id}: every must-support element is populated in at least one {resource_type}",
            "fail" if missing or not items else "pass",
            (f"no {resource_type} in the sample" if not items else
             f"{len(missing)} of {len(must)} must-support elements never populated" if missing else
             f"all {len(must)} must-support elements seen in {len(items)} {resource_type}"), failures))
    return results


# -- reference integrity ------------------------------------------------------------------------------

def references(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(element path, reference string) of every Reference.reference in a resource."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else key
            if key == "reference" and isinstance(value, str):
                yield path, value
            elif key not in ("contained",):
                yield from references(value, here)
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from references(value, f"{path}[{n}]")


def reference_tests(sample: Sample) -> list[TestResult]:
    known = {i.key for i in sample.items}
    full_urls = {i.full_url for i in sample.items if i.full_url}
    results = []
    for resource_type in sample.types():
        items = sample.of_type(resource_type)
        failures = []
        count = 0
        for item in items:
            for path, ref in references(item.resource):
                if ref.startswith("#"):
                    continue
                count += 1
                target = ref.split("/_history")[0]
                if target in full_urls or target in known or re.sub(r"^.*/([A-Za-z]+/[^/]+)$", r"\1", target) in known:
                    continue
                failures.append(Failure(item.key, f"{resource_type}.{path}",
                                        f"{ref} does not resolve to a resource in the sample", item.origin))
        results.append(TestResult(f"references.{resource_type}", "references",
                                  f"References from {resource_type} resolve within the sample",
                                  "fail" if failures else "pass",
                                  f"{len(failures)} of {count} references do not resolve" if failures
                                  else f"{count} references resolve", failures))
    return results


# -- program rules ------------------------------------------------------------------------------------

def member_records(sample: Sample) -> list[tuple[str, list[SampleItem]]]:
    members: dict[str, list[SampleItem]] = {}
    shared: list[SampleItem] = []
    for item in sample.items:
        key = member_key(item.resource)
        (members.setdefault(key, []) if key else shared).append(item)
    return [(key, items + shared) for key, items in sorted(members.items())]


def rule_tests(sample: Sample, program: str, config: RuleConfig,
               earliest: Callable[[list[list[dict[str, Any]]]], date | None] | None = None) -> list[TestResult]:
    records = member_records(sample)
    by_key = {i.key: i for i in sample.items}
    findings: dict[str, list[Failure]] = {}
    for _, items in records:
        for issue in run_rules([i.resource for i in items], programs={program}, config=config):
            if issue.rule and issue.is_error:
                m = re.match(r"^([A-Za-z]+)\.where\(id='((?:[^'\\]|\\.)*)'\)", issue.expression or "")
                key = f"{m.group(1)}/{m.group(2)}" if m else "member record"
                origin = by_key[key].origin if key in by_key else None
                findings.setdefault(issue.rule, []).append(Failure(key, issue.expression, issue.message, origin))
    has_groups = bool(sample.of_type("Group")) or bool(config.rosters)
    results = []
    for rule in catalogue(program):
        test_id = f"rules.{rule.id}"
        title = f"{rule.id}: {rule.statement}"
        if not rule.checkable:
            results.append(TestResult(test_id, "rules", title, "skip",
                                      f"not checkable from data: {rule.reason_if_not}"))
            continue
        if rule.needs == "recipient" and not config.recipient:
            results.append(TestResult(test_id, "rules", title, "skip", "needs the data recipient (--recipient)"))
            continue
        if rule.needs == "rosters" and not has_groups:
            results.append(TestResult(test_id, "rules", title, "skip", "needs team rosters (Group) in the sample"))
            continue
        if not records:
            results.append(TestResult(test_id, "rules", title, "skip", "no member records in the sample"))
            continue
        bad = findings.get(rule.id, [])
        # De-duplicate shared findings reported once per member record (team-level rules): the same
        # resource, element and message, whatever period each member's record was judged over.
        unique = list({(f.resource, f.element, _PERIOD_JUDGED.sub("", f.message)): f for f in reversed(bad)}.values())
        unique.reverse()
        results.append(TestResult(test_id, "rules", title, "fail" if unique else "pass",
                                  f"{len(unique)} findings [{rule.citation}]" if unique
                                  else f"{len(records)} member records checked [{rule.citation}]", unique))
    return results
