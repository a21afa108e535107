"""Output files of `map`/`run`: NDJSON per type, member transaction Bundles, errors, findings, summary.

Bundles need each member's resources together. Up to PARTITION_SIZE mapped resources are held in
memory; past that they go, as they are written, straight to temporary files chosen by a hash of the
member, so each member lies whole in one file and the files are grouped in memory one at a time:
memory stays bounded however large the input is, and nothing is read twice. No clock time, no absolute path and a
fixed key order: the same input gives byte-identical files.
"""
from __future__ import annotations

import os
import re
import tempfile
import uuid
import zlib
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import orjson

from fhiradapter.ids import NAMESPACE
from fhiradapter.mapping.errorfile import to_outcome

SHARED = "000-shared"   # sorts first: `send` delivers the shared resources before the members'


def bundle_name(member: str | None, part: int) -> str:
    """bundles/ file of a member's Bundle: `Patient-<id>.json` (the member reference that findings.ndjson,
    report.html and `status` print, with '-' for '/'); a member too large for one Bundle continues in
    `Patient-<id>.part2.json`, ... Shared resources: `000-shared.json`."""
    stem = member.replace("/", "-", 1) if member else SHARED
    return f"{stem}.json" if part == 1 else f"{stem}.part{part}.json"
PARTITION_SIZE = 20_000   # resources grouped in memory at once when writing bundles
MAX_PARTITIONS = 256      # temporary files once spilled; beyond ~5 million resources partitions grow instead

MemberHook = Callable[[str | None, list[dict[str, Any]]], None]

# Member-less resources that program rules read beside every member's record (qualified
# practitioners, provider numbers, team rosters). Few per agency, so they are kept in memory.
SHARED_CONTEXT_TYPES = frozenset({"Organization", "Practitioner", "PractitionerRole", "Location", "Group"})


def dumps_line(obj: Any) -> bytes:
    return orjson.dumps(obj) + b"\n"


def dumps_pretty(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_INDENT_2) + b"\n"


class OutputPathError(OSError):
    """The output folder holds something we must not write through (a symbolic link)."""


# Names of the files we write: resource types and ids we generate or check (R4 id: [A-Za-z0-9-.]{1,64}),
# so a value from a record can never choose a path; and nothing is opened through a symbolic link.
_FILE_NAME = re.compile(r"[A-Za-z0-9.\-]{1,80}\.(?:ndjson|json|tmp)")
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def output_dir(path: Path) -> Path:
    """A folder of the output that is a real folder, not a link to somewhere else (created if missing)."""
    if path.is_symlink():
        raise OutputPathError(f"{path} is a symbolic link; refusing to write through it (remove it)")
    path.mkdir(parents=True, exist_ok=True)
    if not path.is_dir():
        raise OutputPathError(f"{path} is not a folder")
    return path


def open_output(folder: Path, name: str) -> Any:
    """A new file `name` in `folder` (a checked output folder), for writing bytes; never through a link."""
    if not _FILE_NAME.fullmatch(name):
        raise OutputPathError(f"refusing to write a file named {name!r}")
    path = folder / name
    if path.is_symlink():
        path.unlink()   # a planted link: remove the link itself, never write to where it points
    return os.fdopen(os.open(path, _OPEN_FLAGS, 0o666), "wb")


def clear_previous(out: Path) -> None:
    """Remove the files a previous run wrote (only ours, only inside OUT), so nothing stale survives."""
    for folder, suffix in (("ndjson", ".ndjson"), ("bundles", ".json")):
        sub = out / folder
        if sub.is_symlink():
            raise OutputPathError(f"{sub} is a symbolic link; refusing to delete or write through it (remove it)")
        if sub.is_dir():
            for path in sub.iterdir():
                if path.name.endswith(suffix) and (path.is_symlink() or path.is_file()):
                    path.unlink()   # a link is removed itself; its target is never touched
    for name in ("errors.ndjson", "findings.ndjson", "summary.json", "summary.json.tmp", "output.json",
                 "report.html"):
        path = out / name
        if path.is_symlink() or path.is_file():
            path.unlink()


