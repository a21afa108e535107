"""The structural walk: one pass over a parsed resource against compiled element tables.

Reports into a `Ctx`; never raises on any JSON input (the caller still guards with a catch-all).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

import orjson

from ..fhirpath import Unsupported
from ..outcome import Issue
from . import invariants
from .checks import EVERY_RESOURCE, RESOURCE_CHECKS
from .checks.attachment import check_attachment
from .checks.base import CheckEnv
from .checks.codes import CodeSystems
from .checks.extension_context import context_allows
from .checks.references import contained_reference_type
from .checks.value_bounds import check_bounds
from .compile import Compiler, is_primitive
from .model import MISSING, Elem, Node
from .primitives import CHECKERS, PRIMITIVE_TYPES, primitive_check_id
from .shapes import MAX_PENDING, MAX_SHAPES, compile_shape
from .terminology import Terminology

_ABS_REF = re.compile(r"(https?://\S+/)?([A-Z][A-Za-z]+)/([A-Za-z0-9\-\.]{1,64})(/_history/[A-Za-z0-9\-\.]{1,64})?")
_COND_REF = re.compile(r"()([A-Z][A-Za-z]+)\?(\S+)")   # conditional reference (transactions): Type?search
_WHITESPACE = re.compile(r"\s").search
_CODED = frozenset({"code", "Coding", "CodeableConcept", "Quantity", "string", "uri"})


_EXTENSION, _PERIOD, _REFERENCE, _ATTACHMENT, _CODING = 1, 2, 3, 4, 5
# Extensions from these example domains may stay unknown (as in the HL7 validator): a note, not an error
_EXAMPLE_DOMAINS = ("example.org", "acme.com", "nema.org")
# HL7's own extensions from later versions and the extensions pack (the reference knows them; we do not
# ship them): not checked, a note
_HL7_EXTENSIONS = "http://hl7.org/fhir/StructureDefinition/"
# our package's domain: the reference accepts an undefined extension there (a --strict check)
_OUR_DOMAIN = "https://fhiradapter.org/fhir/"


# Coded values repeat across records (the same system and code in every Encounter): clean results for
# these types are remembered per element, keyed by the value's exact content (bounded)
_MEMO_TYPES = frozenset({"Coding", "CodeableConcept", "Extension"})
_MEMO_MAX = 2048      # per element and type
_MEMO_TOTAL = 20000   # per Validator: a few MB at most, so long NDJSON runs stay flat
_MEMO_PROBATION = 512   # lookups before an element whose values hit less than 1 in 5 stops remembering
_NO_IDS: frozenset[str] = frozenset()
_NO_KEYS: Any = frozenset()   # stands in for the de-duplication set when there is one profile
_REF_TYPES_MAX = 20000   # reference strings whose parse is remembered (a few MB at most)
_json_key = orjson.dumps
# what orjson would write for a non-JSON object raises instead (subclasses of str/int/dict/list, dates,
# dataclasses): no key, the value is walked
_KEY_OPTIONS = orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class _Plan:
    """What a value of one element and type is checked against, decided once (see Walker._plan)."""
    __slots__ = ("tcode", "tname", "check", "code_binding", "fixed", "resource", "node", "constraints",
                 "ext_dynamic", "ext_note", "fallback", "native", "coded", "memo", "plain", "hits", "misses",
                 "good_codes")

    def __init__(self) -> None:
        self.tcode: str | None = None
        self.tname = ""
        self.check: Callable[[Any], str | None] | None = None
        self.code_binding = self.fixed = self.resource = self.ext_dynamic = self.ext_note = False
        self.coded = False
        self.node: Node | None = None
        self.fallback: Node | None = None
        self.constraints: list[Any] = []
        self.native = 0
        self.memo: dict[bytes, Any] | None = None
        self.plain = False   # an object value goes straight to Walker._complex (no check, nested resource, memo)
        self.hits = self.misses = 0
        self.good_codes: set[str] = set()   # codes that passed this element's binding (shapes.py)


_K_PRIM, _K_SINGLE, _K_ARRAY, _K_PRIMS, _K_OTHER = "prim", "single", "array", "prims", "other"
_KINDS = {"prim": _K_PRIM, "single": _K_SINGLE, "array": _K_ARRAY, "prims": _K_PRIMS}


def _slots(node: Node) -> dict[str, tuple[Any, ...]]:
    """Per JSON key of a node: (elem, type code, kind, checker, sliced); kind picks the walker's fast path."""
    out: dict[str, tuple[Any, ...]] = {}
    for key, (elem, tcode) in node.keys.items():
        sliced = bool(elem.slices) or (elem.slicing is not None and elem.slicing.rules == "closed")
        if elem.prim is not None and not elem.array:
            kind = _K_PRIM
        elif elem.prim is not None and not elem.choice and elem.max != 0 and not sliced:
            kind = _K_PRIMS
        elif not elem.array and not elem.choice and elem.max != 0:
            kind = _K_SINGLE
        elif elem.array and not elem.choice and elem.max != 0 and tcode is not None \
                and tcode not in PRIMITIVE_TYPES and elem.prim is None:
            kind = _K_ARRAY
        else:
            kind = _K_OTHER
        out[key] = (elem, tcode, kind, elem.prim, sliced)
    return out


class _SlicePlan:
    __slots__ = ("closed", "ordered", "open_at_end", "index", "matchers", "found")
    closed: bool
    ordered: bool
    open_at_end: bool
    index: tuple[tuple[str, ...], dict[tuple[Any, ...], int]] | None
    matchers: list[Callable[[Any], bool]]
    found: dict[bytes, tuple[Any, int]]   # item's JSON text -> (item, its slice or -1)


@dataclass(slots=True)
class RefUse:
    reference: str
    expression: str
    targets: frozenset[str] | None


@dataclass(slots=True)
class Ctx:
    issues: list[Issue]
    show_values: bool
    must_support: bool
    resource: Any = None
    contained_ids: frozenset[str] = frozenset()
    refs: list[RefUse] = field(default_factory=list)
    seen_info: set[tuple[str, str]] = field(default_factory=set)
    env: dict[str, Any] | None = None       # FHIRPath %resource for the resource being walked
    root_resource: Any = None               # FHIRPath %rootResource: the container of contained resources
    marks: int = 0   # context-dependent checks so far (notes, references, invariants, nested resources)
    keep_refs: bool = True   # collect `refs` (only a Bundle's reference resolution reads them)

    def add(self, severity: str, code: str, expr: str, message: str, rule: str | None = None) -> None:
        self.issues.append(Issue(severity=severity, code=code, message=message,  # type: ignore[arg-type]
                                 expression=expr, rule=rule))

    def once(self, key: tuple[str, str], severity: str, code: str, expr: str, message: str,
             rule: str | None = None) -> None:
        self.marks += 1
        if key not in self.seen_info:
            self.seen_info.add(key)
            self.add(severity, code, expr, message, rule)


def _shown(ctx: Ctx, value: Any) -> str:
    if not ctx.show_values:
        return ""
    text = repr(value)
    return f" (value: {text[:80]})"


_CANONICAL_SHAPE = re.compile(r"https?://[A-Za-z0-9.-]+(?::\d{1,5})?(?:/[A-Za-z0-9._~%/-]*)?(?:\|[A-Za-z0-9.+-]{1,40})?")


