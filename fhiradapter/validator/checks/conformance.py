"""Content of conformance resources, beyond their structure (R4 CodeSystem, ValueSet, SearchParameter,
StructureDefinition and ConceptMap pages): counts agree with concepts, codes named in value sets and
concept maps exist, filter values fit their property, search expressions start at a base, derived
search parameters keep their parent's bases, differential paths exist in the base. Each check consults
only definitions we hold (R4 core, our package, --ig): anything else is left alone."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .base import CheckEnv, Reporter, ResourceCheck

_BOOLEAN_PROPERTIES = frozenset({"notSelectable", "inactive", "abstract", "deprecated"})
_CODE_PROPERTIES = frozenset({"concept", "code", "parent", "child"})
_GENERIC_BASES = frozenset({"Resource", "DomainResource"})


def _concepts(concepts: Any) -> Iterator[dict[str, Any]]:
    stack = list(concepts) if isinstance(concepts, list) else []
    while stack:
        c = stack.pop(0)
        if isinstance(c, dict):
            yield c
            if isinstance(c.get("concept"), list):
                stack[:0] = c["concept"]


def _known(env: CheckEnv, system: str, code: str) -> bool | None:
    """Is code defined in system: None when we do not hold the system complete."""
    found = env.codes.codes(system.split("|")[0])
    if not isinstance(found, tuple):
        return None
    codes, sensitive = found
    return (code if sensitive else code.lower()) in codes


def check_code_system(cs: dict[str, Any], expr: str, report: Reporter, env: CheckEnv) -> None:
    concepts = list(_concepts(cs.get("concept")))
    seen: set[str] = set()
    for c in concepts:
        code = c.get("code")
        if isinstance(code, str):
            if code in seen:
                report("error", "duplicate", f"{expr}.concept", f"the code {code} is defined twice",
                       "codesystem-duplicate-code")
            seen.add(code)
    count = cs.get("count")
    if cs.get("content") == "complete" and isinstance(count, int) and "concept" in cs and count != len(concepts):
        report("error", "invalid", f"{expr}.count", f"count is {count} but the code system defines "
               f"{len(concepts)} concepts (content = complete)", "codesystem-count")


def check_value_set(vs: dict[str, Any], expr: str, report: Reporter, env: CheckEnv) -> None:
    compose = vs.get("compose")
    if not isinstance(compose, dict):
        return
    for part in ("include", "exclude"):
        items = compose.get(part)
        if not isinstance(items, list):
            continue
        for i, inc in enumerate(items):
            system = inc.get("system") if isinstance(inc, dict) else None
            if not isinstance(system, str):
                continue
            loc = f"{expr}.compose.{part}[{i}]"
            for j, c in enumerate(inc.get("concept") or []):
                code = c.get("code") if isinstance(c, dict) else None
                if isinstance(code, str) and _known(env, system, code) is False:
                    report("error", "code-invalid", f"{loc}.concept[{j}].code",
                           f"the code is not defined in the code system {system}", "valueset-code-unknown")
            for j, f in enumerate(inc.get("filter") or []):
                if isinstance(f, dict):
                    _filter(f, system, f"{loc}.filter[{j}]", report, env)


def _filter(f: dict[str, Any], system: str, loc: str, report: Reporter, env: CheckEnv) -> None:
    prop, op, value = f.get("property"), f.get("op"), f.get("value")
    if not isinstance(prop, str) or not isinstance(value, str):
        return
    cs = env.registry.code_system(system.split("|")[0])
    declared = {p.get("code"): p.get("type") for p in (cs.get("property") or []) if isinstance(p, dict)} \
        if isinstance(cs, dict) else {}
    ptype = declared.get(prop) or ("boolean" if prop in _BOOLEAN_PROPERTIES else
                                   "code" if prop in _CODE_PROPERTIES else None)
    if ptype == "boolean" and value not in ("true", "false"):
        report("error", "invalid", loc, f"the value of a filter on property '{prop}' must be true or false",
               "valueset-filter-value")
    elif ptype == "code" and op not in ("regex", "in", "not-in", "exists") and _known(env, system, value) is False:
        report("error", "code-invalid", loc, f"the value of a filter on property '{prop}' must be a code of "
               f"{system}", "valueset-filter-value")
    elif ptype == "Coding" and "#" in value:
        other, _, code = value.partition("#")
        if _known(env, other, code) is False:
            report("error", "code-invalid", loc, f"the value of a filter on property '{prop}' names a code "
                   f"that {other} does not define", "valueset-filter-value")


def check_search_parameter(sp: dict[str, Any], expr: str, report: Reporter, env: CheckEnv) -> None:
    bases = {b for b in sp.get("base") or [] if isinstance(b, str)}
    if sp.get("type") == "composite" and len(sp.get("component") or []) < 2:
        report("error", "invalid", expr, "a composite search parameter defines two or more components",
               "searchparameter-composite")
    expression = sp.get("expression")
    if isinstance(expression, str) and bases and not bases & _GENERIC_BASES:
        for part in expression.split("|"):
            head = part.strip().lstrip("(").strip()
            name = head.split(".", 1)[0].split(" ", 1)[0]
            if name[:1].isupper() and "." in head and name not in bases and name not in _GENERIC_BASES:
                report("error", "invalid", f"{expr}.expression", f"the search expression starts at {name}, "
                       "which is not a base of the search parameter", "searchparameter-expression")
                break
    parent_url = sp.get("derivedFrom")
    parent = env.registry.resource(parent_url.split("|")[0]) if isinstance(parent_url, str) else None
    if isinstance(parent, dict) and parent.get("resourceType") == "SearchParameter":
        parent_bases = {b for b in parent.get("base") or [] if isinstance(b, str)}
        for b in sorted(bases - parent_bases):
            report("error", "invalid", f"{expr}.base", f"{b} is not a base of the search parameter this one is "
                   f"derived from ({parent_url})", "searchparameter-derived-base")


def check_structure_definition(sd: dict[str, Any], expr: str, report: Reporter, env: CheckEnv) -> None:
    """Differential paths start at the type and name an element of the base (choice renames allowed)."""
    stype, base_url = sd.get("type"), sd.get("baseDefinition")
    diff = (sd.get("differential") or {}).get("element") if isinstance(sd.get("differential"), dict) else None
    if sd.get("derivation") != "constraint" or not isinstance(stype, str) or not isinstance(diff, list) \
            or not isinstance(base_url, str):
        return
    base = env.registry.structure_definition(base_url.split("|")[0])
    elements = (base.get("snapshot") or {}).get("element") if isinstance(base, dict) else None
    if not isinstance(elements, list):
        return
    children: dict[str, list[str]] = {}
    for e in elements:
        path = e.get("path", "") if isinstance(e, dict) else ""
        if path.count(".") == 1:
            children.setdefault(path.split(".")[1], [t.get("code", "") for t in e.get("type") or []
                                                     if isinstance(t, dict)])
    for i, e in enumerate(diff):
        path = e.get("path") if isinstance(e, dict) else None
        if not isinstance(path, str):
            continue
        head, _, rest = path.partition(".")
        if head != stype:
            report("error", "invalid", f"{expr}.differential.element[{i}].path",
                   f"a differential path starts with the type {stype}", "sd-path")
            continue
        name = rest.split(".", 1)[0]
        if not name or name in children:
            continue
        stems = [c[:-3] for c in children if c.endswith("[x]") and name.startswith(c[:-3])]
        if any(name[len(s):] and any(t[:1].upper() + t[1:] == name[len(s):] for t in children[s + "[x]"])
               for s in stems):
            continue   # valueQuantity for value[x]
        report("error", "invalid", f"{expr}.differential.element[{i}].path",
               f"{path} names no element of {stype}", "sd-path")


def check_concept_map(cm: dict[str, Any], expr: str, report: Reporter, env: CheckEnv) -> None:
    source = cm.get("sourceCanonical") or cm.get("sourceUri")
    if not isinstance(source, str):
        return
    try:
        exp = env.registry.expand(source)
    except Exception:  # noqa: BLE001  # a broken value set must not stop validation
        return
    if exp is None or getattr(exp, "external_systems", None):
        return
    for g, group in enumerate(cm.get("group") or []):
        system = group.get("source") if isinstance(group, dict) else None
        for k, el in enumerate(group.get("element") or [] if isinstance(group, dict) else []):
            code = el.get("code") if isinstance(el, dict) else None
            if isinstance(code, str) and isinstance(system, str) and not exp.contains(system, code):
                report("error", "code-invalid", f"{expr}.group[{g}].element[{k}].code",
                       f"the source code is not in the source value set {source}", "conceptmap-source-code")


CONFORMANCE_CHECKS: dict[str, tuple[ResourceCheck, ...]] = {
    "CodeSystem": (check_code_system,),
    "ValueSet": (check_value_set,),
    "SearchParameter": (check_search_parameter,),
    "StructureDefinition": (check_structure_definition,),
    "ConceptMap": (check_concept_map,),
}
