"""FHIR NPM packages: read a folder or .tgz of resources, write the fhiradapter.bh package tarball.

`load_package(path)` accepts an NPM tarball (`package/...` inside), a folder holding `package/`, or a
flat folder of JSON resources; `.index.json` is optional (we read the files themselves). Files that
are not JSON or not FHIR resources are reported as `Issue`s and skipped, never raised.
`export_package(out, registry)` writes `package/package.json`, every StructureDefinition WITH its
snapshot, the CodeSystems and ValueSets, `package/examples/*.json` when the source has examples,
and `package/.index.json` plus `package/examples/.index.json` (index-version 1), so the HL7 validator,
HAPI or Firely can load it. The tarball is byte-identical on every run: entries sorted, every timestamp
(tar entries and the gzip header) taken from the package's release date, no owner names, no file name in
the gzip header.
"""
from __future__ import annotations

import calendar
import gzip
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import orjson

from ..outcome import Issue

if TYPE_CHECKING:
    from .registry import Registry

INDEX_FIELDS = ("id", "url", "version", "kind", "type")
# Files in a package folder that are not resources.
NOT_RESOURCES = {"package.json", ".index.json", "package-lock.json", "sushi-config.yaml"}


class PackageError(Exception):
    """The package as a whole cannot be read (missing path, broken tarball); names the path."""


@dataclass
class LoadedPackage:
    path: Path
    manifest: dict[str, Any]
    resources: list[dict[str, Any]] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.manifest.get("name") or self.path.name)

    @property
    def version(self) -> str | None:
        version = self.manifest.get("version")
        return str(version) if version else None


def _parse(name: str, data: bytes, pkg: LoadedPackage) -> dict[str, Any] | None:
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        pkg.issues.append(Issue("warning", "structure", f"{name}: not valid JSON ({exc}); file skipped",
                                source=name))
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("resourceType"), str):
        pkg.issues.append(Issue("warning", "structure", f"{name}: not a FHIR resource (no resourceType); "
                                "file skipped", source=name))
        return None
    return obj


def _is_example(relative: str) -> bool:
    parts = relative.replace("\\", "/").split("/")
    return "examples" in parts[:-1] or "example" in parts[:-1]


def _from_files(path: Path, files: Iterator[tuple[str, bytes]]) -> LoadedPackage:
    pkg = LoadedPackage(path=path, manifest={})
    for relative, data in files:
        base = relative.rsplit("/", 1)[-1]
        if base == "package.json" and "/" not in relative.strip("/"):
            try:
                pkg.manifest = json.loads(data)
            except ValueError as exc:
                pkg.issues.append(Issue("warning", "structure", f"{relative}: package.json is not valid "
                                        f"JSON ({exc})", source=relative))
            continue
        if base in NOT_RESOURCES or not base.lower().endswith(".json"):
            continue
        resource = _parse(relative, data, pkg)
        if resource is None:
            continue
        (pkg.examples if _is_example(relative) else pkg.resources).append(resource)
    return pkg


def _folder_files(root: Path) -> Iterator[tuple[str, bytes]]:
    for file in sorted(root.rglob("*.json")):
        relative = file.relative_to(root).as_posix()
        # SUSHI projects and other tooling keep non-package JSON under these folders.
        if relative.split("/", 1)[0] in ("fsh", "node_modules", "invalid", "fsh-generated", "input"):
            continue
        yield relative, file.read_bytes()


def _tar_files(tar: tarfile.TarFile) -> Iterator[tuple[str, bytes]]:
    for member in tar.getmembers():
        if not member.isfile():
            continue
        name = member.name.lstrip("./")
        if name.startswith("package/"):
            name = name[len("package/"):]
        extracted = tar.extractfile(member)
        if extracted is not None:
            yield name, extracted.read()


def load_package(path: str | Path) -> LoadedPackage:
    """Read every resource of a package (.tgz, folder with package/, or flat folder)."""
    path = Path(path)
    if not path.exists():
        raise PackageError(f"{path}: no such file or folder")
    if path.is_dir():
        root = path / "package" if (path / "package").is_dir() else path
        return _from_files(path, _folder_files(root))
    try:
        with tarfile.open(path, "r:*") as tar:
            return _from_files(path, _tar_files(tar))
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise PackageError(f"{path}: not a readable package tarball ({exc})") from exc


# -- export -------------------------------------------------------------------------------------------

