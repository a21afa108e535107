"""Template paths checked against the FHIR R4 model and the profiles a template claims, at load.

A template is shaped like the resource it makes, so its element names and shapes can be checked
before any row is read: an element the type does not have (`gendr`), a value of the wrong kind (text
where a Reference belongs, an object where a date belongs), one value where FHIR wants a list or a list
where it wants one value, an element the claimed profile forbids (max 0). Each problem names the YAML
path (the loader adds file and line) and, for an unknown name, the closest names ("did you mean").
Definitions come from the offline R4 model and the fhiradapter.bh package, through the validator's
compiled nodes (fhiradapter/validator/compile.py).
"""
from __future__ import annotations

import difflib
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fhiradapter.validator.compile import Compiler
    from fhiradapter.validator.model import Elem, Node

Problem = tuple[str, str]   # (YAML path, message)

# what a directive's value is, when that is known from the directive alone
_TEXT = frozenset({"$concat"})
_DATE_TYPES = frozenset({"date", "dateTime", "string"})
_DATETIME_TYPES = frozenset({"dateTime", "instant", "string"})
_STRING_TYPES = frozenset({"string", "code", "id", "uri", "url", "canonical", "oid", "uuid", "markdown",
                           "base64Binary", "date", "dateTime", "instant", "time", "xhtml"})
_INTEGER_TYPES = frozenset({"integer", "positiveInt", "unsignedInt"})


@lru_cache(maxsize=1)
def _compiler() -> Compiler | None:
    try:
        from fhiradapter.conformance.registry import Registry
        from fhiradapter.validator.compile import Compiler
        return Compiler(Registry.default())
    except Exception:   # no definitions at hand: the check is skipped, the validator will say more in run
        return None


def _directive(value: Any) -> str | None:
    if isinstance(value, dict):
        keys = [k for k in value if isinstance(k, str) and k.startswith("$")]
        if len(keys) == 1:
            return keys[0]
    return None


def _primitive(type_name: str) -> bool:
    return type_name[:1].islower()


def check_template(template: dict[str, Any], where: str, *, text_columns: bool = True) -> list[Problem]:
    """Problems of one resource template (`template:` of a resources[] entry) at YAML path `where`.
    `text_columns`: the source is CSV, so `$col` gives text (a JSON field may hold an object or list)."""
    compiler = _compiler()
    resource_type = template.get("resourceType")
    if compiler is None or not isinstance(resource_type, str):
        return []
    root = compiler.type_root(resource_type)
    if root is None or not root[0].is_resource:
        return [(f"{where}.resourceType", f"'{resource_type}' is not an R4 resource type"
                 + _suggest(resource_type, _resource_types()))]
    node = root[0]
    meta = template.get("meta")
    claimed = meta.get("profile") if isinstance(meta, dict) else None
    profile = claimed[0] if isinstance(claimed, list) and len(claimed) == 1 and isinstance(claimed[0], str) else None
    if profile is not None:
        found = compiler.profile_root(profile)
        if found is not None and found[1].path == resource_type:
            node = found[0]   # the profile's constraints (max 0, own children) on top of R4
    checker = _Checker(compiler, profile, text_columns)
    checker.map(template, node, resource_type, where, root=True)
    return checker.problems


@lru_cache(maxsize=1)
def _resource_types() -> tuple[str, ...]:
    from fhiradapter.conformance.r4 import R4Base
    base = R4Base.shared()
    return tuple(sorted(name for name, url in base.types.items() if name[:1].isupper()
                        and base.sd_index.get(url, {}).get("kind") == "resource"))


