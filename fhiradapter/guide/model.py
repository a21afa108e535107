"""What the guide shows, gathered from the package, the rule catalogue, the citation table and the
billing-code table. Templates only lay it out; nothing here knows HTML."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..canonical import BASE, PROFILED_RESOURCES, PROGRAMS, SHARED_PROFILES
from ..citations import BY_PROGRAM, PolicySource, publicize
from ..conformance.registry import Registry
from ..rules import catalogue
from ..rules.billing_codes import BillingCode, load_billing_codes
from ..rules.registry import Rule

LOCAL = BASE + "/"


def page_of(resource: dict[str, Any]) -> str:
    """The guide page of a package resource: `{Type}-{id}.html` (IG Publisher's naming)."""
    return f"{resource['resourceType']}-{resource['id']}.html"


@dataclass(frozen=True, slots=True)
class ElementRow:
    """One row of a differential or snapshot table."""
    id: str
    depth: int
    cardinality: str
    types: str
    must_support: bool
    binding: str
    binding_page: str | None     # guide page of a local ValueSet
    fixed: str                   # fixed/pattern value, compact
    slicing: str
    slice_name: str
    constraints: tuple[str, ...]  # invariant keys on this element
    short: str


@dataclass(frozen=True, slots=True)
class Invariant:
    key: str
    severity: str
    human: str
    expression: str
    element: str


@dataclass(slots=True)
class ProfileView:
    sd: dict[str, Any]
    program: str | None
    differential: list[ElementRow]
    snapshot: list[ElementRow]
    invariants: list[Invariant]
    examples: list[dict[str, Any]]
    parent_page: str | None

    @property
    def page(self) -> str:
        return page_of(self.sd)


@dataclass(slots=True)
class RuleView:
    rule: Rule
    finding: dict[str, Any] | None   # an OperationOutcome.issue the rule produced, if any was seen
    finding_source: str = ""         # where that finding came from

    @property
    def finding_json(self) -> str:
        return json.dumps(self.finding, indent=2, ensure_ascii=False) if self.finding else ""


@dataclass(slots=True)
class ProgramView:
    program: str
    policy: PolicySource
    profiles: list[ProfileView]
    rules: list[RuleView]
    billing: list[BillingCode]


@dataclass(slots=True)
class GuideModel:
    manifest: dict[str, Any]
    programs: list[ProgramView]
    bases: list[ProfileView]
    extensions: list[ProfileView]
    code_systems: list[dict[str, Any]]
    value_sets: list[dict[str, Any]]
    rules: list[RuleView]
    examples: list[dict[str, Any]]
    pages: dict[str, str] = field(default_factory=dict)   # canonical URL -> guide page


def _cardinality(element: dict[str, Any]) -> str:
    if "min" not in element and "max" not in element:
        return ""
    return f"{element.get('min', '')}..{element.get('max', '')}"


def _types(element: dict[str, Any]) -> str:
    out = []
    for t in element.get("type", []):
        code = str(t.get("code", ""))
        targets = [u.rsplit("/", 1)[-1] for u in t.get("targetProfile", []) + t.get("profile", [])]
        out.append(f"{code}({' | '.join(targets)})" if targets else code)
    return ", ".join(out)


def _fixed(element: dict[str, Any]) -> str:
    for key, value in element.items():
        if key.startswith(("fixed", "pattern")):
            if isinstance(value, dict):
                codings = value.get("coding", [value])
                shown = ", ".join(f"{c.get('system', '')}#{c['code']}" if "code" in c else f"system {c.get('system', '')}"
                                  for c in codings if isinstance(c, dict))
                return f"{key[:5] if key.startswith('fixed') else 'pattern'}: {shown or value}"
            return f"{key[:5] if key.startswith('fixed') else 'pattern'}: {value}"
    return ""


def _slicing(element: dict[str, Any]) -> str:
    slicing = element.get("slicing")
    if not slicing:
        return ""
    discriminators = ", ".join(f"{d.get('type')}:{d.get('path')}" for d in slicing.get("discriminator", []))
    return f"{discriminators} ({slicing.get('rules', 'open')})"


def _row(element: dict[str, Any], pages: dict[str, str], own_keys: set[str]) -> ElementRow:
    binding = element.get("binding") or {}
    vs = str(binding.get("valueSet", ""))
    plain = vs.split("|", 1)[0]
    keys = [c["key"] for c in element.get("constraint", []) if c.get("key") in own_keys]
    path = str(element.get("id") or element.get("path", ""))
    return ElementRow(
        id=path, depth=path.count("."), cardinality=_cardinality(element), types=_types(element),
        must_support=bool(element.get("mustSupport")),
        binding=f"{binding.get('strength', '')} {plain.rsplit('/', 1)[-1]}".strip() if vs else "",
        binding_page=pages.get(plain), fixed=_fixed(element), slicing=_slicing(element),
        slice_name=str(element.get("sliceName", "")), constraints=tuple(keys),
        short=publicize(str(element.get("short", ""))))


def _own_invariants(chain: list[dict[str, Any]]) -> list[Invariant]:
    """The invariants our package adds (the profile's and its local parents'), not R4's ele-1 and friends."""
    found: list[Invariant] = []
    for sd in chain:
        for element in sd.get("differential", {}).get("element", []):
            for c in element.get("constraint", []):
                found.append(Invariant(c["key"], c.get("severity", ""), publicize(c.get("human", "")),
                                       c.get("expression", ""), str(element.get("id", ""))))
    return found


def _chain(sd: dict[str, Any], by_url: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    out = [sd]
    parent = by_url.get(str(sd.get("baseDefinition", "")))
    while parent is not None and parent not in out:
        out.append(parent)
        parent = by_url.get(str(parent.get("baseDefinition", "")))
    return out


def _program_of(sd: dict[str, Any]) -> str | None:
    for program in PROGRAMS:
        if str(sd.get("id", "")).startswith(program + "-"):
            return program
    return None


def _claims(example: dict[str, Any], url: str) -> bool:
    return url in example.get("meta", {}).get("profile", [])


def build_model(registry: Registry | None = None, findings: dict[str, tuple[dict[str, Any], str]] | None = None,
                billing_table: str | None = None) -> GuideModel:
    """Everything the guide shows. `findings`: rule id -> (an OperationOutcome.issue, where it came from)."""
    reg = registry or Registry.default()
    pkg = reg.primary_package()
    if pkg is None:
        raise ValueError("no FHIR package loaded (profiles/ is missing?)")
    resources = sorted((r for r in pkg.resources if r.get("id")), key=lambda r: (r["resourceType"], r["id"]))
    examples = sorted((r for r in pkg.examples if r.get("id")), key=lambda r: (r["resourceType"], r["id"]))
    pages = {str(r["url"]): page_of(r) for r in resources if isinstance(r.get("url"), str)}
    sds = [r for r in resources if r["resourceType"] == "StructureDefinition"]
    by_url = {str(sd["url"]): sd for sd in sds}
    findings = findings or {}

    def view(sd: dict[str, Any]) -> ProfileView:
        chain = _chain(sd, by_url)
        invariants = _own_invariants(chain)
        own_keys = {i.key for i in invariants}
        full = reg.structure_definition(str(sd["url"])) or sd
        snapshot = full.get("snapshot", {}).get("element", [])
        parent = by_url.get(str(sd.get("baseDefinition", "")))
        return ProfileView(
            sd=sd, program=_program_of(sd),
            differential=[_row(e, pages, own_keys) for e in sd.get("differential", {}).get("element", [])],
            snapshot=[_row(e, pages, own_keys) for e in snapshot],
            invariants=invariants,
            examples=[x for x in examples if _claims(x, str(sd["url"]))],
            parent_page=page_of(parent) if parent else None)

    views = {sd["id"]: view(sd) for sd in sds}
    rule_views = [RuleView(r, *(findings.get(r.id) or (None, ""))) for r in catalogue(None)]
    billing = load_billing_codes(billing_table)
    programs = []
    for program in PROGRAMS:
        programs.append(ProgramView(
            program=program, policy=BY_PROGRAM[program],
            profiles=[views[f"{program}-{t.lower()}"] for t in PROFILED_RESOURCES if f"{program}-{t.lower()}" in views],
            rules=[rv for rv in rule_views if rv.rule.program in (program, "all")],
            billing=[b for b in billing if b.program == program]))
    return GuideModel(
        manifest=dict(pkg.manifest), programs=programs,
        bases=[views[f"bh-{t.lower()}"] for t in PROFILED_RESOURCES if f"bh-{t.lower()}" in views]
        + [views[i] for i in SHARED_PROFILES if i in views],
        extensions=[v for v in views.values() if v.sd.get("type") == "Extension"],
        code_systems=[r for r in resources if r["resourceType"] == "CodeSystem"],
        value_sets=[r for r in resources if r["resourceType"] == "ValueSet"],
        rules=rule_views, examples=examples, pages=pages)
