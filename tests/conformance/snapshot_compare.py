"""Compare two snapshots of one StructureDefinition on the structural fields a validator acts on.

Used by test_reference_package.py: our snapshot (fhiradapter.conformance.snapshot) against the one HAPI's
SnapshotGeneratingValidationSupport builds from the same differential. Prose (definition, short, comment,
mapping, …) is not compared: it does not change what an instance may hold.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

FIELDS = ("min", "max", "types", "profiles", "targetProfiles", "binding", "fixed", "pattern", "slicing",
          "constraints", "mustSupport", "element")


@dataclass(frozen=True)
class Difference:
    sd: str          # StructureDefinition id
    element: str     # element id
    field: str       # one of FIELDS ("element": present on one side only)
    ours: str
    hapi: str


def _canon(url: str) -> str:
    return url.split("|", 1)[0]


def facts(el: dict[str, Any]) -> dict[str, str]:
    """The structural facts of one element, each as a comparable string."""
    types = el.get("type") or []
    binding = el.get("binding") or {}
    fixed = {k: v for k, v in el.items() if k.startswith("fixed")}
    pattern = {k: v for k, v in el.items() if k.startswith("pattern")}
    slicing = el.get("slicing") or {}
    return {
        "min": str(el.get("min")),
        "max": str(el.get("max")),
        "types": ",".join(t.get("code", "") for t in types),
        "profiles": ";".join(",".join(sorted(map(_canon, t.get("profile") or []))) for t in types),
        "targetProfiles": ";".join(",".join(sorted(map(_canon, t.get("targetProfile") or []))) for t in types),
        "binding": f"{binding.get('strength', '')} {_canon(binding.get('valueSet', ''))}".strip(),
        "fixed": json.dumps(fixed, sort_keys=True),
        "pattern": json.dumps(pattern, sort_keys=True),
        "slicing": json.dumps({"discriminator": slicing.get("discriminator", []), "rules": slicing.get("rules"),
                               "ordered": bool(slicing.get("ordered", False))}, sort_keys=True) if slicing else "",
        "constraints": ",".join(sorted(str(c.get("key")) for c in el.get("constraint") or [])),
        "mustSupport": str(bool(el.get("mustSupport", False))),
    }


def _element_id(el: dict[str, Any]) -> str:
    return str(el.get("id") or el.get("path"))


def compare(sd_id: str, ours: list[dict[str, Any]], hapi: list[dict[str, Any]]) -> list[Difference]:
    """Every structural difference between two snapshot element lists (matched by element id)."""
    a = {_element_id(e): e for e in ours}
    b = {_element_id(e): e for e in hapi}
    out: list[Difference] = []
    for eid in sorted(set(a) | set(b)):
        if eid not in a or eid not in b:
            out.append(Difference(sd_id, eid, "element", "present" if eid in a else "absent",
                                  "present" if eid in b else "absent"))
            continue
        fa, fb = facts(a[eid]), facts(b[eid])
        for f in fa:
            if fa[f] != fb[f]:
                out.append(Difference(sd_id, eid, f, fa[f], fb[f]))
    return out
