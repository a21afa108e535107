"""Hold back what depends on a missing resource (issue 12, defect 1: no orphan Bundles).

While `map`/`run` write resources, `ReferenceGraph` notes each resource's row and the resources it
references; rejected rows note the resources they would have made. At the end `held_back()` names every
row whose resources reference a resource that no output contains (a rejected row's, or one a template
references but nothing maps), and, transitively, the rows that reference those. A row is atomic: one
held resource holds back its whole row.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from fhiradapter.provenance import source_of

# a relative literal reference (absolute URLs and urn:uuid are not the mapper's, contained '#x' stays inside)
_RELATIVE = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")

Row = tuple[str, int | None, str | None]   # (file, line, record pointer of a JSON record or None)


def references(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(element path, 'Type/id') of every relative reference inside a resource."""
    found: list[tuple[str, str]] = []
    _collect(value, path, found)
    return iter(found)


def _collect(value: Any, path: str, found: list[tuple[str, str]]) -> None:
    # plain recursion into a list: nested generators cost a frame switch per level for every
    # reference and made this ~20 % of mapping a row to NDJSON (issue 18)
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                if _RELATIVE.match(item):
                    found.append((path, item))
            elif isinstance(item, (dict, list)):
                _collect(item, f"{path}.{key}" if path else key, found)
    elif isinstance(value, list):
        for item in value:
            _collect(item, path, found)


@dataclass
class Held:
    """Why a row is held back: the element of its resource and the missing resource's story."""
    element: str          # e.g. "Encounter.subject"
    target: str           # 'Type/id' the element references
    because: str          # "depends on members.csv:8" or "... which no output contains"


@dataclass
class ReferenceGraph:
    _index: dict[str, int] = field(default_factory=dict)       # 'Type/id' -> node
    _keys: list[str] = field(default_factory=list)
    _row: dict[int, Row] = field(default_factory=dict)          # written node -> its row
    _edges: list[tuple[int, int, str]] = field(default_factory=list)  # (source node, target node, element)
    _rejected: dict[int, Row] = field(default_factory=dict)     # node a rejected row would have made -> row

    def _node(self, key: str) -> int:
        found = self._index.get(key)
        if found is None:
            found = self._index[key] = len(self._keys)
            self._keys.append(key)
        return found

    def written(self, resource: dict[str, Any], file: str | None = None, line: int | None = None,
                pointer: str | None = None, refs: list[tuple[str, str]] | None = None) -> None:
        """refs: references(resource), when a worker process found them already (--jobs)."""
        kind = resource.get("resourceType")
        node = self._node(f"{kind}/{resource.get('id')}")
        if file is None:
            origin = source_of(resource)
            file, line = (origin.file, origin.line) if origin is not None else ("", None)
        self._row[node] = (file or "", line, pointer)
        for element, target in (references(resource) if refs is None else refs):
            self._edges.append((node, self._node(target), f"{kind}.{element}"))

    def rejected(self, key: str, file: str, line: int | None, pointer: str | None = None) -> None:
        """A rejected row would have made resource `key` ('Type/id')."""
        self._rejected.setdefault(self._node(key), (file, line, pointer))

    def held_back(self, mapped_types: set[str] | frozenset[str]) -> dict[Row, Held]:
        """Rows to take out of the output, with the reason (first found) of each. A reference to a type
        no template of the mapping makes points at a resource the server already has (e.g. a payer's
        Organization): it is not the mapper's to hold back."""
        held: dict[int, Held] = {}
        for source, target, element in self._edges:
            if target not in self._row and source not in held:
                row = self._rejected.get(target)
                if row is None and self._keys[target].split("/", 1)[0] not in mapped_types:
                    continue
                because = (f"depends on {_where(row)}" if row is not None
                           else f"depends on {self._keys[target]}, which no output contains")
                held[source] = Held(element, self._keys[target], because)
        return self._propagate(held)

    def hold(self, seeds: dict[str, str], element: str = "meta.security"
             ) -> tuple[dict[Row, Held], set[tuple[str, str]], set[Row]]:
        """Resources 'Type/id' of `seeds` may not go (value: why, e.g. a citation): they and everything
        that references them are taken out. Unlike a rejected row, the rest of their rows still goes (a
        member row's Patient may go where the diagnosis it also makes may not). Returns the rows touched
        with the reason, the (type, id) taken out, and the rows taken out whole."""
        held = {self._index[key]: Held(f"{key.split('/', 1)[0]}.{element}", key, because)
                for key, because in seeds.items() if key in self._index and self._index[key] in self._row}
        self._propagate(held, whole_rows=False)
        rows: dict[Row, Held] = {}
        for node, why in held.items():
            rows.setdefault(self._row[node], why)
        keys = set()
        for node in held:
            kind, _, rid = self._keys[node].partition("/")
            keys.add((kind, rid))
        partial = {self._row[node] for node in self._row if node not in held and self._row[node] in rows}
        whole = set(rows) - partial
        return rows, keys, whole

    def _propagate(self, held: dict[int, Held], whole_rows: bool = True) -> dict[Row, Held]:
        if not held:
            return {}
        rows: dict[Row, Held] = {}
        nodes_of: dict[Row, list[int]] = {}
        for node, row in self._row.items():
            nodes_of.setdefault(row, []).append(node)
        changed = True
        while changed:
            changed = False
            for node, why in list(held.items()) if whole_rows else ():   # a row goes whole
                row = self._row[node]
                if row not in rows:
                    rows[row] = why
                    for other in nodes_of[row]:
                        if other not in held:
                            held[other] = why
                            changed = True
            for source, target, element in self._edges:   # and what references it follows
                if target in held and source not in held:
                    held[source] = Held(element, self._keys[target], held[target].because)
                    changed = True
        return rows

    def held_keys(self, rows: dict[Row, Held]) -> set[tuple[str, str]]:
        """(type, id) of every resource of the held rows."""
        found = set()
        for node, row in self._row.items():
            if row in rows:
                kind, _, rid = self._keys[node].partition("/")
                found.add((kind, rid))
        return found


def _where(row: Row) -> str:
    where = f"{row[0]}:{row[1]}" if row[1] is not None else row[0]
    return f"{where} {row[2]}" if row[2] else where


def error_record(row: Row, why: Held) -> dict[str, Any]:
    """The errors.ndjson line of a held-back row (no record values: element and resource type only)."""
    kind = why.target.split("/", 1)[0]
    record: dict[str, Any] = {"file": row[0], "line": row[1]}
    if row[2]:
        record["record"] = row[2]
    return record | {"template": None, "stage": "held-back", "issues": [{
        "severity": "error", "code": "not-found", "expression": why.element,
        "message": f"{_where(row)}: held back: {why.because} ({why.element} references a {kind} that is not "
                   f"in the output)"}]}


def consent_error_record(row: Row, why: Held) -> dict[str, Any]:
    """The errors.ndjson line of a row held back because a resource may not go to the payer without the
    member's consent (fhiradapter/release.py); `because` is the citation of the state-limits row."""
    kind = why.target.split("/", 1)[0]
    if why.element.endswith(".meta.security"):
        text = f"{kind} may not go to a payer without the member's consent"
    else:
        text = f"{why.element} references a {kind} that may not go to a payer without the member's consent"
    record: dict[str, Any] = {"file": row[0], "line": row[1]}
    if row[2]:
        record["record"] = row[2]
    return record | {"template": None, "stage": "held-back", "issues": [{
        "severity": "error", "code": "security", "expression": why.element,
        "message": f"{_where(row)}: held back: {text} [{why.because}]"}]}
