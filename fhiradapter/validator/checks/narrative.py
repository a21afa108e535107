"""Narrative XHTML (R4 §2.4 Narrative, txt-1 and txt-2): well-formed XHTML whose root is a `div` in
the XHTML namespace (any prefix), only the basic HTML formatting elements, no scripts, forms or event
attributes, and some non-whitespace content. Results are remembered per text (bounded), as
generated narratives repeat."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.entities import name2codepoint
from typing import Any

from .base import CheckEnv, Reporter

XHTML = "{http://www.w3.org/1999/xhtml}"
# HTML 4.0 chapters 7-11 and 15 (the R4 narrative rule), plus a and img
_ALLOWED = frozenset(["a", "abbr", "acronym", "address", "b", "bdo", "big", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "del", "dfn", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "samp", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "ul", "var"])
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
_MEMO_MAX = 4096
_memo: dict[str, tuple[tuple[str, str, str], ...]] = {}


def _numeric(m: re.Match[str]) -> str:
    name = m.group(1)
    if name in _XML_ENTITIES or name not in name2codepoint:
        return m.group(0)
    return f"&#{name2codepoint[name]};"


def findings(div: str) -> tuple[tuple[str, str, str], ...]:
    """(check id, location suffix, message) for one narrative div."""
    found = _memo.get(div)
    if found is None:
        found = tuple(_findings(div))
        if len(_memo) < _MEMO_MAX:
            _memo[div] = found
    return found


def _findings(div: str) -> list[tuple[str, str, str]]:
    if "<!" in div and ("<!DOCTYPE" in div or "<!ENTITY" in div):   # no DTDs: entity expansion attacks
        return [("xhtml-wellformed", "", "the narrative must not have a DOCTYPE or entity declarations")]
    try:
        root = ET.fromstring(_ENTITY.sub(_numeric, div))
    except ET.ParseError as exc:
        return [("xhtml-wellformed", "", f"the narrative is not well-formed XHTML ({exc})")]
    if root.tag != XHTML + "div":
        return [("xhtml-root", "", ('the narrative must be a <div> element in the XHTML namespace '
                                    '(xmlns="http://www.w3.org/1999/xhtml")'))]
    out: list[tuple[str, str, str]] = []
    text = False
    for el in root.iter():
        tag = el.tag if isinstance(el.tag, str) else ""
        local = tag[len(XHTML):] if tag.startswith(XHTML) else None
        if local is None or local not in _ALLOWED:
            name = local or tag.rpartition("}")[2] or "?"
            out.append(("txt-1", "", f"the narrative may only contain basic HTML formatting elements, not <{name}>"))
            continue
        for attr in el.attrib:
            if attr.lower().startswith("on"):
                out.append(("txt-1", "", f"the narrative must not have event attributes ({attr} on <{local}>)"))
        if local == "img" or (el.text and el.text.strip()) or (el.tail and el.tail.strip() and el is not root):
            text = True
    if not text:
        out.append(("txt-2", "", "the narrative must have some non-whitespace content"))
    return out


def check_narrative(res: dict[str, Any], expr: str, report: Reporter, env: CheckEnv) -> None:
    text = res.get("text")
    div = text.get("div") if text.__class__ is dict else None
    if div.__class__ is not str or not div.strip():
        return
    for rule, suffix, message in findings(div):
        report("error", "invariant", f"{expr}.text.div{suffix}", message, rule)
