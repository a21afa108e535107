"""Coding.code against its code system (R4 §4.1 Using Codes: a code is a symbol defined by its system),
wherever the system is one we hold complete (R4 core, our package, --ig): an unknown code is an error
even where no value set is bound (in a Coding-typed element, a --strict check: checks/strictness.py). A supplement is no system for a Coding. Code sets are built once
per system."""
from __future__ import annotations

from typing import Any

from .base import Reporter

_UNKNOWN: Any = object()


class CodeSystems:
    def __init__(self, registry: Any) -> None:
        self.registry = registry
        self._codes: dict[str, Any] = {}

    def codes(self, system: str) -> Any:
        """frozenset of codes (lower-cased for case-insensitive systems), "supplement", or None."""
        found = self._codes.get(system, _UNKNOWN)
        if found is _UNKNOWN:
            found = self._codes[system] = self._load(system)
        return found

    def _load(self, system: str) -> Any:
        try:
            cs = self.registry.code_system(system)
        except Exception:  # noqa: BLE001  # a broken definition must not stop validation
            return None
        if not isinstance(cs, dict):
            return None
        if cs.get("content") == "supplement" or cs.get("supplements"):
            return "supplement"
        if cs.get("content") != "complete" or not isinstance(cs.get("concept"), list):
            return None
        out: set[str] = set()
        stack = list(cs["concept"])
        while stack:
            c = stack.pop()
            if isinstance(c, dict):
                if isinstance(c.get("code"), str):
                    out.add(c["code"])
                if isinstance(c.get("concept"), list):
                    stack.extend(c["concept"])
        if cs.get("caseSensitive") is False:
            out = {c.lower() for c in out}
            return (frozenset(out), False)
        return (frozenset(out), True)

    def check(self, coding: dict[str, Any], expr: str, report: Reporter) -> None:
        system, code = coding.get("system"), coding.get("code")
        if system.__class__ is not str or code.__class__ is not str:
            return
        found = self._codes.get(system, _UNKNOWN)
        if found is _UNKNOWN:
            found = self.codes(system.split("|")[0])
            self._codes[system] = found
        if found is None:
            return
        if found == "supplement":
            report("error", "code-invalid", f"{expr}.system", f"{system} is a code system supplement, which "
                   "cannot be the system of a Coding", "code-system-supplement")
            return
        codes, sensitive = found
        if (code if sensitive else code.lower()) not in codes:
            # a CodeableConcept's codings are checked against their systems by the HL7 validator too; a
            # Coding-typed element only against its value set, so there the rule is a --strict one
            in_concept = expr.rpartition(".")[2].startswith("coding[")
            report("error", "code-invalid", f"{expr}.code", f"the code is not defined in the code system {system}",
                   "code-unknown" if in_concept else "coding-code-unknown")
