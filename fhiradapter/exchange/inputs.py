"""Find the Bundles to send, make every entry idempotent, and cut them to the configured size.

Inputs are Bundle JSON files or an output folder of `map`/`run` (its `bundles/*.json`). Every entry
must be safe to repeat: PUT `Type/id` (client id), conditional PUT, or POST with `ifNoneExist`. A
POST without `ifNoneExist` gets one built from the resource's first `identifier` (system|value); an
entry with neither identifier nor id is refused locally, since a retry could create it twice.

A Bundle larger than the size limit is split. `urn:uuid` references to entries sent by PUT Type/id
are rewritten to that literal reference (the id is known before sending); entries linked through
references to conditional creates stay in one piece, since only the server knows their ids.
"""
from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

import orjson

from fhiradapter.outcome import Issue

from .journal import EntryMeta

_ID_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.")
# R4: resource type names are letters only; ids [A-Za-z0-9\-\.]{1,64}. Checked before any URL is built.
_TYPE = re.compile(r"[A-Z][A-Za-z]{1,63}")
_RELATIVE_REF = re.compile(r"[A-Z][A-Za-z]{1,63}/[A-Za-z0-9\-.]{1,64}(/_history/[A-Za-z0-9\-.]{1,64})?")
_REFERENCE_TEXT = re.compile(rb'"reference"\s*:\s*"((?:[^"\\]|\\.)*)"')
DEFAULT_BUNDLE_SIZE = 50  # no more than common server caps (Medplum: 50 updates per transaction)


class InputError(Exception):
    """A path that does not exist or holds nothing to send."""


@dataclass(slots=True)
class Unit:
    """One request's worth: a transaction/batch Bundle cut from one input file."""
    file: str
    part: int
    parts: int
    bundle: dict[str, Any]
    hash: str
    entries: list[EntryMeta]


@dataclass(slots=True)
class Prepared:
    file: str
    units: list[Unit] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)   # errors here mean: nothing from this file is sent
    original: dict[str, Any] | None = None              # as read, for local validation


def discover(paths: list[str | Path]) -> list[Path]:
    """Bundle files in the order given; folders expand to `bundles/*.json` (or `*.json`), sorted."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            folder = path / "bundles" if (path / "bundles").is_dir() else path
            files = sorted(p for p in folder.glob("*.json") if p.is_file())
            if not files:
                raise InputError(f"{path}: no Bundle files (*.json) found")
            found.extend(files)
        else:
            raise InputError(f"{path}: no such file or folder")
    return found


def default_state_path(paths: list[str | Path]) -> Path | None:
    """`{out}/outbox.sqlite` for a map/run output folder (or files in its bundles/); None otherwise."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            return path / "outbox.sqlite"
        if path.parent.name == "bundles":
            return path.parent.parent / "outbox.sqlite"
    return None


def content_hash(bundle: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(bundle, option=orjson.OPT_SORT_KEYS)).hexdigest()


def load(path: Path) -> tuple[dict[str, Any] | None, list[Issue]]:
    data, issues, _ = _load(path)
    return data, issues


def _load(path: Path) -> tuple[dict[str, Any] | None, list[Issue], bytes]:
    """(Bundle, issues, raw bytes) of a file."""
    data: dict[str, Any] | None = None
    issues: list[Issue] = []
    raw = b""
    try:
        raw = path.read_bytes()
        data, issues = _parse(path, raw)
    except OSError as exc:
        issues = [Issue("error", "exception", f"cannot read file: {exc.strerror or exc}", source=str(path))]
    return data, issues, raw


def _parse(path: Path, raw: bytes) -> tuple[dict[str, Any] | None, list[Issue]]:
    name = str(path)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return None, [Issue("error", "structure", f"not valid JSON ({exc.msg} at line {exc.lineno})",
                            source=name)]
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        return None, [Issue("error", "structure", "not a FHIR Bundle (resourceType must be 'Bundle')",
                            expression="resourceType", source=name)]
    if data.get("type") not in ("transaction", "batch", "collection"):
        return None, [Issue("error", "value", "Bundle.type must be transaction, batch or collection to send",
                            expression="Bundle.type", source=name)]
    return data, []


