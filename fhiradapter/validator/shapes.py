"""Python source per object shape: the walk of one JSON object as straight-line code.

A `Node` (the elements allowed in one JSON object of a definition) meets objects of a few shapes (the
same keys in the same order: every Encounter of an export, every Reference with only `reference`). For
each shape seen twice, `compile_shape` writes a function that walks an object of exactly that shape
with everything decided up front: which element each key is, its type and check plan, and the
cardinality of the node (a required element present, an absent one's must-support note). Per key it
does what the general walk (`Walker._object_generic`) does on its fast paths, calling the same value,
check and slicing code; so adding a check stays one table entry, and the source is generated from the
same compiled tables.

What a shape function cannot decide from the shape alone it leaves to the general walk, before doing
anything (so nothing is reported twice): a value of an unexpected JSON kind (an array where one value
is expected, a null, an empty array, a primitive array item that fails its check) hands the whole
object to `Walker._object_generic`; a shape with an unknown key, a `_element`, a choice of several
types, a missing required element or a count over the maximum is never compiled (the general walk
words those findings).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from .checks.attachment import check_attachment
from .checks.value_bounds import check_bounds
from .model import Elem, Node

if TYPE_CHECKING:
    from .walker import Walker

ShapeFn = Callable[..., None]   # (walker, obj, node, tname, expr, ctx)

MAX_SHAPES = 64        # compiled shapes per node: beyond that (odd data), the general walk
MAX_PENDING = 256      # shapes seen once per node, waiting for a second sighting


def compile_shape(walker: "Walker", node: Node, shape: tuple[str, ...], generic: ShapeFn,
                  kinds: dict[str, str]) -> ShapeFn | None:
    """A function walking objects of `shape` against `node`, or None when the shape is one the
    general walk must word (unknown keys, `_element`s, choices, a cardinality finding)."""
    slots = node.slots
    assert slots is not None
    if not shape:
        return None
    names: list[str] = []          # one local per key (the values, unpacked in the object's order)
    pre: list[str] = []            # side-effect-free checks that send the object to the general walk
    body: list[str] = []           # the walk, in the object's key order
    env: dict[str, Any] = {"G": generic}
    count: dict[int, str] = {}     # id(elem) -> "1" or the local holding its array
    for i, key in enumerate(shape):
        v = f"v{i}"
        names.append(v)
        ent = slots.get(key)
        if ent is None:
            if key == "resourceType" and node.is_resource:
                names[-1] = "_"
                continue
            return None   # unknown element, or a _element (primitive extension): the general walk
        elem, tcode, kind, prim, sliced = ent
        if id(elem) in count:
            return None   # two keys of one element (a choice): the general walk reports it
        e, t = f"E{i}", f"T{i}"
        env[e], env[t] = elem, tcode
        loc = repr("." + key)
        if kind == kinds["prim"]:
            env[f"C{i}"] = prim
            pre.append(f"if {v} is None or {v}.__class__ is list: return G(W, obj, node, tname, expr, ctx)")
            body.append(f"if C{i}({v}) is not None: W._value({v}, {e}, {t}, expr + {loc}, ctx)")
            count[id(elem)] = "1"
        elif kind == kinds["single"]:
            pre.append(f"if {v}.__class__ is not dict and isinstance({v}, list): "
                       "return G(W, obj, node, tname, expr, ctx)")
            plan = walker.plan_of(elem, tcode)
            if plan.plain:
                body.append(f"if {v}.__class__ is dict:")
                body += _complex(elem, plan, v, f"expr + {loc}", env, str(i), "    ")
                body.append(f"else: W._value({v}, {e}, {t}, expr + {loc}, ctx)")
            else:
                body += _value(elem, plan, v, f"expr + {loc}", env, str(i), "")
            count[id(elem)] = "1"
        elif kind == kinds["array"]:
            pre.append(f"if {v}.__class__ is not list or not {v}: return G(W, obj, node, tname, expr, ctx)")
            if sliced:
                body.append(f"W._sliced({v}, {e}, {t}, expr + {loc}, ctx, None)")
            else:
                plan = walker.plan_of(elem, tcode)
                body.append(f"loc = expr + {loc}")
                body.append(f"for i, item in enumerate({v}):")
                if plan.plain:
                    body.append("    if item.__class__ is dict:")
                    body += _complex(elem, plan, "item", "f'{loc}[{i}]'", env, str(i), "        ")
                    body.append(f"    else: W._value(item, {e}, {t}, f'{{loc}}[{{i}}]', ctx)")
                else:
                    body += _value(elem, plan, "item", "f'{loc}[{i}]'", env, str(i), "    ")
            count[id(elem)] = v
        elif kind == kinds["prims"]:
            env[f"C{i}"] = prim
            pre.append(f"if {v}.__class__ is not list or not {v}: return G(W, obj, node, tname, expr, ctx)")
            pre.append(f"for x in {v}:")
            pre.append(f"    if x is None or C{i}(x) is not None: return G(W, obj, node, tname, expr, ctx)")
            count[id(elem)] = v
        elif elem.choice and not elem.array and elem.max != 0:   # value[x] of several types, one present
            where = repr(f".{elem.name[:-3]}.ofType({tcode[:1].upper() + tcode[1:]})") if tcode else None
            if where is None:
                return None
            pre.append(f"if {v}.__class__ is not dict and isinstance({v}, list): "
                       "return G(W, obj, node, tname, expr, ctx)")
            plan = walker.plan_of(elem, tcode)
            if plan.plain:
                body.append(f"if {v}.__class__ is dict:")
                body += _complex(elem, plan, v, f"expr + {where}", env, str(i), "    ")
                body.append(f"else: W._value({v}, {e}, {t}, expr + {where}, ctx)")
            else:
                body.append(f"W._value({v}, {e}, {t}, expr + {where}, ctx)")
            count[id(elem)] = "1"
        else:
            return None   # max 0, arrays of choices, sliced primitives: the general walk
    # cardinality, in the order of node.bounded, then the other must-support elements (as the general walk)
    card: list[str] = []
    notes: list[str] = []
    for j, elem in enumerate(node.bounded):
        n = count.get(id(elem))
        env[f"B{j}"] = elem
        if n is None:   # absent
            if elem.min > 0:
                return None   # a required element is missing: the general walk reports it
            if elem.must_support:
                card.append(f"if ctx.must_support: W._ms_absent(B{j}, expr, ctx)")
        elif n == "1":
            if elem.min > 1 or (elem.max is not None and elem.max < 1):
                return None
        else:
            tests = []
            if elem.min > 1:
                tests.append(f"len({n}) < {elem.min}")
            if elem.max is not None:
                tests.append(f"len({n}) > {elem.max}")
            if tests:
                card.append(f"if {' or '.join(tests)}: W._cardinality(B{j}, len({n}), expr, ctx)")
    for j, elem in enumerate(node.must_support):
        if id(elem) not in count:
            env[f"M{j}"] = elem
            notes.append(f"    W._ms_absent(M{j}, expr, ctx)")
    if notes:
        card.append("if ctx.must_support:")
        card.extend(notes)
    lines = ["def shape(W, obj, node, tname, expr, ctx):",
             f"    {', '.join(names)}, = obj.values()"]
    lines += ["    " + s for s in pre + body + card]
    source = "\n".join(lines) + "\n"
    namespace = dict(env)
    exec(compile(source, f"<shape {node.type_name}>", "exec"), namespace)   # noqa: S102 - our own source
    fn: ShapeFn = namespace["shape"]
    fn.__doc__ = source   # the generated code, for reading in a debugger
    return fn


def _complex(elem: Elem, plan: Any, v: str, loc: str, env: dict[str, Any], tag: str, indent: str) -> list[str]:
    """Walker._complex for a plan without memo or nested resource, written out: the object's own shape
    dispatch, then the type's native invariant, binding, fixed/pattern, bounds and FHIRPath constraints,
    each only when the plan has it."""
    from . import walker as w
    env[f"P{tag}"] = plan
    if plan.node is None or plan.native == w._EXTENSION:   # a dynamic extension definition: the general code
        return [f"{indent}W._complex({v}, E{tag}, P{tag}, {loc}, ctx)"]
    env[f"N{tag}"], env[f"TN{tag}"] = plan.node, plan.tname
    out = [f"L = {loc}",
           f"fn = N{tag}.shapes.get(tuple({v}))",
           f"if fn is None: fn = W._shape(N{tag}, tuple({v}))",
           f"fn(W, {v}, N{tag}, TN{tag}, L, ctx)"]
    native = plan.native
    if native == w._PERIOD:
        out.append(f"W._period({v}, L, ctx)")
    elif native == w._ATTACHMENT:
        env["check_attachment"] = check_attachment
        out.append(f"check_attachment({v}, L, ctx.add)")
    elif native == w._CODING:
        out.append(f"W.code_systems.check({v}, L, ctx.add)")
    elif native == w._REFERENCE:
        out.append(f"W._reference({v}, E{tag}, L, ctx)")
    if plan.coded:
        out.append(f"W.term.check_coded({v}, P{tag}.tcode, E{tag}, L, ctx)")
    if plan.fixed:
        out.append(f"W._fixed({v}, E{tag}, L, ctx)")
    if elem.bounds is not None:
        env["check_bounds"] = check_bounds
        out.append(f"check_bounds({v}, E{tag}.bounds, E{tag}.path, L, ctx.add)")
    if plan.constraints:
        out.append(f"W._constraints(P{tag}.constraints, {v}, L, ctx)")
    return [indent + line for line in out]


def _value(elem: Elem, plan: Any, v: str, loc: str, env: dict[str, Any], tag: str, indent: str) -> list[str]:
    """Walker._value for the two other common plans, written out: a checked primitive (a code with a
    binding: its format, then the binding through the element's remembered good codes) and a coded value
    of the memo (Coding, CodeableConcept, Extension). A null, an ill-formed value, anything else: the
    general code, which words the finding."""
    env[f"P{tag}"] = plan
    general = f"W._value({v}, E{tag}, T{tag}, {loc}, ctx)"
    if plan.check is not None and not plan.fixed and elem.bounds is None:
        env[f"C{tag}"] = plan.check
        lines = [f"if {v} is not None and C{tag}({v}) is None:"]
        if plan.code_binding:
            env[f"G{tag}"] = plan.good_codes
            lines.append(f"    if {v} not in G{tag}: W._code(P{tag}, {v}, E{tag}, {loc}, ctx)")
        else:
            lines.append("    pass")
        lines.append(f"else: {general}")
    elif plan.memo is not None:
        lines = [f"if {v}.__class__ is dict: W._remembered({v}, E{tag}, P{tag}, {loc}, ctx)",
                 f"else: {general}"]
    else:
        lines = [general]
    return [indent + line for line in lines]
