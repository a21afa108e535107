"""docs/agency-export.md describes exactly the columns the example exports and the mappings use."""
from __future__ import annotations

import csv
import re

import pytest

from fhiradapter.canonical import PROGRAMS

from fhiradapter.mapping.loader import load_mapping

from .support import EXAMPLES, MAPPINGS, REPO

DOC = REPO / "docs" / "agency-export.md"


def documented_flags() -> dict[str, list[tuple[str, str]]]:
    """File name -> (column, req flag: R, C or empty) of its table, in order (`a`, `b` cells name several
    columns)."""
    out: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^### `([a-z_]+\.csv)`", line)
        if heading:
            current = heading.group(1)
            out[current] = []
        elif line.startswith("#"):
            current = None
        elif current and line.startswith("| `"):
            cells = line.split("|")
            out[current] += [(name, cells[3].strip()) for name in re.findall(r"`([a-z_0-9]+)`", cells[1])]
        elif current and out[current] and not line.startswith("|"):
            current = None          # the first table of the section is the column list
    return out


def documented_columns() -> dict[str, list[str]]:
    """File name -> the column names of its table, in order."""
    return {file: [name for name, _ in columns] for file, columns in documented_flags().items()}


def test_the_mapping_marks_optional_exactly_the_columns_the_doc_does_not_require() -> None:
    """An export may leave out any column not marked R (`optional_columns:`); the R ones it must have."""
    mapping = load_mapping(MAPPINGS / "mt-cmp.yaml")   # the shared reference-export fragment's sources
    flags = documented_flags()
    by_file = {spec["file"]: spec for spec in mapping.sources.values()}
    assert set(by_file) == set(flags)
    for file, columns in flags.items():
        spec = by_file[file]
        assert sorted(spec["columns"]) == sorted(name for name, _ in columns), file
        assert sorted(spec.get("optional_columns", [])) == sorted(name for name, flag in columns if flag != "R"), file
        assert {flag for _, flag in columns} <= {"R", "C", ""}, file


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