def prepare(path: Path, *, mode: str = "transaction", size: int = DEFAULT_BUNDLE_SIZE) -> Prepared:
    if mode not in ("transaction", "batch"):
        raise ValueError(mode)
    if size < 1:
        raise ValueError("size must be at least 1")
    name = str(path)
    prepared = Prepared(file=name)
    bundle, issues, raw = _load(path)
    prepared.issues.extend(issues)
    # One C-speed scan of the file for references; only when one looks odd is each resource walked to
    # find and name it (the common case pays nothing per entry).
    # (A \u escape could spell the key itself: then every resource is walked.)
    check_refs = b"\\u" in raw or any(not _good_reference(m) for m in _REFERENCE_TEXT.findall(raw))
    if bundle is None:
        return prepared
    prepared.original = bundle
    entries = bundle.get("entry") or []
    if not isinstance(entries, list) or not entries:
        prepared.issues.append(Issue("error", "required", "Bundle has no entries to send",
                                     expression="Bundle.entry", source=name))
        return prepared
    ready: list[dict[str, Any]] = []
    for index, entry in enumerate(entries):
        fixed = _idempotent_entry(entry, index, name, prepared.issues, check_refs)
        if fixed is not None:
            ready.append(fixed)
    if any(i.is_error for i in prepared.issues):
        return prepared
    literal: dict[str, str] = {e["fullUrl"]: ref for e in ready if e.get("fullUrl") and (ref := _literal(e))}
    if mode == "batch":
        _rewrite_refs(ready, literal)
        dangling = _refs_to_local(ready)
        if dangling:
            idx = dangling[0]
            prepared.issues.append(Issue(
                "error", "not-supported",
                "batch mode needs literal references: an entry refers by urn:uuid to a conditional create "
                "(its id is only known to the server); send with --mode transaction",
                expression=f"Bundle.entry[{idx}].resource", source=name, entry=idx))
            return prepared
        groups = [[i] for i in range(len(ready))]
    elif len(ready) <= size:
        groups = [list(range(len(ready)))]
    else:
        _rewrite_refs(ready, literal)
        groups = _member_groups(ready, _components(ready), size)
    chunks = _pack(groups, size)
    for part, indexes in enumerate(chunks, start=1):
        unit_bundle = {"resourceType": "Bundle", "type": mode, "entry": [ready[i] for i in indexes]}
        prepared.units.append(Unit(
            file=name, part=part, parts=len(chunks), bundle=unit_bundle, hash=content_hash(unit_bundle),
            entries=[_meta(n, ready[i]) for n, i in enumerate(indexes)]))
    return prepared


def _meta(idx: int, entry: dict[str, Any]) -> EntryMeta:
    resource: dict[str, Any] = entry.get("resource") or {}
    meta = resource.get("meta")
    source = meta.get("source") if isinstance(meta, dict) and isinstance(meta.get("source"), str) else None
    request: dict[str, Any] = entry.get("request") or {}
    return EntryMeta(idx=idx, resource_type=resource.get("resourceType"), method=request.get("method"),
                     source=source, ref=_literal(entry))


def _identifier_query(resource: dict[str, Any]) -> str | None:
    for ident in resource.get("identifier") or []:
        if isinstance(ident, dict) and ident.get("system") and ident.get("value"):
            return "identifier=" + quote(f"{ident['system']}|{ident['value']}", safe=":/|")
    return None


