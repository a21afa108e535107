"""Reading validator input: JSON resources/Bundles, NDJSON (streamed), directories, stdin.

Every problem with the input itself becomes an `Issue` (file, line, column), never an exception.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import orjson

from ..outcome import Issue

NDJSON_SUFFIXES = (".ndjson", ".jsonl")
JSON_SUFFIXES = (".json",) + NDJSON_SUFFIXES
# the reports `map`/`run` write beside their FHIR output: a folder given to validate skips them (named
# explicitly, they are read like any file)
OWN_REPORTS = frozenset({"summary.json", "errors.ndjson", "findings.ndjson", "output.json"})


class InputError(Exception):
    """A path that cannot be read at all (exit code 2)."""


@dataclass(slots=True)
class Item:
    """One parsed resource (or a parse failure) from an input."""
    source: str
    line: int | None              # NDJSON line (1-based); None for a whole-file JSON
    resource: Any = None
    issue: Issue | None = None    # set when the text could not be parsed


def expand_paths(paths: list[str]) -> list[str]:
    """Files in the order given, directories recursively (sorted); raises InputError for missing ones."""
    out: list[str] = []
    for p in paths:
        if p == "-":
            out.append(p)
            continue
        path = Path(p)
        if path.is_dir():
            found = sorted(str(f) for f in path.rglob("*") if f.is_file() and f.suffix in JSON_SUFFIXES
                           and f.name not in OWN_REPORTS)
            out.extend(found)
        elif path.is_file():
            out.append(p)
        else:
            raise InputError(f"{p}: no such file or directory")
    return out


def _syntax_issue(source: str, exc: orjson.JSONDecodeError, line_offset: int = 0) -> Issue:
    line = getattr(exc, "lineno", None)
    col = getattr(exc, "colno", None)
    where = f"line {line + line_offset}, column {col}" if line else "unknown position"
    return Issue("fatal", "structure", f"invalid JSON at {where}: {exc.msg}", rule="json-syntax",
                 source=source, line=(line + line_offset) if line else None)


def _looks_ndjson(data: bytes) -> bool:
    first, _, rest = data.lstrip().partition(b"\n")
    if not rest.strip():
        return False
    try:
        return isinstance(orjson.loads(first), dict)
    except orjson.JSONDecodeError:
        return False


def read(path: str) -> Iterator[Item]:
    """Items of one input path ('-' = stdin). NDJSON is read line by line (constant memory)."""
    source = "<stdin>" if path == "-" else path
    if path != "-" and path.endswith(NDJSON_SUFFIXES):
        try:
            fh = open(path, "rb")
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
        with fh:
            yield from _ndjson_lines(fh, source)
        return
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        yield Item(source, None, orjson.loads(data))
    except orjson.JSONDecodeError as exc:
        if _looks_ndjson(data):
            yield from _ndjson_lines(iter(data.splitlines(keepends=True)), source)
        else:
            yield Item(source, None, issue=_syntax_issue(source, exc))


def _ndjson_lines(lines: Any, source: str, start: int = 1) -> Iterator[Item]:
    """start: the line number of the first line (a later chunk of a file, `--jobs`)."""
    for n, raw in enumerate(lines, start=start):
        if not raw.strip():
            continue
        try:
            yield Item(source, n, orjson.loads(raw))
        except orjson.JSONDecodeError as exc:
            issue = _syntax_issue(source, exc)
            issue.line = n
            col = getattr(exc, "colno", None)
            issue.message = f"invalid JSON at line {n}, column {col}: {exc.msg}"
            yield Item(source, n, issue=issue)
