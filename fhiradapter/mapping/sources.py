"""Reading the records of one source: CSV, NDJSON or JSON with a record path, streamed.

Each record is a `Record`: its data (column -> value, or a JSON object), the 1-based line (CSV/NDJSON
physical line where it starts; JSON: ordinal of the record), and for JSON its pointer and enclosing
records (for `^` in field paths). A record that cannot be read carries `problem` instead of data; a
problem that stops the whole file raises `SourceReadError` (the records before it were yielded).
"""
from __future__ import annotations

import bisect
import codecs
import csv
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol, Sequence, cast

# Limits on what one record may hold (docs/limits.md). Past each, that record is one row error and
# the rest of the file is read: a hostile or broken file costs its bad rows, never the file or memory.
FIELD_LIMIT = 16 * 1024 * 1024        # characters in one CSV field: long free-text notes are legitimate
LINE_LIMIT = 32 * 1024 * 1024         # bytes in one physical line; a longer line is skipped unread
RECORD_LINES = 100                    # physical lines one quoted CSV field may span (embedded newlines)
csv.field_size_limit(FIELD_LIMIT)

# Codecs that are no text encodings of an export (bytes-to-bytes, escapes that make lone surrogates).
_NOT_EXPORT_ENCODINGS = frozenset({"unicode-escape", "raw-unicode-escape", "utf-7", "undefined", "idna",
                                   "punycode"})


@dataclass(slots=True)
class Record:
    line: int
    data: dict[str, Any] | None
    parents: tuple[dict[str, Any], ...] = ()
    pointer: str | None = None
    problem: tuple[str, str] | None = None   # (IssueType code, message) when the record is unreadable


class SourceReadError(Exception):
    def __init__(self, message: str, line: int | None = None, *, severity: str = "error"):
        super().__init__(message)
        self.message = message
        self.line = line
        self.severity = severity