def shown_canonical(url: str, show_values: bool) -> str:
    """A claimed profile or extension url in a message: a plain http(s) canonical names a definition, not a
    person, and the reader needs it; anything else is record data, shown only with --show-values."""
    if show_values or (len(url) <= 256 and _CANONICAL_SHAPE.fullmatch(url)):
        return url
    return "(a url that is not a canonical; --show-values shows it)"


def compile_pattern(pattern: Any) -> Callable[[Any], bool]:
    """A matcher for FHIR pattern[x] semantics, built once per pattern: every key of a pattern object
    must match, every item of a pattern array must match some item of the value."""
    if isinstance(pattern, dict):
        if not any(isinstance(v, (dict, list)) for v in pattern.values()):
            flat = tuple(pattern.items())   # e.g. a Coding {system, code}: plain comparisons, no closures

            def match_flat(value: Any) -> bool:
                if value.__class__ is not dict:
                    return False
                for k, p in flat:
                    if not (value.get(k, MISSING) == p):
                        return False
                return True
            return match_flat
        parts = [(k, compile_pattern(v)) for k, v in pattern.items()]

        def match_dict(value: Any) -> bool:
            if value.__class__ is not dict:
                return False
            for k, sub in parts:
                if not sub(value.get(k, MISSING)):
                    return False
            return True
        return match_dict
    if isinstance(pattern, list):
        subs = [compile_pattern(p) for p in pattern]

        def match_list(value: Any) -> bool:
            if value.__class__ is not list:
                return False
            for sub in subs:
                for v in value:
                    if sub(v):
                        break
                else:
                    return False
            return True
        return match_list
    return lambda value: value == pattern


