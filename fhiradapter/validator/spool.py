"""Bounded memory for what `validate` must hold until the end of its input: the issues of an NDJSON
file whose member records are judged by program rules only after every file is read, and the rule
findings, which are reported in the order of each record's first resource.

Past a bound both go to temporary files (pickled chunks; a SQLite table for the sort), so memory stays
flat from 100,000 to 1,000,000 resources (issue 18) while the report comes out the same.
"""
from __future__ import annotations

import os
import pickle
import sqlite3
import tempfile
from typing import IO, Any, Iterable, Iterator

from ..outcome import Issue

IN_MEMORY = 5_000   # issues held in memory before the rest goes to disk (~1.4 KB each: ~7 MB)


class IssueSpool(list[Issue]):
    """A list of issues that keeps at most IN_MEMORY in memory: older ones are pickled, in chunks, to an
    anonymous temporary file. Iteration, len() and truth see every issue, in the order added; indexing
    and slicing see only those still in memory (nothing in the validator indexes a held Result)."""

    __slots__ = ("_file", "_spilled", "limit")

    def __init__(self, items: Iterable[Issue] = (), limit: int | None = None) -> None:
        super().__init__()
        self._file: IO[bytes] | None = None
        self._spilled = 0
        self.limit = IN_MEMORY if limit is None else limit
        self.extend(items)

    def append(self, issue: Issue) -> None:
        super().append(issue)
        if super().__len__() >= self.limit:
            self._spill()

    def extend(self, issues: Iterable[Issue]) -> None:
        super().extend(issues)
        if super().__len__() >= self.limit:
            self._spill()

    def _spill(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="fhiradapter-issues-")
        self._file.seek(0, os.SEEK_END)
        pickle.dump(list(super().__iter__()), self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._spilled += super().__len__()
        super().clear()

    def __iter__(self) -> Iterator[Issue]:
        if self._file is not None:
            self._file.flush()
            position = 0
            while position < self._file.seek(0, os.SEEK_END):
                self._file.seek(position)
                chunk: list[Issue] = pickle.load(self._file)
                position = self._file.tell()
                yield from chunk
        yield from super().__iter__()

    def __len__(self) -> int:
        return self._spilled + super().__len__()

    def __bool__(self) -> bool:
        return len(self) > 0

    def __reduce__(self) -> tuple[Any, ...]:   # pickled whole (e.g. to or from a worker process)
        return (IssueSpool, (list(self), self.limit))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, list) and list(self) == list(other)

    __hash__ = None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._spilled = 0
        super().clear()


class OrderedSpool:
    """Items put with a sort key, read back in key order (ties: order put), holding items of at most
    `limit` weight (e.g. issues) in memory: past it they go to a SQLite table in a temporary file,
    which sorts them on disk."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = IN_MEMORY if limit is None else limit
        self._memory: list[tuple[int, int, Any]] = []
        self._db: sqlite3.Connection | None = None
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._count = 0
        self._weight = 0

    def put(self, key: int, item: Any, weight: int = 1) -> None:
        self._memory.append((key, self._count, item))
        self._count += 1
        self._weight += weight
        if self._weight >= self.limit:
            self._flush()

    def _flush(self) -> None:
        if self._db is None:
            self._folder = tempfile.TemporaryDirectory(prefix="fhiradapter-findings-")
            self._db = sqlite3.connect(os.path.join(self._folder.name, "findings.db"))
            self._db.execute("PRAGMA journal_mode=OFF")
            self._db.execute("PRAGMA synchronous=OFF")
            self._db.execute("CREATE TABLE item (k INTEGER, n INTEGER, v BLOB)")
        self._db.executemany("INSERT INTO item VALUES (?, ?, ?)",
                             ((k, n, pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL)) for k, n, v in self._memory))
        self._memory = []
        self._weight = 0

    def __iter__(self) -> Iterator[Any]:
        if self._db is None:
            self._memory.sort(key=lambda t: (t[0], t[1]))
            for _, _, item in self._memory:
                yield item
            return
        self._flush()
        for (blob,) in self._db.execute("SELECT v FROM item ORDER BY k, n"):
            yield pickle.loads(blob)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None
        self._memory = []
