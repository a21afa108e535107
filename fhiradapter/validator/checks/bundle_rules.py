"""Bundle rules beyond the bdl-* invariants (R4 Bundle page, §2.36.4): fullUrl is absolute and agrees
with the resource id; a link relation occurs once; search sets carry ids, put only OperationOutcomes
in `outcome` mode and only the searched types in `match` mode."""
from __future__ import annotations

import re
from typing import Any

from .base import CheckEnv, Reporter

_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+").fullmatch
_REST_TAIL = re.compile(r"https?://\S+?/([A-Z][A-Za-z]+)/([A-Za-z0-9\-\.]{1,64})(/_history/\S+)?").fullmatch
_TYPES_PARAM = re.compile(r"[?&]_type=([A-Za-z,]+)")


def check_bundle_rules(bundle: dict[str, Any], expr: str, report: Reporter, env: CheckEnv) -> None:
    entries = bundle.get("entry")
    if entries.__class__ is list:
        for i, e in enumerate(entries):
            if e.__class__ is dict and "fullUrl" in e:
                _full_url(e, f"{expr}.entry[{i}]", report)
    links = bundle.get("link")
    if links.__class__ is list and len(links) > 1:
        seen: set[str] = set()
        for i, link in enumerate(links):
            rel = link.get("relation") if link.__class__ is dict else None
            if rel.__class__ is str:
                if rel in seen:
                    report("error", "invariant", f"{expr}.link[{i}]",
                           f"the link relation '{rel}' may occur only once in a Bundle", "bundle-link-unique")
                seen.add(rel)
    if bundle.get("type") == "searchset" and entries.__class__ is list:
        _search_set(bundle, entries, expr, report)


def _full_url(entry: dict[str, Any], loc: str, report: Reporter) -> None:
    full = entry["fullUrl"]
    if full.__class__ is not str or not full:
        return
    if _ABSOLUTE(full) is None:
        report("error", "value", f"{loc}.fullUrl", "fullUrl must be an absolute URL (a urn:uuid:, urn:oid: "
               "or the resource's server URL), not a relative one", "bundle-fullurl")
        return
    res = entry.get("resource")
    m = _REST_TAIL(full)
    if m is None or res.__class__ is not dict:
        return
    rtype, rid = res.get("resourceType"), res.get("id")
    if rid.__class__ is str and (m.group(1) != rtype or m.group(2) != rid):
        report("error", "value", f"{loc}.fullUrl", "fullUrl must agree with the resource: a RESTful fullUrl "
               "ends with [type]/[id] of the entry's resource", "bundle-fullurl-id")


def _search_set(bundle: dict[str, Any], entries: list[Any], expr: str, report: Reporter) -> None:
    searched: set[str] | None = None
    for link in bundle.get("link") or []:
        if link.__class__ is dict and link.get("relation") == "self" and link.get("url").__class__ is str:
            m = _TYPES_PARAM.search(link["url"])
            if m is not None:
                searched = set(m.group(1).split(","))
    for i, e in enumerate(entries):
        res = e.get("resource") if e.__class__ is dict else None
        if res.__class__ is not dict:
            continue
        search = e.get("search")
        mode = search.get("mode") if search.__class__ is dict else None
        rtype = res.get("resourceType")
        loc = f"{expr}.entry[{i}].resource"
        if mode == "outcome":
            if rtype != "OperationOutcome":
                report("error", "invariant", loc, "an entry in search mode 'outcome' must be an OperationOutcome",
                       "bundle-search-outcome")
            continue
        if mode in ("match", "include") and "id" not in res:
            report("error", "required", loc, "resources in a search set must have an id", "bundle-search-id")
        if mode == "match" and searched is not None and rtype not in searched:
            report("error", "invariant", loc, "a match of a search set must be of a searched type "
                   "(the _type of the self link)", "bundle-search-type")
