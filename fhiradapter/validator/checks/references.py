"""A reference to a contained resource (`#id`) resolves inside the resource, so its target type is known:
it must be one the element allows (R4 ElementDefinition.type.targetProfile; the HL7 validator checks it
too). References it cannot resolve are read by the walker (reference-target, a --strict check)."""
from __future__ import annotations

from collections.abc import Collection
from typing import Any

from .base import Reporter


def contained_reference_type(container: Any, local_id: str, targets: Collection[str], path: str, expr: str,
                             report: Reporter) -> None:
    contained = container.get("contained") if isinstance(container, dict) else None
    if not isinstance(contained, list):
        return
    for res in contained:
        if isinstance(res, dict) and res.get("id") == local_id:
            rtype = res.get("resourceType")
            if isinstance(rtype, str) and rtype not in targets:
                # the local id is a record value: not in the message (PHI)
                report("error", "value", expr, f"{path} may refer to {', '.join(sorted(targets))}, not {rtype} "
                       "(a contained resource)", "contained-reference-type")
            return
