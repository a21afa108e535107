"""Extension context (R4 §2.13.0.1, StructureDefinition.context): an extension may only be used on the
elements its definition names. Checked only where the host element is certain (base definitions);
FHIRPath contexts and unrolled profile paths are left alone."""
from __future__ import annotations

import re
from typing import Any

_INDEX = re.compile(r"\[\d+\]|\.ofType\([A-Za-z]+\)")
_GENERIC = frozenset({"Element", "Base", "Resource", "DomainResource", "BackboneElement"})
# R4's own definitions use their tooling extensions outside the stated contexts (normative-version on a
# CodeSystem, fhir-type on ElementDefinition.type, translation in an expansion): not judged on these
_DEFINITIONS = frozenset({"StructureDefinition", "ElementDefinition", "ValueSet", "CodeSystem", "ConceptMap",
                          "OperationDefinition", "SearchParameter", "CapabilityStatement", "NamingSystem",
                          "ImplementationGuide", "CompartmentDefinition", "StructureMap", "GraphDefinition",
                          "MessageDefinition", "TerminologyCapabilities"})
_memo: dict[tuple[str, str, str], bool] = {}


def _instance_path(expr: str) -> str:
    path = _INDEX.sub("", expr)
    for nest in (".resource.", ".contained.", ".outcome.", ".resource"):
        k = path.rfind(nest)
        if k >= 0 and nest.endswith("."):
            path = path[k + len(nest):]
    return path


def context_allows(sd: dict[str, Any], elem_path: str, expr: str) -> bool:
    """elem_path: the Extension element's path (e.g. HumanName.extension); expr: the instance location."""
    url = sd.get("url", "")
    host = elem_path.rsplit(".", 1)[0] if "." in elem_path else ""
    key = (url, elem_path, _INDEX.sub("", expr))
    found = _memo.get(key)
    if found is None:
        found = _allows(sd.get("context"), host, expr)
        if len(_memo) < 20000:
            _memo[key] = found
    return found


def _allows(contexts: Any, host: str, expr: str) -> bool:
    if not host or host in _GENERIC or not isinstance(contexts, list) or not contexts:
        return True   # primitive extensions (walked as Element) and definitions without a context
    where = _instance_path(expr).rsplit(".", 1)[0]   # drop the final ".extension"
    if host.split(".", 1)[0] in _DEFINITIONS or where.split(".", 1)[0] in _DEFINITIONS:
        return True
    for c in contexts:
        if not isinstance(c, dict):
            return True
        ctype, cexpr = c.get("type"), c.get("expression")
        if ctype != "element" or not isinstance(cexpr, str) or "(" in cexpr:
            return True   # extension / fhirpath contexts: not judged here
        cexpr = cexpr.replace("[x]", "")
        if cexpr in _GENERIC or cexpr in (host, where) or where.startswith(cexpr + ".ofType"):
            return True
    return False
