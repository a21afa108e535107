"""The dated, editable billing-code table `fhiradapter/data/billing-codes.csv`.

Only confirmed rows are ever used by a check; unconfirmed rows document what is known (unit,
citation) and keep an empty code (docs/design.md "Billing codes").
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..paths import DATA_DIR

DEFAULT_PATH = DATA_DIR / "billing-codes.csv"
COLUMNS = ("program", "code", "modifier", "unit", "effective_from", "effective_to", "status", "source_citation")
UNITS = frozenset({"", "per-diem", "15-min", "month", "session", "unit"})


class BillingTableError(ValueError):
    """A billing-code table that cannot be used; the message names file, row and column."""


@dataclass(frozen=True, slots=True)
class BillingCode:
    program: str
    code: str
    modifier: str
    unit: str
    effective_from: date | None
    effective_to: date | None
    status: str
    source_citation: str
    row: int

    @property
    def confirmed(self) -> bool:
        return self.status == "confirmed"

    def effective_on(self, day: date) -> bool:
        return ((self.effective_from is None or self.effective_from <= day)
                and (self.effective_to is None or day <= self.effective_to))


def _date(value: str, where: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise BillingTableError(f"{where}: not a YYYY-MM-DD date") from None


def load_billing_codes(path: Path | str | None = None) -> list[BillingCode]:
    """Read and check the table; every problem found is reported together."""
    path = Path(path) if path else DEFAULT_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BillingTableError(f"{path}: cannot read ({exc.strerror})") from None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise BillingTableError(f"{path}: missing column(s) {', '.join(missing)}")
    rows: list[BillingCode] = []
    errors: list[str] = []
    for number, raw in enumerate(reader, start=2):
        cell = {k: (raw.get(k) or "").strip() for k in COLUMNS}
        where = f"{path.name}:{number}"
        try:
            status = cell["status"]
            if status not in ("confirmed", "unconfirmed"):
                raise BillingTableError(f"{where} column status: must be confirmed or unconfirmed")
            if status == "unconfirmed" and cell["code"]:
                raise BillingTableError(f"{where} column code: unconfirmed rows keep an empty code")
            if status == "confirmed" and not cell["code"]:
                raise BillingTableError(f"{where} column code: a confirmed row needs a code")
            if cell["unit"] not in UNITS:
                raise BillingTableError(f"{where} column unit: one of {', '.join(sorted(UNITS - {''}))}")
            if not cell["program"]:
                raise BillingTableError(f"{where} column program: empty")
            if not cell["source_citation"]:
                raise BillingTableError(f"{where} column source_citation: every row cites its source")
            start = _date(cell["effective_from"], f"{where} column effective_from")
            end = _date(cell["effective_to"], f"{where} column effective_to")
            if start and end and end < start:
                raise BillingTableError(f"{where}: effective_to is before effective_from")
            rows.append(BillingCode(cell["program"], cell["code"], cell["modifier"], cell["unit"], start, end,
                                    status, cell["source_citation"], number))
        except BillingTableError as exc:
            errors.append(str(exc))
    if errors:
        raise BillingTableError("; ".join(errors))
    return rows


def confirmed_for(rows: list[BillingCode], program: str, day: date) -> list[BillingCode]:
    return [r for r in rows if r.confirmed and r.program == program and r.effective_on(day)]
