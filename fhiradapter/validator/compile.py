"""Compile StructureDefinition snapshots into `Node`/`Elem` tables, once per definition (cached)."""
from __future__ import annotations

from typing import Any

from .checks.value_bounds import compile_bounds
from .invariants import compile_constraint
from .model import MISSING, Binding, Discriminator, Elem, Node, Slicing
from .primitives import CHECKERS, PRIMITIVE_TYPES
from .registry import DefinitionSource

R4 = "http://hl7.org/fhir/StructureDefinition/"
FHIRPATH_TYPE_PREFIX = "http://hl7.org/fhirpath/System."


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _type_code(t: dict[str, Any]) -> str:
    code: str = t.get("code", "")
    if code.startswith(FHIRPATH_TYPE_PREFIX):   # e.g. the value of a primitive, id of an element
        return {"String": "string", "Boolean": "boolean", "Integer": "integer",
                "Decimal": "decimal", "Date": "date", "DateTime": "dateTime",
                "Time": "time"}.get(code[len(FHIRPATH_TYPE_PREFIX):], "string")
    for ext in t.get("extension", []):   # R4 id/url elements: code carries the fhir-type extension
        if ext.get("url", "").endswith("structuredefinition-fhir-type"):
            declared: str = ext.get("valueUrl") or ext.get("valueUri") or code
            return declared
    return code


