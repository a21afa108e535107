"""Invariants: the base ones natively (fast, and fhirpathpy lacks hasValue/htmlChecks), the rest through
fhirpathpy, compiled once per expression and cached, with `hasValue()` registered as a user function.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

from ..fhirpath import Unsupported, compile_expression
from .model import Constraint

# Checked natively by the walker (see walker.py); their FHIRPath is never evaluated.
NATIVE = frozenset({
    "ele-1", "ext-1", "ref-1", "per-1", "dom-2", "dom-3", "dom-4", "dom-5", "dom-6", "txt-1", "txt-2",
    "bdl-1", "bdl-2", "bdl-3", "bdl-4", "bdl-5", "bdl-7", "bdl-8", "bdl-9", "bdl-10", "bdl-11",
    "bdl-12",
})


def _has_value(inputs: list[Any]) -> bool:
    return len(inputs) == 1 and inputs[0] is not None and not isinstance(inputs[0], (dict, list))


# trace() must not print into the user's report
_OPTIONS = {"userInvocationTable": {"hasValue": {"fn": _has_value, "arity": {0: []}}},
            "traceFn": lambda *args, **kwargs: None}


@lru_cache(maxsize=None)
def _compiled(expression: str) -> tuple[Callable[..., Any] | None, str | None]:
    try:
        import fhirpathpy
        from fhirpathpy.models import models
        return fhirpathpy.compile(expression, models["r4"], _OPTIONS), None
    except Exception as exc:  # unparseable or unsupported by fhirpathpy
        return None, f"FHIRPath not supported by the engine ({type(exc).__name__})"


def compile_constraint(raw: dict[str, Any], sd_url: str, base: str = "", type_name: str = "") -> Constraint | None:
    key = raw.get("key", "")
    expression = raw.get("expression")
    if key in NATIVE or not expression:
        return None
    return Constraint(key=key, severity=raw.get("severity", "error"), human=raw.get("human", key),
                      expression=expression, source=sd_url, base=base if "." in base else "",
                      type_name=type_name)


@lru_cache(maxsize=None)
def _fast(expression: str) -> Callable[..., Any] | None:
    try:
        return compile_expression(expression)
    except Unsupported:
        return None


def evaluate(constraint: Constraint, focus: Any, resource: Any, env: dict[str, Any] | None = None) -> bool | None:
    """True/False for pass/fail; None when the expression cannot be evaluated here."""
    if env is None:
        env = {"resource": resource, "rootResource": resource}
    fast = constraint.fast
    if fast is None:
        fast = constraint.fast = _fast(constraint.expression) or False
    if fast is not False:
        try:
            return _verdict(fast(focus, env))
        except Unsupported:
            pass   # a shape the subset does not handle: the complete engine decides
    if constraint.fn is None and constraint.unsupported is None:
        constraint.fn, constraint.unsupported = _compiled(constraint.expression)
    if constraint.fn is None:
        return None
    try:
        # an element's focus typed by its path, so choices (probability -> probabilityDecimal) resolve
        # (typed resources only where type() is asked: fhirpathpy loses extension choices on typed nodes)
        typed = "type()" in constraint.expression
        if focus.__class__ is dict and isinstance(focus.get("resourceType"), str):
            node = _node(focus, focus["resourceType"]) if typed else focus
        elif constraint.base and focus.__class__ is dict:
            node = _node(focus, constraint.type_name if typed and constraint.type_name else constraint.base)
        else:
            node = focus
        result = constraint.fn(node, _typed_env(env) if typed else env)
    except Exception as exc:  # functions fhirpathpy does not implement (memberOf, conformsTo, ...)
        constraint.unsupported = f"FHIRPath evaluation failed ({type(exc).__name__})"
        return None
    return _verdict(result)


def _typed_env(env: dict[str, Any]) -> dict[str, Any]:
    """%resource / %rootResource as typed nodes, so type() names them (fhirpathpy types by path)."""
    out = dict(env)
    for k in ("resource", "rootResource"):
        v = env.get(k)
        if isinstance(v, dict) and isinstance(v.get("resourceType"), str):
            out[k] = _node(v, v["resourceType"])
    return out


def _node(focus: Any, base: str) -> Any:
    try:
        from fhirpathpy.engine.nodes import ResourceNode
        return ResourceNode.create_node(focus, base)  # type: ignore[no-untyped-call]
    except Exception:   # a path the model does not know: untyped, as before
        return focus


def _verdict(result: list[Any]) -> bool:
    if not result:
        return True   # empty: nothing to check
    return result[0] is not False
