"""What a check is handed: the resource, its location, a way to report (severity, IssueType,
location, message, check id) and the definitions it may consult."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class Reporter(Protocol):
    def __call__(self, severity: str, code: str, expr: str, message: str, rule: str) -> None: ...


@dataclass(slots=True)
class CheckEnv:
    registry: Any     # fhiradapter.conformance.Registry (base R4, our package, --ig)
    codes: Any        # checks.codes.CodeSystems over that registry


ResourceCheck = Callable[[dict[str, Any], str, Reporter, CheckEnv], None]
