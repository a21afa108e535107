"""Generated narrative (`text`) for the package's conformance resources and examples.

FHIR asks every DomainResource to carry a human-readable `text`; validators warn on a package without it.
The narrative is generated from the resource itself (status `generated`), deterministic (no dates, sorted
where the resource has no order), and plain XHTML that the HL7 validator accepts (a `div` in the XHTML
namespace, only p/table/tr/th/td/ul/li/code/b elements).
"""
from __future__ import annotations

from html import escape
from typing import Any, Sequence

XHTML = "http://www.w3.org/1999/xhtml"
_MAX_ROWS = 60  # a CodeSystem with more concepts lists the first ones and says how many more


def _div(parts: list[str]) -> dict[str, str]:
    return {"status": "generated", "div": f'<div xmlns="{XHTML}">' + "".join(parts) + "</div>"}


def _p(label: str, value: str) -> str:
    return f"<p><b>{escape(label)}</b>: {escape(value)}</p>"


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _structure_definition(sd: dict[str, Any]) -> list[str]:
    parts = [_p(sd.get("title") or sd.get("name") or sd["id"], sd.get("description", ""))]
    parts.append(_p("Constrains", f"{sd.get('type')} (parent {sd.get('baseDefinition', '')})"))
    rows: list[tuple[str, ...]] = []
    for element in sd.get("differential", {}).get("element", []):
        card = ""
        if "min" in element or "max" in element:
            card = f"{element.get('min', '')}..{element.get('max', '')}"
        flags = "MS" if element.get("mustSupport") else ""
        rows.append((element.get("id", element.get("path", "")), card, flags, element.get("short", "")))
    if rows:
        parts.append(_table(("element", "cardinality", "flags", "description"), rows[:_MAX_ROWS]))
    return parts


def _code_system(cs: dict[str, Any]) -> list[str]:
    parts = [_p(cs.get("title") or cs["id"], cs.get("description", ""))]
    concepts = cs.get("concept", [])
    rows = [(str(c.get("code", "")), str(c.get("display", "")), str(c.get("definition", "")))
            for c in concepts[:_MAX_ROWS]]
    parts.append(_table(("code", "display", "definition"), rows))
    if len(concepts) > _MAX_ROWS:
        parts.append(f"<p>and {len(concepts) - _MAX_ROWS} more concepts</p>")
    return parts


def _value_set(vs: dict[str, Any]) -> list[str]:
    parts = [_p(vs.get("title") or vs["id"], vs.get("description", ""))]
    items = []
    for include in vs.get("compose", {}).get("include", []):
        if "concept" in include:
            codes = ", ".join(c["code"] for c in include["concept"])
            items.append(f"codes {codes} from {include.get('system', '')}")
        elif "system" in include:
            items.append(f"all codes of {include['system']}")
        for url in include.get("valueSet", []):
            items.append(f"all codes of value set {url}")
    parts.append("<p><b>Includes</b>:</p><ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>")
    return parts


def _summary(value: Any) -> str:
    """One element value in a line: codings by code, references by target, primitives as they are."""
    if isinstance(value, list):
        return "; ".join(_summary(v) for v in value)
    if isinstance(value, dict):
        if "reference" in value:
            return str(value["reference"])
        if "coding" in value:
            return value.get("text") or ", ".join(_summary(c) for c in value["coding"])
        if "code" in value and "system" in value:
            return f"{value.get('display') or value['code']} ({value['system'].rsplit('/', 1)[-1]}#{value['code']})"
        if "start" in value or "end" in value:
            return f"{value.get('start', '?')} to {value.get('end', 'open')}"
        if "url" in value and "resourceType" not in value:
            return f"extension {str(value['url']).rsplit('/', 1)[-1]}"
        return ", ".join(f"{k} {_summary(v)}" for k, v in value.items() if k not in ("id", "extension"))
    return str(value)


def _instance(resource: dict[str, Any]) -> list[str]:
    kind = resource["resourceType"]
    profile = ", ".join(p.rsplit("/", 1)[-1] for p in resource.get("meta", {}).get("profile", []))
    parts = [f"<p><b>{escape(kind)} {escape(str(resource.get('id', '')))}</b>"
             + (f" (profile {escape(profile)})" if profile else "") + "</p>"]
    rows = [(key, _summary(value)) for key, value in resource.items()
            if key not in ("resourceType", "id", "meta", "text", "contained")]
    parts.append(_table(("element", "value"), rows))
    return parts


_CONFORMANCE = {"StructureDefinition": _structure_definition, "CodeSystem": _code_system, "ValueSet": _value_set}


def narrative(resource: dict[str, Any]) -> dict[str, str]:
    """The generated `text` of a resource (conformance resource or example instance)."""
    render = _CONFORMANCE.get(resource.get("resourceType", ""), _instance)
    return _div(render(resource))


def with_narrative(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource with a generated `text` placed after `meta` (where FHIR JSON puts it); an authored
    narrative (status other than generated) is kept."""
    if isinstance(resource.get("text"), dict) and resource["text"].get("status") not in (None, "generated"):
        return resource
    text = narrative({k: v for k, v in resource.items() if k != "text"})
    # FHIR JSON order: text follows id/meta/implicitRules/language, before everything else.
    anchor = next((k for k in ("language", "implicitRules", "meta", "id") if k in resource), "resourceType")
    ordered: dict[str, Any] = {}
    for key, value in resource.items():
        if key == "text":
            continue
        ordered[key] = value
        if key == anchor:
            ordered["text"] = text
    return ordered
