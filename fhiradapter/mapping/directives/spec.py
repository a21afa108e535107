"""What a directive declares about itself: its compile function and the shape of its options."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from fhiradapter.mapping.compiler import Compiled, Env

Handler = Callable[[dict[str, Any], "Env", str, str], "Compiled"]


@dataclass(frozen=True)
class Directive:
    name: str                              # "$col"
    compile: Handler                       # (spec, env, yaml path, element path) -> Compiled
    summary: str                           # one line: what it gives (docs table, `unknown directive` hints)
    argument: Any                          # JSON Schema of the $-key's value
    options: dict[str, Any] = field(default_factory=dict)   # option -> JSON Schema
    required: tuple[str, ...] = ()         # options that must be given
    extra: dict[str, Any] = field(default_factory=dict)     # further schema keywords (e.g. oneOf)
