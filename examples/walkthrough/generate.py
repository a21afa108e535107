#!/usr/bin/env python3
"""A visits-only agency export shaped unlike the reference export (docs/walkthrough.md).

    python examples/walkthrough/generate.py OUT_FOLDER

Writes OUT_FOLDER/visits.csv: ';'-delimited, a UTF-8 byte-order mark and CRLF line ends (as Excel
saves it), 12-hour times ("02:30 PM"), the agency's own codes (service IND/GRP/TEL/COL, status
KEPT/CANC/NS, sex M/F), client and staff details repeated on every visit row, and cancelled visits
the mapping must skip (not reject). Seeded: the same file every time. Synthetic people only.
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

HEADER = ["VisitNo", "ClientNo", "ClientLast", "ClientFirst", "ClientDOB", "ClientSex", "VisitDate",
          "StartTime", "Minutes", "Service", "Status", "StaffNPI", "StaffLast", "StaffFirst"]
LAST = ["Rivera", "Nguyen", "Okafor", "Lindqvist", "Baker", "Tanaka", "Haddad", "Morales"]
FIRST = ["Ana", "Ben", "Chloe", "Dev", "Eli", "Fay", "Gus", "Hana"]
STAFF = [("1234567893", "Stone", "Mara"), ("1497758544", "Kemp", "Jonah"), ("1245319599", "Ortiz", "Lena")]
SERVICES = ["IND", "GRP", "TEL", "COL"]


def rows(seed: int = 17) -> list[list[str]]:
    rng = random.Random(seed)
    clients = [(f"C{100 + i}", LAST[i], FIRST[i], f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/"
                f"{rng.randint(1960, 2004)}", rng.choice("MF")) for i in range(len(LAST))]
    out = []
    for n in range(40):
        client = clients[n % len(clients)]
        staff = STAFF[n % len(STAFF)]
        hour = rng.randint(8, 17)
        time = f"{(hour - 1) % 12 + 1:02d}:{rng.choice(['00', '15', '30', '45'])} {'AM' if hour < 12 else 'PM'}"
        status = "CANC" if n % 9 == 4 else "KEPT"
        out.append([f"V{5000 + n}", client[0], client[1], client[2], client[3], client[4],
                    f"03/{1 + n % 28:02d}/2026", time, str(rng.choice([30, 45, 60])), rng.choice(SERVICES),
                    status, staff[0], staff[1], staff[2]])
    return out


def write(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "visits.csv"
    text = "\r\n".join(";".join(row) for row in [HEADER, *rows()]) + "\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    return path


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: generate.py OUT_FOLDER")
    print(f"wrote {write(Path(sys.argv[1]))}")
