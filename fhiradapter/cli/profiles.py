"""`fhiradapter profiles`: list the program profiles, show what one requires, export the FHIR package.

Reads the package through `fhiradapter.paths.profiles_dir()` (checkout or installed wheel). `show`
merges the differentials along the profile's derivation chain inside our package (program profile ->
bh-* base), so it lists the inherited requirements too, each with the seed citation it carries in its
short/definition.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from fhiradapter.canonical import PROGRAMS
from fhiradapter.paths import profiles_dir

EXIT_FINDINGS, EXIT_USAGE = 1, 2


@dataclass
class Package:
    folder: Path
    definitions: dict[str, dict[str, Any]] = field(default_factory=dict)  # url -> StructureDefinition
    problems: list[str] = field(default_factory=list)

    def profiles(self) -> list[dict[str, Any]]:
        return sorted((sd for sd in self.definitions.values()
                       if sd.get("derivation") == "constraint" and sd.get("type") != "Extension"),
                      key=lambda sd: sd["id"])

    def by_id(self, sd_id: str) -> dict[str, Any] | None:
        return next((sd for sd in self.definitions.values() if sd.get("id") == sd_id), None)


def load_package(folder: Path | None = None) -> Package:
    """Every StructureDefinition in the package folder; unreadable files are reported, not fatal."""
    package = Package(folder or profiles_dir())
    if not package.folder.is_dir():
        package.problems.append(f"{package.folder}: FHIR package folder not found")
        return package
    for path in sorted(package.folder.glob("StructureDefinition-*.json")):
        try:
            resource = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            package.problems.append(f"{path.name}: not readable JSON ({exc.__class__.__name__})")
            continue
        if resource.get("resourceType") != "StructureDefinition" or "url" not in resource:
            package.problems.append(f"{path.name}: not a StructureDefinition with a url")
            continue
        package.definitions[resource["url"]] = resource
    return package


def program_of(sd: dict[str, Any]) -> str:
    sd_id = sd["id"]
    for program in PROGRAMS:
        if sd_id.startswith(program + "-"):
            return program
    return "(shared base)" if sd_id.startswith("bh-") else "-"


def chain(package: Package, sd: dict[str, Any]) -> list[dict[str, Any]]:
    """The profile and its ancestors inside the package, base first."""
    found = [sd]
    seen = {sd["url"]}
    parent = package.definitions.get(sd.get("baseDefinition", ""))
    while parent is not None and parent["url"] not in seen:
        found.append(parent)
        seen.add(parent["url"])
        parent = package.definitions.get(parent.get("baseDefinition", ""))
    return list(reversed(found))


# ---- summary of requirements ---------------------------------------------------------------------

@dataclass
class Requirement:
    element: str
    low: str = ""    # min / max as constrained in our differentials ("" = as in the parent)
    high: str = ""
    values: list[str] = field(default_factory=list)
    binding: str = ""
    must_support: bool = False
    note: str = ""
    source: str = ""

    @property
    def cardinality(self) -> str:
        if self.low and self.high:
            return f"{self.low}..{self.high}"
        if self.low:
            return f"min {self.low}"
        return f"max {self.high}" if self.high else ""


def _value_text(value: Any) -> str:
    if isinstance(value, dict):
        codings = value.get("coding") if "coding" in value else [value] if "system" in value else None
        if codings:
            return ", ".join(f"{c.get('system', '')}|{c['code']}" if "code" in c
                             else f"{c.get('system', '')} (any code)" for c in codings)
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


def _fixed_and_patterns(element: dict[str, Any]) -> list[str]:
    out = []
    for key, value in element.items():
        if key.startswith("fixed"):
            out.append(f"fixed {_value_text(value)}")
        elif key.startswith("pattern"):
            out.append(f"pattern {_value_text(value)}")
    if "slicing" in element:
        discriminators = ", ".join(f"{d['type']}:{d['path']}" for d in element["slicing"].get("discriminator", []))
        out.append(f"sliced by {discriminators} ({element['slicing'].get('rules', 'open')})")
    types = [t for t in element.get("type", []) if t.get("profile") or t.get("targetProfile")]
    for t in types:
        for url in t.get("profile", []):
            out.append(f"extension {url.rsplit('/', 1)[-1]}" if t.get("code") == "Extension" else f"type {url}")
        if t.get("targetProfile"):
            out.append("references " + " | ".join(u.rsplit("/", 1)[-1] for u in t["targetProfile"]))
    return out


def requirements(package: Package, sd: dict[str, Any]) -> tuple[list[Requirement], list[dict[str, Any]]]:
    """Merged differential requirements along the chain, and the invariants (with their source)."""
    merged: dict[str, Requirement] = {}
    order: list[str] = []
    invariants: list[dict[str, Any]] = []
    for definition in chain(package, sd):
        source = definition["id"]
        for element in definition.get("differential", {}).get("element", []):
            eid = element["id"]
            req = merged.get(eid)
            if req is None:
                req = merged[eid] = Requirement(element=eid)
                order.append(eid)
            if "min" in element:
                req.low = str(element["min"])
            if "max" in element:
                req.high = element["max"]
            values = _fixed_and_patterns(element)
            if values:
                req.values = values
            if "binding" in element:
                binding = element["binding"]
                req.binding = f"{binding.get('strength', '?')} {binding.get('valueSet', '')}".strip()
            if element.get("mustSupport"):
                req.must_support = True
            note = element.get("short") or element.get("definition")
            if note:
                req.note = note
            req.source = source
            for constraint in element.get("constraint", []):
                invariants.append({"key": constraint.get("key"), "severity": constraint.get("severity"),
                                   "human": constraint.get("human", ""),
                                   "expression": constraint.get("expression", ""), "source": source})
    return [merged[eid] for eid in order], invariants


def _print_show(package: Package, sd: dict[str, Any]) -> None:
    echo = click.echo
    echo(f"{sd['id']}  {sd.get('title', '')}")
    echo(f"  url:       {sd['url']}")
    echo(f"  resource:  {sd.get('type')}   program: {program_of(sd)}")
    echo(f"  parent:    {sd.get('baseDefinition')}")
    complies = sorted({e.get("valueCanonical") for d in chain(package, sd) for e in d.get("extension", [])
                       if e.get("url", "").endswith("structuredefinition-compliesWithProfile")})
    if complies:
        echo(f"  complies:  {', '.join(complies)}")
    if sd.get("description"):
        echo(f"  {sd['description']}")
    reqs, invariants = requirements(package, sd)
    echo("")
    echo("Elements (inherited ones name their profile in [brackets]):")
    for req in reqs:
        if req.element == sd.get("type"):
            continue
        facts = [f for f in (req.cardinality, "must-support" if req.must_support else "") if f]
        facts += req.values
        if req.binding:
            facts.append(f"binding {req.binding}")
        origin = "" if req.source == sd["id"] else f"  [{req.source}]"
        echo(f"  {req.element}: {'; '.join(facts) or '(documented)'}{origin}")
        if req.note:
            echo(f"      {req.note}")
    if invariants:
        echo("")
        echo("Invariants:")
        for inv in invariants:
            origin = "" if inv["source"] == sd["id"] else f"  [{inv['source']}]"
            echo(f"  {inv['key']} ({inv['severity']}): {inv['human']}{origin}")
            echo(f"      {inv['expression']}")


# ---- commands ------------------------------------------------------------------------------------

def _package_or_fail() -> Package:
    package = load_package()
    for problem in package.problems:
        click.echo(f"warning: {problem}", err=True)
    if not package.definitions:
        raise click.ClickException(f"no StructureDefinitions found in {package.folder}")
    return package


@click.group("profiles")
def profiles() -> None:
    """The program profiles of the fhiradapter.bh FHIR package."""


@profiles.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--program", type=click.Choice(PROGRAMS), help="Only this program's profiles.")
def list_command(fmt: str, program: str | None) -> None:
    """Table of profiles: id, program, resource, url (shared bases included)."""
    package = _package_or_fail()
    rows = [{"id": sd["id"], "program": program_of(sd), "resource": sd.get("type", ""), "url": sd["url"]}
            for sd in package.profiles()]
    if program:
        rows = [r for r in rows if r["program"] == program]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    widths = {key: max(len(key), *(len(r[key]) for r in rows)) if rows else len(key)
              for key in ("id", "program", "resource")}
    click.echo(f"{'id':<{widths['id']}}  {'program':<{widths['program']}}  {'resource':<{widths['resource']}}  url")
    for r in rows:
        click.echo(f"{r['id']:<{widths['id']}}  {r['program']:<{widths['program']}}  "
                   f"{r['resource']:<{widths['resource']}}  {r['url']}")


@profiles.command("show")
@click.argument("profile_id")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def show_command(profile_id: str, fmt: str) -> None:
    """What profile PROFILE_ID (e.g. mt-cmp-encounter) requires, with seed citations."""
    package = _package_or_fail()
    sd = package.by_id(profile_id) or package.definitions.get(profile_id)
    if sd is None or sd.get("type") == "Extension" and sd.get("derivation") != "constraint":
        known = ", ".join(p["id"] for p in package.profiles())
        raise click.UsageError(f"unknown profile {profile_id!r}; known: {known}")
    if fmt == "json":
        reqs, invariants = requirements(package, sd)
        click.echo(json.dumps({"id": sd["id"], "url": sd["url"], "resource": sd.get("type"),
                               "program": program_of(sd), "parent": sd.get("baseDefinition"),
                               "elements": [dict(vars(r), cardinality=r.cardinality) for r in reqs], "invariants": invariants}, indent=2))
        return
    _print_show(package, sd)


@profiles.command("export")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the FHIR NPM package tarball (.tgz).")
def export_command(out: Path) -> None:
    """Write the package as a FHIR NPM tarball with snapshots (HL7 validator, HAPI, Firely load it)."""
    try:
        from fhiradapter.conformance.package import export_package
    except ImportError as exc:
        raise click.ClickException(
            f"export is not available: fhiradapter.conformance.package cannot be imported ({exc})") from None
    try:
        result = export_package(out)
    except Exception as exc:  # the exporter's own error names file and element; show it, no traceback
        click.echo(f"export failed: {exc}", err=True)
        raise SystemExit(EXIT_FINDINGS) from None
    click.echo(f"wrote {out}" + (f" ({result})" if isinstance(result, (str, int)) else ""))
