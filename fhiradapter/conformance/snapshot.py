"""Snapshot generation: a StructureDefinition's differential applied to its base's snapshot.

Covers what profiles use: cardinality, fixed/pattern, bindings, type narrowing (+ targetProfile,
profile), must-support, constraints, slicing and slices (with children inside slices), extension
slices (their children come from the extension's own definition), renamed choice elements
(`valueCoding` -> `value[x]` narrowed to Coding), profiles deriving from profiles (the resolver
returns the parent with its snapshot), and datatype children below the base resource's elements
(`Encounter.period.start` unfolds `Period` into the snapshot, as SUSHI and the HL7 tooling do).

Element ids follow the FHIR rules: path segments, slice names after `:` (`Encounter.type:contactMode.coding`).
"""
from __future__ import annotations

import copy
import re
from typing import Any, Callable, TypeVar

import orjson

T = TypeVar("T")


def _copy(value: T) -> T:
    """A deep copy of JSON data: a round trip through orjson is ~10x faster than copy.deepcopy, which
    was most of the snapshot generation every start pays (issue 18). Anything JSON cannot carry as
    it is (a tuple, a non-string key, a huge integer) is copied by deepcopy instead."""
    if _plain_json(value):
        try:
            copied: T = orjson.loads(orjson.dumps(value))
            return copied
        except (TypeError, orjson.JSONEncodeError):
            pass
    return copy.deepcopy(value)


def _plain_json(value: Any) -> bool:
    # orjson would write a tuple as a list and a subclass of str/int as its base: only the plain types
    kind = value.__class__
    if kind is dict:
        return all(k.__class__ is str and _plain_json(v) for k, v in value.items())
    if kind is list:
        return all(_plain_json(v) for v in value)
    return kind in (str, int, float, bool) or value is None


Resolver = Callable[[str], "dict[str, Any] | None"]

FHIR_BASE = "http://hl7.org/fhir/StructureDefinition/"
# Keys of a differential element that replace the base value (everything else merges specially).
_SPECIAL = {"id", "path", "sliceName", "constraint", "condition", "base", "type", "slicing", "binding"}
_CONSTRAINT_PREFIXES = ("fixed", "pattern")


class SnapshotError(Exception):
    """The differential cannot be applied; the message names the StructureDefinition and element id."""


def split_id(element_id: str) -> list[str]:
    """Split an element id into segments on '.', ignoring dots inside slice names after ':'."""
    # Slice names are tokens without dots in practice; reslices use '/', both stay inside a segment.
    return element_id.split(".")


def _type_names(element: dict[str, Any]) -> list[str]:
    return [t.get("code", "") for t in element.get("type") or []]


def _upper_first(name: str) -> str:
    return name[:1].upper() + name[1:]


def generate_snapshot(sd: dict[str, Any], resolve: Resolver) -> list[dict[str, Any]]:
    """Snapshot elements for sd (which has a differential and a baseDefinition).

    `resolve(url_or_type_name)` returns a StructureDefinition WITH snapshot (base types, the parent
    profile, extension definitions) or None.
    """
    base_url = sd.get("baseDefinition")
    name = sd.get("url") or sd.get("id") or "?"
    if not base_url:
        raise SnapshotError(f"StructureDefinition {name}: no baseDefinition to build a snapshot from")
    base = resolve(base_url)
    if base is None or not (base.get("snapshot") or {}).get("element"):
        raise SnapshotError(f"StructureDefinition {name}: base {base_url} not found (or has no snapshot)")
    builder = _Builder(name, _copy(base["snapshot"]["element"]), resolve)
    for position, diff in enumerate((sd.get("differential") or {}).get("element") or []):
        try:
            builder.apply(diff)
        except SnapshotError:
            raise
        except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
            # Wrong JSON shapes (e.g. `type` not a list): name the element, never a traceback.
            where = diff.get("id") if isinstance(diff, dict) else None
            raise SnapshotError(f"StructureDefinition {name}: differential element "
                                f"{where or f'#{position}'}: malformed ({type(exc).__name__}: {exc})") from exc
    return builder.elements


