"""Hostile single values, seeded: the kinds of cell or field that broke runs before (issue 11).

Each is str (written as text, quoted as CSV needs) or bytes (spliced into the file as raw bytes).
"""
from __future__ import annotations

import random

HOSTILE: list[str | bytes] = [
    "9" * 5000, "-" + "7" * 4400, "1e999", "-1e400", "1" * 25, "NaN", "Infinity", "-0", "0x1F", "١٢٣",
    "1_000", "½", "\x00", "a\x00b", "\x1b[31mred", "\u202eevil", "\ufeff", "\u2028", "line\nbreak",
    "cr\ronly", "crlf\r\nx", "\t", "   ", "x" * 100_000, "é" * 50_000, "😀" * 2000, "e\u0301" * 5000,
    "../../../../etc/passwd", "/etc/passwd", "C:\\Windows\\win.ini", "Patient/../../victim", "urn:uuid:x",
    '"', '""', '"unbalanced', "'", "\\", "%s%n%x", "{}", "[]", "null", "true", "{$col: member_id}",
    "*alias", "&anchor", "=cmd|' /C calc'!A0", "02/30/2025", "13/45/2025", "00/00/0000", "1/1/1",
    "99999-01-01", "2026-03-08T02:30", "9999999999", "25:61", "24:00", "-1:00", "12:00:00.0000000001",
    "ZZ-UNKNOWN-CODE", "<script>alert(1)</script>", "SELECT * FROM members; --",
    b"\xed\xa0\x80",            # a lone surrogate, CESU-8 style: not UTF-8
    b"\xff\xfe", b"\xc3", b"\x80\x80", b"ok\xe2\x82",
]


def pick(rng: random.Random) -> str | bytes:
    return rng.choice(HOSTILE)


def marker(seed: int, i: int) -> str:
    """A value that must never show in an error, finding, summary or console line."""
    return f"ZZPHI{seed:04d}Q{i:03d}"
