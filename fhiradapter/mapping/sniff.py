"""What a CSV file looks like when its header does not match the mapping: delimiter and encoding.

Only called on a mismatch (never per row). Reads the first bytes and says what it found in words a
mapping author can act on ("the file looks ';'-delimited; set delimiter: ';'"); None when nothing
stands out. Never quotes the file's content (a header is no PHI, but the first lines may be).
"""
from __future__ import annotations

import codecs
from pathlib import Path

_CANDIDATES = (",", ";", "\t", "|")
_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
_YAML = {",": '","', ";": '";"', "\t": '"\\t"', "|": '"|"'}


def sniff(path: Path, *, delimiter: str = ",", encoding: str = "utf-8") -> str | None:
    try:
        with open(path, "rb") as handle:
            head = handle.read(65536)
    except OSError:
        return None
    wanted = codecs.lookup(encoding).name
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not wanted.startswith("utf-16"):
        return "the file is UTF-16 (it starts with a UTF-16 byte-order mark); set encoding: utf-16"
    if head.startswith(codecs.BOM_UTF8) and wanted not in ("utf-8", "utf-8-sig"):
        return f"the file is UTF-8 (it starts with a UTF-8 byte-order mark), not {encoding}; set encoding: utf-8"
    if not wanted.startswith("utf-16") and head[:200].count(b"\x00") > 20:
        return "the file looks UTF-16 (every other byte is zero); set encoding: utf-16-le (or utf-16-be)"
    text = None
    try:
        text = head.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:   # not just a character cut at the end of the sample
            try:
                text = head.decode("cp1252")
            except UnicodeDecodeError:
                return f"the file is not {encoding} text; set encoding: to the export's encoding"
            hint = f"the file is not {encoding} text but reads as Windows-1252; set encoding: cp1252"
            found = _delimiter_hint(text, delimiter)
            return f"{hint}; {found}" if found else hint
        text = head[:exc.start].decode(encoding)
    return _delimiter_hint(text.lstrip("\ufeff"), delimiter)


def _delimiter_hint(text: str, delimiter: str) -> str | None:
    first = text.split("\n", 1)[0].rstrip("\r")
    if not first:
        return None
    counts = {c: first.count(c) for c in _CANDIDATES}
    best = max(_CANDIDATES, key=lambda c: counts[c])
    if counts[best] == 0 or best == delimiter or counts.get(delimiter, first.count(delimiter)) >= counts[best]:
        return None
    return f"the file looks {_NAMES[best]}-delimited; set delimiter: {_YAML[best]}"