class Compiler:
    """Turns definitions from a registry into nodes. One per Validator; everything cached."""

    def __init__(self, registry: DefinitionSource) -> None:
        self.registry = registry
        self._type_nodes: dict[str, tuple[Node, Elem] | None] = {}
        self._sd_roots: dict[str, tuple[Node, Elem] | None] = {}
        self._type_of_url: dict[str, str | None] = {}

    # -- public lookups
    def type_root(self, type_name: str) -> tuple[Node, Elem] | None:
        """(children node, root element) of a base datatype or resource type."""
        if type_name not in self._type_nodes:
            sd = self.registry.structure_definition(type_name)
            self._type_nodes[type_name] = self._compile_sd(sd) if sd else None
        return self._type_nodes[type_name]

    def profile_root(self, url: str) -> tuple[Node, Elem] | None:
        found: tuple[Node, Elem] | None = self._sd_roots.get(url, MISSING)   # the claimed url as written (once per resource)
        if found is not MISSING:
            return found
        key = url.split("|")[0]
        if key not in self._sd_roots:
            sd = self.registry.structure_definition(key)
            self._sd_roots[key] = self._compile_sd(sd) if sd else None
        found = self._sd_roots[url] = self._sd_roots[key]
        return found

    def profile_type(self, url: str) -> str | None:
        """The resource/datatype a profile constrains (for targetProfile checks)."""
        key = url.split("|")[0]
        name = key[len(R4):]
        if key.startswith(R4) and "/" not in name and name[:1].isupper():   # a core type, not e.g. vitalsigns
            return name
        if key not in self._type_of_url:
            sd = self.registry.resource(key)
            self._type_of_url[key] = sd.get("type") if isinstance(sd, dict) else None
        return self._type_of_url[key]

    # -- compilation
    def _compile_sd(self, sd: dict[str, Any]) -> tuple[Node, Elem] | None:
        elements = (sd.get("snapshot") or {}).get("element") or []
        if not elements:
            return None
        url = sd.get("url", "")
        by_id: dict[str, Elem] = {}
        child_lists: dict[str, list[Elem]] = {}
        root: Elem | None = None
        for raw in elements:
            elem = self._elem(raw, url)
            eid = elem.id
            by_id[eid] = elem
            if root is None:
                root = elem
                continue
            parent_id, _, last = eid.rpartition(".")
            name, _, slice_name = last.partition(":")
            if slice_name and "/" not in slice_name:
                base = by_id.get(f"{parent_id}.{name}" if parent_id else name)
                if base is not None:
                    elem.slice_name = slice_name
                    base.slices.append(elem)
                    continue
            elif slice_name:        # re-slice (a/b): attach to its parent slice
                parent_slice = by_id.get(f"{parent_id}.{name}:{slice_name.split('/')[0]}")
                if parent_slice is not None:
                    elem.slice_name = slice_name
                    parent_slice.slices.append(elem)
                    continue
            child_lists.setdefault(parent_id, []).append(elem)
        assert root is not None
        kind = sd.get("kind")
        for pid, kids in child_lists.items():
            owner = by_id.get(pid)
            if owner is None:
                continue
            owner.children = self._node(kids, owner.path, resource=(owner is root and kind == "resource"))
        # contentReference (#Questionnaire.item): share the referenced element's children
        for elem in by_id.values():
            if elem.content_ref:
                target = by_id.get(elem.content_ref.split("#", 1)[-1])
                if target is not None:
                    elem.children = target.children
                    if not elem.types:
                        elem.types = target.types
        node = root.children or Node(type_name=root.path, is_resource=(kind == "resource"))
        node.is_resource = kind == "resource"
        return node, root

    def _node(self, kids: list[Elem], type_name: str, resource: bool) -> Node:
        node = Node(type_name=type_name, is_resource=resource)
        for elem in kids:
            node.elems.append(elem)
            if elem.min > 0 or (elem.max is not None and elem.array):
                node.bounded.append(elem)
            elif elem.must_support:
                node.must_support.append(elem)
            if elem.choice:
                stem = elem.name[:-3]
                for t in elem.types:
                    node.keys[stem + _cap(t)] = (elem, t)
            else:
                node.keys[elem.name] = (elem, elem.types[0] if len(elem.types) == 1 else None)
        return node

    def _elem(self, raw: dict[str, Any], sd_url: str) -> Elem:
        path = raw.get("path", "")
        eid = raw.get("id") or path
        types_raw = raw.get("type") or []
        types = tuple(_type_code(t) for t in types_raw)
        profiles: dict[str, tuple[str, ...]] = {}
        targets: set[str] | None = set()
        for t, code in zip(types_raw, types):
            if t.get("profile"):
                profiles[code] = tuple(t["profile"])
            for tp in t.get("targetProfile", []) or []:
                tname = self.profile_type(tp)
                if tname is None or tname == "Resource":
                    targets = None
                    break
                if targets is not None:
                    targets.add(tname)
        if not targets:
            targets = None
        base = raw.get("base") or {}
        base_max = base.get("max", raw.get("max", "1"))
        max_raw = raw.get("max", "*")
        fixed = pattern = MISSING
        for k, v in raw.items():
            if k.startswith("fixed"):
                fixed = v
            elif k.startswith("pattern"):
                pattern = v
        binding = None
        b = raw.get("binding")
        if b and b.get("valueSet") and b.get("strength") in ("required", "extensible"):
            binding = Binding(b["strength"], b["valueSet"].split("|")[0])
        slicing = None
        s = raw.get("slicing")
        if s:
            slicing = Slicing([Discriminator(d.get("type", "value"), d.get("path", "$this"))
                               for d in s.get("discriminator", [])],
                              s.get("rules", "open"), bool(s.get("ordered")))
        name = path.rsplit(".", 1)[-1]
        elem = Elem(
            id=eid, path=path, name=name, min=int(raw.get("min", 0) or 0),
            max=None if max_raw == "*" else int(max_raw),
            array=base_max not in ("0", "1"),
            types=types, type_profiles=profiles, target_types=frozenset(targets) if targets else None,
            binding=binding, fixed=fixed, pattern=pattern, slicing=slicing,
            must_support=bool(raw.get("mustSupport")), content_ref=raw.get("contentReference"),
            sd_url=sd_url, choice=name.endswith("[x]"),
        )
        elem.bounds = compile_bounds(raw)
        for c in raw.get("constraint", []) or []:
            compiled = compile_constraint(c, sd_url, path, types[0] if len(types) == 1 and types[0][:1].isupper()
                                          and types[0] not in ("BackboneElement", "Element") else "")
            if compiled is not None:
                elem.constraints.append(compiled)
        if len(types) == 1 and types[0] in CHECKERS and binding is None and fixed is MISSING \
                and pattern is MISSING and not elem.constraints and elem.max != 0 \
                and elem.bounds is None:
            elem.prim = CHECKERS[types[0]]   # the walker's fast path: type and format only
        return elem


def is_primitive(type_code: str | None) -> bool:
    return type_code in PRIMITIVE_TYPES

