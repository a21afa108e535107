"""Bundle-level checks: the bdl-* invariants, fullUrl uniqueness, reference resolution, target types.

Linear in Bundle size: one index of fullUrls and Type/id keys, one pass over the references collected
while walking the entries.
"""
from __future__ import annotations

import re
from typing import Any

from .walker import Ctx, RefUse

_ENTRY = re.compile(r"^Bundle\.entry\[(\d+)\]")
_REL = re.compile(r"([A-Z][A-Za-z]+)/([A-Za-z0-9\-\.]{1,64})(/_history/[A-Za-z0-9\-\.]{1,64})?")
_URL_TAIL = re.compile(r"(https?://\S+?/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-\.]{1,64})(/_history/[A-Za-z0-9\-\.]{1,64})?")


def entry_of(expression: str | None) -> int | None:
    if not expression:
        return None
    m = _ENTRY.match(expression)
    return int(m.group(1)) if m else None


def check_bundle(bundle: dict[str, Any], ctx: Ctx, refs: list[RefUse]) -> None:
    btype = bundle.get("type")
    entries = bundle.get("entry")
    entries = entries if isinstance(entries, list) else []
    if "total" in bundle and btype not in ("searchset", "history"):
        ctx.add("error", "invariant", "Bundle.total", "total only when a search or history", rule="bdl-1")
    by_full: dict[str, int] = {}
    by_key: dict[str, int] = {}       # "Type/id" (relative) -> entry
    for i, e in enumerate(entries):
        if not isinstance(e, dict):
            continue
        loc = f"Bundle.entry[{i}]"
        res = e.get("resource")
        if "search" in e and btype != "searchset":
            ctx.add("error", "invariant", loc + ".search", "entry.search only when a search", rule="bdl-2")
        if btype in ("batch", "transaction", "history") and "request" not in e:
            ctx.add("error", "invariant", loc,
                    f"each entry of a {btype} Bundle must have a request", rule="bdl-3")
        if "request" in e and btype not in ("batch", "transaction", "history"):
            ctx.add("error", "invariant", loc + ".request",
                    "entry.request only for a batch, transaction or history Bundle", rule="bdl-3")
        if "response" in e and btype not in ("batch-response", "transaction-response", "history"):
            ctx.add("error", "invariant", loc + ".response",
                    "entry.response only for a batch-response, transaction-response or history", rule="bdl-4")
        if res is None and "request" not in e and "response" not in e:
            ctx.add("error", "invariant", loc, "an entry must have a resource or a request/response",
                    rule="bdl-5")
        full = e.get("fullUrl")
        if isinstance(full, str):
            if "/_history/" in full:
                ctx.add("error", "invariant", loc + ".fullUrl", "fullUrl cannot be version specific",
                        rule="bdl-8")
            meta = res.get("meta") if isinstance(res, dict) else None
            version = meta.get("versionId") if isinstance(meta, dict) else None
            key = f"{full}|{version}"
            if key in by_full:
                ctx.add("error", "invariant", loc + ".fullUrl",
                        f"fullUrl is not unique: entry {by_full[key]} has the same fullUrl"
                        + (" and versionId" if version else ""), rule="bdl-7")
            else:
                by_full[key] = i
            by_full.setdefault(full, i)
        if isinstance(res, dict) and isinstance(res.get("resourceType"), str) and isinstance(res.get("id"), str):
            by_key.setdefault(f"{res['resourceType']}/{res['id']}", i)
    if btype == "document":
        if "identifier" not in bundle:
            ctx.add("error", "invariant", "Bundle", "a document must have an identifier", rule="bdl-9")
        if "timestamp" not in bundle:
            ctx.add("error", "invariant", "Bundle", "a document must have a timestamp", rule="bdl-10")
        first = entries[0].get("resource") if entries and isinstance(entries[0], dict) else None
        if not (isinstance(first, dict) and first.get("resourceType") == "Composition"):
            ctx.add("error", "invariant", "Bundle", "a document must start with a Composition", rule="bdl-11")
    if btype == "message":
        first = entries[0].get("resource") if entries and isinstance(entries[0], dict) else None
        if not (isinstance(first, dict) and first.get("resourceType") == "MessageHeader"):
            ctx.add("error", "invariant", "Bundle", "a message must start with a MessageHeader", rule="bdl-12")
    _resolve(entries, by_full, by_key, ctx, refs, btype)


def _resolve(entries: list[Any], by_full: dict[str, int], by_key: dict[str, int], ctx: Ctx,
             refs: list[RefUse], btype: object = None) -> None:
    for ref in refs:
        target: int | None = None
        r = ref.reference
        if r.startswith(("urn:uuid:", "urn:oid:")):
            target = by_full.get(r)
            if target is None:
                # a collection or search set may hold part of a record: the HL7 validator warns there
                ctx.add("warning" if btype in ("collection", "searchset") else "error", "not-found", ref.expression,
                        "reference does not resolve to any entry of the Bundle (no entry has this fullUrl)",
                        rule="bundle-reference")
                continue
        elif r in by_full:
            target = by_full[r]
        else:
            m = _REL.fullmatch(r)
            if m is not None:
                target = by_key.get(f"{m.group(1)}/{m.group(2)}")
                if target is None:
                    # relative to the referring entry's base when that is a server URL
                    src = entry_of(ref.expression)
                    if src is not None and isinstance(entries[src], dict):
                        full = entries[src].get("fullUrl")
                        um = _URL_TAIL.fullmatch(full) if isinstance(full, str) else None
                        if um is not None:
                            target = by_full.get(um.group(1) + r)
            # otherwise a well-formed server reference, outside the Bundle: fine
        if target is None or not ref.targets:
            continue
        res = entries[target].get("resource") if isinstance(entries[target], dict) else None
        rtype = res.get("resourceType") if isinstance(res, dict) else None
        if isinstance(rtype, str) and rtype not in ref.targets:
            ctx.add("error", "value", ref.expression,
                    f"reference resolves to a {rtype} (entry {target}) but may only refer to "
                    f"{', '.join(sorted(ref.targets))}", rule="bundle-reference-type")
