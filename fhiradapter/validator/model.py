"""Compiled form of StructureDefinition snapshots: plain slotted objects the walker reads.

A `Node` is the set of children allowed in one JSON object (a resource, a BackboneElement, a datatype),
keyed by JSON property name (choice elements appear once per allowed type, e.g. valueString).
An `Elem` is one ElementDefinition with everything the walker needs pre-computed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

_MISSING = object()
MISSING: Any = _MISSING


@dataclass(slots=True)
class Constraint:
    key: str
    severity: str                 # "error" | "warning"
    human: str
    expression: str
    source: str                   # SD url that declared it
    fn: Callable[..., Any] | None = None   # compiled FHIRPath, None when unsupported
    unsupported: str | None = None         # why it cannot be evaluated
    fast: Any = None                        # compiled fast-subset closure; False when not in the subset
    base: str = ""                          # path of the declaring element: fhirpathpy types the focus by it
    type_name: str = ""                     # the element's one datatype, for type() in fhirpathpy


@dataclass(slots=True)
class Discriminator:
    type: str                     # value | pattern | type | exists | profile
    path: str


@dataclass(slots=True)
class Slicing:
    discriminators: list[Discriminator]
    rules: str                    # open | closed | openAtEnd
    ordered: bool


@dataclass(slots=True)
class Binding:
    strength: str
    value_set: str


@dataclass(slots=True, eq=False)
class Elem:
    id: str
    path: str
    name: str                     # last path segment, "value[x]" for choices
    min: int
    max: int | None               # None: unbounded
    array: bool                   # represented as a JSON array (base max != 1)
    types: tuple[str, ...]
    type_profiles: dict[str, tuple[str, ...]]
    target_types: frozenset[str] | None      # Reference targets; None = any
    binding: Binding | None = None
    fixed: Any = MISSING
    pattern: Any = MISSING
    constraints: list[Constraint] = field(default_factory=list)
    slicing: Slicing | None = None
    slices: list["Elem"] = field(default_factory=list)
    slice_name: str | None = None
    must_support: bool = False
    content_ref: str | None = None
    children: "Node | None" = None           # inline children from the snapshot
    sd_url: str = ""
    choice: bool = False                     # name ends with [x]
    prim: Callable[[Any], "str | None"] | None = None   # checker when a bare primitive check suffices
    plans: dict[str | None, Any] = field(default_factory=dict)   # walker's per-type plan for values of this element
    slice_plan: Any = None                       # walker's precomputed slicing dispatch (SlicePlan)
    bounds: Any = None                           # checks.value_bounds.Bounds: minValue/maxValue/maxLength


@dataclass(slots=True, eq=False)
class Node:
    type_name: str                # the datatype / resource / BackboneElement path
    keys: dict[str, tuple[Elem, str | None]] = field(default_factory=dict)
    elems: list[Elem] = field(default_factory=list)
    is_resource: bool = False
    bounded: list[Elem] = field(default_factory=list)   # elems whose count needs checking
    must_support: list[Elem] = field(default_factory=list)   # other must-support elems (opt-in report)
    slots: dict[str, Any] | None = None     # walker's dispatch per JSON key: (elem, type, kind, primitive checker)
    shapes: dict[tuple[str, ...], Any] = field(default_factory=dict)   # generated walk per object shape (shapes.py)
    shapes_seen: set[tuple[str, ...]] = field(default_factory=set)      # shapes seen once, compiled on the second
