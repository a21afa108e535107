"""Hold back what depends on a missing resource (issue 12, defect 1: no orphan Bundles).

While `map`/`run` write resources, `ReferenceGraph` notes each resource's row and the resources it
references; rejected rows note the resources they would have made. At the end `held_back()` names every
row whose resources reference a resource that no output contains (a rejected row's, or one a template
references but nothing maps), and, transitively, the rows that reference those. A row is atomic: one
held resource holds back its whole row.
"""
from __future__ import annotations

import re
from array import array
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from fhiradapter.mapping.refstore import DiskGraph
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


def template_references(shape: Any, resource: dict[str, Any]) -> list[tuple[str, str]]:
    """references(resource), walking only where its template can put one (Template.refs, from
    compiler.reference_shape): the same list in the same order, without visiting meta, codings,
    periods and identifiers on every row (issue 18: the whole walk was ~20 % of mapping a row)."""
    found: list[tuple[str, str]] = []
    if shape is True:
        _collect(resource, "", found)
    elif shape:
        _walk(resource, shape, found)
    return found


def reference_reader(shape: Any) -> Callable[[dict[str, Any]], list[tuple[str, str]]]:
    """template_references(shape, ·) as one generated function (compiled once per template, like the
    mapper's fast path): the shape's elements become straight-line lookups. Only element names and paths
    of the mapping go into its text."""
    if shape is True or not shape:
        return lambda resource: template_references(shape, resource)
    names: dict[str, Any] = {"match": _RELATIVE.match, "collect": _collect, "walk": _walk}
    lines = ["def read(r):", "    found = []"]
    count = [0]

    def var() -> str:
        count[0] += 1
        return f"v{count[0]}"

    def emit(shape: Any, value: str, indent: str, loop: bool) -> None:
        shape_name = f"s{id(shape)}"
        names[shape_name] = shape
        lines.append(f"{indent}if isinstance({value}, dict):")
        inner = indent + "    "
        for key, path, below in shape:
            item = var()
            lines.append(f"{inner}{item} = {value}.get({key!r})")
            if key == "reference":
                lines.append(f"{inner}if isinstance({item}, str):")
                lines.append(f"{inner}    if match({item}): found.append(({path!r}, {item}))")
                if below is None:
                    continue
                path = f"{path}.reference" if path else "reference"
                lines.append(f"{inner}elif isinstance({item}, (dict, list)):")
            elif below is None:
                continue
            else:
                lines.append(f"{inner}if isinstance({item}, (dict, list)):")
            if below is True:
                lines.append(f"{inner}    collect({item}, {path!r}, found)")
            else:
                emit(below, item, inner + "    ", True)
        if loop:   # a list of such values: each item the same way (a list in a list: the general walk)
            each = var()
            lines.append(f"{indent}elif isinstance({value}, list):")
            lines.append(f"{indent}    for {each} in {value}:")
            emit(shape, each, indent + "        ", False)
        else:
            lines.append(f"{indent}elif isinstance({value}, list): walk({value}, {shape_name}, found)")

    emit(shape, "r", "    ", False)
    lines.append("    return found")
    namespace = dict(names)
    exec(compile("\n".join(lines) + "\n", "<references>", "exec"), namespace)  # noqa: S102 - from the template's shape
    reader: Callable[[dict[str, Any]], list[tuple[str, str]]] = namespace["read"]
    return reader


