"""examples/generate.py: seeded, deterministic, synthetic, and its README tells the truth."""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from fhiradapter.canonical import PROGRAMS

from .support import EXAMPLES, documented, records_by_line

GENERATE = EXAMPLES / "generate.py"


def generate(out: Path, *args: str) -> None:
    subprocess.run([sys.executable, str(GENERATE), "--out", str(out), *args], check=True,
                   stdout=subprocess.DEVNULL)


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    generate(tmp_path / "a", "--scale", "0.15")
    generate(tmp_path / "b", "--scale", "0.15")
    a, b = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert sorted(a) == sorted(b)
    assert "mt-cmp/contacts.csv" in a and "casemgmt-json/casemgmt-export.json" in a
    assert [name for name in a if a[name] != b[name]] == []


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    generate(tmp_path / "a", "--scale", "0.15", "--seed", "1")
    generate(tmp_path / "b", "--scale", "0.15", "--seed", "2")
    assert (tmp_path / "a/dc-cs/contacts.csv").read_bytes() != (tmp_path / "b/dc-cs/contacts.csv").read_bytes()


def test_committed_examples_are_what_the_generator_writes(tmp_path: Path) -> None:
    """The data in the repo (and the line numbers in its README) come from the default run."""
    generate(tmp_path)
    fresh = tree(tmp_path)
    stale = [name for name, data in fresh.items() if (EXAMPLES / name).read_bytes() != data]
    assert stale == [], "re-run `python examples/generate.py` and commit the result"


def test_scale_changes_volume(tmp_path: Path) -> None:
    generate(tmp_path, "--scale", "0.15")
    with (tmp_path / "mt-cmp/members.csv").open() as fh:
        small = sum(1 for _ in csv.DictReader(fh))
    with (EXAMPLES / "mt-cmp/members.csv").open() as fh:
        full = sum(1 for _ in csv.DictReader(fh))
    assert 12 <= small < full


def test_volume_is_realistic_and_repo_friendly() -> None:
    members = contacts = 0
    for program in PROGRAMS:
        with (EXAMPLES / program / "members.csv").open() as fh:
            members += sum(1 for _ in csv.DictReader(fh))
        with (EXAMPLES / program / "contacts.csv").open() as fh:
            contacts += sum(1 for _ in csv.DictReader(fh))
    size = sum(p.stat().st_size for p in EXAMPLES.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    assert members >= 300, members
    assert contacts >= 5000, contacts
    assert size < 5 * 1024 * 1024, size


@pytest.mark.parametrize("stage", ["map", "validate"])
def test_readme_lines_point_at_the_bad_values(stage: str) -> None:
    bad, _ = documented(stage)
    assert bad, f"no {stage} rows documented"
    for row in bad:
        records = records_by_line(EXAMPLES / row.program / row.file)
        assert row.line in records, f"{row}: no record starts on that line"
        assert row.column in records[row.line], f"{row}: no such column"
        assert records[row.line][row.column] == row.value, f"{row}: the record holds another value"


def test_every_program_has_bad_rows_and_quoting_cases() -> None:
    bad, _ = documented("map")
    assert {b.program for b in bad} == set(PROGRAMS)
    text = (EXAMPLES / "mt-cmp/referrals.csv").read_text(encoding="utf-8")
    assert '""' in text, "a quote inside a quoted value"
    records = records_by_line(EXAMPLES / "mt-cmp/referrals.csv")
    assert any("\n" in r["note"] for r in records.values()), "a line break inside a quoted value"
    lines = sorted(records)
    assert lines[-1] > len(lines) + 1, "physical lines and record numbers differ"


def test_names_are_synthetic() -> None:
    sys.path.insert(0, str(EXAMPLES))
    try:
        from synth.common import FIRST_NAMES, LAST_NAMES
    finally:
        sys.path.remove(str(EXAMPLES))
    for program in PROGRAMS:
        for name in ("members.csv", "practitioners.csv"):
            with (EXAMPLES / program / name).open(encoding="utf-8") as fh:
                for r in csv.DictReader(fh):
                    assert r["first_name"] in FIRST_NAMES and r["last_name"] in LAST_NAMES, (program, name)
                    if "phone" in r and r["phone"]:
                        assert "555-01" in r["phone"]
