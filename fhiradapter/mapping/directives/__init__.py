"""The directives of the mapping language, one module each, registered in one table.

`TABLE` is the only list of directive names: the compiler's handlers (`handlers()`), the load-time
option checks (`option_table()`) and the JSON Schema's directive list (`schema_definition()`, written
into `fhiradapter/mapping/schema/mapping-v1.schema.json` by `python -m fhiradapter.mapping.directives
--write-schema`; a test compares them) are made from it, and docs/mapping-language.md has one section
per entry (also tested). A new directive: a module here with `DIRECTIVE = Directive(...)`, one line below.
"""
from __future__ import annotations

from typing import Any

from fhiradapter.mapping.directives import (
    coalesce, col, concat, const, date, datetime, each, if_, item, lookup, ref, rows, var,
)
from fhiradapter.mapping.directives.spec import Directive, Handler

TABLE: tuple[Directive, ...] = (
    col.DIRECTIVE, item.DIRECTIVE, const.DIRECTIVE, var.DIRECTIVE, lookup.DIRECTIVE, date.DIRECTIVE,
    datetime.DIRECTIVE, concat.DIRECTIVE, coalesce.DIRECTIVE, if_.DIRECTIVE, each.DIRECTIVE, ref.DIRECTIVE,
    rows.DIRECTIVE,
)

NAMES: tuple[str, ...] = tuple(d.name for d in TABLE)


def handlers() -> dict[str, Handler]:
    return {d.name: d.compile for d in TABLE}


def option_table() -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """directive -> (allowed options, required options), for readable load-time messages."""
    return {d.name: (frozenset(d.options), frozenset(d.required)) for d in TABLE}


def schema_definition() -> dict[str, Any]:
    """`$defs.directive` of the mapping JSON Schema: an if/then per directive (one pass per file)."""
    names = "|".join("\\" + name for name in NAMES)
    branches = []
    for d in TABLE:
        then: dict[str, Any] = {"required": [d.name], "additionalProperties": False,
                                "properties": {d.name: d.argument, **d.options}}
        if d.required:
            then["allOf"] = [{"required": [option]} for option in d.required]
        then.update(d.extra)
        branches.append({"if": {"required": [d.name]}, "then": then})
    return {
        "description": "A map with a $-key: a known directive and its options (one directive per map: each "
                       "directive's options exclude the others). Checked as if/then per directive name rather "
                       "than oneOf, so a file is checked in one pass (mapping load time). Generated from "
                       "fhiradapter.mapping.directives.TABLE.",
        "type": "object",
        "propertyNames": {"pattern": f"^(?:[^$][\\s\\S]*|{names})$"},
        "allOf": branches,
    }


__all__ = ["Directive", "NAMES", "TABLE", "handlers", "option_table", "schema_definition"]
