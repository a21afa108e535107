"""What a check is handed: a way to report (severity, IssueType, location, message, check id)."""
from __future__ import annotations

from typing import Any, Callable, Protocol


class Reporter(Protocol):
    def __call__(self, severity: str, code: str, expr: str, message: str, rule: str) -> None: ...


ResourceCheck = Callable[[dict[str, Any], str, Reporter], None]
