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
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol, cast

csv.field_size_limit(16 * 1024 * 1024)  # long free-text notes are legitimate


@dataclass(slots=True)
class Record:
    line: int
    data: dict[str, Any] | None
    parents: tuple[dict[str, Any], ...] = ()
    pointer: str | None = None
    problem: tuple[str, str] | None = None   # (IssueType code, message) when the record is unreadable


class SourceReadError(Exception):
    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


def _encoding(name: str) -> str:
    # A UTF-8 BOM is always dropped (Excel writes one).
    return "utf-8-sig" if codecs.lookup(name).name == "utf-8" else name


def read_csv_header(path: Path, *, delimiter: str = ",", quote: str = '"', encoding: str = "utf-8") -> list[str]:
    with open(path, encoding=_encoding(encoding), newline="") as handle:
        for row in csv.reader(handle, delimiter=delimiter, quotechar=quote):
            if row:
                return [c.strip() for c in row]
    return []


class _LineDecoder:
    """Binary lines -> text lines; a line that does not decode is marked, not fatal.

    Byte-oriented encodings (UTF-8, Latin-1, cp1252, ...) never hold a raw b"\\n" inside a character,
    so a bad byte costs one row, not the file. Wide encodings (UTF-16/32) are read as text instead.
    """

    def __init__(self, handle: Any, encoding: str):
        self.handle = handle
        self.encoding = encoding
        self.bad = False
        self.first = True

    def __iter__(self) -> Iterator[str]:
        encoding = self.encoding
        for raw in self.handle:
            if self.first:
                self.first = False
                if raw.startswith(codecs.BOM_UTF8) and codecs.lookup(encoding).name == "utf-8":
                    raw = raw[3:]
            try:
                yield raw.decode(encoding)
            except UnicodeDecodeError:
                self.bad = True
                yield raw.decode(encoding, errors="replace")


def _wide(encoding: str) -> bool:
    name = codecs.lookup(encoding).name
    return name.startswith("utf-16") or name.startswith("utf-32")


def iter_csv(path: Path, *, delimiter: str = ",", quote: str = '"', encoding: str = "utf-8",
             header: bool | list[str] = True) -> Iterator[Record]:
    """Rows as column -> value (trimmed; empty -> None). A row with undecodable bytes is a row problem."""
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise SourceReadError(f"unknown encoding '{encoding}'") from exc
    try:
        handle = open(path, "rb") if not _wide(encoding) else open(path, encoding=encoding, newline="")
    except OSError as exc:
        raise SourceReadError(f"cannot open file ({exc.strerror})") from exc
    with handle:
        decoder = _LineDecoder(handle, encoding) if not _wide(encoding) else None
        reader = csv.reader(decoder if decoder is not None else cast("Iterable[str]", handle), delimiter=delimiter, quotechar=quote,
                            strict=False)
        columns: list[str] | None = list(header) if isinstance(header, list) else None
        width = len(columns) if columns is not None else 0
        end = 0
        try:
            for fields in reader:
                start, end = end + 1, reader.line_num
                if decoder is not None and decoder.bad:
                    decoder.bad = False
                    if columns is None:
                        raise SourceReadError(f"the header line is not valid {encoding} text", start)
                    yield Record(start, None, problem=("structure", f"row is not valid {encoding} text"))
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
                    continue
                if len(fields) > width:
                    yield Record(start, None, problem=(
                        "structure", f"row has {len(fields)} fields, header has {width}"))
                    continue
                data: dict[str, Any] = dict(zip(columns, [v.strip() or None for v in fields]))
                if len(fields) < width:
                    for name in columns[len(fields):]:
                        data[name] = None
                yield Record(start, data)
        except UnicodeDecodeError as exc:
            raise SourceReadError(f"file is not valid {encoding} text (after line {end})", end + 1) from exc
        except csv.Error as exc:
            raise SourceReadError(f"CSV syntax error: {exc}", reader.line_num) from exc


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


def iter_ndjson(path: Path, *, encoding: str = "utf-8", record_path: str | None = None) -> Iterator[Record]:
    steps = parse_record_path(record_path)
    try:
        handle = open(path, encoding=_encoding(encoding), newline="")
    except OSError as exc:
        raise SourceReadError(f"cannot open file ({exc.strerror})") from exc
    with handle:
        number = 0
        try:
            for number, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    doc = json.loads(text)
                except json.JSONDecodeError as exc:
                    yield Record(number, None, problem=("structure", f"not valid JSON ({exc.msg} at column {exc.colno})"))
                    continue
                for value, pointer, parents in _records_of(doc, steps):
                    if not isinstance(value, dict):
                        yield Record(number, None, pointer=pointer, problem=("structure", "record is not a JSON object"))
                    else:
                        yield Record(number, value, parents, pointer if steps else None)
        except UnicodeDecodeError as exc:
            raise SourceReadError(f"file is not valid {encoding} text (at line {number + 1})", number + 1) from exc




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
        if ch == "{":
            return self._object(i)
        if ch == "[":
            return self._array(i)
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
            return (float(number) if match.group(1) or match.group(2) else int(number)), match.end()
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


def iter_json(path: Path, *, encoding: str = "utf-8", record_path: str | None = None) -> Iterator[Record]:
    """Records of a JSON document; a record's line is the line where its object starts."""
    steps = parse_record_path(record_path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceReadError(f"cannot open file ({exc.strerror})") from exc
    try:
        text = raw.decode(_encoding(encoding))
    except UnicodeDecodeError as exc:
        raise SourceReadError(f"file is not valid {encoding} text (byte {exc.start})") from exc
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
            doc = json.loads(text)
        except ValueError as exc:
            bad_line: int | None = getattr(exc, "lineno", None)
            raise SourceReadError(f"not valid JSON ({getattr(exc, 'msg', exc)} at line {bad_line})", bad_line) from exc
        starts, newlines, positions = {}, [], False
    # several sources often read one document: parse it once per run (one entry, cleared by the engine)
    _PARSED["doc"] = (key, doc, starts, newlines, positions)
    for ordinal, (value, pointer, parents) in enumerate(_records_of(doc, steps), start=1):
        if not isinstance(value, dict):
            yield Record(ordinal, None, pointer=pointer, problem=("structure", "record is not a JSON object"))
            continue
        line = bisect.bisect_right(newlines, starts.get(id(value), 0)) + 1 if positions else ordinal
        yield Record(line, value, parents, pointer)


POSITION_LIMIT = 32 * 1024 * 1024
_PARSED: dict[str, Any] = {}


def clear_cache() -> None:
    _PARSED.clear()
