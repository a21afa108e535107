"""Attachment.size and hash against inline data (R4 Attachment: size is the number of bytes of the
content, hash its SHA-1): checked only where both the data and the claim are present."""
from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from .base import Reporter


def check_attachment(val: dict[str, Any], expr: str, report: Reporter) -> None:
    data = val.get("data")
    if data.__class__ is not str or ("size" not in val and "hash" not in val):
        return
    try:
        raw = base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError):
        return   # the base64Binary format check reports it
    size = val.get("size")
    if size.__class__ is int and size != len(raw):
        report("error", "value", f"{expr}.size", f"Attachment.size ({size}) is not the size of the data "
               f"({len(raw)} bytes)", "attachment-size")
    digest = val.get("hash")
    if digest.__class__ is str:
        try:
            claimed = base64.b64decode(digest, validate=False)
        except (binascii.Error, ValueError):
            return
        if claimed != hashlib.sha1(raw).digest():
            report("error", "value", f"{expr}.hash", "Attachment.hash is not the SHA-1 of the data",
                   "attachment-hash")
