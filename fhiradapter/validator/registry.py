"""Where the validator gets definitions: the conformance layer's Registry (base R4 + our package)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable


def get_registry(igs: Iterable[str | Path] = ()) -> Any:
    """The default registry, plus any --ig packages (folders or .tgz)."""
    from ..conformance import Registry
    reg = Registry.default()
    igs = list(igs)
    if igs:
        # Registry.default() is shared and cached: extra packages go into a copy when it offers one
        fork = getattr(reg, "copy", None) or getattr(reg, "fork", None)
        if callable(fork):
            reg = fork()
        for ig in igs:
            reg.add_package(ig)
    return reg
