"""Where the validator gets definitions: the conformance layer's Registry (base R4 + our package).

`DefinitionSource` is the seam: the few calls the validator makes, so another source of definitions
(a test double, a server-backed registry) only has to offer these.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Protocol

if TYPE_CHECKING:
    from ..conformance.terminology import ValueSetExpansion


class DefinitionSource(Protocol):
    """What the validator asks of a registry (fhiradapter.conformance.Registry implements it)."""

    def add_package(self, path: str | Path) -> object: ...

    def resource(self, url: str) -> dict[str, Any] | None: ...

    def structure_definition(self, key: str) -> dict[str, Any] | None: ...

    def program_profile(self, program: str, resource_type: str) -> str | None: ...

    def expand(self, value_set_url: str) -> ValueSetExpansion | None: ...


def get_registry(igs: Iterable[str | Path] = ()) -> DefinitionSource:
    """The default registry, plus any --ig packages (folders or .tgz)."""
    from ..conformance import Registry
    reg = Registry.default()
    igs = list(igs)
    if igs:
        reg = reg.copy()   # Registry.default() is shared and cached: extra packages go into a copy
        for ig in igs:
            reg.add_package(ig)
    return reg
