"""docs/agency-export.md describes exactly the columns the example exports and the mappings use."""
from __future__ import annotations

import csv
import re

import pytest

from fhiradapter.canonical import PROGRAMS

from .support import EXAMPLES, REPO

DOC = REPO / "docs" / "agency-export.md"


def documented_columns() -> dict[str, list[str]]:
    """File name -> the column names of its table, in order (`a`, `b` cells name several columns)."""
    out: dict[str, list[str]] = {}
    current = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^### `([a-z_]+\.csv)`", line)
        if heading:
            current = heading.group(1)
            out[current] = []
        elif line.startswith("#"):
            current = None
        elif current and line.startswith("| `"):
            first = line.split("|")[1]
            out[current] += re.findall(r"`([a-z_0-9]+)`", first)
        elif current and out[current] and not line.startswith("|"):
            current = None          # the first table of the section is the column list
    return out


def test_doc_lists_every_file() -> None:
    assert set(documented_columns()) == {
        "members.csv", "organizations.csv", "practitioners.csv", "rosters.csv", "referrals.csv", "plans.csv",
        "plan_activities.csv", "contacts.csv", "stays.csv", "consents.csv", "communications.csv", "documents.csv",
        "enrollments.csv", "coverages.csv"}


@pytest.mark.parametrize("program", PROGRAMS)
def test_example_headers_are_the_documented_columns(program: str) -> None:
    doc = documented_columns()
    files = sorted((EXAMPLES / program).glob("*.csv"))
    assert {"members.csv", "contacts.csv", "plans.csv", "referrals.csv", "consents.csv"} <= {f.name for f in files}
    for f in files:
        with f.open(encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh))
        assert header == doc[f.name], f"{program}/{f.name}"