def _suggest(name: str, options: Any) -> str:
    close = difflib.get_close_matches(name, list(options), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


class _Checker:
    def __init__(self, compiler: Compiler, profile: str | None, text_columns: bool):
        self.compiler, self.profile = compiler, profile
        self.text = _TEXT | {"$col"} if text_columns else _TEXT
        self.problems: list[Problem] = []

    def children(self, elem: Elem, type_name: str | None) -> Node | None:
        if elem.children is not None:
            return elem.children
        if type_name is None or _primitive(type_name) or type_name in ("Resource", "Element", "BackboneElement"):
            return None
        found = self.compiler.type_root(type_name)
        return found[0] if found is not None else None

    def map(self, spec: dict[str, Any], node: Node, path: str, where: str, root: bool = False) -> None:
        for key, value in spec.items():
            if not isinstance(key, str) or (root and key == "resourceType"):
                continue
            name = key[1:] if key.startswith("_") else key   # _birthDate: the primitive's id/extension
            entry = node.keys.get(name)
            if entry is None:
                self.problems.append((f"{where}.{key}", f"{node.type_name} has no element '{key}'"
                                      + _suggest(key, [k for k in node.keys if k not in ("id",)])))
                continue
            elem, type_name = entry
            if elem.max == 0 and self.profile is not None:
                self.problems.append((f"{where}.{key}", f"{path}.{key} is not allowed by the claimed profile "
                                      f"{self.profile} (max 0)"))
                continue
            if key.startswith("_"):
                continue
            self.value(value, elem, type_name, f"{path}.{key}", f"{where}.{key}")

    def value(self, value: Any, elem: Elem, type_name: str | None, path: str, where: str) -> None:
        """A value for an element: a list where the element repeats, one item otherwise."""
        directive = _directive(value)
        if directive == "$if":
            for branch in ("then", "else"):
                if branch in value:
                    self.value(value[branch], elem, type_name, path, f"{where}.{branch}")
            return
        if elem.array:
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if _directive(item) == "$each":   # spliced into the list
                        self.item(item.get("do"), elem, type_name, f"{path}[*]", f"{where}[{i}].do")
                    else:
                        self.item(item, elem, type_name, f"{path}[{i}]", f"{where}[{i}]")
            elif directive == "$each":
                self.item(value.get("do"), elem, type_name, f"{path}[*]", f"{where}.do")
            elif directive is None or directive in ("$ref", "$date", "$datetime") or directive in self.text:
                self.problems.append((where, f"{path} is a list in FHIR (0..{'*' if elem.max is None else elem.max}): "
                                      "write the value as a list item (- ...)"))
            return
        if isinstance(value, list) or directive == "$each":
            self.problems.append((where, f"{path} takes one value, not a list"))
            return
        self.item(value, elem, type_name, path, where)

    def item(self, value: Any, elem: Elem, type_name: str | None, path: str, where: str) -> None:
        """One value of an element whose type is `type_name` (None: several types, not checked)."""
        directive = _directive(value)
        if directive == "$if":
            for branch in ("then", "else"):
                if branch in value:
                    self.item(value[branch], elem, type_name, path, f"{where}.{branch}")
            return
        if directive == "$const" or type_name is None or value is None:   # $const is verbatim on purpose
            return
        if _primitive(type_name):
            if directive is None and isinstance(value, (dict, list)):
                self.problems.append((where, f"{path} is a {type_name} (one value), not "
                                      f"{'an object' if isinstance(value, dict) else 'a list'}"))
            elif directive == "$ref":
                self.problems.append((where, f"{path} is a {type_name}, not a Reference"))
            elif directive == "$date" and type_name not in _DATE_TYPES:
                self.problems.append((where, f"{path} is a {type_name}, not a date"))
            elif directive == "$datetime" and type_name not in _DATETIME_TYPES:
                self.problems.append((where, f"{path} is a {type_name}, not a dateTime"
                                      + (" (use $date)" if type_name == "date" else "")))
            elif directive is None:
                self.constant(value, type_name, path, where)
            return
        # a complex type
        if directive is None and not isinstance(value, dict):
            self.problems.append((where, f"{path} is a {type_name} (an object), not "
                                  f"{'a list' if isinstance(value, list) else 'a single value'}"))
        elif directive in ("$date", "$datetime") or directive in self.text:
            self.problems.append((where, f"{path} is a {type_name} (an object), not text"))
        elif directive == "$ref" and type_name != "Reference":
            self.problems.append((where, f"{path} is a {type_name}, not a Reference"))
        elif directive is None:
            node = self.children(elem, type_name)
            if node is not None:
                self.map(value, node, path, where)

    def constant(self, value: Any, type_name: str, path: str, where: str) -> None:
        if type_name == "boolean":
            ok = isinstance(value, bool)
        elif type_name in _INTEGER_TYPES:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif type_name == "decimal":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif type_name in _STRING_TYPES:
            ok = isinstance(value, str)
        else:
            ok = True
        if not ok:
            kind = {bool: "boolean", int: "integer", float: "decimal", str: "text"}.get(type(value), type(value).__name__)
            self.problems.append((where, f"{path} is a {type_name}; this constant is {kind}"
                                  + (" (quote it)" if type_name in _STRING_TYPES else "")))
