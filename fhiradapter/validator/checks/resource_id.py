"""Resource.id: R4 types it as System.String in the definitions, but the Resource page fixes its form
(`[A-Za-z0-9\\-\\.]{1,64}`, the `id` datatype). Checked on every resource that has one."""
from __future__ import annotations

import re
from typing import Any

from .base import CheckEnv, Reporter

_ID = re.compile(r"[A-Za-z0-9\-\.]{1,64}", re.ASCII).fullmatch
_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-."


def check_resource_id(res: dict[str, Any], expr: str, report: Reporter, env: CheckEnv) -> None:
    rid = res.get("id")
    if rid.__class__ is not str or (0 < len(rid) <= 64 and not rid.strip(_ID_CHARS)):
        return   # absent, a non-string the structural walk already reports, or well-formed (a C-level
        #          strip is several times cheaper than the regex on every resource)
    if _ID(rid) is not None:
        return
    if len(rid) > 64:
        why = f"too long ({len(rid)} characters, at most 64)"
    elif not rid:
        why = "empty"
    else:
        why = "it has characters other than A-Z, a-z, 0-9, '-' and '.'"
    report("error", "value", f"{expr}.id", f"invalid resource id: {why}", "resource-id")