def encoding_problem(name: str) -> str | None:
    """Why `name` cannot be a source's encoding (unknown, a bytes codec, an escape codec), or None."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        return f"unknown encoding '{name}'"
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_EXPORT_ENCODINGS:
        return f"'{name}' is not a text encoding of an export (use e.g. utf-8, cp1252, latin-1, utf-16)"
    return None


def _checked_encoding(name: str) -> str:
    problem = encoding_problem(name)
    if problem is not None:
        raise SourceReadError(problem)
    return name


def _encoding(name: str) -> str:
    # A UTF-8 BOM is always dropped (Excel writes one).
    return "utf-8-sig" if codecs.lookup(name).name == "utf-8" else name


def _wide(encoding: str) -> bool:
    name = codecs.lookup(encoding).name
    return name.startswith("utf-16") or name.startswith("utf-32")


class _Lines:
    """Physical lines of a file as text, for csv.reader; a line that cannot be read is marked, not fatal.

    Lines end at LF, CRLF or a lone CR (old Mac exports). Byte-oriented encodings (UTF-8, Latin-1,
    cp1252, ...) never hold a raw b"\\n" inside a character, so lines are split as bytes and decoded one
    by one: a bad byte costs one row, not the file. Wide encodings (UTF-16/32) are read as text.
    `taken` holds the lines handed out for the current record and `replay` lines to hand out again:
    a record found broken is reported at its first line and its other lines are read again.
    """

    def __init__(self, handle: Any, encoding: str, wide: bool, quote: str = '"'):
        self.problem: str | None = None     # set when a line of the current record could not be read
        self.taken: list[str] = []
        self.replay: list[str] = []         # reversed: pop() gives the next line
        self.eof = False
        self._handle = handle
        self._encoding = encoding
        self._wide = wide
        self._break = quote + "\x00\n"   # in a quoted field, a quote then a non-delimiter: csv (strict) stops

    def __iter__(self) -> Iterator[str]:
        if self._wide:
            yield from self._wide_lines()
            return
        taken, replay, encoding = self.taken, self.replay, self._encoding
        append = taken.append
        limit = LINE_LIMIT
        readline: Callable[[], bytes] = functools.partial(self._handle.readline, limit)
        raw = readline()
        if raw.startswith(codecs.BOM_UTF8) and codecs.lookup(encoding).name == "utf-8":
            raw = raw[3:]
        while True:
            # the common case first, with locals only: this runs once per physical line
            if taken or replay:
                if taken and self._too_long(taken):
                    # a quoted field still open after RECORD_LINES lines: make csv.reader give up on
                    # this record now (an unclosed quote would otherwise hold the rest of the file)
                    yield self._break
                    continue
                if replay:
                    text = replay.pop()
                    append(text)
                    yield text
                    continue
            if not raw:
                self.eof = True
                return
            if len(raw) >= limit and raw[-1:] not in (b"\n", b"\r"):
                if b"\r" in raw:   # lines end at a lone CR (old Mac exports): split them from here on
                    readline = _CrLines(self._handle, limit, raw)
                    raw = readline()
                    continue
                self._skip_rest(raw, readline)
                self.problem = f"line longer than {LINE_LIMIT // (1024 * 1024)} MiB"
                append(_MARK)
                raw = b"\n"
            try:
                text = raw.decode(encoding)
            except UnicodeError:
                self.problem = f"row is not valid {encoding} text"
                append(_MARK)   # the record is not one plain line: the reader looks at `problem`
                text = raw.decode(encoding, errors="replace")
            append(text)
            yield text
            raw = readline()

    def _wide_lines(self) -> Iterator[str]:
        """UTF-16/32 read as text (universal newlines, so a lone CR ends a line too)."""
        taken, replay = self.taken, self.replay
        readline = functools.partial(self._handle.readline, LINE_LIMIT)
        while True:
            if taken and self._too_long(taken):
                yield self._break
                continue
            if replay:
                text = replay.pop()
            else:
                text = readline()
                if not text:
                    self.eof = True
                    return
                if len(text) >= LINE_LIMIT and text[-1] not in "\r\n":
                    self._skip_rest(text, readline)
                    self.problem = f"line longer than {LINE_LIMIT // (1024 * 1024)} MiB"
                    taken.append(_MARK)
                    text = "\n"
            taken.append(text)
            yield text

    def _too_long(self, taken: list[str]) -> bool:
        if len(taken) >= RECORD_LINES:
            self.problem = f"a quoted field opened on this line runs over {RECORD_LINES} lines"
            return True
        if len(taken) > 1 and sum(map(len, taken)) > LINE_LIMIT:
            self.problem = f"a quoted field opened on this line runs over {LINE_LIMIT // (1024 * 1024)} MiB"
            return True
        return False

    @staticmethod
    def _skip_rest(raw: Any, readline: Callable[[], Any]) -> None:
        """Read past the rest of an over-long line without holding it."""
        ends = ("\n", "\r") if isinstance(raw, str) else (b"\n", b"\r")
        while raw and not raw.endswith(ends):
            raw = readline()


_CR_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_LINE_END = re.compile(rb"\r\n|\r|\n")


class _CrLines:
    """readline() for a file whose lines end at a lone CR (or CRLF, LF): at most `limit` bytes a call."""

    def __init__(self, handle: Any, limit: int, start: bytes):
        self._handle, self._limit = handle, limit
        self._buf, self._pos = start, 0

    def __call__(self) -> bytes:
        while True:
            buf, pos = self._buf, self._pos
            match = _LINE_END.search(buf, pos, pos + self._limit)
            # a CR as the last byte read may be the first half of a CRLF: read on before deciding
            if match and (match.end() < len(buf) or buf[-1:] != b"\r"):
                self._pos = match.end()
                return buf[pos:match.end()]
            if len(buf) - pos >= self._limit:
                self._pos = pos + self._limit
                return buf[pos:pos + self._limit]
            block = self._handle.read(1 << 20)
            if not block:
                self._buf, self._pos = b"", 0
                return buf[pos:]
            self._buf, self._pos = buf[pos:] + block, 0


def _open_lines(path: Path, encoding: str, quote: str = '"') -> tuple[Any, _Lines]:
    _checked_encoding(encoding)
    wide = _wide(encoding)
    try:
        handle = open(path, "rb") if not wide else open(path, encoding=encoding, newline="")
    except OSError as exc:
        raise SourceReadError(f"cannot open file ({exc.strerror})") from exc
    return handle, _Lines(handle, encoding, wide, quote)


class _CsvRecords:
    """csv.reader over _Lines, and what to do after a record that is not one plain line.

    A quoted field may span lines, but one that is never closed properly, runs past RECORD_LINES
    lines or LINE_LIMIT bytes would swallow the rows after it: its record is reported at the line
    where it opened, and the lines after that one are read again as rows of their own."""

    def __init__(self, lines: _Lines, delimiter: str, quote: str):
        self.lines = lines
        self.delimiter, self.quote = delimiter, quote
        self.reader = csv.reader(lines, delimiter=delimiter, quotechar=quote, strict=True)

    def error(self, exc: csv.Error) -> str:
        message = str(exc)
        if message.startswith("new-line character") and not self.lines.problem:
            return _LONE_CR
        return self.lines.problem or _csv_problem(message, len(self.lines.taken), self.lines.eof)

    def settle(self, start: int, problem: str | None, broken: bool = True) -> tuple[int, str | None]:
        """After a multi-line or unreadable record: (its last line, its problem or None). `broken`: the
        reader gave up on the record (its lines after the first are read again); otherwise the record
        was read whole and only a line of it could not be decoded."""
        lines = self.lines
        if _MARK in lines.taken:
            lines.taken[:] = [t for t in lines.taken if t is not _MARK]
        taken = lines.taken
        span = len(taken)
        lines.problem = None
        if problem is _LONE_CR:
            pieces = _CR_LINES.findall("".join(taken))
            if len(pieces) > span:   # a lone CR ends a line too: read these lines again, split
                lines.replay.extend(reversed(pieces))
                if lines.eof:
                    lines.eof = False
                    self.reader = csv.reader(lines, delimiter=self.delimiter, quotechar=self.quote, strict=True)
                taken.clear()
                return start - 1, None
            problem = "CSV syntax error (a line break inside an unquoted field)"
        if problem is not None and span > 1 and broken:
            lines.replay.extend(reversed(taken[1:]))
            if lines.eof:   # the line source has ended: a fresh reader hands out the replayed lines
                lines.eof = False
                self.reader = csv.reader(lines, delimiter=self.delimiter, quotechar=self.quote, strict=True)
            span = 1
        taken.clear()
        return start + span - 1, problem


def _csv_rows(lines: _Lines, *, delimiter: str, quote: str) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """(first line, fields, None) per record, or (first line, None, problem) for one that cannot be read."""
    records = _CsvRecords(lines, delimiter, quote)
    end = 0
    while True:
        start = end + 1
        try:
            fields: list[str] | None = next(records.reader)
            end, problem = records.settle(start, lines.problem, broken=False)
        except StopIteration:
            return
        except csv.Error as exc:
            fields = []
            end, problem = records.settle(start, records.error(exc))
        yield start, (fields if problem is None else None), problem


_LONE_CR = "a lone CR inside a line"
_MARK = "\x00(a line that could not be read)\x00"   # in _Lines.taken after such a line


def _csv_problem(message: str, span: int, eof: bool) -> str:
    if "expected after" in message:
        return "a quoted field is not closed properly (a quote inside it is not doubled)"
    if "unexpected end of data" in message or eof and span > 1:
        return "a quoted field opened on this line is never closed"
    if "field larger than field limit" in message:
        return f"a field is longer than {FIELD_LIMIT // (1024 * 1024)} MiB"
    return f"CSV syntax error ({message})"


def read_csv_header(path: Path, *, delimiter: str = ",", quote: str = '"', encoding: str = "utf-8") -> list[str]:
    handle, lines = _open_lines(path, encoding, quote)
    with handle:
        for line, fields, problem in _csv_rows(lines, delimiter=delimiter, quote=quote):
            if problem is not None:
                raise SourceReadError(f"the header line cannot be read ({problem})", line)
            if fields and not (len(fields) == 1 and not fields[0].strip()):
                return [c.strip() for c in fields]
    return []


CsvRow = tuple[int, list[str], list[str], list[str]]
"""A CSV record as read (line, fields, columns, columns the header lacks): iter_csv(raw=True) gives
these for --jobs, whose workers make the Record (csv_record), not the process reading the file."""


def csv_record(row: CsvRow) -> Record:
    """The Record iter_csv gives for a row it read (values trimmed, empty -> None)."""
    line, fields, columns, extra = row
    data: dict[str, Any] = dict(zip(columns, [v.strip() or None for v in fields]))
    if len(fields) < len(columns):
        for name in columns[len(fields):]:
            data[name] = None
    if extra:
        for name in extra:
            data[name] = None
    return Record(line, data)


def iter_csv(path: Path, *, delimiter: str = ",", quote: str = '"', encoding: str = "utf-8",
             header: bool | list[str] = True, fill: Sequence[str] = (), raw: bool = False) -> Iterator[Any]:
    """Rows as column -> value (trimmed; empty -> None). A row that cannot be read is a row problem.
    `fill`: columns the header may lack (optional columns); a lacking one is in every row as empty.
    raw: a row read is a CsvRow, made a Record by csv_record (the problems stay Records)."""
    handle, lines = _open_lines(path, encoding, quote)
    with handle:
        records = _CsvRecords(lines, delimiter, quote)
        read, taken = records.reader.__next__, lines.taken
        columns: list[str] | None = list(header) if isinstance(header, list) else None
        width = len(columns) if columns is not None else 0
        extra = [c for c in fill if c not in columns] if columns is not None else []
        end = 0
        try:
            while True:
                start = end + 1
                try:
                    fields = read()
                except StopIteration:
                    break
                except csv.Error as exc:
                    fields = []
                    end, problem = records.settle(start, records.error(exc))
                    read = records.reader.__next__
                else:
                    if len(taken) == 1:   # the common case: one plain line
                        end = start
                        taken.clear()
                        problem = None
                    else:
                        end, problem = records.settle(start, lines.problem, broken=False)
                        read = records.reader.__next__
                if problem is not None:
                    if columns is None:
                        raise SourceReadError(f"the header line cannot be read ({problem})", start)
                    yield Record(start, None, problem=("structure", problem))
                    continue
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    continue  # blank line: counted in line numbers, not a record
                if columns is None:
                    columns = [c.strip() for c in fields]
                    width = len(columns)
                    twice = sorted({c for c in columns if columns.count(c) > 1})
                    if twice:  # a dict would silently keep the last one
                        raise SourceReadError("column(s) " + ", ".join(f"'{c}'" for c in twice)
                                              + " appear more than once in the header", start)
                    extra = [c for c in fill if c not in columns]
                    continue
                if len(fields) > width:
                    yield Record(start, None, problem=(
                        "structure", f"row has {len(fields)} fields, header has {width}"))
                    continue
                if raw:
                    yield (start, fields, columns, extra)
                    continue
                data: dict[str, Any] = dict(zip(columns, [v.strip() or None for v in fields]))
                if len(fields) < width:
                    for name in columns[len(fields):]:
                        data[name] = None
                if extra:
                    for name in extra:
                        data[name] = None
                yield Record(start, data)
        except UnicodeError as exc:   # a wide encoding read as text: the rest of the file is unreadable
            raise SourceReadError(f"file is not valid {encoding} text (after line {end})", end + 1) from exc
        except OSError as exc:
            raise SourceReadError(f"cannot read file ({exc.strerror or exc})") from exc


_STEP = re.compile(r"([^.\[\]]+)|\[(\*|\d+)\]")


def parse_record_path(path: str | None) -> list[str | int | None]:
    """'a[*].b[*]' -> ['a', None, 'b', None]  (None = every element, int = one element)."""
    if not path or path == "$":
        return []
    text = path[2:] if path.startswith("$.") else path
    steps: list[str | int | None] = []
    pos = 0
    while pos < len(text):
        if text[pos] == ".":
            pos += 1
            continue
        match = _STEP.match(text, pos)
        if not match:
            raise ValueError(f"record_path '{path}': cannot read at character {pos + 1}")
        if match.group(1) is not None:
            steps.append(match.group(1))
        else:
            steps.append(None if match.group(2) == "*" else int(match.group(2)))
        pos = match.end()
    return steps


def _walk(value: Any, steps: list[str | int | None], pointer: str,
          parents: tuple[dict[str, Any], ...]) -> Iterator[tuple[Any, str, tuple[dict[str, Any], ...]]]:
    """Records at the end of `steps`; a dict passed while iterating an array becomes an enclosing record."""
    if not steps:
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield item, f"{pointer}[{i}]", parents
        else:
            yield value, pointer or "$", parents
        return
    step, rest = steps[0], steps[1:]
    if step is None or isinstance(step, int):
        if not isinstance(value, list):
            return
        items = enumerate(value) if step is None else ([(step, value[step])] if step < len(value) else [])
        for i, item in items:
            inner = parents + (item,) if (rest and isinstance(item, dict)) else parents
            yield from _walk(item, rest, f"{pointer}[{i}]", inner)
        return
    if isinstance(value, dict) and step in value:
        yield from _walk(value[step], rest, f"{pointer}.{step}" if pointer else step, parents)


def _records_of(doc: Any, steps: list[str | int | None]) -> Iterator[tuple[Any, str, tuple[dict[str, Any], ...]]]:
    # An array element that is itself walked into is a parent of the records below it.
    yield from _walk(doc, steps, "", ())


def _resolves(value: Any, steps: list[str | int | None]) -> bool:
    """Whether `steps` lead anywhere in `value` (an empty array at the end is a match: zero records)."""
    if not steps:
        return True
    step, rest = steps[0], steps[1:]
    if isinstance(step, str):
        return isinstance(value, dict) and step in value and _resolves(value[step], rest)
    if not isinstance(value, list):
        return False
    if step is not None:
        return step < len(value) and _resolves(value[step], rest)
    return not value or any(_resolves(item, rest) for item in value)


def _finite(text: str) -> float:
    value = float(text)
    if value in (_INF, -_INF):
        raise ValueError("a number is too large")
    return value


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not a JSON number")


_INF = float("inf")
JSON_DEPTH = 200     # nesting levels of a JSON document (records are shallow; deeper is hostile or broken)


def _json_problem(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "not valid JSON (nested too deeply)"
    msg = getattr(exc, "msg", None)
    if msg is not None:
        return f"not valid JSON ({msg} at column {getattr(exc, 'colno', '?')})"
    text = str(exc)
    if "digits" in text:
        return "not valid JSON (a number has too many digits)"
    return f"not valid JSON ({text})" if len(text) < 80 and "\\" not in text else "not valid JSON"


def _text_lines(path: Path, encoding: str) -> Iterator[tuple[int, str | None, str | None]]:
    """(line number, text, None) per physical line, or (number, None, problem) for an unreadable one."""
    handle, lines = _open_lines(path, encoding)
    with handle:
        number = 0
        try:
            for text in lines:
                lines.taken.clear()
                problem = lines.problem
                if problem is not None:
                    number += 1
                    lines.problem = None
                    yield number, None, problem.replace("row is", "line is")
                    continue
                # JSON text holds no raw CR: one inside a line is a line end (CR-only files)
                for piece in _CR_LINES.findall(text) if "\r" in text.rstrip("\r\n") else (text,):
                    number += 1
                    yield number, piece, None
        except UnicodeError as exc:   # a wide encoding read as text: the rest of the file is unreadable
            raise SourceReadError(f"file is not valid {encoding} text (at line {number + 1})", number + 1) from exc
        except OSError as exc:
            raise SourceReadError(f"cannot read file ({exc.strerror or exc})") from exc


def iter_ndjson(path: Path, *, encoding: str = "utf-8", record_path: str | None = None,
                optional: bool = False) -> Iterator[Record]:
    """One record per line (or per record_path match in a line); a bad line is one problem at its number."""
    steps = parse_record_path(record_path)
    loads = json.JSONDecoder(parse_float=_finite, parse_constant=_no_constant).decode
    for number, text, problem in _text_lines(path, encoding):
        if problem is not None:
            yield Record(number, None, problem=("structure", problem))
            continue
        assert text is not None
        if not text.strip():
            continue
        try:
            doc = loads(text)
        except (ValueError, RecursionError) as exc:
            yield Record(number, None, problem=("structure", _json_problem(exc)))
            continue
        found = False
        for value, pointer, parents in _records_of(doc, steps):
            found = True
            if not isinstance(value, dict):
                yield Record(number, None, pointer=pointer, problem=("structure", "record is not a JSON object"))
            else:
                yield Record(number, value, parents, pointer if steps else None)
        if not found and steps and not optional and not _resolves(doc, steps):
            yield Record(number, None, problem=("structure", f"record_path '{record_path}' matches nothing in this line"))




class _AlwaysMatches(Protocol):
    def match(self, string: str, pos: int = ...) -> re.Match[str]: ...


_WS = cast(_AlwaysMatches, re.compile(r"[ \t\n\r]*"))   # '*': matches at every position
# the C string scanner json itself uses (not in typeshed's json.decoder)
_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_LITERALS = {"true": True, "false": False, "null": None}


class JsonPositionError(ValueError):
    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.message, self.offset = message, offset


class _PositionParser:
    """A JSON parser that remembers where each object starts (the C parser cannot), so records of a
    JSON document get real line numbers. Export documents are modest; large exports use NDJSON."""

    def __init__(self, text: str):
        self.text = text
        self.starts: dict[int, int] = {}   # id(dict) -> offset of its '{'
        self.depth = 0

    def parse(self) -> Any:
        value, end = self._value(_WS.match(self.text, 0).end())
        end = _WS.match(self.text, end).end()
        if end != len(self.text):
            raise JsonPositionError("extra data after the JSON value", end)
        return value

    def _value(self, i: int) -> tuple[Any, int]:
        text = self.text
        if i >= len(text):
            raise JsonPositionError("unexpected end of file", i)
        ch = text[i]
        if ch == "{" or ch == "[":
            self.depth += 1
            if self.depth > JSON_DEPTH:
                raise JsonPositionError(f"nested more than {JSON_DEPTH} levels deep", i)
            inner: tuple[Any, int] = self._object(i) if ch == "{" else self._array(i)
            self.depth -= 1
            return inner
        if ch == '"':
            try:
                return _scanstring(text, i + 1, True)
            except ValueError as exc:
                raise JsonPositionError(f"bad string ({getattr(exc, 'msg', exc)})", i) from exc
        for word, value in _LITERALS.items():
            if text.startswith(word, i):
                return value, i + len(word)
        match = _NUMBER.match(text, i)
        if match and match.end() > i:
            number = match.group(0)
            try:
                return (_finite(number) if match.group(1) or match.group(2) else int(number)), match.end()
            except ValueError:   # 1e999, or more digits than Python converts
                raise JsonPositionError("a number is too large or has too many digits", i) from None
        raise JsonPositionError("expecting a value", i)

    def _object(self, start: int) -> tuple[dict[str, Any], int]:
        text, ws = self.text, _WS
        obj: dict[str, Any] = {}
        self.starts[id(obj)] = start
        i = ws.match(text, start + 1).end()
        if text.startswith("}", i):
            return obj, i + 1
        while True:
            if not text.startswith('"', i):
                raise JsonPositionError("expecting a property name in double quotes", i)
            key, i = self._value(i)
            i = ws.match(text, i).end()
            if not text.startswith(":", i):
                raise JsonPositionError("expecting ':'", i)
            value, i = self._value(ws.match(text, i + 1).end())
            obj[key] = value
            i = ws.match(text, i).end()
            if text.startswith(",", i):
                i = ws.match(text, i + 1).end()
                continue
            if text.startswith("}", i):
                return obj, i + 1
            raise JsonPositionError("expecting ',' or '}'", i)

    def _array(self, start: int) -> tuple[list[Any], int]:
        text, ws = self.text, _WS
        out: list[Any] = []
        i = ws.match(text, start + 1).end()
        if text.startswith("]", i):
            return out, i + 1
        while True:
            value, i = self._value(i)
            out.append(value)
            i = ws.match(text, i).end()
            if text.startswith(",", i):
                i = ws.match(text, i + 1).end()
                continue
            if text.startswith("]", i):
                return out, i + 1
            raise JsonPositionError("expecting ',' or ']'", i)


def read_limited(path: Path, limit: int, what: str) -> bytes:
    """The bytes of a file of at most `limit` bytes; OSError or ValueError (too large) otherwise.
    Reads at most limit + 1 bytes, so a device or a growing file cannot exhaust memory."""
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{what} is larger than {_size(limit)}")
    return data


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024 * 1024)} GiB" if limit >= 1024 ** 3 else f"{limit // (1024 * 1024)} MiB"


def iter_json(path: Path, *, encoding: str = "utf-8", record_path: str | None = None,
              optional: bool = False) -> Iterator[Record]:
    """Records of a JSON document; a record's line is the line where its object starts."""
    steps = parse_record_path(record_path)
    _checked_encoding(encoding)
    try:
        raw = read_limited(path, JSON_FILE_LIMIT, "the JSON document")
    except OSError as exc:
        raise SourceReadError(f"cannot open file ({exc.strerror})") from exc
    except ValueError as exc:
        raise SourceReadError(f"{exc} (export large files as NDJSON)") from exc
    try:
        text = raw.decode(_encoding(encoding))
    except UnicodeError as exc:
        raise SourceReadError(f"file is not valid {encoding} text (byte {getattr(exc, 'start', '?')})") from exc
    key = (str(path.resolve()), len(raw), hash(raw))
    cached = _PARSED.get("doc")
    if cached is not None and cached[0] == key:
        doc, starts, newlines, positions = cached[1:]
    elif len(text) <= POSITION_LIMIT:
        parser = _PositionParser(text)
        try:
            doc = parser.parse()
        except JsonPositionError as exc:
            line = text.count("\n", 0, exc.offset) + 1
            raise SourceReadError(f"not valid JSON ({exc.message} at line {line})", line) from exc
        starts, positions = parser.starts, True
        newlines = [m.start() for m in re.finditer("\n", text)]
    else:  # very large documents: the C parser, and record ordinals instead of lines
        try:
            doc = json.JSONDecoder(parse_float=_finite, parse_constant=_no_constant).decode(text)
        except (ValueError, RecursionError) as exc:
            at: int | None = getattr(exc, "lineno", None)
            raise SourceReadError(_json_problem(exc) + (f" at line {at}" if at else ""), at) from exc
        starts, newlines, positions = {}, [], False
    # several sources often read one document: parse it once per run (one entry, cleared by the engine)
    _PARSED["doc"] = (key, doc, starts, newlines, positions)
    ordinal = 0
    for ordinal, (value, pointer, parents) in enumerate(_records_of(doc, steps), start=1):
        if not isinstance(value, dict):
            yield Record(ordinal, None, pointer=pointer, problem=("structure", "record is not a JSON object"))
            continue
        line = bisect.bisect_right(newlines, starts.get(id(value), 0)) + 1 if positions else ordinal
        yield Record(line, value, parents, pointer)
    if ordinal == 0 and steps and not _resolves(doc, steps):
        # a renamed key must not read as "no records": that would drop the whole export in silence
        raise SourceReadError(f"record_path '{record_path}' matches nothing in this document",
                              severity="warning" if optional else "error")


JSON_FILE_LIMIT = 1024 * 1024 * 1024   # a JSON document is parsed whole; larger exports use NDJSON
POSITION_LIMIT = 32 * 1024 * 1024
_PARSED: dict[str, Any] = {}


def clear_cache() -> None:
    _PARSED.clear()