class Walker:
    def __init__(self, compiler: Compiler, terminology: Terminology) -> None:
        self.c = compiler
        self.term = terminology
        self._expected_cache: dict[tuple[int, str], Any] = {}
        self._ext_roots: dict[str, Any] = {}
        self._ext_sds: dict[str, Any] = {}
        self._memo_room = _MEMO_TOTAL   # remembered values across all elements (bounded memory)
        self._index_cache: dict[Elem, Any] = {}
        self._system_cache: dict[Elem, Any] = {}
        self._pattern_cache: dict[Elem, Callable[[Any], bool]] = {}
        self._type_cache: dict[str, Any] = {}
        self._ref_types: dict[str, tuple[str | None, bool]] = {}   # see _ref_type
        self.code_systems = CodeSystems(compiler.registry)
        self.check_env = CheckEnv(compiler.registry, self.code_systems)
        # deliberate differences from the HL7 validator, chosen by the Validator's options
        self.unknown_profile = "warning"      # a claimed profile we do not know ("error": --strict-profiles)
        self.unknown_extension = "error"      # an extension with no definition ("information": --allow-unknown-extensions)

    # ---------------------------------------------------------------- resources
    def resource(self, res: Any, expr: str, ctx: Ctx, profiles: list[str], root: bool = True) -> None:
        """Validate a resource against its base type and the given profile urls."""
        if not isinstance(res, dict):
            ctx.add("error", "structure", expr, "a resource must be a JSON object", rule="resource-json")
            return
        rtype = res.get("resourceType")
        if not isinstance(rtype, str) or not rtype:
            ctx.add("error", "structure", expr, "resourceType is missing: cannot tell what this resource is", rule="resource-type")
            return
        base = self.c.type_root(rtype)
        if base is None or not base[0].is_resource:
            ctx.add("error", "structure", expr, f"unknown resource type {rtype}", rule="resource-type")
            return
        ctx.marks += 1
        saved = (ctx.resource, ctx.contained_ids, ctx.root_resource)
        ctx.resource = res
        if root or "contained[" not in expr:
            ctx.root_resource = res   # not contained: it is its own %rootResource
        contained = res.get("contained")
        if isinstance(contained, list):
            ctx.contained_ids = frozenset(c["id"] for c in contained
                                          if isinstance(c, dict) and isinstance(c.get("id"), str))
        elif root or ".contained[" not in expr:
            ctx.contained_ids = _NO_IDS
        # else: a contained resource resolves "#id" against its container's other contained resources
        targets: list[tuple[Node, Elem]] = []
        for url in profiles:
            compiled = self.c.profile_root(url)
            if compiled is None:
                ctx.add(self.unknown_profile, "structure", f"{expr}.meta.profile" if expr == rtype else expr,
                        f"profile {shown_canonical(url, ctx.show_values)} is not known (load it with --ig); "
                        "the resource was checked "
                        "against the base definition only", rule="profile-unknown")
                continue
            if compiled[1].path != rtype:
                ctx.add("error", "structure", expr,
                        f"profile {url} is for {compiled[1].path}, not {rtype}", rule="profile-type")
                continue
            targets.append(compiled)
        if not targets:
            targets = [base]
        seen: set[tuple[str | None, str]] = set() if len(targets) > 1 else _NO_KEYS
        for node, elem in targets:
            start = len(ctx.issues)
            self._object(res, node, rtype, expr, ctx)
            self._constraints(elem.constraints, res, expr, ctx)
            if len(targets) > 1:  # several profiles repeat base findings: keep each once
                kept = []
                for issue in ctx.issues[start:]:
                    k = (issue.expression, issue.message)
                    if k not in seen:
                        seen.add(k)
                        kept.append(issue)
                del ctx.issues[start:]
                ctx.issues.extend(kept)
        self._dom(res, rtype, expr, ctx, root)
        for key, check in EVERY_RESOURCE:
            if key in res:
                check(res, expr, ctx.add, self.check_env)
        extra = RESOURCE_CHECKS.get(rtype)
        if extra is not None:
            for check in extra:
                check(res, expr, ctx.add, self.check_env)
        ctx.resource, ctx.contained_ids, ctx.root_resource = saved

    def _dom(self, res: dict[str, Any], rtype: str, expr: str, ctx: Ctx, root: bool) -> None:
        contained = res.get("contained")
        if not isinstance(contained, list):
            return
        for i, c in enumerate(contained):
            if not isinstance(c, dict):
                continue
            cexpr = f"{expr}.contained[{i}]"
            if "contained" in c:
                ctx.add("error", "invariant", cexpr, "a contained resource must not contain resources",
                        rule="dom-2")
            meta = c.get("meta")
            if isinstance(meta, dict):
                if "versionId" in meta or "lastUpdated" in meta:
                    ctx.add("error", "invariant", cexpr + ".meta",
                            "a contained resource must not have meta.versionId or meta.lastUpdated",
                            rule="dom-4")
                if "security" in meta:
                    ctx.add("error", "invariant", cexpr + ".meta",
                            "a contained resource must not have security labels", rule="dom-5")
            cid = c.get("id")
            if isinstance(cid, str) and not self._referenced(res, "#" + cid, c):
                ctx.add("error", "invariant", cexpr,
                        "a contained resource must be referenced from elsewhere in the resource",
                        rule="dom-3")

    @staticmethod
    def _referenced(res: Any, ref: str, skip: Any) -> bool:
        stack = [res]
        while stack:
            cur = stack.pop()
            if cur is skip:
                continue
            if isinstance(cur, dict):
                stack.extend(cur.values())
            elif isinstance(cur, list):
                stack.extend(cur)
            elif cur == ref:   # a Reference.reference, or a canonical/uri such as ValueSet.compose.include.system
                return True
        # a contained resource may instead reference its container ("#")
        stack = [skip]
        while stack:
            cur = stack.pop()
            if isinstance(cur, dict):
                if cur.get("reference") == "#":
                    return True
                stack.extend(cur.values())
            elif isinstance(cur, list):
                stack.extend(cur)
        return False

    # ---------------------------------------------------------------- objects
    def _object(self, obj: dict[str, Any], node: Node, tname: str, expr: str, ctx: Ctx) -> None:
        """Walk one JSON object against a node: by the generated function of its shape (shapes.py) once
        that shape has been seen twice, else by the general walk."""
        shape = tuple(obj)
        fn = node.shapes.get(shape)
        if fn is None:
            fn = self._shape(node, shape)
        fn(self, obj, node, tname, expr, ctx)

    def _shape(self, node: Node, shape: tuple[str, ...]) -> Any:
        pending = node.shapes_seen
        if shape not in pending or len(node.shapes) >= MAX_SHAPES:
            if len(pending) < MAX_PENDING:
                pending.add(shape)
            return Walker._object_generic
        if node.slots is None:
            node.slots = _slots(node)
        fn = compile_shape(self, node, shape, Walker._object_generic, _KINDS) or Walker._object_generic
        node.shapes[shape] = fn
        pending.discard(shape)
        return fn

    def plan_of(self, elem: Elem, tcode: str | None) -> "_Plan":
        """The check plan of an element's values of one type (made once, as _value makes it)."""
        plan = elem.plans.get(tcode)
        if plan is None:
            plan = elem.plans[tcode] = self._plan(elem, tcode)
        return plan

    def _object_generic(self, obj: dict[str, Any], node: Node, tname: str, expr: str, ctx: Ctx) -> None:
        if not obj:
            ctx.add("error", "invariant", expr, "element has neither a value nor children", rule="ele-1")
            return
        keys = node.keys
        slots = node.slots
        if slots is None:
            slots = node.slots = _slots(node)
        counts: dict[Elem, int] = {}
        choice_seen: dict[Elem, str] = {}
        for key, val in obj.items():
            ent = slots.get(key)
            if ent is not None:
                kind = ent[2]
                if kind is _K_PRIM:   # a single primitive value needing only a format check
                    if val is not None and val.__class__ is not list:
                        counts[ent[0]] = 1
                        if ent[3](val) is not None:
                            self._value(val, ent[0], ent[1], f"{expr}.{key}", ctx)
                        continue
                elif kind is _K_SINGLE:   # one complex (or checked primitive) value
                    if not isinstance(val, list):
                        elem = ent[0]
                        counts[elem] = 1
                        plan = elem.plans.get(ent[1])
                        if plan is not None and plan.plain and val.__class__ is dict:   # what _value would do
                            self._complex(val, elem, plan, f"{expr}.{key}", ctx)
                        else:
                            self._value(val, elem, ent[1], f"{expr}.{key}", ctx)
                        continue
                elif kind is _K_ARRAY:   # a non-empty array of complex values
                    if val.__class__ is list and val:
                        elem = ent[0]
                        counts[elem] = len(val)
                        if ent[4]:
                            self._sliced(val, elem, ent[1], f"{expr}.{key}", ctx, None)
                        else:
                            loc, tcode = f"{expr}.{key}", ent[1]
                            plan = elem.plans.get(tcode)
                            plain = plan is not None and plan.plain
                            for i, item in enumerate(val):
                                if plain and item.__class__ is dict:
                                    self._complex(item, elem, plan, f"{loc}[{i}]", ctx)
                                else:
                                    self._value(item, elem, tcode, f"{loc}[{i}]", ctx)
                        continue
                elif kind is _K_PRIMS:   # an array of primitives: when every item passes, nothing to report
                    if val.__class__ is list and val:
                        prim = ent[3]
                        for item in val:
                            if item is None or prim(item) is not None:
                                break   # the general path below words the finding
                        else:
                            counts[ent[0]] = len(val)
                            continue
                ent = keys[key]
            elif key[:1] == "_":
                ent = keys.get(key[1:])
                if ent is None or not is_primitive(ent[1]):
                    ctx.add("error", "structure", f"{expr}.{key}", f"unknown element {key} in {tname}", rule="unknown-element")
                    continue
                self._primitive_ext(val, ent[0], f"{expr}.{key[1:]}", ctx)
                b = ent[0].binding
                if b is not None and b.strength == "required":
                    self._required_without_code(obj.get(key[1:]), val, ent[0], f"{expr}.{key[1:]}", ctx)
                if key[1:] not in obj:
                    elem = ent[0]
                    counts[elem] = counts.get(elem, 0) + (len(val) if isinstance(val, list) else 1)
                    self._choice(choice_seen, elem, key[1:], expr, ctx)
                continue
            if ent is None:
                if key == "resourceType" and node.is_resource:
                    continue
                # fhir_comments (DSTU2 JSON) is no R4 property: unknown like any other
                ctx.add("error", "structure", f"{expr}.{key}", self._unknown_message(node, key, tname),
                        rule="unknown-element")
                continue
            elem, tcode = ent
            if elem.max == 0:
                ctx.add("error", "structure", f"{expr}.{key}",
                        f"element {elem.path} is not allowed here (max 0 in {elem.sd_url.rsplit('/', 1)[-1]})", rule="cardinality-max")
                continue
            if elem.choice:
                self._choice(choice_seen, elem, key, expr, ctx)
                loc = f"{expr}.{elem.name[:-3]}"
            else:
                loc = f"{expr}.{key}"
            if elem.array:
                if not isinstance(val, list):
                    ctx.add("error", "structure", loc, f"{elem.path} must be a JSON array", rule="json-array")
                    val = [val]
                elif not val:
                    ctx.add("error", "structure", loc, "an array must not be empty (omit the element)",
                            rule="ele-1")
                    continue
                counts[elem] = len(val)
                ext = obj.get("_" + key) if tcode in PRIMITIVE_TYPES else None
                if elem.slices or (elem.slicing is not None and elem.slicing.rules == "closed"):
                    self._sliced(val, elem, tcode, loc, ctx, ext)
                elif elem.prim is not None:
                    prim = elem.prim
                    for i, item in enumerate(val):
                        if item is None:
                            if not (isinstance(ext, list) and i < len(ext) and ext[i] is not None):
                                self._value(item, elem, tcode, f"{loc}[{i}]", ctx)
                        elif prim(item) is not None:
                            self._value(item, elem, tcode, f"{loc}[{i}]", ctx)
                else:
                    for i, item in enumerate(val):
                        if item is None and isinstance(ext, list) and i < len(ext) and ext[i] is not None:
                            continue
                        self._value(item, elem, tcode, f"{loc}[{i}]", ctx)
            else:
                if isinstance(val, list):
                    ctx.add("error", "structure", loc, f"{elem.path} must be a single value, not an array", rule="json-array")
                    continue
                counts[elem] = 1
                if elem.prim is not None and val is not None and not elem.choice:
                    if elem.prim(val) is not None:   # rare: let the full path word the error
                        self._value(val, elem, tcode, loc, ctx)
                elif elem.choice:
                    self._value(val, elem, tcode, f"{loc}.ofType({_cap_type(tcode)})", ctx)
                else:
                    self._value(val, elem, tcode, loc, ctx)
        # cardinality
        for elem in node.bounded:
            n = counts.get(elem, 0)
            if n < elem.min or (elem.max is not None and n > elem.max):
                self._cardinality(elem, n, expr, ctx)
            elif n == 0 and ctx.must_support and elem.must_support:
                self._ms_absent(elem, expr, ctx)
        if ctx.must_support:
            for elem in node.must_support:
                if counts.get(elem, 0) == 0:
                    self._ms_absent(elem, expr, ctx)

    @staticmethod
    def _cardinality(elem: Elem, n: int, expr: str, ctx: Ctx) -> None:
        """An element found n times, fewer than its min or more than its max."""
        name = elem.name[:-3] if elem.choice else elem.name
        if n < elem.min:
            ctx.add("error", "required", f"{expr}.{name}",
                    f"{elem.path}: minimum required = {elem.min}, but only found {n}"
                    + (f" (from {elem.sd_url})" if not elem.sd_url.startswith("http://hl7.org") else ""), rule="cardinality-min")
        else:
            ctx.add("error", "structure", f"{expr}.{name}",
                    f"{elem.path}: maximum allowed = {elem.max}, but found {n}", rule="cardinality-max")

    @staticmethod
    def _ms_absent(elem: Elem, expr: str, ctx: Ctx) -> None:
        name = elem.name[:-3] if elem.choice else elem.name
        ctx.add("information", "informational", f"{expr}.{name}",
                f"must-support element {elem.path} is absent", rule="must-support")

    @staticmethod
    def _unknown_message(node: Node, key: str, tname: str) -> str:
        for elem in node.elems:   # valueString where value[x] allows only other types: say which
            stem = elem.name[:-3]
            if elem.choice and key.startswith(stem) and key[len(stem):][:1].isupper():
                allowed = ", ".join(elem.types) or "none"
                return f"{elem.path}: type {key[len(stem):]} is not allowed here (allowed: {allowed})"
        return f"unknown element '{key}' in {tname}"

    @staticmethod
    def _choice(seen: dict[Elem, str], elem: Elem, key: str, expr: str, ctx: Ctx) -> None:
        if not elem.choice:
            return
        prev = seen.get(elem)
        if prev is not None and prev != key:
            ctx.add("error", "structure", f"{expr}.{elem.name[:-3]}",
                    f"{elem.path} is a choice: only one of its types may be present", rule="choice-single")
        seen[elem] = key

    def _primitive_ext(self, val: Any, elem: Elem, expr: str, ctx: Ctx) -> None:
        ext_node = self.c.type_root("Element")
        items = val if isinstance(val, list) else [val]
        for i, item in enumerate(items):
            loc = f"{expr}[{i}]" if isinstance(val, list) else expr
            if item is None:
                continue
            if not isinstance(item, dict):
                ctx.add("error", "structure", loc, "the _element of a primitive must be an object (id, extension)", rule="primitive-extension")
                continue
            if ext_node is not None:
                self._object(item, ext_node[0], "Element", loc, ctx)

    @staticmethod
    def _required_without_code(values: Any, exts: Any, elem: Elem, expr: str, ctx: Ctx) -> None:
        """A code with a required binding present only as extensions (e.g. data-absent-reason): no code
        from the value set, which the HL7 validator reports as an error."""
        if isinstance(exts, list):
            vals = values if isinstance(values, list) else []
            for i, x in enumerate(exts):
                if x is not None and (i >= len(vals) or vals[i] is None):
                    ctx.add("error", "code-invalid", f"{expr}[{i}]", f"{elem.path}: no code given, and the "
                            f"required value set {elem.binding.value_set if elem.binding else ''} needs one",
                            rule="binding")
        elif exts is not None and values is None:
            ctx.add("error", "code-invalid", expr, f"{elem.path}: no code given, and the required value set "
                    f"{elem.binding.value_set if elem.binding else ''} needs one", rule="binding")

    # ---------------------------------------------------------------- values
    def _value(self, val: Any, elem: Elem, tcode: str | None, expr: str, ctx: Ctx) -> None:
        if val is None:
            ctx.add("error", "structure", expr, "null is not a value (omit the element)", rule="json-null")
            return
        plan = elem.plans.get(tcode)
        if plan is None:
            plan = elem.plans[tcode] = self._plan(elem, tcode)
        check = plan.check
        if check is not None:
            msg = check(val)
            if msg is not None:
                code = "structure" if isinstance(val, (dict, list)) else "value"
                rule = primitive_check_id(tcode, val)
                ctx.add("error", code, expr, f"{elem.path} {msg}{_shown(ctx, val)}", rule=rule)
                if rule != "string-control-char":   # (a --strict check: the value's binding still applies)
                    return
            if plan.code_binding:
                self.term.check_code(val, elem, expr, ctx)
            if plan.fixed:
                self._fixed(val, elem, expr, ctx)
            if elem.bounds is not None:
                check_bounds(val, elem.bounds, elem.path, expr, ctx.add)
            return
        if plan.resource:
            claimed = []
            if isinstance(val, dict):
                meta = val.get("meta")
                if isinstance(meta, dict) and isinstance(meta.get("profile"), list):
                    claimed = [p for p in meta["profile"] if isinstance(p, str)]
                if plan.tcode != "Resource" and plan.tcode is not None:
                    if val.get("resourceType") != plan.tcode and len(elem.types) == 1:
                        ctx.add("error", "structure", expr, f"{elem.path} must be a {plan.tcode} here",
                                rule="resource-type")
                    claimed += [u for u in elem.type_profiles.get(plan.tcode, ()) if u not in claimed]
            self.resource(val, expr, ctx, claimed, root=False)
            if plan.constraints:   # the element's own invariants: %resource is the resource around it
                self._constraints(plan.constraints, val, expr, ctx)
            return
        if not isinstance(val, dict):
            ctx.add("error", "structure", expr,
                    f"{elem.path} must be a JSON object ({plan.tcode or 'element'}), not a {_json_kind(val)}", rule="json-object")
            return
        if plan.memo is not None:
            self._remembered(val, elem, plan, expr, ctx)
            return
        self._complex(val, elem, plan, expr, ctx)

    def _code(self, plan: "_Plan", val: str, elem: Elem, expr: str, ctx: Ctx) -> None:
        """A well-formed code's binding; a code that passes with nothing context-dependent (no "not
        checked" note) is remembered for the element, as the value set does not change."""
        issues, marks = len(ctx.issues), ctx.marks
        self.term.check_code(val, elem, expr, ctx)
        if len(ctx.issues) == issues and ctx.marks == marks and len(plan.good_codes) < _MEMO_MAX:
            plan.good_codes.add(val)

    def _remembered(self, val: dict[str, Any], elem: Elem, plan: "_Plan", expr: str, ctx: Ctx,
                    key: bytes | None = None) -> None:
        """An object of a memo plan: skipped when the same value passed clean before, else walked.
        key: the value's JSON text when the caller has it already."""
        memo = plan.memo
        if memo is not None:
            # a coded value seen before that passed every check with no context-dependent check
            # (note, reference, invariant, nested resource) passes again: skip the walk.
            # The key is the value's exact JSON text (orjson: true, 1 and 1.0 differ); a hit must also
            # equal the remembered value, so a Python object that writes the same JSON (a tuple for an
            # array, a UUID for a string, NaN for null) is never taken for it
            if key is None:
                try:
                    key = _json_key(val, option=_KEY_OPTIONS)
                except TypeError:   # a non-JSON leaf handed in through the Python API (a subclass, a date)
                    key = None
            if key is not None:
                seen = memo.get(key)
                if seen is not None and seen == val:
                    plan.hits += 1
                    return
            plan.misses += 1
            if plan.misses >= _MEMO_PROBATION and plan.hits * 4 < plan.misses:
                plan.memo = None   # this element's values rarely repeat: stop building keys for it
                key = None
            issues, marks = len(ctx.issues), ctx.marks
            self._complex(val, elem, plan, expr, ctx)
            if key is not None and len(ctx.issues) == issues and ctx.marks == marks \
                    and self._memo_room > 0 and len(memo) < _MEMO_MAX:
                memo[key] = val
                self._memo_room -= 1
            return
        self._complex(val, elem, plan, expr, ctx)

    def _complex(self, val: dict[str, Any], elem: Elem, plan: "_Plan", expr: str, ctx: Ctx) -> None:
        node = plan.node
        constraints = plan.constraints
        if node is None:
            if plan.ext_dynamic:
                url = val.get("url")
                if isinstance(url, str):
                    ext_root = self._ext_roots.get(url, MISSING)
                    if ext_root is MISSING:
                        ext_root = self._ext_roots[url] = self.c.profile_root(url)
                    if ext_root is not None and ext_root[1].path == "Extension":
                        node = ext_root[0]
                        if ext_root[1].constraints:
                            constraints = constraints + ext_root[1].constraints
                        sd = self._ext_sds.get(url, MISSING)
                        if sd is MISSING:   # the definition, for its context (looked up once per url)
                            sd = self._ext_sds[url] = self.c.registry.structure_definition(url.split("|")[0])
                        if isinstance(sd, dict):
                            if not context_allows(sd, elem.path, expr):
                                ctx.add("error", "structure", expr, f"extension {url} is not allowed here: its "
                                        "definition's context does not include this element",
                                        rule="extension-context")
                            elif not context_allows(sd, elem.path, elem.path):
                                ctx.marks += 1   # allowed by where it sits, not by its element: not remembered
                    elif plan.ext_note and "/" in url:
                        if self.unknown_extension == "error" and not url.startswith(_HL7_EXTENSIONS) \
                                and not any(d in url for d in _EXAMPLE_DOMAINS):
                            ctx.marks += 1
                            ctx.add("error", "structure", expr, f"extension {shown_canonical(url, ctx.show_values)} "
                                    "has no definition here (load "
                                    "it with --ig), so it is not allowed", rule="extension-unknown-package"
                                    if url.startswith(_OUR_DOMAIN) else "extension-unknown")
                        else:
                            ctx.once(("ext", url), "information", "informational", expr,
                                     f"extension {shown_canonical(url, ctx.show_values)} has no definition here: "
                                     "only its base structure was "
                                     "checked", rule="extension-unknown")
                if node is None:
                    node = plan.fallback
            if node is None:
                ctx.add("error", "structure", expr, f"no definition for type {plan.tcode} of {elem.path}", rule="type-unknown")
                return
        self._object(val, node, plan.tname, expr, ctx)
        # type-level and element-level invariants, natives first (shapes._complex writes this sequence out
        # for the generated walks: a check added here goes there too; test_fast_paths compares the two)
        native = plan.native
        if native:
            if native == _EXTENSION:
                has_ext = "extension" in val
                has_val = any(k.startswith(("value", "_value")) for k in val)   # _valueX: value by extension
                if has_ext == has_val:
                    ctx.add("error", "invariant", expr,
                            "an extension must have either sub-extensions or a value[x], not both and not neither",
                            rule="ext-1")
            elif native == _PERIOD:
                self._period(val, expr, ctx)
            elif native == _ATTACHMENT:
                check_attachment(val, expr, ctx.add)
            elif native == _CODING:
                self.code_systems.check(val, expr, ctx.add)
            else:
                self._reference(val, elem, expr, ctx)
        if plan.coded:
            self.term.check_coded(val, plan.tcode, elem, expr, ctx)
        if plan.fixed:
            self._fixed(val, elem, expr, ctx)
        if elem.bounds is not None:
            check_bounds(val, elem.bounds, elem.path, expr, ctx.add)
        if constraints:
            self._constraints(constraints, val, expr, ctx)

    def _plan(self, elem: Elem, tcode: str | None) -> "_Plan":
        """How a value of this element and type is checked (cached per element and type)."""
        plan = _Plan()
        if tcode is None and len(elem.types) > 1:
            tcode = elem.types[0]
        plan.tcode = tcode
        plan.tname = tcode or elem.path
        plan.fixed = elem.fixed is not MISSING or elem.pattern is not MISSING
        plan.check = CHECKERS.get(tcode) if tcode is not None else None
        plan.code_binding = elem.binding is not None and tcode in ("code", "string", "uri")
        if plan.check is not None:
            return plan
        plan.resource = (tcode == "Resource" and not elem.children) or _is_resource_type(self, tcode)
        if plan.resource:
            # a resource-typed element (Bundle.entry.resource, contained) restricted to a type and profiles
            plan.tcode = tcode
            plan.constraints = [c for c in elem.constraints]
            return plan
        node: Node | None = elem.children
        type_root = None
        if tcode and (tcode not in ("BackboneElement", "Element") or (tcode == "Element" and node is None)):
            type_root = self._type_cache.get(tcode, MISSING)
            if type_root is MISSING:
                type_root = self._type_cache[tcode] = self.c.type_root(tcode)
        prof_root = None
        if node is None and tcode in elem.type_profiles:
            for url in elem.type_profiles[tcode]:
                prof_root = self.c.profile_root(url)
                if prof_root is not None:
                    node = prof_root[0]
                    break
        if node is None and type_root is not None and not (tcode == "Extension"):
            node = type_root[0]
        constraints: list[Any] = []
        seen: set[str] = set()
        for group in ((type_root[1].constraints if type_root else []),
                      (prof_root[1].constraints if prof_root else []), elem.constraints):
            for con in group:
                if con.key not in seen:
                    seen.add(con.key)
                    constraints.append(con)
        plan.node = node
        plan.constraints = constraints
        plan.ext_dynamic = node is None and tcode == "Extension"
        plan.ext_note = elem.path.endswith("xtension")
        plan.fallback = type_root[0] if type_root is not None else None
        plan.native = {"Extension": _EXTENSION, "Period": _PERIOD, "Reference": _REFERENCE,
                       "Attachment": _ATTACHMENT, "Coding": _CODING}.get(tcode or "", 0)
        plan.coded = elem.binding is not None and tcode in _CODED
        plan.memo = {} if tcode in _MEMO_TYPES else None
        plan.plain = plan.memo is None   # check and resource plans returned above
        return plan

    def _fixed(self, val: Any, elem: Elem, expr: str, ctx: Ctx) -> None:
        if elem.fixed is not MISSING and val != elem.fixed:
            ctx.add("error", "value", expr, f"{elem.path} must be exactly the value fixed by "
                    f"{elem.sd_url}: {_brief(elem.fixed)}{_shown(ctx, val)}", rule="fixed-value")
        if elem.pattern is not MISSING and not self._pattern_fn(elem)(val):
            ctx.add("error", "value", expr, f"{elem.path} must match the pattern of {elem.sd_url}: "
                    f"{_brief(elem.pattern)}{_shown(ctx, val)}", rule="pattern-value")

    def _pattern_fn(self, elem: Elem) -> Callable[[Any], bool]:
        fn = self._pattern_cache.get(elem)
        if fn is None:
            fn = self._pattern_cache[elem] = compile_pattern(elem.pattern)
        return fn

    @staticmethod
    def _period(val: dict[str, Any], expr: str, ctx: Ctx) -> None:
        start, end = val.get("start"), val.get("end")
        if isinstance(start, str) and isinstance(end, str):
            after = _start_after_end(start, end)
            if after is None:
                after = _instant_key(start, low=True) > _instant_key(end, low=False)
                if not after and _precision_tie(start, end):
                    ctx.add("error", "invariant", expr, "period start and end have different precisions and "
                            "are equal as far as both go, so start <= end is not known (FHIRPath gives empty)",
                            rule="per-1")
                    return
            if after:
                ctx.add("error", "invariant", expr, "period start must not be after its end", rule="per-1")

    def _reference(self, val: dict[str, Any], elem: Elem, expr: str, ctx: Ctx) -> None:
        ctx.marks += 1   # depends on the resource's contained ids, feeds the Bundle's reference list
        ref = val.get("reference")
        if not isinstance(ref, str) or not ref:
            return
        if ref.startswith("#"):
            if ref != "#" and ref[1:] not in ctx.contained_ids:
                ctx.add("error", "invariant", expr + ".reference",
                        "a local reference (#id) must point to a contained resource", rule="ref-1")
            elif ref != "#" and elem.target_types is not None:
                contained_reference_type(ctx.root_resource, ref[1:], elem.target_types, elem.path,
                                         expr + ".reference", ctx.add)
            return
        targets = elem.target_types
        if ctx.keep_refs:
            ctx.refs.append(RefUse(ref, expr + ".reference", targets))
        if ref.startswith("urn:"):
            return
        parsed = self._ref_types.get(ref)
        if parsed is None:
            parsed = self._ref_type(ref)
        rtype, known = parsed
        if rtype is None:
            if _WHITESPACE(ref) is not None:   # no URL has whitespace (the HL7 validator rejects it too)
                ctx.add("error", "value", expr + ".reference",
                        "reference must not contain whitespace" + _shown(ctx, ref), rule="reference-whitespace")
                return
            if "://" in ref:   # a URL we cannot parse as [base]/Type/id: legal (logical), nothing to check
                return
            ctx.add("error", "value", expr + ".reference",
                    "reference is not of the form Type/id, Type?search, an absolute URL, urn: or #id" + _shown(ctx, ref), rule="reference-format")
            return
        if not known and "://" in ref:
            return   # an absolute URL whose path has no Type/id of ours (e.g. .../Network/x): a logical URL
        if not known:
            ctx.add("error", "value", expr + ".reference", f"reference names an unknown resource type {rtype}", rule="reference-type-unknown")
        elif targets is not None and rtype not in targets:
            ctx.add("error", "value", expr + ".reference",
                    f"{elem.path} may refer to {', '.join(sorted(targets))}, not {rtype}", rule="reference-target")

    def _ref_type(self, ref: str) -> tuple[str | None, bool]:
        """(resource type named by a reference or None when it has no Type/id shape, is that type known).
        Remembered per reference string (bounded): the same subjects and authors recur across records."""
        m = _ABS_REF.fullmatch(ref) or _COND_REF.fullmatch(ref)
        parsed = (None, False) if m is None else (m.group(2), self.c.type_root(m.group(2)) is not None)
        if len(self._ref_types) < _REF_TYPES_MAX:
            self._ref_types[ref] = parsed
        return parsed

    # ---------------------------------------------------------------- slicing
    def _sliced(self, items: list[Any], elem: Elem, tcode: str | None, loc: str, ctx: Ctx, ext: Any) -> None:
        sp = elem.slice_plan
        if sp is None:
            sp = elem.slice_plan = self._slice_plan(elem)
        slices = elem.slices
        hits = [0] * len(slices)
        closed, ordered, open_at_end, index = sp.closed, sp.ordered, sp.open_at_end, sp.index
        last_slice, seen_unmatched = -1, False
        for i, item in enumerate(items):
            if item is None and isinstance(ext, list) and i < len(ext) and ext[i] is not None:
                continue
            found = -1
            key = None
            if slices and isinstance(item, dict):
                if index is not None:   # simple key discriminators (url, system): one dict lookup
                    vals = tuple([item.get(k) for k in index[0]])
                    for v in vals:
                        if v.__class__ is not str:
                            break
                    else:
                        found = index[1].get(vals, -1)
                else:   # matching is a function of the item alone: remembered per exact value (bounded)
                    try:
                        key = _json_key(item, option=_KEY_OPTIONS)
                    except TypeError:
                        key = None
                    known = sp.found.get(key) if key is not None else None
                    if known is not None and known[0] == item:
                        found = known[1]
                    else:
                        matchers = sp.matchers
                        for si in self._candidates(elem, item):
                            if matchers[si](item):
                                found = si
                                break
                        if key is not None and len(sp.found) < _MEMO_MAX:
                            sp.found[key] = (item, found)
            if found < 0:
                if closed and slices:
                    ctx.add("error", "structure", f"{loc}[{i}]",
                            f"{elem.path}: item matches none of the slices and the slicing is closed", rule="slice-closed")
                seen_unmatched = True
                self._value(item, elem, tcode, f"{loc}[{i}]", ctx)
                continue
            hits[found] += 1
            target = slices[found]
            if ordered and found < last_slice:
                ctx.add("error", "structure", f"{loc}[{i}]",
                        f"{elem.path}: slice '{target.slice_name}' is out of order (the slicing is ordered)", rule="slice-order")
            if open_at_end and seen_unmatched:
                ctx.add("error", "structure", f"{loc}[{i}]",
                        f"{elem.path}: items that match no slice must come last (openAtEnd)", rule="slice-open-at-end")
            if found > last_slice:
                last_slice = found
            ttype = target.types[0] if len(target.types) == 1 else tcode
            if key is not None:   # a coded item: its memo looks up the key the match used
                plan = target.plans.get(ttype)
                if plan is not None and plan.memo is not None:
                    self._remembered(item, target, plan, f"{loc}[{i}]", ctx, key)
                    continue
            self._value(item, target, ttype, f"{loc}[{i}]", ctx)
        for si, sl in enumerate(slices):
            n = hits[si]
            if n < sl.min:
                ctx.add("error", "required", loc,
                        f"{elem.path}: slice '{sl.slice_name}' requires at least {sl.min}, found {n}"
                        f" (from {sl.sd_url})", rule="slice-cardinality")
            elif sl.max is not None and n > sl.max:
                ctx.add("error", "structure", loc,
                        f"{elem.path}: slice '{sl.slice_name}' allows at most {sl.max}, found {n}"
                        f" (from {sl.sd_url})", rule="slice-cardinality")

    def _slice_plan(self, elem: Elem) -> "_SlicePlan":
        sp = _SlicePlan()
        sl = elem.slicing
        sp.closed = sl is not None and sl.rules == "closed"
        sp.ordered = sl is not None and sl.ordered
        sp.open_at_end = sl is not None and sl.rules == "openAtEnd"
        sp.index = self._slice_index(elem) if elem.slices else None
        sp.matchers = [self._slice_matcher(elem, sl) for sl in elem.slices] if sp.index is None else []
        sp.found = {}
        return sp

    def _slice_matcher(self, elem: Elem, sl: Elem) -> Callable[[Any], bool]:
        """item -> does it belong to slice sl. A lone value/pattern discriminator on $this is the
        compiled pattern itself; anything else goes through _slice_matches."""
        discs = elem.slicing.discriminators if elem.slicing else []
        if len(discs) == 1 and discs[0].type in ("value", "pattern") and discs[0].path == "$this":
            expected = self._expected_compiled(sl, "$this")
            if expected is MISSING:
                return lambda item: False
            if expected[0] == "value":
                matcher: Callable[[Any], bool] = expected[2]
                return matcher
        return lambda item: self._slice_matches(item, elem, sl)

    def _expected_compiled(self, sl: Elem, path: str) -> Any:
        ck = (id(sl), path)
        expected = self._expected_cache.get(ck)
        if expected is None:
            expected = self._expected(sl, path)
            if expected is not MISSING and expected[0] == "value":
                expected = (expected[0], expected[1], compile_pattern(expected[1]))
            self._expected_cache[ck] = expected
        return expected

    def _slice_index(self, elem: Elem) -> tuple[tuple[str, ...], dict[tuple[Any, ...], int]] | None:
        """For slicing on plain keys with string values (extension url, coding system): value -> slice."""
        cached: tuple[tuple[str, ...], dict[tuple[Any, ...], int]] | None = self._index_cache.get(elem, MISSING)
        if cached is not MISSING:
            return cached
        result = None
        discs = elem.slicing.discriminators if elem.slicing else []
        if discs and all(d.type in ("value", "pattern") and d.path.isidentifier() for d in discs):
            keys = tuple(d.path for d in discs)
            table: dict[tuple[Any, ...], int] = {}
            ok = True
            for si, sl in enumerate(elem.slices):
                exp = [self._expected(sl, k) for k in keys]
                if any(e is MISSING or e[0] != "value" or not isinstance(e[1], str) for e in exp):
                    ok = False
                    break
                table.setdefault(tuple(e[1] for e in exp), si)
            if ok:
                result = (keys, table)
        self._index_cache[elem] = result
        return result

    def _candidates(self, elem: Elem, item: dict[str, Any]) -> list[int] | range:
        """Slices worth testing for an item. For $this patterns on CodeableConcept that each name a
        coding system (our category/type slices), only slices whose system the item carries."""
        by_system = self._system_cache.get(elem, MISSING)
        if by_system is MISSING:
            by_system = self._system_cache[elem] = self._system_index(elem)
        if by_system is None:
            return range(len(elem.slices))
        codings = item.get("coding")
        if not isinstance(codings, list):
            return []
        if len(codings) == 1:   # the usual case: that system's slices, already in definition order
            c = codings[0]
            system = c.get("system") if isinstance(c, dict) else None
            return by_system.get(system, ()) if isinstance(system, str) else []
        out: list[int] = []
        for c in codings:
            system = c.get("system") if isinstance(c, dict) else None
            if isinstance(system, str):
                out.extend(si for si in by_system.get(system, ()) if si not in out)
        out.sort()   # keep the definition order: the first matching slice wins, as without the index
        return out

    def _system_index(self, elem: Elem) -> dict[str, list[int]] | None:
        discs = elem.slicing.discriminators if elem.slicing else []
        if len(discs) != 1 or discs[0].type not in ("value", "pattern") or discs[0].path != "$this":
            return None
        index: dict[str, list[int]] = {}
        for si, sl in enumerate(elem.slices):
            exp = self._expected(sl, "$this")
            pat = exp[1] if exp is not MISSING and exp[0] == "value" else None
            codings = pat.get("coding") if isinstance(pat, dict) else None
            if not (isinstance(codings, list) and len(codings) == 1 and isinstance(codings[0], dict)
                    and isinstance(codings[0].get("system"), str)):
                return None   # a pattern without one coding system: test every slice
            index.setdefault(codings[0]["system"], []).append(si)
        return index

    def _slice_matches(self, item: dict[str, Any], elem: Elem, sl: Elem) -> bool:
        discs = elem.slicing.discriminators if elem.slicing else []
        if not discs:
            return False
        for d in discs:
            if d.type in ("value", "pattern"):
                expected = self._expected_compiled(sl, d.path)
                if expected is MISSING:
                    return False
                kind, exp = expected[0], expected[1]
                values = _eval_path(item, d.path) if d.path != "$this" else [item]
                if kind == "vs":
                    if not any(self.term.in_value_set(v, exp) for v in values):
                        return False
                else:
                    match = expected[2]
                    if not any(match(v) for v in values):
                        return False
            elif d.type == "type":
                values = _eval_path(item, d.path)
                if not values:
                    return False
                wanted = self._slice_types(sl, d.path)
                if wanted and not any(_type_of(item, d.path, v) in wanted for v in values):
                    return False
            elif d.type == "exists":
                present = bool(_eval_path(item, d.path))
                if present != (sl.min > 0 or sl.max != 0):
                    return False
            elif d.type == "profile":
                # profile discriminators on resources match by claimed meta.profile, else by conformance
                profiles_wanted = {p for ps in sl.type_profiles.values() for p in ps}
                vals = _eval_path(item, d.path)
                if not profiles_wanted:
                    at = self._slice_elem(sl, d.path)
                    profiles_wanted = {p for ps in at.type_profiles.values() for p in ps} if at is not None else set()
                if profiles_wanted and vals and not any(isinstance(v, dict) and isinstance(v.get("meta"), dict)
                                               and v["meta"].get("profile") for v in vals):
                    if not any(self._conforms(v, profiles_wanted) for v in vals):
                        return False
                    continue
                claims: set[str] = set()
                for v in vals:
                    meta = v.get("meta") if isinstance(v, dict) else None
                    prof = meta.get("profile") if isinstance(meta, dict) else None
                    if isinstance(prof, list):
                        claims.update(p for p in prof if isinstance(p, str))
                if profiles_wanted and not profiles_wanted & claims:
                    return False
        return True

    def _slice_elem(self, sl: Elem, path: str) -> Elem | None:
        """The element of a slice at a simple discriminator path (its inline children)."""
        target: Elem | None = sl
        if path in ("$this", ""):
            return sl
        for seg in _split_path(path):
            if target is None or target.children is None or "(" in seg:
                return None
            ent = target.children.keys.get(seg)
            if ent is None:   # a choice: value -> value[x]
                ent = next((e for k, e in target.children.keys.items() if k.startswith(seg)
                            and k[len(seg):][:1].isupper()), None)
            target = ent[0] if ent else None
        return target

    def _slice_types(self, sl: Elem, path: str) -> frozenset[str]:
        """Type codes a type-discriminated slice allows at its path (empty: no restriction known)."""
        key = (id(sl), "type:" + path)
        found = self._expected_cache.get(key)
        if found is None:
            at = self._slice_elem(sl, path)
            found = self._expected_cache[key] = frozenset(_cap_type(t) for t in at.types) if at is not None \
                else frozenset()
        return found

    def _conforms(self, value: Any, profiles: set[str]) -> bool:
        """Does a resource pass one of the profiles (no error when walked against it)?"""
        if not isinstance(value, dict):
            return False
        for url in profiles:
            scratch = Ctx(issues=[], show_values=False, must_support=False, keep_refs=False)
            self.resource(value, str(value.get("resourceType", "Resource")), scratch, [url], root=True)
            if not any(i.is_error for i in scratch.issues):
                return True
        return False

    def _expected(self, sl: Elem, path: str) -> Any:
        """(kind, value) the slice requires at a discriminator path: fixed/pattern, or a value set."""
        target: Elem | None = sl
        if path not in ("$this", ""):
            for seg in path.split("."):
                if seg.startswith("extension(") and target is not None:
                    target = None
                    break
                if target is None:
                    break
                if seg == "url" and "Extension" in target.types and target.type_profiles.get("Extension") \
                        and (target.children is None or "url" not in target.children.keys):
                    return ("value", target.type_profiles["Extension"][0])
                node = target.children
                if node is None:
                    tr = None
                    if len(target.types) == 1:
                        prof = target.type_profiles.get(target.types[0])
                        tr = self.c.profile_root(prof[0]) if prof else None
                    node = tr[0] if tr else None
                if node is None:
                    return MISSING
                ent = node.keys.get(seg)
                target = ent[0] if ent else None
        if target is None:
            return MISSING
        if target.fixed is not MISSING:
            return ("value", target.fixed)
        if target.pattern is not MISSING:
            return ("value", target.pattern)
        if target.binding is not None and target.binding.strength == "required":
            return ("vs", target.binding.value_set)
        return MISSING

    # ---------------------------------------------------------------- invariants
    def _constraints(self, constraints: list[Any], focus: Any, expr: str, ctx: Ctx) -> None:
        ctx.marks += 1   # FHIRPath may read %resource
        env = ctx.env
        root = ctx.root_resource if ctx.root_resource is not None else ctx.resource
        if env is None or env["resource"] is not ctx.resource or env["rootResource"] is not root:
            env = ctx.env = {"resource": ctx.resource, "rootResource": root}
        for con in constraints:
            fast = con.fast
            if fast is None or fast is False:
                ok = invariants.evaluate(con, focus, ctx.resource, env)
            else:   # the compiled subset inline; anything it cannot decide goes through evaluate()
                try:
                    result = fast(focus, env)
                except Unsupported:
                    ok = invariants.evaluate(con, focus, ctx.resource, env)
                else:
                    ok = not result or result[0] is not False
            if ok is None:
                ctx.once(("inv", con.key), "information", "informational", expr,
                         f"invariant {con.key} not checked: {con.unsupported}", rule=con.key)
            elif not ok:
                sev = "error" if con.severity == "error" else "warning"
                ctx.add(sev, "invariant", expr, con.human, rule=con.key)