def _walk(value: Any, shape: Any, found: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, path, below in shape:
            item = value.get(key)
            if item is None:
                continue
            if key == "reference":   # `path` is the parent's here, as _collect names it
                if isinstance(item, str):
                    if _RELATIVE.match(item):
                        found.append((path, item))
                    continue
                path = f"{path}.reference" if path else "reference"
            if below is not None and isinstance(item, (dict, list)):
                if below is True:
                    _collect(item, path, found)
                else:
                    _walk(item, below, found)
    elif isinstance(value, list):
        for item in value:
            _walk(item, shape, found)


@dataclass
class Held:
    """Why a row is held back: the element of its resource and the missing resource's story."""
    element: str          # e.g. "Encounter.subject"
    target: str           # 'Type/id' the element references
    because: str          # "depends on members.csv:8" or "... which no output contains"


# resources the graph keeps in memory (~270 bytes each); past this it moves to disk (refstore.py), so a
# run's memory stays flat however many rows it maps (issue 18)
MEMORY_NODES = 50_000
_NO_LINE = -(2 ** 62)   # a row without a line number (a whole-file JSON record, a constant resource)
NOT_WRITTEN = object()   # ReferenceGraph.written_line of a resource no row wrote


class ReferenceGraph:
    """Per resource a few machine integers (issue 18: a tuple per row and per reference made mapping
    memory grow ~1 KB a row): the row of a written node as indexes into flat arrays, the edges as
    (source, target, element) triples of one array, element names once each. Past MEMORY_NODES
    resources all of it but the file and element names moves to a DiskGraph (refstore.py)."""

    def __init__(self, memory_nodes: int | None = None) -> None:
        self._memory_nodes = MEMORY_NODES if memory_nodes is None else memory_nodes
        self._disk: DiskGraph | None = None
        self._index: dict[str, int] = {}   # 'Type/id' -> node
        self._keys: list[str] = []
        self._file: array[int] = array("l")     # node -> index into _files, -1: not written
        self._line: array[int] = array("q")     # node -> line of its row (_NO_LINE: none)
        self._pointer: dict[int, str] = {}      # node -> record pointer of its row, where there is one
        self._order: array[int] = array("l")    # written nodes in the order they were first written
        self._files: list[str] = []
        self._file_index: dict[str, int] = {}
        self._edges: array[int] = array("l")    # source, target, element, source, target, element, ...
        self._elements: list[str] = []          # element -> "Type.path"
        self._element_index: dict[tuple[Any, str], int] = {}
        self._rejected: dict[int, Row] = {}     # node a rejected row would have made -> row

    def _node(self, key: str) -> int:
        found = self._index.get(key)
        if found is None:
            found = self._index[key] = len(self._keys)
            self._keys.append(key)
            self._file.append(-1)
            self._line.append(_NO_LINE)
        return found

    def written_line(self, key: str) -> int | None | object:
        """The line of the row that wrote resource `key` ('Type/id'), or NOT_WRITTEN."""
        if self._disk is not None:
            found = self._disk.lookup(key)
            return NOT_WRITTEN if found is None else found[1]
        node = self._index.get(key)
        if node is None or self._file[node] < 0:
            return NOT_WRITTEN
        line = self._line[node]
        return None if line == _NO_LINE else line

    def _is_written(self, node: int) -> bool:
        return self._file[node] >= 0

    def _row(self, node: int) -> Row:
        line = self._line[node]
        return self._files[self._file[node]], None if line == _NO_LINE else line, self._pointer.get(node)

    def written(self, resource: dict[str, Any], file: str | None = None, line: int | None = None,
                pointer: str | None = None, refs: list[tuple[str, str]] | None = None) -> None:
        """refs: references(resource), when the caller found them already (template_references, or a
        worker process with --jobs)."""
        kind = resource.get("resourceType")
        if self._disk is None and len(self._keys) >= self._memory_nodes:
            self._spill()
        if file is None:
            origin = source_of(resource)
            file, line = (origin.file, origin.line) if origin is not None else ("", None)
        name = file or ""
        at = self._file_index.get(name)
        if at is None:
            at = self._file_index[name] = len(self._files)
            self._files.append(name)
        elements = self._element_index
        if self._disk is not None:
            self._disk.written(f"{kind}/{resource.get('id')}", at, line, pointer,
                               ((target, self._element(elements, kind, element))
                                for element, target in (references(resource) if refs is None else refs)))
            return
        node = self._node(f"{kind}/{resource.get('id')}")
        if self._file[node] < 0:
            self._order.append(node)
        self._file[node] = at
        self._line[node] = _NO_LINE if line is None else line
        if pointer is not None:
            self._pointer[node] = pointer
        else:
            self._pointer.pop(node, None)
        edges = self._edges
        for element, target in (references(resource) if refs is None else refs):
            number = elements.get((kind, element))
            if number is None:
                number = self._element(elements, kind, element)
            edges.extend((node, self._node(target), number))

    def _element(self, elements: dict[tuple[Any, str], int], kind: Any, element: str) -> int:
        number = elements.get((kind, element))
        if number is None:   # one text per element of a type, not one per reference
            number = elements[(kind, element)] = len(self._elements)
            self._elements.append(f"{kind}.{element}")
        return number

    def _spill(self) -> None:
        """Move the graph to disk, in the same order, and free the memory."""
        disk = self._disk = DiskGraph()
        keys, pointers = self._keys, self._pointer
        for node in self._order:
            at = self._line[node]
            disk.written(keys[node], self._file[node], None if at == _NO_LINE else at, pointers.get(node), iter(()))
        edges = self._edges
        for at in range(0, len(edges), 3):
            disk.edge(keys[edges[at]], keys[edges[at + 1]], edges[at + 2])
        for node, row in self._rejected.items():
            disk.rejected(keys[node], *row)
        self._index, self._keys, self._pointer, self._rejected = {}, [], {}, {}
        self._file, self._line, self._order, self._edges = array("l"), array("q"), array("l"), array("l")

    def close(self) -> None:
        """Remove the scratch file of a graph that went to disk."""
        if self._disk is not None:
            self._disk.close()

    def _edge_list(self) -> Iterator[tuple[int, int, str]]:
        edges, names = self._edges, self._elements
        for at in range(0, len(edges), 3):
            yield edges[at], edges[at + 1], names[edges[at + 2]]

    def rejected(self, key: str, file: str, line: int | None, pointer: str | None = None) -> None:
        """A rejected row would have made resource `key` ('Type/id')."""
        if self._disk is None and len(self._keys) >= self._memory_nodes:
            self._spill()
        if self._disk is not None:
            self._disk.rejected(key, file, line, pointer)
            return
        self._rejected.setdefault(self._node(key), (file, line, pointer))

    def held_back(self, mapped_types: set[str] | frozenset[str]) -> dict[Row, Held]:
        """Rows to take out of the output, with the reason (first found) of each. A reference to a type
        no template of the mapping makes points at a resource the server already has (e.g. a payer's
        Organization): it is not the mapper's to hold back."""
        if self._disk is not None:
            return self._disk_held_back(mapped_types)
        held: dict[int, Held] = {}
        for source, target, element in self._edge_list():
            if not self._is_written(target) and source not in held:
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
        if self._disk is not None:
            return self._disk_hold(seeds, element)
        held = {self._index[key]: Held(f"{key.split('/', 1)[0]}.{element}", key, because)
                for key, because in seeds.items() if key in self._index and self._is_written(self._index[key])}
        self._propagate(held, whole_rows=False)
        rows: dict[Row, Held] = {}
        for node, why in held.items():
            rows.setdefault(self._row(node), why)
        keys = set()
        for node in held:
            kind, _, rid = self._keys[node].partition("/")
            keys.add((kind, rid))
        partial = set()
        for node in self._order:
            if node not in held:
                row = self._row(node)
                if row in rows:
                    partial.add(row)
        whole = set(rows) - partial
        return rows, keys, whole

    def _propagate(self, held: dict[int, Held], whole_rows: bool = True) -> dict[Row, Held]:
        if not held:
            return {}
        rows: dict[Row, Held] = {}
        nodes_of: dict[Row, list[int]] = {}
        if whole_rows:
            for node in self._order:
                nodes_of.setdefault(self._row(node), []).append(node)
        edges = list(self._edge_list())
        changed = True
        while changed:
            changed = False
            for node, why in list(held.items()) if whole_rows else ():   # a row goes whole
                row = self._row(node)
                if row not in rows:
                    rows[row] = why
                    for other in nodes_of[row]:
                        if other not in held:
                            held[other] = why
                            changed = True
            for source, target, element in edges:   # and what references it follows
                if target in held and source not in held:
                    held[source] = Held(element, self._keys[target], held[target].because)
                    changed = True
        return rows

    def held_keys(self, rows: dict[Row, Held]) -> set[tuple[str, str]]:
        """(type, id) of every resource of the held rows."""
        if self._disk is not None:
            return self._disk_held_keys(rows)
        found = set()
        for node in self._order:
            if self._row(node) in rows:
                kind, _, rid = self._keys[node].partition("/")
                found.add((kind, rid))
        return found

    # -- the same questions, answered on disk (the same order: the same verdicts and reasons) ----
    def _named(self, row: tuple[int, int | None, str | None]) -> Row:
        return self._files[row[0]], row[1], row[2]

    def _disk_held_back(self, mapped_types: set[str] | frozenset[str]) -> dict[Row, Held]:
        assert self._disk is not None
        held: dict[str, Held] = {}
        for source, target, element, row in self._disk.missing_targets():
            if source not in held:
                if row is None and target.split("/", 1)[0] not in mapped_types:
                    continue
                because = (f"depends on {_where(row)}" if row is not None
                           else f"depends on {target}, which no output contains")
                held[source] = Held(self._elements[element], target, because)
        return self._disk_propagate(held)

    def _disk_propagate(self, held: dict[str, Held], whole_rows: bool = True) -> dict[Row, Held]:
        disk = self._disk
        assert disk is not None
        if not held:
            return {}
        rows: dict[Row, Held] = {}
        changed = True
        while changed:
            changed = False
            for key, why in list(held.items()) if whole_rows else ():   # a row goes whole
                raw = disk.row_of(key)
                row = self._named(raw)
                if row not in rows:
                    rows[row] = why
                    for other in disk.keys_of_row(*raw):
                        if other not in held:
                            held[other] = why
                            changed = True
            names = self._elements
            for source, target, element in disk.edges():   # and what references it follows
                if target in held and source not in held:
                    held[source] = Held(names[element], target, held[target].because)
                    changed = True
        return rows

    def _disk_hold(self, seeds: dict[str, str], element: str
                   ) -> tuple[dict[Row, Held], set[tuple[str, str]], set[Row]]:
        disk = self._disk
        assert disk is not None
        held = {key: Held(f"{key.split('/', 1)[0]}.{element}", key, because)
                for key, because in seeds.items() if disk.is_written(key)}
        self._disk_propagate(held, whole_rows=False)
        rows: dict[Row, Held] = {}
        raws = set()
        for key, why in held.items():
            raw = disk.row_of(key)
            raws.add(raw)
            rows.setdefault(self._named(raw), why)
        keys = set()
        for key in held:
            kind, _, rid = key.partition("/")
            keys.add((kind, rid))
        partial = {self._named(raw) for raw in raws if any(other not in held for other in disk.keys_of_row(*raw))}
        return rows, keys, set(rows) - partial

    def _disk_held_keys(self, rows: dict[Row, Held]) -> set[tuple[str, str]]:
        assert self._disk is not None
        found = set()
        for file, line, pointer in rows:
            number = self._file_index.get(file)
            if number is None:
                continue
            for key in self._disk.keys_of_row(number, line, pointer):
                kind, _, rid = key.partition("/")
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