class OutputWriter:
    def __init__(self, out: Path, *, bundles: bool = True, max_entries: int = 500, method: str = "put",
                 agency: str = "agency", provenance_time: str | None = None, mapping_label: str = "mapping",
                 keep_resources: bool = False):
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        clear_previous(out)
        self._ndjson_dir = output_dir(out / "ndjson")
        self._ndjson: dict[str, Any] = {}
        self.counts: dict[str, int] = {}
        self.errors = open_output(out, "errors.ndjson")
        self.error_count = 0   # OperationOutcome lines written (rows rejected + whole-file problems)
        self.bundles = bundles
        self.max_entries = max(1, max_entries)
        # one Provenance per Bundle (opt-in); its time is given, never the clock, so output stays reproducible
        self.provenance_time = provenance_time
        self.mapping_label = mapping_label
        if provenance_time and self.max_entries > 1:
            self.max_entries -= 1   # room for the Provenance entry
        self.method = method
        self.agency = agency
        self.bundle_count = 0
        # Up to PARTITION_SIZE resources are held in memory (what one partition holds anyway) and
        # only a larger run is spooled to disk; keep_resources also holds the resource dicts, so
        # program rules need not parse them back (they are not changed after being written).
        self._held: list[tuple[Any, ...]] | None = [] if bundles else None
        self._keep_resources = keep_resources
        self._spool: list[Any] | None = None   # the member partitions, once spilled
        self._spooled = 0
        self.shared_context: list[dict[str, Any]] = []
        self._dropped: set[tuple[str, str]] = set()   # (type, id) held back after writing (drop())

    # -- streaming part -------------------------------------------------------------------------
    def write_resource(self, resource: dict[str, Any], member: str | None, identifier: tuple[str, str],
                       line: bytes | None = None) -> None:
        """Write one resource; `line` is its serialization when the caller already made it."""
        resource_type = resource["resourceType"]
        handle = self._ndjson.get(resource_type)
        if handle is None:
            handle = self._ndjson[resource_type] = open_output(self._ndjson_dir, f"{resource_type}.ndjson")
        if line is None:
            line = orjson.dumps(resource)
        handle.write(line + b"\n")
        self.counts[resource_type] = self.counts.get(resource_type, 0) + 1
        if not member and resource_type in SHARED_CONTEXT_TYPES:
            self.shared_context.append(resource)
        if self._held is not None:
            self._held.append((member or "", identifier[0], identifier[1], resource_type, resource["id"], line,
                               resource if self._keep_resources else None))
            self._spooled += 1
            if len(self._held) > PARTITION_SIZE:
                self._spool_held()
        elif self._spool is not None:
            self._spool_one(member or "", identifier[0], identifier[1], resource_type, resource["id"], line)
            self._spooled += 1

    def _spool_one(self, member: str, system: str, value: str, resource_type: str, rid: str, line: bytes) -> None:
        # [member, system, value, type, id] TAB resource: orjson escapes tabs inside strings, so
        # the first raw tab byte always ends the head; bundles reuse the serialized resource
        head = orjson.dumps([member, system, value, resource_type, rid])
        parts = self._spool
        assert parts is not None   # called once spilled
        part = parts[zlib.crc32(member.encode()) % len(parts)]
        part.write(head + b"\t" + line + b"\n")

    def _spool_held(self) -> None:
        """Too many resources to hold: from here on they go to the member partitions (in the same order)."""
        held, self._held = self._held, None
        self._spool = [tempfile.TemporaryFile(prefix="fhiradapter-part-") for _ in range(MAX_PARTITIONS)]
        for item in held or ():
            self._spool_one(*item[:6])

    def write_error(self, record: dict[str, Any]) -> None:
        """One rejected row (or file problem), written as an OperationOutcome (errorfile.py)."""
        self.errors.write(dumps_line(to_outcome(record)))
        self.error_count += 1

    @property
    def dropped(self) -> set[tuple[str, str]]:
        """(type, id) of the resources already taken out (a copy)."""
        return set(self._dropped)

    def drop(self, keys: set[tuple[str, str]], on_drop: Callable[[dict[str, Any]], None] | None = None) -> None:
        """Take written resources ((type, id)) out of the output, before the Bundles are written: the
        NDJSON files of their types are rewritten without them and the Bundles skip them (orphans.py).
        on_drop: called with each resource taken out of an NDJSON file."""
        if not keys:
            return
        self._dropped |= keys
        for resource_type in sorted({kind for kind, _ in keys}):
            handle = self._ndjson.pop(resource_type, None)
            if handle is None:
                continue
            handle.close()
            path = self.out / "ndjson" / f"{resource_type}.ndjson"
            tmp = path.with_suffix(".ndjson.tmp")
            kept = 0
            with open(path, "rb") as src, open(tmp, "wb") as dst:
                head = b'{"resourceType":"' + resource_type.encode() + b'","id":"'
                for line in src:
                    rid = _line_id(line, head)
                    if rid is None:   # not a line as the mapper writes it: read it whole
                        resource = orjson.loads(line)
                        rid = resource.get("id")
                    else:
                        resource = None
                    if (resource_type, rid) not in keys:
                        dst.write(line)
                        kept += 1
                    elif on_drop is not None:
                        on_drop(resource if resource is not None else orjson.loads(line))
            os.replace(tmp, path)
            if kept:
                self.counts[resource_type] = kept
                self._ndjson[resource_type] = open(path, "ab")
            else:
                self.counts.pop(resource_type, None)
                path.unlink()
        self.shared_context = [r for r in self.shared_context if (r["resourceType"], r["id"]) not in keys]

    # -- bundles --------------------------------------------------------------------------------
    def _partitions(self) -> Iterator[Iterable[bytes]]:
        assert self._spool is not None
        for part in self._spool:
            if part.tell():
                part.seek(0)
                yield part
            part.close()

    def finish_bundles(self, on_member: MemberHook | None = None) -> None:
        """Write bundles/ (and call on_member for each member's resources, e.g. program rules)."""
        if self._spool is None and self._held is None:
            return
        bundle_dir = output_dir(self.out / "bundles")
        for groups in self._groups():
            for member, items in groups.items():
                # the member's Patient first, then input order
                items.sort(key=lambda e: 0 if (member and e[0] == "Patient" and f"Patient/{e[1]}" == member) else 1)
                if on_member is not None:
                    if getattr(on_member, "takes_lines", False):   # it parses what it needs (parallel.py)
                        on_member(member or None, [item[4] for item in items])
                    else:
                        for item in items:
                            if item[5] is None:
                                item[5] = orjson.loads(item[4])
                        on_member(member or None, [item[5] for item in items])
                for n, start in enumerate(range(0, len(items), self.max_entries), start=1):
                    name = bundle_name(member, n)
                    with open_output(bundle_dir, name) as handle:
                        handle.write(self._bundle(name, items[start:start + self.max_entries]))
                    self.bundle_count += 1
        self._held = None
        self._close_spool()

    def _close_spool(self) -> None:
        for part in self._spool or ():
            part.close()
        self._spool = None

    def _groups(self) -> Iterator[dict[str, list[list[Any]]]]:
        """Member -> [type, id, system, value, serialized resource, parsed resource or None], in
        input order, one partition at a time."""
        if self._held is not None:
            groups: dict[str, list[list[Any]]] = {}
            for member, system, value, resource_type, rid, body, parsed in self._held:
                if self._dropped and (resource_type, rid) in self._dropped:
                    continue
                groups.setdefault(member, []).append([resource_type, rid, system, value, body, parsed])
            self._held = None
            yield groups
            return
        for part in self._partitions():
            groups = {}
            for raw in part:
                head, body = raw.rstrip(b"\n").split(b"\t", 1)
                member, system, value, resource_type, rid = orjson.loads(head)
                if self._dropped and (resource_type, rid) in self._dropped:
                    continue
                groups.setdefault(member, []).append([resource_type, rid, system, value, body, None])
            yield groups
            del groups

    def _provenance(self, name: str, chunk: list[list[Any]]) -> list[Any]:
        pid = str(uuid.uuid5(NAMESPACE, f"{self.agency}|Provenance|{name}"))
        resource = {
            "resourceType": "Provenance", "id": pid,
            "target": [{"reference": f"{item[0]}/{item[1]}"} for item in chunk],
            "recorded": self.provenance_time,
            "agent": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                                            "code": "assembler"}]},
                       "who": {"display": f"fhiradapter mapping {self.mapping_label}"}}],
        }
        handle = self._ndjson.get("Provenance")
        if handle is None:
            handle = self._ndjson["Provenance"] = open_output(self._ndjson_dir, "Provenance.ndjson")
        body = orjson.dumps(resource)
        handle.write(body + b"\n")
        self.counts["Provenance"] = self.counts.get("Provenance", 0) + 1
        return ["Provenance", pid, f"urn:fhiradapter:provenance:{self.agency}", name, body, resource]

    def _bundle(self, name: str, chunk: list[list[Any]]) -> bytes:
        """A transaction Bundle as bytes, built around the already serialized resources."""
        if self.provenance_time:
            chunk = chunk + [self._provenance(name, chunk)]
        post = self.method == "post"
        local = {f"{item[0]}/{item[1]}" for item in chunk} if post else set()
        entries = []
        for resource_type, rid, system, value, body, parsed in chunk:
            if post:
                resource = _rewrite_local_refs(parsed if parsed is not None else orjson.loads(body), local)
                request = {"method": "POST", "url": resource_type, "ifNoneExist": f"identifier={system}|{value}"}
                body = orjson.dumps(resource)
            else:
                request = {"method": "PUT", "url": f"{resource_type}/{rid}"}
            entries.append(b'{"fullUrl":"urn:uuid:' + rid.encode() + b'","resource":' + body
                           + b',"request":' + orjson.dumps(request) + b"}")
        bundle_id = str(uuid.uuid5(NAMESPACE, f"{self.agency}|Bundle|{name}"))
        return (b'{"resourceType":"Bundle","id":"' + bundle_id.encode() + b'","type":"transaction","entry":['
                + b",".join(entries) + b"]}\n")

    # -- end ------------------------------------------------------------------------------------
    def close(self) -> None:
        for handle in self._ndjson.values():
            handle.close()
        self._ndjson.clear()
        self.errors.close()
        self._held = None
        self._close_spool()


def _line_id(line: bytes, head: bytes) -> str | None:
    """The id of a resource line that starts with its resourceType and id, as the mapper writes
    them (an id is [A-Za-z0-9-.], never escaped), without parsing the line; None otherwise."""
    if not line.startswith(head):
        return None
    end = line.find(b'"', len(head))
    return line[len(head):end].decode("ascii") if end > 0 else None


def _rewrite_local_refs(value: Any, local: set[str]) -> Any:
    """References to entries of the same Bundle -> their urn:uuid fullUrl (POST: the server assigns ids)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "reference" and isinstance(item, str) and item in local:
                out[key] = "urn:uuid:" + item.split("/", 1)[1]
            else:
                out[key] = _rewrite_local_refs(item, local)
        return out
    if isinstance(value, list):
        return [_rewrite_local_refs(v, local) for v in value]
    return value


def write_json(path: Path, obj: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open_output(path.parent, tmp.name) as handle:
        handle.write(dumps_pretty(obj))
    os.replace(tmp, path)   # replaces a link named like the file, never its target