def _eval_path(item: Any, path: str) -> list[Any]:
    """Values at a simple discriminator path (dotted names, extension('url'), ofType(), $this)."""
    values = [item]
    if path in ("$this", ""):
        return values
    for seg in _split_path(path):
        nxt: list[Any] = []
        if seg.startswith("extension(") and seg.endswith(")"):
            url = seg[len("extension("):-1].strip("'\"")
            for v in values:
                exts = v.get("extension") if isinstance(v, dict) else None
                if isinstance(exts, list):
                    nxt.extend(e for e in exts if isinstance(e, dict) and e.get("url") == url)
        elif seg.startswith("ofType(") or seg == "resolve()":
            nxt = values
        else:
            for v in values:
                if isinstance(v, dict):
                    x = v.get(seg, MISSING)
                    if x is MISSING:
                        for k in v:   # choice: value -> valueCoding
                            if k.startswith(seg) and k[len(seg):][:1].isupper():
                                x = v[k]
                                break
                    if x is MISSING:
                        continue
                    if isinstance(x, list):
                        nxt.extend(x)
                    else:
                        nxt.append(x)
        values = nxt
    return values


def _split_path(path: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in path:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "." and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        out.append(cur)
    return out


def _start_after_end(start: str, end: str) -> bool | None:
    """per-1 for the usual Period (two full dateTimes, both with or both without an offset): the parsed
    datetimes compared directly, which orders them as `_instant_key` does without building its strings.
    None when the general comparison is needed (dates, unparseable values, mixed offset presence, and
    years near 1000 or 9999, where the keys' unpadded %Y or the UTC shift would order differently)."""
    if len(start) <= 10 or len(end) <= 10 or "T" not in start or "T" not in end:
        return None
    try:
        s = datetime.fromisoformat(start.replace("Z", "+00:00"))
        e = datetime.fromisoformat(end.replace("Z", "+00:00"))
    except ValueError:
        return None
    if (s.tzinfo is None) != (e.tzinfo is None) or not (1000 < s.year < 9999 and 1000 < e.year < 9999):
        return None
    return s > e   # aware datetimes compare as UTC instants, like the keys


def _precision_tie(start: str, end: str) -> bool:
    """per-1 with mixed precision: FHIRPath's start <= end is empty (not true) when the two values have
    different precisions and agree at the coarser one, e.g. 2023-06-21 and 2023-06-21T06:20:00Z."""
    ls = 19 if "T" in start else len(start)
    le = 19 if "T" in end else len(end)
    if ls == le:
        return False
    n = min(ls, le)
    return start[:n] == end[:n]


def _instant_key(value: str, low: bool) -> str:
    """Comparable UTC-ish key for per-1 with partial dates: low end for start, high end for end."""
    if len(value) > 10 and "T" in value:
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if dt.tzinfo is not None:
                dt = dt.astimezone(timezone.utc)
            return dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
        except ValueError:
            return value
    pad_low, pad_high = "0000-01-01T00:00:00.000000", "9999-12-31T23:59:59.999999"
    if low:
        return value + pad_low[len(value):]
    return value + pad_high[len(value):]


def _is_resource_type(walker: "Walker", tcode: str | None) -> bool:
    if not tcode or not tcode[:1].isupper() or tcode in ("Resource", "DomainResource"):
        return False
    root = walker.c.type_root(tcode)
    return root is not None and root[0].is_resource


def _type_of(item: Any, path: str, value: Any) -> str:
    """The type of a value found at a type discriminator's path: a resource's resourceType, or the
    type suffix of a choice key (valueQuantity -> Quantity)."""
    if isinstance(value, dict) and isinstance(value.get("resourceType"), str):
        return str(value["resourceType"])
    seg = _split_path(path)[-1] if path not in ("$this", "") else ""
    if seg and isinstance(item, dict):
        for k in item:
            if k.startswith(seg) and k[len(seg):][:1].isupper():
                return str(k[len(seg):])
    return ""


def _cap_type(t: str | None) -> str:
    return (t or "")[:1].upper() + (t or "")[1:]


def _json_kind(v: Any) -> str:
    return {str: "string", bool: "boolean", int: "number", float: "number", list: "array"}.get(type(v), "value")


def _brief(v: Any) -> str:
    import json
    text = json.dumps(v, separators=(",", ":"))
    return text if len(text) <= 160 else text[:157] + "..."