class _Builder:
    def __init__(self, sd_name: str, elements: list[dict[str, Any]], resolve: Resolver) -> None:
        self.sd_name = sd_name
        self.elements = elements
        self.resolve = resolve
        self.original = {e["id"]: e for e in _copy(elements) if "id" in e}
        self._ensure_ids()

    # -- lookup ---------------------------------------------------------------------------
    def _ensure_ids(self) -> None:
        for el in self.elements:
            if "id" not in el:
                el["id"] = el["path"] + (f":{el['sliceName']}" if el.get("sliceName") else "")

    def _index(self, element_id: str) -> int | None:
        for i, el in enumerate(self.elements):
            if el["id"] == element_id:
                return i
        return None

    def _end_of(self, i: int) -> int:
        """Index after the element at i, its children and its slices (and their children)."""
        own = self.elements[i]["id"]
        j = i + 1
        while j < len(self.elements):
            other = self.elements[j]["id"]
            if other.startswith(own + ".") or other.startswith(own + ":"):
                j += 1
            else:
                break
        return j

    def _children_end(self, i: int) -> int:
        """Index after the element at i and its children (slices of it excluded)."""
        own = self.elements[i]["id"]
        j = i + 1
        while j < len(self.elements) and self.elements[j]["id"].startswith(own + "."):
            j += 1
        return j

    def _fail(self, element_id: str, why: str) -> SnapshotError:
        return SnapshotError(f"StructureDefinition {self.sd_name}: differential element {element_id}: {why}")

    # -- the differential -------------------------------------------------------------------
    def apply(self, diff: dict[str, Any]) -> None:
        element_id = diff.get("id") or (diff.get("path", "") + (f":{diff['sliceName']}" if diff.get("sliceName") else ""))
        if not element_id:
            raise self._fail("?", "has neither id nor path")
        i = self._locate(element_id)
        self._merge(self.elements[i], diff)

    def _locate(self, element_id: str) -> int:
        """Index of element_id in the snapshot, creating slices and unfolding datatypes as needed."""
        i = self._index(element_id)
        if i is not None:
            return i
        segments = split_id(element_id)
        if len(segments) == 1:
            raise self._fail(element_id, "root does not match the base type")
        parent_id = ".".join(segments[:-1])
        last = segments[-1]
        name, _, slice_name = last.partition(":")
        parent_i = self._locate(parent_id)
        # The plain (unsliced) element among the parent's children.
        plain_id = f"{self.elements[parent_i]['id']}.{name}"
        plain_i = self._child(parent_i, plain_id, name)
        if plain_i is None:
            raise self._fail(element_id, f"no element '{name}' under {parent_id}")
        plain_id = self.elements[plain_i]["id"]
        if not slice_name:
            return plain_i
        return self._slice(plain_i, plain_id, slice_name)

    def _child(self, parent_i: int, child_id: str, name: str) -> int | None:
        i = self._index(child_id)
        if i is None and self._children_end(parent_i) == parent_i + 1:
            self._unfold(parent_i)
            i = self._index(child_id)
        if i is None:
            i = self._choice(parent_i, name)
        return i

    def _choice(self, parent_i: int, name: str) -> int | None:
        """A renamed choice (`valueCoding`): narrow `value[x]` to that type and return it."""
        parent_id = self.elements[parent_i]["id"]
        match = re.match(r"^([a-z][A-Za-z0-9]*?)([A-Z][A-Za-z0-9]*)$", name)
        if not match:
            return None
        for k in range(len(match.group(1)), len(name)):
            stem, type_part = name[:k], name[k:]
            i = self._index(f"{parent_id}.{stem}[x]")
            if i is None:
                continue
            el = self.elements[i]
            for t in el.get("type") or []:
                code = t.get("code", "")
                if _upper_first(code) == type_part:
                    el["type"] = [t]
                    return i
        return None

    def _unfold(self, parent_i: int) -> None:
        """Insert the children of the element at parent_i from its type (or contentReference)."""
        parent = self.elements[parent_i]
        source = self._children_source(parent)
        if not source:
            return
        root_path = source[0]["path"]
        root_id = source[0].get("id", root_path)
        children: list[dict[str, Any]] = []
        for el in source[1:]:
            el_id = el.get("id", el["path"])
            if not (el_id.startswith(root_id + ".") or el_id.startswith(root_id + ":")):
                if children:
                    break
                continue
            child = _copy(el)
            child["id"] = parent["id"] + el_id[len(root_id):]
            child["path"] = parent["path"] + el["path"][len(root_path):]
            children.append(child)
        self.elements[parent_i + 1:parent_i + 1] = children

    def _children_source(self, parent: dict[str, Any]) -> list[dict[str, Any]]:
        """Elements (root first) whose children become the parent's children."""
        ref = parent.get("contentReference")
        if ref:
            target = ref.split("#", 1)[-1]
            i = self._index(target)
            if i is None:
                return []
            return self.elements[i:self._children_end(i)]
        types = parent.get("type") or []
        if len(types) != 1:
            if len({t.get("code") for t in types}) == 1 and types:
                types = types[:1]
            else:
                raise self._fail(parent["id"], f"cannot unfold children of an element with {len(types)} types")
        t = types[0]
        profiles = t.get("profile") or []
        sd = None
        if len(profiles) == 1:
            sd = self.resolve(profiles[0])
        if sd is None:
            code = t.get("code", "")
            sd = self.resolve(code if "/" in code else FHIR_BASE + code)
        if sd is None or not (sd.get("snapshot") or {}).get("element"):
            raise self._fail(parent["id"], f"type {t.get('code')} has no definition to unfold")
        elements: list[dict[str, Any]] = sd["snapshot"]["element"]
        return elements

    def _slice(self, plain_i: int, plain_id: str, slice_name: str) -> int:
        slice_id = f"{plain_id}:{slice_name}"
        i = self._index(slice_id)
        if i is not None:
            return i
        # Reslices ("a/b") live under slice "a".
        plain = self.elements[plain_i]
        if "slicing" not in plain:
            if plain["path"].endswith("[x]"):
                plain["slicing"] = {"discriminator": [{"type": "type", "path": "$this"}], "ordered": False,
                                    "rules": "open"}
            elif plain["path"].endswith(("extension", "modifierExtension")):
                plain["slicing"] = {"discriminator": [{"type": "value", "path": "url"}], "ordered": False,
                                    "rules": "open"}
        template = _copy(self.original.get(plain_id) or plain)
        template.pop("slicing", None)
        template["id"] = slice_id
        template["sliceName"] = slice_name
        new = [template]
        # Children the sliced element already has (constrained before the slice was declared).
        for el in self.elements[plain_i + 1:self._children_end(plain_i)]:
            child = _copy(el)
            child["id"] = slice_id + el["id"][len(plain_id):]
            new.append(child)
        at = self._end_of(plain_i)
        self.elements[at:at] = new
        return at

    # -- merging ------------------------------------------------------------------------------
    def _merge(self, el: dict[str, Any], diff: dict[str, Any]) -> None:
        for key, value in diff.items():
            if key in _SPECIAL:
                continue
            if key.startswith(_CONSTRAINT_PREFIXES):
                for old in [k for k in el if k.startswith(_CONSTRAINT_PREFIXES)]:
                    del el[old]
            el[key] = _copy(value)
        if "sliceName" in diff:
            el["sliceName"] = diff["sliceName"]
        if "type" in diff:
            el["type"] = self._narrow_types(el, diff["type"])
        if "binding" in diff:
            el["binding"] = {**{k: v for k, v in (el.get("binding") or {}).items() if k != "valueSet"},
                             **_copy(diff["binding"])}
        if "slicing" in diff:
            el["slicing"] = {**(el.get("slicing") or {}), **_copy(diff["slicing"])}
        if "constraint" in diff:
            keys = {c.get("key") for c in diff["constraint"]}
            el["constraint"] = [c for c in el.get("constraint") or [] if c.get("key") not in keys] + \
                _copy(diff["constraint"])
        if "condition" in diff:
            el["condition"] = list(dict.fromkeys((el.get("condition") or []) + diff["condition"]))

    def _narrow_types(self, el: dict[str, Any], new_types: list[dict[str, Any]]) -> list[dict[str, Any]]:
        allowed = {t.get("code") for t in el.get("type") or []}
        for t in new_types:
            code = t.get("code")
            if allowed and code not in allowed and not self._derives_from_allowed(code, allowed):
                raise self._fail(el["id"], f"type {code} is not one of the base types {sorted(allowed)}")
        return _copy(new_types)

    def _derives_from_allowed(self, code: str | None, allowed: set[str | None]) -> bool:
        """A constrained type (e.g. SimpleQuantity for Quantity) or a type below an abstract base."""
        if not code:
            return False
        sd = self.resolve(code if "/" in code else FHIR_BASE + code)
        seen = 0
        while sd is not None and seen < 10:
            if sd.get("type") in allowed:
                return True
            parent = sd.get("baseDefinition")
            if not parent:
                return False
            if parent.rsplit("/", 1)[-1] in allowed:
                return True
            sd = self.resolve(parent)
            seen += 1
        return False
