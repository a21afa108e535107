"""Binding checks against ValueSets the registry can expand locally.

required -> error, extensible -> warning; value sets we cannot expand (SNOMED, LOINC, CPT, ICD-10-CM,
HCPCS, filters) give one information issue per element and value set: "not checked".
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import Elem
    from .registry import DefinitionSource
    from .walker import Ctx

_MISSING = object()


class Terminology:
    def __init__(self, registry: DefinitionSource) -> None:
        self.registry = registry
        self._cache: dict[str, Any] = {}
        self._external: dict[str, frozenset[Any]] = {}

    def expansion(self, vs_url: str) -> Any:
        exp = self._cache.get(vs_url, _MISSING)
        if exp is _MISSING:
            try:
                exp = self.registry.expand(vs_url)
            except Exception:  # a broken or unsupported ValueSet must not stop validation
                exp = None
            self._cache[vs_url] = exp
        return exp

    @staticmethod
    def _has(exp: Any, system: str | None, code: str) -> bool:
        try:
            return bool(exp.contains(system, code))
        except Exception:
            return False

    def in_value_set(self, value: Any, vs_url: str) -> bool:
        """Used by slice discriminators: does a Coding/CodeableConcept/code fall in the value set?"""
        exp = self.expansion(vs_url)
        if exp is None:
            return False
        if isinstance(value, str):
            return self._has(exp, None, value)
        if isinstance(value, dict):
            codings = value.get("coding") if "coding" in value else [value]
            if not isinstance(codings, list):
                return False
            return any(isinstance(c, dict) and isinstance(c.get("code"), str)
                       and (c.get("system") is None or isinstance(c.get("system"), str))
                       and self._has(exp, c.get("system"), c["code"]) for c in codings)
        return False

    def _not_checked(self, elem: "Elem", expr: str, ctx: "Ctx", why: str) -> None:
        b = elem.binding
        assert b is not None
        ctx.once(("vs", f"{elem.path}|{b.value_set}"), "information", "informational", expr,
                 f"{elem.path}: codes not checked against {b.value_set} ({why})", rule="binding-not-checked")

    def _fail(self, elem: "Elem", expr: str, ctx: "Ctx", value: Any) -> None:
        b = elem.binding
        assert b is not None
        shown = f" (value: {value!r})" if ctx.show_values else ""
        if b.strength == "required":
            ctx.add("error", "code-invalid", expr,
                    f"{elem.path}: the code is not in the required value set {b.value_set}{shown}",
                    rule="binding")
        else:
            ctx.add("warning", "code-invalid", expr,
                    f"{elem.path}: no code from the extensible value set {b.value_set}{shown}",
                    rule="binding")

    def check_code(self, value: str, elem: "Elem", expr: str, ctx: "Ctx") -> None:
        b = elem.binding
        assert b is not None
        exp = self.expansion(b.value_set)
        if exp is None:
            self._not_checked(elem, expr, ctx, "value set cannot be expanded offline")
            return
        if not self._has(exp, None, value):
            self._fail(elem, expr, ctx, value)

    def check_coded(self, value: dict[str, Any], tcode: str | None, elem: "Elem", expr: str, ctx: "Ctx") -> None:
        b = elem.binding
        assert b is not None
        # (system, code) of the well-typed codings; structurally broken ones were reported by the walk
        pairs: list[tuple[str | None, str]] = []
        if tcode == "CodeableConcept":
            raw = value.get("coding")
            if isinstance(raw, list):
                for c in raw:
                    if isinstance(c, dict):
                        code, system = c.get("code"), c.get("system")
                        if isinstance(code, str) and (system is None or isinstance(system, str)):
                            pairs.append((system, code))
        elif tcode == "Coding" or tcode == "Quantity":
            if tcode == "Coding" or "code" in value:
                code, system = value.get("code"), value.get("system")
                if isinstance(code, str) and (system is None or isinstance(system, str)):
                    pairs.append((system, code))
        else:
            return
        if not pairs:
            if tcode == "CodeableConcept" and b.strength == "required" and "text" not in value:
                self._fail(elem, expr, ctx, None)
            return
        exp = self.expansion(b.value_set)
        if exp is None:
            self._not_checked(elem, expr, ctx, "value set cannot be expanded offline")
            return
        external = self._external.get(b.value_set)
        if external is None:
            external = self._external[b.value_set] = getattr(exp, "external_systems", frozenset()) or frozenset()
        if external:
            pairs = [p for p in pairs if p[0] not in external]
            if not pairs:
                self._not_checked(elem, expr, ctx, "code system not available offline")
                return
        # a CodeableConcept's coding names its code system: one without a system is in no value set (R4
        # §4.1, as the HL7 validator reads it); a Coding-typed element, a `code` or a Quantity unit is
        # looked up by code alone (the HL7 validator accepts a system-less Coding there)
        anywhere = tcode != "CodeableConcept"
        for system, code in pairs:
            if (system is not None or anywhere) and self._has(exp, system, code):
                return
        self._fail(elem, expr, ctx, [code for _, code in pairs] if ctx.show_values else None)