def _valid_id(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64 and set(value) <= _ID_CHARS


def _idempotent_entry(original: Any, index: int, file: str, issues: list[Issue],
                      check_refs: bool = True) -> dict[str, Any] | None:
    where = f"Bundle.entry[{index}]"
    if not isinstance(original, dict) or not isinstance(original.get("resource"), dict):
        issues.append(Issue("error", "required", "entry has no resource to send", expression=where,
                            source=file, entry=index))
        return None
    entry: dict[str, Any] = copy.deepcopy(original)
    resource = entry["resource"]
    rtype = resource.get("resourceType")
    if not isinstance(rtype, str) or not rtype:
        issues.append(Issue("error", "required", "resource has no resourceType",
                            expression=f"{where}.resource.resourceType", source=file, entry=index))
        return None
    if not _TYPE.fullmatch(rtype):
        issues.append(Issue("error", "value", "resourceType is not a FHIR resource type name (letters only)",
                            expression=f"{where}.resource.resourceType", source=file, entry=index))
        return None
    if "id" in resource and not _valid_id(resource["id"]):
        issues.append(Issue("error", "value", "Resource.id is not a valid FHIR id ([A-Za-z0-9-.], 1-64 characters)",
                            expression=f"{where}.resource.id", source=file, entry=index))
        return None
    bad_ref = _bad_reference(resource) if check_refs else None
    if bad_ref is not None:
        issues.append(Issue("error", "value", "a reference is not Type/id (FHIR id), urn:uuid, #local or an "
                            "absolute URL without '..' segments", expression=f"{where}.resource.{bad_ref}",
                            source=file, entry=index))
        return None
    if "fullUrl" in entry and not isinstance(entry["fullUrl"], str):
        issues.append(Issue("error", "structure", "entry.fullUrl must be a string (a URI)",
                            expression=f"{where}.fullUrl", source=file, entry=index))
        return None
    raw_request = entry.get("request")
    if raw_request is not None and not isinstance(raw_request, dict):
        issues.append(Issue("error", "structure", "entry.request must be an object",
                            expression=f"{where}.request", source=file, entry=index))
        return None
    request = raw_request
    if request is None:
        if _valid_id(resource.get("id")):
            entry["request"] = {"method": "PUT", "url": f"{rtype}/{resource['id']}"}
        elif (query := _identifier_query(resource)) is not None:
            entry["request"] = {"method": "POST", "url": rtype, "ifNoneExist": query}
        else:
            issues.append(_not_idempotent(where, file, index))
            return None
        return entry
    method = str(request.get("method", "")).upper()
    url = request.get("url")
    if method in ("PUT", "POST") and not isinstance(url, str):
        issues.append(Issue("error", "required", "request.url is missing or not a string",
                            expression=f"{where}.request.url", source=file, entry=index))
        return None
    if method == "PUT":
        assert isinstance(url, str)
        problem = _put_url_problem(url, rtype, resource.get("id"))
        if problem:
            issues.append(Issue("error", "invariant", problem, expression=f"{where}.request.url", source=file,
                                entry=index))
            return None
        return entry
    if method == "POST":
        if url != rtype:
            issues.append(Issue("error", "invariant", f"request.url of a create must be the resource type {rtype}",
                                expression=f"{where}.request.url", source=file, entry=index))
            return None
        if _valid_id(resource.get("id")):
            # The resource names its own id, and other Bundles may refer to it by `Type/id`: a create would
            # get the server's id and break those references. PUT Type/id keeps the id (and is idempotent).
            entry["request"] = {"method": "PUT", "url": f"{rtype}/{resource['id']}"}
            return entry
        if request.get("ifNoneExist"):
            if not isinstance(request["ifNoneExist"], str):
                issues.append(Issue("error", "value", "request.ifNoneExist must be a string",
                                    expression=f"{where}.request.ifNoneExist", source=file, entry=index))
                return None
            return entry
        query = _identifier_query(resource)
        if query is None:
            issues.append(_not_idempotent(where, file, index))
            return None
        request["ifNoneExist"] = query
        return entry
    issues.append(Issue("error", "not-supported",
                        f"request.method {method or '(missing)'} is not sent: only PUT and POST with ifNoneExist",
                        expression=f"{where}.request.method", source=file, entry=index))
    return None


def _put_url_problem(url: str, rtype: str, rid: Any) -> str | None:
    """Why a PUT request.url is not `{resourceType}/{resource.id}` (or `{resourceType}?query`), else None."""
    if "?" in url:
        return None if url.split("?", 1)[0] == rtype else f"request.url must start with the resource type {rtype}"
    head, _, tail = url.partition("/")
    if head != rtype:
        return f"request.url names another type than the resource ({rtype})"
    if not _valid_id(tail):
        return "request.url id is not a valid FHIR id ([A-Za-z0-9-.], 1-64 characters)"
    if rid is not None and rid != tail:
        return "request.url id and resource.id differ"
    return None


def _bad_reference(resource: dict[str, Any]) -> str | None:
    """The first reference that could steer a request elsewhere (`Patient/../x`, bad id), else None."""
    for ref in _walk_refs(resource):
        if not _reference_ok(ref["reference"]):
            return "reference"
    return None


def _reference_ok(value: str) -> bool:
    if value.startswith(("urn:uuid:", "urn:oid:", "#")):
        return True
    if "://" in value:
        return "/../" not in value and not value.endswith("/..")
    if "?" in value:  # a conditional reference (transactions)
        return bool(_TYPE.fullmatch(value.split("?", 1)[0]))
    return bool(_RELATIVE_REF.fullmatch(value))


def _good_reference(raw: bytes) -> bool:
    """A `"reference":"…"` value as found in the file's bytes (escapes make it worth a closer look)."""
    return b"\\" not in raw and _reference_ok(raw.decode("utf-8", "replace"))


def _not_idempotent(where: str, file: str, index: int) -> Issue:
    return Issue("error", "business-rule",
                 "entry cannot be sent idempotently: no request, and the resource has neither id nor "
                 "identifier (system and value); a retry could create it twice",
                 expression=f"{where}.resource", source=file, entry=index)


def _literal(entry: dict[str, Any]) -> str | None:
    request = entry.get("request") or {}
    url = str(request.get("url", ""))
    if str(request.get("method", "")).upper() == "PUT" and "?" not in url and url.count("/") == 1:
        return url
    return None


def _walk_refs(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield node
        for value in node.values():
            yield from _walk_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk_refs(value)


def _rewrite_refs(entries: list[dict[str, Any]], literal: dict[str, str]) -> None:
    for entry in entries:
        for ref in _walk_refs(entry["resource"]):
            target = literal.get(ref["reference"])
            if target:
                ref["reference"] = target


def _refs_to_local(entries: list[dict[str, Any]]) -> list[int]:
    local = {e.get("fullUrl") for e in entries if e.get("fullUrl")}
    return [i for i, e in enumerate(entries) if any(r["reference"] in local for r in _walk_refs(e["resource"]))]


def _components(entries: list[dict[str, Any]]) -> list[list[int]]:
    """Entries joined by remaining urn:uuid references, each group in original order."""
    parent = list(range(len(entries)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_url = {e["fullUrl"]: i for i, e in enumerate(entries) if e.get("fullUrl")}
    for i, entry in enumerate(entries):
        for ref in _walk_refs(entry["resource"]):
            j = by_url.get(ref["reference"])
            if j is not None:
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(entries)):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def _member_groups(entries: list[dict[str, Any]], hard: list[list[int]], size: int) -> list[list[int]]:
    """Join hard groups linked by literal references inside the Bundle (a member with its contacts), so a
    split keeps a member's entries together; a member larger than `size` falls back to its hard groups."""
    parent = list(range(len(hard)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for g, group in enumerate(hard):
        for i in group:
            literal = _literal(entries[i])
            if literal:
                owner[literal] = g
    for g, group in enumerate(hard):
        for i in group:
            for node in _walk_refs(entries[i]["resource"]):
                target = owner.get(node["reference"])
                if target is not None:
                    parent[find(g)] = find(target)
    members: dict[int, list[int]] = {}
    for g in range(len(hard)):
        members.setdefault(find(g), []).append(g)
    out: list[list[int]] = []
    for gs in sorted(members.values(), key=lambda m: hard[m[0]][0]):
        joined = sorted(i for g in gs for i in hard[g])
        if len(joined) <= size:
            out.append(joined)
        else:
            out.extend(hard[g] for g in gs)
    return out


def _pack(groups: list[list[int]], size: int) -> list[list[int]]:
    """Fill chunks up to `size` in order; a group larger than `size` is sent whole, alone."""
    chunks: list[list[int]] = []
    current: list[int] = []
    for group in groups:
        if current and len(current) + len(group) > size:
            chunks.append(current)
            current = []
        current.extend(group)
        if len(current) >= size:
            chunks.append(current)
            current = []
    if current:
        chunks.append(current)
    return chunks
