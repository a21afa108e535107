"""Error types of the mapping engine.

MappingLoadError: the mapping file itself is wrong (exit 2, before any row is read).
FieldError / FieldErrors: a row cannot be mapped; raised while evaluating a template and collected
per row, with the element path assembled on the way out (no cost on the happy path).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class LoadProblem:
    file: str        # mapping file (as given / relative)
    where: str       # YAML path, e.g. resources[2].template.status
    message: str
    line: int | None = None   # line of `where` in the file, when known

    def __str__(self) -> str:
        file = f"{self.file}:{self.line}" if self.line else self.file
        return f"{file}: {self.where}: {self.message}" if self.where else f"{file}: {self.message}"


class MappingLoadError(Exception):
    """A mapping that cannot be used; `problems` lists every problem found."""

    def __init__(self, problems: list[LoadProblem], sources: dict[str, Any] | None = None,
                 source_where: dict[str, tuple[str, str, str]] | None = None):
        self.problems = problems
        self.sources = sources or {}   # the merged source specs, when read: headers can still be checked
        self.source_where = source_where or {}   # source -> (file label, YAML path, file text)
        super().__init__("\n".join(str(p) for p in problems))


class FieldError(Exception):
    """One problem while building one element of one resource for one row."""

    __slots__ = ("code", "message", "column", "value", "segments", "file", "line")

    def __init__(self, code: str, message: str, *, column: str | None = None, value: Any = None,
                 file: str | None = None, line: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.column = column
        self.value = value
        self.segments: list[str] = []   # innermost first; each is ".name" or "[i]"
        self.file = file                # set when the problem is in a related row
        self.line = line

    def add(self, segment: str) -> None:
        self.segments.append(segment)

    def path(self, resource_type: str) -> str:
        return resource_type + "".join(reversed(self.segments))


class FieldErrors(Exception):
    """Several FieldErrors from one template subtree (a map or list collects all its children's)."""

    def __init__(self, errors: list[FieldError]):
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


def collect(exc: Exception) -> list[FieldError]:
    if isinstance(exc, FieldErrors):
        return exc.errors
    return [exc]  # type: ignore[list-item]