def complete_snapshot(sd: dict[str, Any]) -> dict[str, Any]:
    """sd with every snapshot element carrying what R4 requires of a snapshot (a copy; sd is not changed).

    Our base model keeps derived facts, not HL7's prose, so inherited elements lack `definition` (sdf-3:
    every snapshot element has a definition, min and max) and modifier elements lack `isModifierReason`
    (eld-18). The HL7 validator rejects such a package; a short pointer to the R4 definition fills both.
    """
    elements = (sd.get("snapshot") or {}).get("element")
    if not elements:
        return sd
    filled: list[dict[str, Any]] = []
    for el in elements:
        el = dict(el)
        path = str(el.get("path", ""))
        if not el.get("definition"):
            el["definition"] = el.get("short") or f"{path}: see the FHIR R4 definition of this element."
        if el.get("isModifier") and not el.get("isModifierReason"):
            el["isModifierReason"] = f"{path} is a modifier element in FHIR R4 (see its R4 definition)."
        filled.append(el)
    return {**sd, "snapshot": {**sd["snapshot"], "element": filled}}


def _index_entry(filename: str, resource: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"filename": filename, "resourceType": resource["resourceType"]}
    for key in INDEX_FIELDS:
        if isinstance(resource.get(key), str):
            entry[key] = resource[key]
    return entry


def _add(tar: tarfile.TarFile, name: str, data: bytes, mtime: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = mtime
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(data))


def _release_time(manifest: dict[str, Any]) -> int:
    """The package's release date (package.json `date`, YYYYMMDDhhmmss) as a Unix time; 0 without one.

    Why not now(): two exports of the same package must give the same bytes."""
    stamp = str(manifest.get("date") or "")
    if len(stamp) >= 8 and stamp[:8].isdigit():
        padded = (stamp + "000000")[:14]
        try:
            parts = (int(padded[0:4]), int(padded[4:6]), int(padded[6:8]),
                     int(padded[8:10]), int(padded[10:12]), int(padded[12:14]))
            return calendar.timegm((*parts, 0, 0, 0))
        except ValueError:
            return 0
    return 0


def _index(entries: list[dict[str, Any]]) -> bytes:
    return json.dumps({"index-version": 1, "files": sorted(entries, key=lambda e: e["filename"])},
                      indent=1).encode()


def export_package(out_path: Path, registry: "Registry | None" = None) -> Path:
    """Write our package (fhiradapter.bh, or the registry's primary package) as a FHIR NPM tarball."""
    from .registry import Registry

    reg = registry or Registry.default()
    primary = reg.primary_package()
    if primary is None:
        raise PackageError("no package loaded to export (profiles/ is missing?)")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    index: list[dict[str, Any]] = []
    for resource in primary.resources:
        if not resource.get("id"):
            continue
        if resource["resourceType"] == "StructureDefinition":
            resource = reg.structure_definition(resource["url"] + (f"|{resource['version']}" if resource.get("version") else "")) \
                or resource
            if "snapshot" not in resource:
                raise PackageError(f"StructureDefinition {resource.get('url')}: no snapshot could be generated; "
                                   f"see registry.issues")
            resource = complete_snapshot(resource)
        filename = f"{resource['resourceType']}-{resource['id']}.json"
        files[filename] = orjson.dumps(resource, option=orjson.OPT_INDENT_2)
        index.append(_index_entry(filename, resource))
    examples: dict[str, bytes] = {}
    example_index: list[dict[str, Any]] = []
    for r in primary.examples:
        if not r.get("id"):
            continue
        filename = f"{r['resourceType']}-{r['id']}.json"
        examples[f"examples/{filename}"] = orjson.dumps(r, option=orjson.OPT_INDENT_2)
        example_index.append(_index_entry(filename, r))
    manifest = dict(primary.manifest)
    manifest.setdefault("name", primary.name)
    manifest.setdefault("fhirVersions", ["4.0.1"])
    manifest.setdefault("dependencies", {"hl7.fhir.r4.core": "4.0.1"})
    mtime = _release_time(manifest)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        _add(tar, "package/package.json", json.dumps(manifest, indent=2).encode(), mtime)
        _add(tar, "package/.index.json", _index(index), mtime)
        for name in sorted(files):
            _add(tar, f"package/{name}", files[name], mtime)
        if examples:
            _add(tar, "package/examples/.index.json", _index(example_index), mtime)
        for name in sorted(examples):
            _add(tar, f"package/{name}", examples[name], mtime)
    # gzip writes the file name and the current time into its header unless told otherwise.
    with open(out_path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=mtime) as gz:
        gz.write(buffer.getvalue())
    return out_path
