"""A small, fast FHIRPath subset compiled to Python closures over plain JSON (dicts and lists).

Covers what profile and base invariants mostly use: paths (with choice-type resolution), literals,
= != < <= > >=, and/or/xor/implies, |, where/all/exists/empty/not/count/first/last/hasValue/
extension(url)/startsWith/endsWith/contains/matches/length/distinct/isDistinct/select/iif/
trace-free. Anything else raises `Unsupported` at compile time, and the caller falls back to
fhirpathpy (slower, complete). Evaluation is 10-50x faster than fhirpathpy on these expressions.
"""
from __future__ import annotations

import re
from typing import Any, Callable

Fn = Callable[[list[Any], dict[str, Any]], list[Any]]   # (focus collection, env) -> collection


# https://hl7.org/fhir/R4/fhirpath.html#vars
_CONSTANTS = {"%ucum": "http://unitsofmeasure.org", "%sct": "http://snomed.info/sct", "%loinc": "http://loinc.org"}


class Unsupported(Exception):
    pass


_TOKEN = re.compile(r"""\s*(?:
    (?P<str>'(?:[^'\\]|\\.)*')
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<op><=|>=|!=|!~|[=<>|.(),{}\[\]+\-*/&~])
  | (?P<id>[A-Za-z_][A-Za-z0-9_]*|`[^`]+`)
  | (?P<var>[$%][A-Za-z_][A-Za-z0-9_]*)
)""", re.X)


