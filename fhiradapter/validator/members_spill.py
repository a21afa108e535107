"""NDJSON resources grouped into member records in bounded memory (issue 18).

`validate` with program rules must see each member's whole record, and a member's resources may be
anywhere in any of the input files. Up to `limit` resources are held in memory; past that, every
resource goes to one of a fixed number of temporary files chosen by a hash of its member key, so each
member's record lies whole in one file and the files are grouped one at a time. Peak memory is then
about one partition, whatever the input size (the resources themselves were ~10 KB each in memory).

Each resource carries its arrival number, so the records come out keyed by the arrival of their first
resource: the caller puts findings back in input order and the report does not depend on the spill.
"""
from __future__ import annotations

import hashlib
import tempfile
import zlib
from typing import IO, Any, Iterator

import orjson

from ..gcpolicy import keep_long_lived
from ..rules.window import LatestDate

IN_MEMORY = 5_000    # resources held before spilling (~10 KB each once parsed: ~50 MB)
KEEP_EVERY = 1_000   # held resources between gcpolicy.keep_long_lived calls
PARTITIONS = 256     # temporary files past that: ~4,000 resources each at 1,000,000
PARTITION_BYTES = 8 << 20   # a larger partition is split again before it is read (~50 MB parsed)


Item = tuple[str, int | None, dict[str, Any]]   # (source, line, resource)


class MemberGroups:
    """member key -> its resources (source, line, resource), in arrival order within the member."""

    def __init__(self, limit: int = IN_MEMORY, partitions: int = PARTITIONS) -> None:
        self.limit = limit
        self.partitions = partitions
        self.latest = LatestDate()      # the export's end, taken as resources arrive (not kept for later)
        self.count = 0
        self._held: dict[str, list[tuple[int, str, int | None, dict[str, Any]]]] | None = {}
        self._files: list[IO[bytes]] = []
        self._sources: dict[str, int] = {}
        self.spilled = False   # whether the bound was passed (the records went to temporary files)

    def add(self, member: str, source: str, line: int | None, resource: dict[str, Any]) -> None:
        self.latest.add(resource)
        seq = self.count
        self.count += 1
        if self._held is not None:
            self._held.setdefault(member, []).append((seq, source, line, resource))
            if self.count > self.limit:
                self._spill_held()
            elif not self.count % KEEP_EVERY:
                keep_long_lived()   # held until the rules run: no use walking them in every full pass
            return
        self._write(seq, member, source, line, resource)

    def __len__(self) -> int:
        return self.count

    def _source_id(self, source: str) -> int:
        sid = self._sources.get(source)
        if sid is None:
            sid = self._sources[source] = len(self._sources)
        return sid

    def _write(self, seq: int, member: str, source: str, line: int | None, resource: dict[str, Any]) -> None:
        part = self._files[zlib.crc32(member.encode("utf-8", "surrogatepass")) % self.partitions]
        # the head is one JSON array on its own line, the resource the next line: no escaping needed
        part.write(orjson.dumps([seq, member, self._source_id(source), line]) + b"\n")
        part.write(orjson.dumps(resource) + b"\n")

    def _spill_held(self) -> None:
        held, self._held = self._held, None
        self.spilled = True
        self._files = [tempfile.TemporaryFile(prefix="fhiradapter-members-") for _ in range(self.partitions)]
        # written member by member: a partition's order within a member stays the arrival order
        for member, items in (held or {}).items():
            for seq, source, line, resource in items:
                self._write(seq, member, source, line, resource)

    def records(self) -> Iterator[tuple[int, str, list[Item]]]:
        """(arrival number of the record's first resource, member key, its resources), one partition
        at a time; in first-arrival order while nothing was spilled."""
        if self._held is not None:
            held, self._held = self._held, {}
            keep_long_lived()
            for member, items in held.items():
                yield items[0][0], member, [(s, n, r) for _, s, n, r in items]
            return
        sources = list(self._sources)
        files, self._files = self._files, []
        try:
            for part in files:
                yield from self._read(part, sources, 1)
        finally:
            for part in files:
                part.close()

    def _read(self, part: IO[bytes], sources: list[str], depth: int) -> Iterator[tuple[int, str, list[Item]]]:
        size = part.tell()
        part.seek(0)
        if size > PARTITION_BYTES and depth < 4:
            # more than the input's share (a larger input than the partitions were sized for): split
            # it again by another hash of the member key, so one member's record still stays whole
            count = -(-size // PARTITION_BYTES)
            subs = [tempfile.TemporaryFile(prefix="fhiradapter-members-") for _ in range(count)]
            try:
                for head in part:
                    member = orjson.loads(head)[1]
                    # not crc32 again: it is linear, and the members of one part share its low bits
                    digest = hashlib.blake2b(member.encode("utf-8", "surrogatepass"), digest_size=8,
                                             person=b"split%d" % depth).digest()
                    sub = subs[int.from_bytes(digest, "little") % count]
                    sub.write(head)
                    sub.write(next(part))
                part.close()
                # no smaller part: one member's record is all of it, which is the bound then
                deeper = depth + 1 if max(sub.tell() for sub in subs) < size else 4
                for sub in subs:
                    yield from self._read(sub, sources, deeper)
                return
            finally:
                for sub in subs:
                    sub.close()
        groups: dict[str, list[tuple[int, Item]]] = {}
        for head in part:
            seq, member, sid, line = orjson.loads(head)
            groups.setdefault(member, []).append((seq, (sources[sid], line, orjson.loads(next(part)))))
        part.close()
        for member, items in groups.items():
            items.sort(key=lambda item: item[0])
            yield items[0][0], member, [item for _, item in items]

    def close(self) -> None:
        self._held = {}
        for part in self._files:
            part.close()
        self._files = []
