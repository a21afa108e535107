"""Templates -> Python closures, compiled once per mapping.

Every template value becomes a function `f(ctx) -> value` (None = missing). Maps and lists collect
the FieldErrors of all their children and add their own path segment on the way out, so a row error
names the element (Encounter.type[0].coding[0].code) without any cost on the happy path.
Compile problems (undefined lookup, bad format, ...) are collected with their YAML path.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import regex

from fhiradapter.mapping.errors import FieldError, FieldErrors
from fhiradapter.mapping.lookups import Lookup
from fhiradapter.mapping.timefmt import format_problem
from fhiradapter.mapping.values import as_text, convert, is_empty, same

Node = Callable[["Ctx"], Any]
# Reference shapes (orphans.py walks only where a template can put a reference): NOWHERE, ANYWHERE
# (walk the whole value), or a tuple of (key, element path, shape below) in the template's key order
NOWHERE: Any = None
ANYWHERE: Any = True
_ABSENT = object()
_INFINITY = float("inf")
_REFERENCES_PER_NODE = 16384   # remembered reference texts per $ref of a template


class Ctx:
    """Per-row evaluation state (one instance reused for all rows of a run)."""

    __slots__ = ("row", "parents", "items", "strict_columns", "base", "used", "related", "timezone")

    def __init__(self, timezone: str):
        self.row: dict[str, Any] = {}
        self.parents: tuple[dict[str, Any], ...] = ()
        self.items: list[Any] = []          # $each items, innermost last
        self.strict_columns = True          # CSV: a column absent from the header is an error
        self.base = 0                       # output index where a spliced $each starts
        self.used: list[tuple[str, int]] = []   # related rows used by this row: (source, index)
        self.related: dict[str, "RelatedSource"] = {}
        self.timezone = timezone


@dataclass
class RelatedSource:
    """An `index:` source held in memory: key value -> [(row number in file order, line, data)]."""
    name: str
    file: str
    groups: dict[str, list[tuple[int, int, dict[str, Any]]]] = field(default_factory=dict)


class RelatedItem:
    __slots__ = ("source", "index", "line", "data", "file")

    def __init__(self, source: str, file: str, index: int, line: int, data: dict[str, Any]):
        self.source, self.file, self.index, self.line, self.data = source, file, index, line, data


@dataclass
class Use:
    """One fact for `mapping explain`: these columns feed that element. `via` is the printed text;
    what readers need from it is data beside it (never parsed back out of the text)."""
    template: str
    columns: tuple[str, ...]
    element: str
    via: str
    lookup: str | None = None       # the lookup table this use goes through directly ("lookup X")
    lookups: tuple[str, ...] = ()   # every lookup table named in `via`
    rows_of: str | None = None      # the related source whose rows a $rows directive iterates


@dataclass
class TemplateTarget:
    resource_type: str
    kind: str
    key_arity: int


class Env:
    """Compile-time environment of one template."""

    def __init__(self, *, lookups: dict[str, Lookup], vars: dict[str, Any], targets: dict[str, TemplateTarget],
                 sources: dict[str, dict[str, Any]], agency: str, timezone: str, template: str,
                 source: str, problems: list[tuple[str, str]], uses: list[Use]):
        self.lookups, self.vars, self.targets, self.sources = lookups, vars, targets, sources
        self.agency, self.timezone, self.template, self.source = agency, timezone, template, source
        self.problems, self.uses = problems, uses
        self.each_kinds: list[str] = []     # "rows" (related CSV-like rows) or "value"

    def problem(self, where: str, message: str) -> None:
        self.problems.append((where, message))

    def source_format(self, source: str | None = None) -> str:
        return str(self.sources.get(source or self.source, {}).get("format", "csv"))


class Compiled:
    """A compiled expression: the function, the columns it reads, whether it is constant."""

    __slots__ = ("fn", "columns", "const", "splice", "value", "shape", "parts", "inline", "refs")

    def __init__(self, fn: Node, columns: tuple[str, ...] = (), const: bool = False, value: Any = None,
                 splice: bool = False):
        self.fn, self.columns, self.const, self.value, self.splice = fn, columns, const, value, splice
        self.shape: str | None = None     # "map" / "list" for structure nodes (see generate_fast)
        self.parts: list[Any] = []
        # writes this leaf's common case into the generated fast function (see FastSource); set only
        # on pure leaves (no side effects), so that their closure may be called again as the fallback
        self.inline: Callable[["FastSource"], str] | None = None
        # where its value can hold a reference (see reference_shape): ANYWHERE until a directive
        # says otherwise (NOWHERE: a text, date or number; a $ref says its own shape)
        self.refs: Any = ANYWHERE


def _pure(node: Compiled) -> bool:
    """Evaluating the node only reads the row: constants, inlinable leaves, maps and lists of them.
    Only such nodes may be evaluated twice (a leaf's fallback calls its closure again)."""
    if node.const or node.inline is not None:
        return True
    return node.shape in ("map", "list") and all(
        _pure(part[1] if isinstance(part, tuple) else part) and not getattr(part, "splice", False)
        for part in node.parts)


def _const(value: Any) -> Compiled:
    node = Compiled(lambda ctx: value, (), True, value)
    node.refs = ANYWHERE if _has_reference(value) else NOWHERE
    return node


def _has_reference(value: Any) -> bool:
    if isinstance(value, dict):
        return "reference" in value or any(_has_reference(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_reference(v) for v in value)
    return False


def reference_shape(node: Compiled, path: str = "") -> Any:
    """Where the value of `node` can hold a reference, as orphans.template_references walks it:
    NOWHERE, ANYWHERE, or for a map ((key, element path, shape), ...) in key order. A list's items
    share one shape (ANYWHERE when its items differ or an $each splices into it)."""
    if node.shape == "map":
        found = []
        for key, part in node.parts:
            below = f"{path}.{key}" if path else key
            shape = reference_shape(part, below)
            if key == "reference":   # a 'reference' text is checked itself, named by its parent's path
                found.append((key, path, shape))
            elif shape is not NOWHERE:
                found.append((key, below, shape))
        return tuple(found) or NOWHERE
    if node.shape == "list":
        shapes = {ANYWHERE if part.splice else reference_shape(part, path) for part in node.parts}
        shapes.discard(NOWHERE)
        return NOWHERE if not shapes else shapes.pop() if len(shapes) == 1 else ANYWHERE
    refs = node.refs
    if refs is ANYWHERE or refs is NOWHERE:
        return refs
    # a directive's own shape (keys relative to the node): give it this node's paths
    return tuple((key, path if key == "reference" else f"{path}.{key}" if path else key, shape)
                 for key, shape in refs)


def resource_reference_shape(body: Compiled) -> Any:
    """reference_shape of a template's body as its resource has it: meta moves first (MappingRun._resource)."""
    shape = reference_shape(body)
    if isinstance(shape, tuple):
        shape = tuple(sorted(shape, key=lambda item: item[0] != "meta"))
    return shape


def _column_label(columns: tuple[str, ...]) -> str | None:
    return ", ".join(columns) if columns else None


# --------------------------------------------------------------------------------------------
# Field access ($col / $item)

_PATH_STEP = re.compile(r"([^.\[\]]+)|\[([0-9]+)\]")


def _json_getter(path: str) -> Callable[[Any, tuple[dict[str, Any], ...]], Any]:
    """'^.a.b[0]' -> getter(record, parents) returning the value or _ABSENT."""
    ups = 0
    while path.startswith("^"):
        ups += 1
        path = path[1:].lstrip(".")
    steps: list[str | int] = []
    for match in _PATH_STEP.finditer(path):
        steps.append(match.group(1) if match.group(1) is not None else int(match.group(2)))

    def get(record: Any, parents: tuple[dict[str, Any], ...]) -> Any:
        value = record
        if ups:
            if ups > len(parents):
                return _ABSENT
            value = parents[-ups]
        for step in steps:
            if isinstance(step, int):
                if not isinstance(value, list) or step >= len(value):
                    return _ABSENT
                value = value[step]
            else:
                if not isinstance(value, dict) or step not in value:
                    return _ABSENT
                value = value[step]
        return value

    return get


def _field_node(spec: dict[str, Any], env: Env, where: str, element: str, kind: str) -> Compiled:
    name = spec[kind]
    required = bool(spec.get("required", False))
    has_default = "default" in spec
    default = spec.get("default")
    as_kind = spec.get("as", "string")
    if not isinstance(name, str) or not name:
        env.problem(where, f"{kind} needs a column/field name")
        return _const(None)
    label = name
    if kind == "$item":
        if not env.each_kinds:
            env.problem(where, "$item is only meaningful inside $each ... do:")
            return _const(None)
        item_kind, _, related_name = env.each_kinds[-1].partition(":")
        if item_kind == "value":
            # an item of a split column / JSON array is named after that column: 'purpose', 'phones[].number'
            parent = related_name
            label = (parent or name) if name == "." else (f"{parent}[].{name}" if parent else name)
        if item_kind == "rows" and name != ".":
            env.uses.append(Use(env.template, (f"{related_name}.{name}",), element, "value"))
        if name == ".":
            def get_item(ctx: Ctx) -> Any:
                item = ctx.items[-1]
                return item.data if isinstance(item, RelatedItem) else item
            raw = get_item
        elif item_kind == "rows":
            def get_row_item(ctx: Ctx, _n: str = name) -> Any:
                data = ctx.items[-1].data
                return data[_n] if _n in data else _ABSENT
            raw = get_row_item
        else:
            getter = _json_getter(name)
            raw = lambda ctx: getter(ctx.items[-1], ())  # noqa: E731
        strict = item_kind == "rows"
    else:
        if env.source_format() == "csv":
            def get_col(ctx: Ctx, _n: str = name) -> Any:
                row = ctx.row
                return row[_n] if _n in row else _ABSENT
            raw = get_col
            strict = True
        else:
            getter = _json_getter(name)
            raw = lambda ctx: getter(ctx.row, ctx.parents)  # noqa: E731
            strict = False

    if kind == "$col" and strict and not required and not has_default and as_kind == "string":
        def csv_col(ctx: Ctx, _n: str = name) -> Any:   # the common case, without the generic checks
            row = ctx.row
            if _n in row:
                return row[_n]
            if ctx.strict_columns:
                raise FieldError("required", "column not in the file header", column=label)
            return None
        env.uses.append(Use(env.template, (f"{env.source}.{name}",), element, "value"))
        node = Compiled(csv_col, (name,))
        node.inline = _inline_csv_col(name, csv_col, as_kind, label)
        node.refs = NOWHERE   # a CSV cell is text
        return node

    def fn(ctx: Ctx) -> Any:
        value = raw(ctx)
        if value is _ABSENT:
            if strict and (kind == "$item" or ctx.strict_columns):
                raise FieldError("required", "column not in the file header", column=label)
            value = None
        elif value is not None and not isinstance(value, str):
            value = as_text(value)
        if value is None:
            if has_default:
                return default
            if required:
                raise FieldError("required", "required value is missing", column=label)
            return None
        if as_kind != "string":
            return convert(value, as_kind, label)
        return value

    if kind == "$col":
        env.uses.append(Use(env.template, (f"{env.source}.{name}",), element, "value"))
    if kind == "$item" and env.each_kinds[-1].startswith("value"):
        return Compiled(fn, (label,) if label and label != "." else ())
    node = Compiled(fn, (name,) if name != "." else ())
    if kind == "$col" and strict:
        node.inline = _inline_csv_col(name, fn, as_kind, label)
        if not has_default:
            node.refs = NOWHERE   # a CSV cell is text (converted by as: to a number or boolean)
    return node


def _inline_csv_col(name: str, closure: Node, as_kind: str, label: str) -> Callable[["FastSource"], str]:
    """A CSV cell holds text or None (blank): text is the value (converted by `as:`); a blank or
    absent cell goes to the closure, which knows required:, default: and the header check."""
    def inline(src: FastSource) -> str:
        v = src.var()
        src.line(f"{v} = row.get({name!r})")
        src.line(f"if {v}.__class__ is not str: {v} = {src.bind(closure)}(ctx)")
        if as_kind != "string":
            src.line(f"else: {v} = {src.bind(convert)}({v}, {as_kind!r}, {label!r})")
        return v
    return inline


# --------------------------------------------------------------------------------------------
# Directives

_HANDLERS: dict[str, Callable[[dict[str, Any], "Env", str, str], "Compiled"]] = {}


def _handler(name: str) -> Callable[[dict[str, Any], "Env", str, str], "Compiled"] | None:
    """The directive's compile function from the one table (fhiradapter.mapping.directives), which
    imports this module: read on first use."""
    if not _HANDLERS:
        from fhiradapter.mapping.directives import handlers
        _HANDLERS.update(handlers())
    return _HANDLERS.get(name)


def directive_of(value: Any) -> str | None:
    if isinstance(value, dict):
        keys = [k for k in value if isinstance(k, str) and k.startswith("$")]
        if keys:
            return keys[0] if len(keys) == 1 else "__many__"
    return None


def compile_value(spec: Any, env: Env, where: str, element: str) -> Compiled:
    """Compile a template value at YAML path `where` producing FHIR element `element`."""
    if isinstance(spec, dict):
        directive = directive_of(spec)
        if directive == "__many__":
            env.problem(where, "a directive map must hold exactly one $-key: " +
                        ", ".join(k for k in spec if str(k).startswith("$")))
            return _const(None)
        if directive is not None:
            handler = _handler(directive)
            if handler is None:
                env.problem(where, f"unknown directive '{directive}' (known: {', '.join(_HANDLERS)})")
                return _const(None)
            return handler(spec, env, where, element)
        return _compile_map(spec, env, where, element)
    if isinstance(spec, list):
        return _compile_list(spec, env, where, element)
    if isinstance(spec, str):
        spec_value: Any = spec if spec.strip() else None
        return _const(spec_value)
    return _const(spec)


def _compile_map(spec: dict[str, Any], env: Env, where: str, element: str, *, fresh: bool = False) -> Compiled:
    parts: list[tuple[str, Compiled]] = []
    for key, value in spec.items():
        if not isinstance(key, str):
            env.problem(where, f"element name {key!r} must be a string")
            continue
        parts.append((key, compile_value(value, env, f"{where}.{key}", f"{element}.{key}")))
    if not fresh and all(c.const for _, c in parts):
        value = {k: c.value for k, c in parts if not is_empty(c.value)}
        return _const(value or None)
    # (key, fn or None, constant): constants are placed without a call (the hot path of every row)
    items = [(k, None if c.const else c.fn, c.value) for k, c in parts if not (c.const and is_empty(c.value))]

    def fn(ctx: Ctx) -> Any:
        out: dict[str, Any] = {}
        errors: list[FieldError] | None = None
        for key, sub, constant in items:
            if sub is None:
                out[key] = constant
                continue
            try:
                value = sub(ctx)
            except FieldError as exc:
                exc.add("." + key)
                errors = errors or []
                errors.append(exc)
                continue
            except FieldErrors as exc:
                for error in exc.errors:
                    error.add("." + key)
                errors = errors or []
                errors.extend(exc.errors)
                continue
            if value is not None and value != "" and value != {} and value != []:
                out[key] = value
        if errors:
            raise FieldErrors(errors)
        return out or None

    node = Compiled(fn, tuple(c for _, p in parts for c in p.columns))
    node.shape, node.parts = "map", parts
    return node


def _compile_list(spec: list[Any], env: Env, where: str, element: str) -> Compiled:
    parts = []
    for i, value in enumerate(spec):
        spliced = directive_of(value) == "$each"   # an $each list item adds its results to this list
        part = compile_value(value, env, f"{where}[{i}]", element if spliced else f"{element}[{i}]")
        part.splice = spliced
        parts.append(part)
    if all(c.const for c in parts):
        return _const([c.value for c in parts if not is_empty(c.value)] or None)
    columns = tuple(c for p in parts for c in p.columns)
    if len(parts) == 1 and not parts[0].splice:   # [ {...} ]: the most common list, without the loop
        only = parts[0].fn

        def single(ctx: Ctx) -> Any:
            try:
                value = only(ctx)
            except FieldError as exc:
                exc.add("[0]")
                raise
            except FieldErrors as exc:
                for error in exc.errors:
                    error.add("[0]")
                raise
            if value is None or value == "" or value == {} or value == []:
                return None
            return [value]
        node = Compiled(single, columns)
        node.shape, node.parts = "list", parts
        return node
    items = [(c.fn, c.splice) for c in parts]

    def fn(ctx: Ctx) -> Any:
        out: list[Any] = []
        errors: list[FieldError] | None = None
        for sub, splice in items:
            if splice:
                ctx.base = len(out)
            try:
                value = sub(ctx)
            except FieldError as exc:
                if not splice:
                    exc.add(f"[{len(out)}]")
                errors = errors or []
                errors.append(exc)
                continue
            except FieldErrors as exc:
                if not splice:
                    for error in exc.errors:
                        error.add(f"[{len(out)}]")
                errors = errors or []
                errors.extend(exc.errors)
                continue
            if splice:
                if value:
                    out.extend(value)
            elif value is not None and value != "" and value != {} and value != []:
                out.append(value)
        if errors:
            raise FieldErrors(errors)
        return out or None

    node = Compiled(fn, tuple(c for p in parts for c in p.columns))
    node.shape, node.parts = "list", parts
    return node










def _optional_expr(spec: dict[str, Any], key: str, env: Env, where: str, element: str) -> Compiled | None:
    return compile_value(spec[key], env, f"{where}.{key}", element) if key in spec else None




def _formats(spec: dict[str, Any], env: Env, where: str) -> tuple[str, ...]:
    raw = spec.get("format")
    formats = (raw,) if isinstance(raw, str) else tuple(raw or ())
    if not formats:
        env.problem(where, "format: is required (the engine never guesses a date format)")
    for fmt in formats:
        problem = format_problem(fmt)
        if problem:
            env.problem(f"{where}.format", problem)
    return formats


def _mark_use(env: Env, columns: tuple[str, ...], element: str, via: str, start: int | None = None) -> None:
    # Replace the uses recorded by nested expressions for this element with one entry naming the
    # directive; lookups used inside stay named in it, so `mapping check` knows they are used.
    first = start if start is not None else 0
    nested = [u for u in env.uses[first:] if u.element == element and (start is not None or u.via == "value"
                                                                         or u.lookup is not None)]
    lookups = sorted({u.lookup for u in nested if u.lookup is not None})
    if start is not None:
        env.uses[start:] = [u for u in env.uses[start:] if u.element != element]
    else:
        env.uses[:] = [u for u in env.uses if not (u.element == element and u.via == "value")]
    if lookups:
        via = f"{via} ({', '.join(f'lookup {name}' for name in lookups)})"
    if columns:
        env.uses.append(Use(env.template, tuple(f"{env.source}.{c}" for c in columns), element, via,
                            lookups=tuple(lookups)))






def _converting(source: Compiled, convert: Callable[[Ctx, Any], Any], columns: tuple[str, ...]) -> Compiled:
    """A node that converts the value of `source`; inlined, the source is read in the generated code."""
    get = source.fn

    def fn(ctx: Ctx) -> Any:
        return convert(ctx, get(ctx))

    node = Compiled(fn, columns)
    node.refs = NOWHERE   # a date or dateTime text
    if _pure(source):
        def inline_convert(src: FastSource) -> str:
            value, v, f = src.emit(source), src.var(), src.bind(convert)
            src.line(f"{v} = {f}(ctx, {value})")
            return v
        node.inline = inline_convert
    return node






# Conditions ---------------------------------------------------------------------------------

REGEX_SECONDS = 0.1   # time budget of one `matches` test on one value (docs/limits.md)

def compile_condition(spec: Any, env: Env, where: str, element: str) -> tuple[Callable[[Ctx], bool], tuple[str, ...]]:
    if not isinstance(spec, dict) or len(spec) != 1:
        env.problem(where, "a condition is a map with one of: present, absent, equals, in, matches, all, any, not")
        return (lambda ctx: False), ()
    (op, arg), = spec.items()
    if op in ("present", "absent"):
        sub = compile_value(arg, env, f"{where}.{op}", element)
        get = sub.fn
        if op == "present":
            return (lambda ctx: not is_empty(get(ctx))), sub.columns
        return (lambda ctx: is_empty(get(ctx))), sub.columns
    if op == "equals":
        if not isinstance(arg, list) or len(arg) != 2:
            env.problem(where, "equals takes two expressions: [a, b]")
            return (lambda ctx: False), ()
        left = compile_value(arg[0], env, f"{where}.equals[0]", element)
        right = compile_value(arg[1], env, f"{where}.equals[1]", element)
        lf, rf = left.fn, right.fn

        def equals(ctx: Ctx) -> bool:
            a = lf(ctx)
            if is_empty(a):
                return False
            b = rf(ctx)
            return not is_empty(b) and same(a, b)
        return equals, left.columns + right.columns
    if op in ("in", "matches"):
        if not isinstance(arg, list) or len(arg) != 2:
            env.problem(where, f"{op} takes [expression, {'list of values' if op == 'in' else 'regex'}]")
            return (lambda ctx: False), ()
        sub = compile_value(arg[0], env, f"{where}.{op}[0]", element)
        get = sub.fn
        if op == "in":
            if not isinstance(arg[1], list):
                env.problem(f"{where}.in[1]", "must be a list of values")
                return (lambda ctx: False), ()
            values = frozenset(as_text(v) for v in arg[1])

            def member(ctx: Ctx) -> bool:
                value = get(ctx)
                return not is_empty(value) and as_text(value) in values
            return member, sub.columns
        try:
            # the `regex` engine (re-compatible syntax) because it takes a time budget: a nested
            # quantifier like (a|a)+$ can take years on one 40-character value with backtracking
            pattern = regex.compile(str(arg[1]))
        except (regex.error, RecursionError, OverflowError) as exc:
            env.problem(f"{where}.matches[1]", f"not a valid regular expression ({exc})")
            return (lambda ctx: False), ()
        label = _column_label(sub.columns)

        def matches(ctx: Ctx) -> bool:
            value = get(ctx)
            if is_empty(value):
                return False
            try:
                return pattern.search(str(as_text(value)), timeout=REGEX_SECONDS) is not None
            except TimeoutError:
                raise FieldError("too-costly", f"the 'matches' pattern took over {REGEX_SECONDS} s on this value "
                                 "(simplify the pattern)", column=label) from None
        return matches, sub.columns
    if op in ("all", "any"):
        if not isinstance(arg, list) or not arg:
            env.problem(where, f"{op} takes a non-empty list of conditions")
            return (lambda ctx: False), ()
        subs = [compile_condition(c, env, f"{where}.{op}[{i}]", element) for i, c in enumerate(arg)]
        fns = [s[0] for s in subs]
        columns = tuple(c for s in subs for c in s[1])
        if op == "all":
            return (lambda ctx: all(f(ctx) for f in fns)), columns
        return (lambda ctx: any(f(ctx) for f in fns)), columns
    if op == "not":
        inner, columns = compile_condition(arg, env, f"{where}.not", element)
        return (lambda ctx: not inner(ctx)), columns
    env.problem(where, f"unknown condition '{op}' (present, absent, equals, in, matches, all, any, not)")
    return (lambda ctx: False), ()






def _key_fns(raw: Any, env: Env, where: str, element: str) -> tuple[list[Compiled], int]:
    parts = raw if isinstance(raw, list) else [raw]
    compiled = [compile_value(p, env, f"{where}[{i}]" if isinstance(raw, list) else where, element)
                for i, p in enumerate(parts)]
    return compiled, len(parts)


def key_function(raw: Any, env: Env, where: str, element: str) -> tuple[Callable[[Ctx], str | None], tuple[str, ...], int]:
    """A source key: one expression or several joined with '|'. Returns (fn, columns, arity)."""
    compiled, arity = _key_fns(raw, env, where, element)
    return _key_function_of(compiled) + (arity,)


def _key_function_of(compiled: list[Compiled]) -> tuple[Callable[[Ctx], str | None], tuple[str, ...]]:
    fns = [c.fn for c in compiled]
    columns = tuple(c for p in compiled for c in p.columns)
    if len(fns) == 1:   # the usual one-column key, without the join loop
        single = fns[0]

        def one(ctx: Ctx) -> str | None:
            value = single(ctx)
            if value is None or value == "" or value == {} or value == []:
                return None
            return value if isinstance(value, str) else str(as_text(value))
        if compiled[0].inline is not None:   # a plain column: read in generated code, `one` decides the rest
            return _generate_key(compiled[0], one), columns
        return one, columns

    def fn(ctx: Ctx) -> str | None:
        texts = []
        for sub in fns:
            value = sub(ctx)
            if is_empty(value):
                return None
            texts.append(value if isinstance(value, str) else str(as_text(value)))
        return "|".join(texts)

    return fn, columns








def compile_body(template: dict[str, Any], env: Env, where: str, resource_type: str) -> Compiled:
    """The template without resourceType, as a map node that always builds a fresh dict."""
    body = {k: v for k, v in template.items() if k != "resourceType"}
    return _compile_map(body, env, where, resource_type, fresh=True)



# --------------------------------------------------------------------------------------------
# Fast path: the map/list structure of a template as one generated function.

class FastSource:
    """The text of one generated function and the objects it names (bound as its globals)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {"ABSENT": _ABSENT}
        self._count = 0
        self._indent = "    "
        self._none_or_filled: set[str] = set()   # variables holding None or a non-empty map/list

    def none_or_filled(self, var: str) -> None:
        self._none_or_filled.add(var)

    def present(self, var: str) -> str:
        """The test that `var` holds a value to place (None, '', {} and [] are left out)."""
        if var in self._none_or_filled:
            return f"{var} is not None"
        return _present(var)

    def var(self) -> str:
        self._count += 1
        return f"v{self._count}"

    def bind(self, obj: Any) -> str:
        """A global name for `obj` (a closure, a table, a constant)."""
        self._count += 1
        name = f"g{self._count}"
        self.names[name] = obj
        return name

    def line(self, text: str) -> None:
        self.lines.append(self._indent + text)

    @contextmanager
    def block(self) -> Iterator[None]:
        """Lines emitted inside are the body of the `if`/`else:` line just written."""
        self._indent += "    "
        try:
            yield
        finally:
            self._indent = self._indent[:-4]

    def function(self, name: str, result: str) -> Callable[[Ctx], Any]:
        """`def name(ctx)`: the lines emitted so far, then `return result`."""
        source = f"def {name}(ctx):\n    row = ctx.row\n" + "\n".join(self.lines) + f"\n    return {result}\n"
        namespace: dict[str, Any] = dict(self.names)
        exec(compile(source, f"<mapping {name}>", "exec"), namespace)  # noqa: S102 - generated from the template tree
        generated: Callable[[Ctx], Any] = namespace[name]
        return generated

    def emit(self, node: Compiled) -> str:
        """Lines computing `node`'s value; returns the variable holding it."""
        if node.const:
            return self.bind(node.value)
        if node.inline is not None:
            return node.inline(self)
        var = self.var()
        if node.shape == "map":
            self.line(f"{var} = {{}}")
            for key, part in node.parts:
                if part.const:
                    if not is_empty(part.value):
                        self.line(f"{var}[{key!r}] = {self.bind(part.value)}")
                    continue
                sub = self.emit(part)
                self.line(f"if {self.present(sub)}: {var}[{key!r}] = {sub}")
            self.line(f"if not {var}: {var} = None")
            self.none_or_filled(var)
        elif node.shape == "list":
            self.line(f"{var} = []")
            for part in node.parts:
                if part.splice:
                    spliced = self.var()
                    self.line(f"ctx.base = len({var})")
                    self.line(f"{spliced} = {self.bind(part.fn)}(ctx)")
                    self.line(f"if {spliced}: {var}.extend({spliced})")
                    continue
                sub = self.emit(part)
                self.line(f"if {self.present(sub)}: {var}.append({sub})")
            self.line(f"if not {var}: {var} = None")
            self.none_or_filled(var)
        else:
            self.line(f"{var} = {self.bind(node.fn)}(ctx)")
        return var


def _present(var: str) -> str:
    return f"{var} is not None and {var} != '' and {var} != {{}} and {var} != []"


def _generate_key(node: Compiled, general: Callable[[Ctx], str | None]) -> Callable[[Ctx], str | None]:
    """A one-part key read by generated code: a non-empty text is the key, anything else goes to
    `general` (which raises the same errors and converts or rejects other values)."""
    src = FastSource()
    value = src.emit(node)
    fallback = src.bind(general)
    return src.function("key", f"{value} if {value}.__class__ is str and {value} else {fallback}(ctx)")


def generate_fast(body: Compiled) -> Node:
    """Straight-line Python for the template: structure nodes and the common case of pure leaves
    ($col, $lookup, $concat, $ref, the source of $date/$datetime) are written out; other leaves are
    called as closures.

    It has no error bookkeeping: when anything raises, the caller re-evaluates the closure tree
    (`body.fn`), which collects every error with its element path; an inlined leaf that meets an
    unusual value calls its own closure. Values are identical either way; only names (never text of
    records) go into the generated source.
    """
    src = FastSource()
    return src.function("fast", src.emit(body))