def _tokens(expr: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    expr = expr.strip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if m is None or m.end() == pos:
            raise Unsupported(f"cannot tokenize at {pos}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    out.append(("end", ""))
    return out


def _choice_stems() -> frozenset[str]:
    """Names of R4 choice elements (value, onset, effective, ...): only these need the valueX scan."""
    try:
        from fhirpathpy.models import models
        return frozenset(p.rsplit(".", 1)[-1] for p in models["r4"]["choiceTypePaths"])
    except Exception:   # without the model every name is scanned (slower, same answers)
        return frozenset()


_CHOICE_STEMS = _choice_stems()


def _children(items: list[Any], name: str, scan: bool | None = None) -> list[Any]:
    out: list[Any] = []
    if scan is None:
        scan = not _CHOICE_STEMS or name in _CHOICE_STEMS
    for it in items:
        if it.__class__ is not dict:
            continue
        v = it.get(name, _NONE)
        if v is _NONE:
            if not scan:
                continue
            # choice type: value -> valueString, valueCodeableConcept ...
            n = len(name)
            for k, x in it.items():
                if len(k) > n and k.startswith(name) and k[n].isupper():
                    v = x
                    break
            else:
                continue
        if v.__class__ is list:
            for x in v:
                if x is not None:
                    out.append(x)
        elif isinstance(v, list):
            out.extend(x for x in v if x is not None)
        elif v is not None:
            out.append(v)
    return out


def _step(c: list[Any], name: str, scan: bool) -> list[Any]:
    """_children for the usual focus, one object with a present non-null value, without its loop."""
    v = c[0].get(name) if len(c) == 1 and c[0].__class__ is dict else None
    if v is None:   # absent (maybe a choice name), null, or not one object: the general walk
        return _children(c, name, scan)
    if v.__class__ is list:
        return [x for x in v if x is not None]
    if isinstance(v, list):
        return _children(c, name, scan)
    return [v]


def _identity(f: list[Any], env: dict[str, Any]) -> list[Any]:
    return f


def _path(base: Fn, names: tuple[str, ...]) -> Fn:
    """A chain of child names (a.b.c) as one step loop; stops early on an empty collection."""
    steps = tuple((n, not _CHOICE_STEMS or n in _CHOICE_STEMS) for n in names)
    if base is _identity and len(steps) == 1:
        name0, scan0 = steps[0]

        def fn(f: list[Any], env: dict[str, Any]) -> list[Any]:
            return _step(f, name0, scan0)
    elif base is _identity:
        def fn(f: list[Any], env: dict[str, Any]) -> list[Any]:
            c = f
            for name, scan in steps:
                c = _step(c, name, scan)
                if not c:
                    break
            return c
    else:
        def fn(f: list[Any], env: dict[str, Any]) -> list[Any]:
            c = base(f, env)
            for name, scan in steps:
                c = _step(c, name, scan)
                if not c:
                    break
            return c
    fn.fused = (base, names)   # type: ignore[attr-defined]
    return fn


_NONE = object()


def _truth(c: list[Any]) -> bool | None:
    if not c:
        return None
    if len(c) == 1:
        v = c[0]
        return v if isinstance(v, bool) else True
    raise Unsupported("boolean of a collection")  # surfaced at runtime -> fallback


def _single(c: list[Any]) -> Any:
    if len(c) > 1:
        raise Unsupported("singleton expected")
    return c[0] if c else _NONE


def _cmp_vals(a: Any, b: Any) -> tuple[Any, Any]:
    if isinstance(a, bool) or isinstance(b, bool):
        return a, b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a, b
    if isinstance(a, str) and isinstance(b, str):
        return a, b
    raise Unsupported("comparison of mixed types")


class _Parser:
    def __init__(self, expr: str) -> None:
        self.toks = _tokens(expr)
        self.i = 0

    def peek(self) -> tuple[str, str]:
        return self.toks[self.i]

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.toks[self.i]
        if value is not None and tok[1] != value:
            raise Unsupported(f"expected {value}")
        self.i += 1
        return tok

    # precedence: implies < or/xor < and < in/contains < = != < comparisons < | < . / invocation
    def parse(self) -> Fn:
        fn = self.implies()
        if self.peek()[0] != "end":
            raise Unsupported("trailing input")
        return fn

    def implies(self) -> Fn:
        left = self.or_()
        while self.peek() == ("id", "implies"):
            self.take()
            right = self.or_()
            left = _implies(left, right)
        return left

    def or_(self) -> Fn:
        left = self.and_()
        while self.peek()[1] in ("or", "xor") and self.peek()[0] == "id":
            op = self.take()[1]
            right = self.and_()
            left = _or(left, right) if op == "or" else _xor(left, right)
        return left

    def and_(self) -> Fn:
        left = self.eq()
        while self.peek() == ("id", "and"):
            self.take()
            right = self.eq()
            left = _and(left, right)
        return left

    def eq(self) -> Fn:
        left = self.cmp()
        while self.peek()[1] in ("=", "!=") and self.peek()[0] == "op":
            op = self.take()[1]
            right = self.cmp()
            left = _eq(left, right, op == "!=")
        return left

    def cmp(self) -> Fn:
        left = self.union()
        while self.peek()[1] in ("<", "<=", ">", ">=") and self.peek()[0] == "op":
            op = self.take()[1]
            right = self.union()
            left = _compare(left, right, op)
        return left

    def union(self) -> Fn:
        left = self.additive()
        while self.peek() == ("op", "|"):
            self.take()
            right = self.additive()
            left = _union(left, right)
        return left

    def additive(self) -> Fn:
        left = self.multiplicative()
        while self.peek()[0] == "op" and self.peek()[1] in ("+", "-", "&"):
            op = self.take()[1]
            right = self.multiplicative()
            left = _arith(left, right, op)
        return left

    def multiplicative(self) -> Fn:
        left = self.postfix()
        while self.peek()[0] == "op" and self.peek()[1] in ("*", "/"):
            op = self.take()[1]
            right = self.postfix()
            left = _arith(left, right, op)
        return left

    def postfix(self) -> Fn:
        fn = self.term()
        while self.peek() == ("op", "."):
            self.take()
            fn = self.invocation(fn)
        return fn

    def term(self) -> Fn:
        kind, val = self.peek()
        if kind == "str":
            self.take()
            s = val[1:-1].replace("\\'", "'").replace("\\\\", "\\")
            lit = lambda f, env, s=s: [s]   # noqa: E731
            lit.literal = s   # type: ignore[attr-defined]  # lets '=' compare against it directly
            return lit
        if kind == "num":
            self.take()
            n = float(val) if "." in val else int(val)
            return lambda f, env: [n]
        if kind == "op" and val == "(":
            self.take()
            inner = self.implies()
            self.take(")")
            return inner
        if kind == "op" and val == "{":
            self.take()
            self.take("}")
            return lambda f, env: []
        if kind == "var":
            self.take()
            if val == "$this":
                return lambda f, env: f
            if val in ("%resource", "%rootResource", "%context"):
                key = val[1:]
                return lambda f, env: [env[key]] if env.get(key) is not None else []
            if val in _CONSTANTS:   # FHIR's fixed environment variables (drt-1 and the Quantity rules use %ucum)
                constant = _CONSTANTS[val]
                return lambda f, env: [constant]
            raise Unsupported(f"variable {val}")
        if kind == "id":
            if val in ("true", "false"):
                self.take()
                b = val == "true"
                return lambda f, env: [b]
            return self.invocation(_identity)
        raise Unsupported(f"unexpected {val!r}")

    def args(self) -> list[Fn]:
        self.take("(")
        out: list[Fn] = []
        if self.peek() != ("op", ")"):
            out.append(self.implies())
            while self.peek() == ("op", ","):
                self.take()
                out.append(self.implies())
        self.take(")")
        return out

    def invocation(self, base: Fn) -> Fn:
        kind, name = self.take()
        if kind != "id":
            raise Unsupported("identifier expected")
        name = name.strip("`")
        if self.peek() == ("op", "("):
            return _function(name, base, self.args())
        if name[:1].isupper() and name not in ("CodeableConcept",):
            # type name at the root of an expression (e.g. 'Patient.name'): the focus itself
            return lambda f, env: [x for x in base(f, env)
                                              if not (isinstance(x, dict) and x.get("resourceType") not in (None, name))]
        fused = getattr(base, "fused", None)
        if fused is not None:
            return _path(fused[0], fused[1] + (name,))
        return _path(base, (name,))


def _implies(a: Fn, b: Fn) -> Fn:
    def fn(f: list[Any], env: dict[str, Any]) -> list[Any]:
        c = a(f, env)
        if not c:
            left = None
        elif len(c) == 1:
            left = c[0]
            if left.__class__ is not bool:
                left = True
        else:
            raise Unsupported("boolean of a collection")
        if left is False:
            return [True]
        c = b(f, env)
        if not c:
            right = None
        elif len(c) == 1:
            right = c[0]
            if right.__class__ is not bool:
                right = True
        else:
            raise Unsupported("boolean of a collection")
        if right is True:
            return [True]
        if left is True and right is False:
            return [False]
        return []
    return fn


def _or(a: Fn, b: Fn) -> Fn:
    ea, eb = getattr(a, "name_eq", None), getattr(b, "name_eq", None)
    if ea is not None and eb is not None and ea[0] == eb[0]:
        return _or_same_name(ea[0], ea[1], eb[1], _or_general(a, b))
    return _or_general(a, b)


def _or_same_name(name: str, lit_a: str, lit_b: str, general: Fn) -> Fn:
    """code = 'a' or code = 'b' on one object with one string value: one lookup, two comparisons."""
    def or_eq(f: list[Any], env: dict[str, Any]) -> list[Any]:
        if len(f) == 1:
            it = f[0]
            if it.__class__ is dict:
                x = it.get(name)
                if x.__class__ is str:
                    return [x == lit_a or x == lit_b]
        return general(f, env)
    return or_eq


def _or_general(a: Fn, b: Fn) -> Fn:
    def fn(f: list[Any], env: dict[str, Any]) -> list[Any]:
        c = a(f, env)
        if not c:
            left = None
        elif len(c) == 1:
            left = c[0]
            if left.__class__ is not bool:
                left = True
        else:
            raise Unsupported("boolean of a collection")
        if left is True:
            return [True]
        c = b(f, env)
        if not c:
            right = None
        elif len(c) == 1:
            right = c[0]
            if right.__class__ is not bool:
                right = True
        else:
            raise Unsupported("boolean of a collection")
        if right is True:
            return [True]
        if left is False and right is False:
            return [False]
        return []
    return fn


def _xor(a: Fn, b: Fn) -> Fn:
    def fn(f: list[Any], env: dict[str, Any]) -> list[Any]:
        left, right = _truth(a(f, env)), _truth(b(f, env))
        if left is None or right is None:
            return []
        return [left != right]
    return fn


def _and(a: Fn, b: Fn) -> Fn:
    def fn(f: list[Any], env: dict[str, Any]) -> list[Any]:
        c = a(f, env)
        if not c:
            left = None
        elif len(c) == 1:
            left = c[0]
            if left.__class__ is not bool:
                left = True
        else:
            raise Unsupported("boolean of a collection")
        if left is False:
            return [False]
        c = b(f, env)
        if not c:
            right = None
        elif len(c) == 1:
            right = c[0]
            if right.__class__ is not bool:
                right = True
        else:
            raise Unsupported("boolean of a collection")
        if right is False:
            return [False]
        if left is True and right is True:
            return [True]
        return []
    return fn


def _eq(a: Fn, b: Fn, negate: bool) -> Fn:
    lit = getattr(b, "literal", None)
    if lit is not None:   # x = 'text': one string on the right, never empty
        def eq_lit(f: list[Any], env: dict[str, Any]) -> list[Any]:
            left = a(f, env)
            if not left:
                return []
            if len(left) != 1:
                return [negate]
            x = left[0]
            same = x is lit if x.__class__ is bool else x == lit
            return [same != negate]

        fused = getattr(a, "fused", None)
        if fused is None or fused[0] is not _identity or len(fused[1]) != 1:
            return eq_lit
        name = fused[1][0]   # name = 'text' on one object, e.g. inside where(): one dict lookup

        def eq_name_lit(f: list[Any], env: dict[str, Any]) -> list[Any]:
            if len(f) == 1:
                it = f[0]
                if it.__class__ is dict:
                    x = it.get(name)
                    if x is not None and not isinstance(x, list):
                        same = x is lit if x.__class__ is bool else x == lit
                        return [same != negate]
            return eq_lit(f, env)   # absent, null, a list or a choice name: the general path
        if not negate:
            eq_name_lit.name_eq = (name, lit)   # type: ignore[attr-defined]  # see _or
        return eq_name_lit

    def fn(f: list[Any], env: dict[str, Any]) -> list[Any]:
        left, right = a(f, env), b(f, env)
        if not left or not right:
            return []
        if len(left) != len(right):
            return [negate]
        same = all(_equal(x, y) for x, y in zip(left, right))
        return [same != negate]
    return fn


def _equal(x: Any, y: Any) -> bool:
    if isinstance(x, bool) or isinstance(y, bool):
        return x is y
    same: bool = x == y
    return same


def _compare(a: Fn, b: Fn, op: str) -> Fn:
    def fn(f: list[Any], env: dict[str, Any]) -> list[Any]:
        x, y = _single(a(f, env)), _single(b(f, env))
        if x is _NONE or y is _NONE:
            return []
        x, y = _cmp_vals(x, y)
        if isinstance(x, str) and len(x) != len(y):
            raise Unsupported("date/time comparison of different precision")
        return [{"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]]
    return fn


def _arith(a: Fn, b: Fn, op: str) -> Fn:
    def fn(f: list[Any], env: dict[str, Any]) -> list[Any]:
        x, y = _single(a(f, env)), _single(b(f, env))
        if op == "&":   # string concatenation treats empty as ''
            xs = "" if x is _NONE else x
            ys = "" if y is _NONE else y
            if not isinstance(xs, str) or not isinstance(ys, str):
                raise Unsupported("& on non-strings")
            return [xs + ys]
        if x is _NONE or y is _NONE:
            return []
        if isinstance(x, str) and isinstance(y, str) and op == "+":
            return [x + y]
        if isinstance(x, bool) or isinstance(y, bool) or not isinstance(x, (int, float)) \
                or not isinstance(y, (int, float)):
            raise Unsupported("arithmetic on non-numbers (quantities, dates)")
        if op == "+":
            return [x + y]
        if op == "-":
            return [x - y]
        if op == "*":
            return [x * y]
        if y == 0:
            return []
        return [x / y]
    return fn


def _union(a: Fn, b: Fn) -> Fn:
    def fn(f: list[Any], env: dict[str, Any]) -> list[Any]:
        out: list[Any] = []
        for v in a(f, env) + b(f, env):
            if not any(_equal(v, o) for o in out):
                out.append(v)
        return out
    return fn


def _function(name: str, base: Fn, args: list[Fn]) -> Fn:
    n = len(args)
    if name == "exists":
        if n == 0:
            return lambda f, env: [bool(base(f, env))]
        crit = args[0]

        def exists_where(f: list[Any], env: dict[str, Any]) -> list[Any]:
            hit = False
            for x in base(f, env):   # every item is evaluated, as an error in any must surface
                if _truth(crit([x], env)) is True:
                    hit = True
            return [hit]
        return exists_where
    if name == "empty" and n == 0:
        return lambda f, env: [not base(f, env)]
    if name == "not" and n == 0:
        def not_(f: list[Any], env: dict[str, Any]) -> list[Any]:
            t = _truth(base(f, env))
            return [] if t is None else [not t]
        return not_
    if name == "where" and n == 1:
        crit = args[0]

        def where(f: list[Any], env: dict[str, Any]) -> list[Any]:
            out = []
            for x in base(f, env):
                c = crit([x], env)   # _truth(c) is True, inline
                if c:
                    if len(c) != 1:
                        raise Unsupported("boolean of a collection")
                    v = c[0]
                    if v is True or v.__class__ is not bool:
                        out.append(x)
            return out
        return where
    if name == "all" and n == 1:
        crit = args[0]

        def all_(f: list[Any], env: dict[str, Any]) -> list[Any]:
            ok = True
            for x in base(f, env):   # every item is evaluated, as an error in any must surface
                c = crit([x], env)   # _truth(c) is not True, inline
                if not c:
                    ok = False
                else:
                    if len(c) != 1:
                        raise Unsupported("boolean of a collection")
                    v = c[0]
                    if v is False:   # any other single value counts as true
                        ok = False
            return [ok]
        return all_
    if name == "select" and n == 1:
        crit = args[0]
        return lambda f, env: [y for x in base(f, env) for y in crit([x], env)]
    if name == "trace" and n in (1, 2):
        return base   # tracing is for debugging: no output, the input passes through
    if name == "count" and n == 0:
        return lambda f, env: [len(base(f, env))]
    if name == "first" and n == 0:
        return lambda f, env: base(f, env)[:1]
    if name == "last" and n == 0:
        return lambda f, env: base(f, env)[-1:]
    if name == "hasValue" and n == 0:
        return lambda f, env: [len(c := base(f, env)) == 1 and not isinstance(c[0], (dict, list))]
    if name == "distinct" and n == 0:
        def distinct(f: list[Any], env: dict[str, Any]) -> list[Any]:
            out: list[Any] = []
            for v in base(f, env):
                if not any(_equal(v, o) for o in out):
                    out.append(v)
            return out
        return distinct
    if name == "isDistinct" and n == 0:
        def is_distinct(f: list[Any], env: dict[str, Any]) -> list[Any]:
            c = base(f, env)
            return [all(not _equal(c[i], c[j]) for i in range(len(c)) for j in range(i))]
        return is_distinct
    if name == "extension" and n == 1:
        url_fn = args[0]
        url_lit = getattr(url_fn, "literal", None)
        if url_lit is not None:   # extension('http://...'): the usual spelling
            ext_scan = not _CHOICE_STEMS or "extension" in _CHOICE_STEMS

            def ext_lit(f: list[Any], env: dict[str, Any]) -> list[Any]:
                return [e for e in _children(base(f, env), "extension", ext_scan)
                        if isinstance(e, dict) and e.get("url") == url_lit]
            return ext_lit

        def ext(f: list[Any], env: dict[str, Any]) -> list[Any]:
            url = _single(url_fn(f, env))
            return [e for e in _children(base(f, env), "extension") if isinstance(e, dict) and e.get("url") == url]
        return ext
    if name in ("startsWith", "endsWith", "contains", "matches") and n == 1:
        arg = args[0]
        def strfn(f: list[Any], env: dict[str, Any]) -> list[Any]:
            s, a = _single(base(f, env)), _single(arg(f, env))
            if s is _NONE or a is _NONE:
                return []
            if not isinstance(s, str) or not isinstance(a, str):
                raise Unsupported("string function on a non-string")
            if name == "startsWith":
                return [s.startswith(a)]
            if name == "endsWith":
                return [s.endswith(a)]
            if name == "contains":
                return [a in s]
            return [re.search(a, s) is not None]
        return strfn
    if name == "length" and n == 0:
        def length(f: list[Any], env: dict[str, Any]) -> list[Any]:
            s = _single(base(f, env))
            return [] if s is _NONE else [len(s)] if isinstance(s, str) else []
        return length
    if name == "iif" and n in (2, 3):
        cond, yes = args[0], args[1]
        no = args[2] if n == 3 else (lambda f, env: [])
        return lambda f, env: yes(f, env) if _truth(cond(base(f, env), env)) is True else no(f, env)
    raise Unsupported(f"function {name}/{n}")


def compile_expression(expression: str) -> Callable[[Any, dict[str, Any]], list[Any]]:
    """Compile or raise Unsupported. The result takes (focus item, env) and returns a collection."""
    fn = _Parser(expression).parse()
    return lambda item, env: fn([item], env)
