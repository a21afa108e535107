"""`meta.source` of mapped resources: where a resource came from (docs/design.md).

Format: ``urn:fhiradapter:{mapping-id}:{mapping-version}:{file}:{line}`` with `file` percent-encoded
(so it holds no ':'), mapping id and version restricted to characters without ':'. The exchange uses
`parse_source` to trace a server error back to the input file and row.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote
from typing import Any

PREFIX = "urn:fhiradapter:"
_PART = re.compile(r"^[0-9A-Za-z.+_-]+$")


@dataclass(frozen=True, slots=True)
class SourceRef:
    mapping_id: str
    mapping_version: str
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


def build_source(mapping_id: str, mapping_version: str, file: str, line: int) -> str:
    """The meta.source URI for a resource mapped from `file` at `line` (1-based)."""
    for label, part in (("mapping id", mapping_id), ("mapping version", mapping_version)):
        if not _PART.match(part):
            raise ValueError(f"{label} {part!r} may hold only letters, digits and . + _ -")
    if line < 1:
        raise ValueError("line must be >= 1")
    return f"{PREFIX}{mapping_id}:{mapping_version}:{quote(file, safe='/')}:{line}"


def parse_source(value: object) -> SourceRef | None:
    """The origin recorded in a meta.source value, or None when it is not one of ours."""
    if not isinstance(value, str) or not value.startswith(PREFIX):
        return None
    parts = value[len(PREFIX):].split(":")
    if len(parts) != 4 or not parts[3].isdigit():
        return None
    mapping_id, version, file, line = parts
    if not (_PART.match(mapping_id) and _PART.match(version)) or not file or int(line) < 1:
        return None
    return SourceRef(mapping_id, version, unquote(file), int(line))


def source_of(resource: dict[str, Any]) -> SourceRef | None:
    """parse_source(resource.meta.source), tolerant of resources without meta."""
    meta = resource.get("meta") if isinstance(resource, dict) else None
    return parse_source(meta.get("source")) if isinstance(meta, dict) else None
