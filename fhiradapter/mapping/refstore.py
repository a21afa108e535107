"""The reference graph of a large run on disk (issue 18: mapping memory flat at 1,000,000 rows).

orphans.ReferenceGraph keeps the first MEMORY_NODES resources in memory (a few hundred bytes each);
past that it moves everything here: an SQLite file in the temporary folder, keyed by the 'Type/id'
text (exact: no hash can make two resources one), with a bounded page cache. The questions are the
same as in memory and answered in the same order (edges in the order written), so the verdicts are
the same whichever side answers them.
"""
from __future__ import annotations

import os
import sqlite3
import tempfile
import weakref
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from fhiradapter.mapping.orphans import Row

_SCHEMA = """
CREATE TABLE nodes (key TEXT PRIMARY KEY, file INTEGER NOT NULL, line INTEGER, pointer TEXT);
CREATE TABLE edges (source TEXT NOT NULL, target TEXT NOT NULL, element INTEGER NOT NULL);
CREATE TABLE rejected (key TEXT PRIMARY KEY, file TEXT NOT NULL, line INTEGER, pointer TEXT);
"""
# a one-bit-per-slot filter of the written keys (4 MB): a key whose bit is clear was never written, so
# the duplicate check of a new resource needs no query (at 1,000,000 keys ~3 % of them still ask)
_FILTER_BITS = 1 << 25
_BATCH = 4096   # rows buffered before one executemany (a statement per resource costs more than the mapping)


class DiskGraph:
    """Written resources (nodes, in the order first written: their rowid), references (edges, in the
    order written) and rejected rows' resources. Files and element names stay in ReferenceGraph."""

    def __init__(self) -> None:
        handle, self._path = tempfile.mkstemp(prefix="fhiradapter-refs-", suffix=".sqlite")
        os.close(handle)
        self._db = sqlite3.connect(self._path, isolation_level=None)
        # a scratch file: no journal, no fsync, a bounded page cache (8 MB)
        self._db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-8192;"
                               "PRAGMA temp_store=FILE;" + _SCHEMA)
        self._db.execute("BEGIN")
        self._nodes: dict[str, tuple[int, int | None, str | None]] = {}   # pending: key -> (file, line, pointer)
        self._edges: list[tuple[str, str, int]] = []
        self._indexed = False
        self._unwritten: str | None = None
        self._filter = bytearray(_FILTER_BITS >> 3)
        self._finalizer = weakref.finalize(self, _remove, self._db, self._path)

    def close(self) -> None:
        """Remove the scratch file (also done when the graph is collected: a run that failed half-way)."""
        self._finalizer()

    # -- while mapping --------------------------------------------------------------------------
    def lookup(self, key: str) -> tuple[int, int | None] | None:
        """(file, line) of written resource `key`, or None."""
        pending = self._nodes.get(key)
        if pending is not None:
            return pending[0], pending[1]
        bit = hash(key) & (_FILTER_BITS - 1)
        if not self._filter[bit >> 3] & (1 << (bit & 7)):
            self._unwritten = key
            return None
        found = self._db.execute("SELECT file, line FROM nodes WHERE key = ?", (key,)).fetchone()
        self._unwritten = key if found is None else None   # written() next asks the same (the duplicate check)
        return None if found is None else (found[0], found[1])

    def written(self, key: str, file: int, line: int | None, pointer: str | None,
                edges: Iterator[tuple[str, int]]) -> None:
        if key in self._nodes:   # written again: its place in the order stays the first one's
            self._nodes[key] = (file, line, pointer)
        elif key != self._unwritten and self.lookup(key) is not None:
            self._flush()
            self._db.execute("UPDATE nodes SET file = ?, line = ?, pointer = ? WHERE key = ?",
                             (file, line, pointer, key))
        else:
            self._nodes[key] = (file, line, pointer)
            bit = hash(key) & (_FILTER_BITS - 1)
            self._filter[bit >> 3] |= 1 << (bit & 7)
        self._unwritten = None
        self._edges.extend((key, target, element) for target, element in edges)
        if len(self._nodes) >= _BATCH or len(self._edges) >= 4 * _BATCH:
            self._flush()

    def edge(self, source: str, target: str, element: int) -> None:
        self._edges.append((source, target, element))
        if len(self._edges) >= 4 * _BATCH:
            self._flush()

    def rejected(self, key: str, file: str, line: int | None, pointer: str | None) -> None:
        self._db.execute("INSERT OR IGNORE INTO rejected VALUES (?, ?, ?, ?)", (key, file, line, pointer))

    def _flush(self) -> None:
        if self._nodes:
            self._db.executemany("INSERT INTO nodes VALUES (?, ?, ?, ?)",
                                 ((k, f, n, p) for k, (f, n, p) in self._nodes.items()))
            self._nodes.clear()
        if self._edges:
            self._db.executemany("INSERT INTO edges VALUES (?, ?, ?)", self._edges)
            self._edges.clear()

    # -- at the end -----------------------------------------------------------------------------
    def _ready(self) -> None:
        self._flush()
        if not self._indexed:   # built once, after the last insert (cheaper than keeping it up to date)
            self._db.execute("CREATE INDEX nodes_row ON nodes (file, line)")
            self._indexed = True

    def edges(self) -> Iterator[tuple[str, str, int]]:
        """(source, target, element) in the order written."""
        self._ready()
        yield from self._db.execute("SELECT source, target, element FROM edges ORDER BY rowid")

    def missing_targets(self) -> Iterator[tuple[str, str, int, Row | None]]:
        """Edges (in order) whose target no row wrote, with the rejected row that would have made it."""
        self._ready()
        for source, target, element, file, line, pointer in self._db.execute(
                "SELECT e.source, e.target, e.element, r.file, r.line, r.pointer FROM edges e "
                "LEFT JOIN nodes n ON n.key = e.target LEFT JOIN rejected r ON r.key = e.target "
                "WHERE n.key IS NULL ORDER BY e.rowid"):
            yield source, target, element, (None if file is None else (file, line, pointer))

    def is_written(self, key: str) -> bool:
        self._ready()
        return self._db.execute("SELECT 1 FROM nodes WHERE key = ?", (key,)).fetchone() is not None

    def row_of(self, key: str) -> tuple[int, int | None, str | None]:
        """(file number, line, pointer) of written resource `key`."""
        self._ready()
        found = self._db.execute("SELECT file, line, pointer FROM nodes WHERE key = ?", (key,)).fetchone()
        assert found is not None   # asked only about written resources
        return found[0], found[1], found[2]

    def keys_of_row(self, file: int, line: int | None, pointer: str | None) -> list[str]:
        """The written resources of one row, in the order first written."""
        self._ready()
        return [key for (key,) in self._db.execute(
            "SELECT key FROM nodes WHERE file = ? AND line IS ? AND pointer IS ? ORDER BY rowid",
            (file, line, pointer))]

    def ordered(self) -> Iterator[tuple[str, int, int | None, str | None]]:
        """(key, file number, line, pointer) of every written resource, in the order first written."""
        self._ready()
        yield from self._db.execute("SELECT key, file, line, pointer FROM nodes ORDER BY rowid")



def _remove(db: sqlite3.Connection, path: str) -> None:
    db.close()
    try:
        os.unlink(path)
    except OSError:
        pass
