"""Thousands of hostile CSV cells through `map` and `run` (seeded): every run ends with exit 0/1/2,
every row written is read and either mapped or rejected, nothing changes outside OUT, and no planted
value shows in errors, findings, the summary or the console (no --show-values)."""
from __future__ import annotations

import csv
import io
import random
import shutil
from pathlib import Path

import pytest

from .corpus import marker, pick
from .support import ALLOWED_EXITS, check_summary, invoke, report_texts, snapshot

REPO = Path(__file__).parents[2]
EXAMPLE = REPO / "examples" / "mt-cmp"
ROWS_PER_FILE = 40
CELLS_PER_RUN = 120      # hostile cells per export
MARKERS_PER_RUN = 12


def _base() -> dict[str, list[list[str]]]:
    tables = {}
    for path in sorted(EXAMPLE.glob("*.csv")):
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        tables[path.name] = rows[:ROWS_PER_FILE + 1]
    return tables


BASE = _base()


def hostile_export(folder: Path, seed: int) -> tuple[dict[str, int], list[str]]:
    """Write the example export with hostile cells; returns rows per file and the planted markers."""
    rng = random.Random(seed)
    tables = {name: [list(r) for r in rows] for name, rows in BASE.items()}
    raw: dict[str, bytes] = {}
    names = sorted(tables)
    for _ in range(CELLS_PER_RUN):
        name = rng.choice(names)
        rows = tables[name]
        r, c = rng.randrange(1, len(rows)), rng.randrange(len(rows[0]))
        value = pick(rng)
        if isinstance(value, bytes):
            token = f"@@RAW{len(raw)}@@"
            raw[token] = value
            value = token
        rows[r][c] = value
    markers = [marker(seed, i) for i in range(MARKERS_PER_RUN)]
    for text in markers:
        name = rng.choice(names)
        rows = tables[name]
        rows[rng.randrange(1, len(rows))][rng.randrange(len(rows[0]))] = text
    folder.mkdir(parents=True)
    for name, rows in tables.items():
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)   # CRLF: then a CR in a cell is quoted too
        data = buffer.getvalue().encode("utf-8")
        for token, value in raw.items():
            data = data.replace(token.encode(), value)
        (folder / name).write_bytes(data)
    return {name: len(rows) - 1 for name, rows in tables.items()}, markers


def _assert_clean(texts: list[str], markers: list[str]) -> None:
    for text in texts:
        for value in markers:
            assert value not in text, f"planted value {value} shows in an output meant for people"


@pytest.mark.parametrize("seed", range(16))
def test_hostile_cells_through_map(tmp_path: Path, seed: int) -> None:
    reads, markers = hostile_export(tmp_path / "in", seed)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "keep.txt").write_text("keep")
    before = snapshot(tmp_path, skip=tmp_path / "out")
    result = invoke(["map", "--mapping", str(REPO / "mappings" / "mt-cmp.yaml"), str(tmp_path / "in"),
                     "--out", str(tmp_path / "out")])
    assert result.code in ALLOWED_EXITS, result.text
    assert result.code == 1, result.text     # hostile cells are found
    assert snapshot(tmp_path, skip=tmp_path / "out") == before
    check_summary(tmp_path / "out", reads)
    _assert_clean([result.text, *report_texts(tmp_path / "out").values()], markers)


@pytest.mark.parametrize("seed", range(100, 106))
def test_hostile_cells_through_run(tmp_path: Path, seed: int) -> None:
    reads, markers = hostile_export(tmp_path / "in", seed)
    before = snapshot(tmp_path, skip=tmp_path / "out")
    result = invoke(["run", "--program", "mt-cmp", str(tmp_path / "in"), "--out", str(tmp_path / "out")])
    assert result.code in ALLOWED_EXITS, result.text
    assert snapshot(tmp_path, skip=tmp_path / "out") == before
    check_summary(tmp_path / "out", reads)
    _assert_clean([result.text, *report_texts(tmp_path / "out").values()], markers)


@pytest.mark.parametrize("seed", range(200, 212))
def test_one_stray_quote_per_file_costs_one_row(tmp_path: Path, seed: int) -> None:
    """A raw, unbalanced quote put at the start of a random cell of each file: that row is rejected,
    every other row is read on its own (no row swallowed into another member's record)."""
    rng = random.Random(seed)
    folder = tmp_path / "in"
    shutil.copytree(EXAMPLE, folder)
    reads: dict[str, int] = {}
    for path in sorted(folder.glob("*.csv")):
        lines = path.read_bytes().split(b"\n")
        plain = []    # 0-based lines holding a whole record and no quote
        with open(path, encoding="utf-8", newline="") as handle:
            reader, end, records = csv.reader(handle), 0, 0
            for row in reader:
                start, end = end + 1, reader.line_num
                records += bool(row)
                if row and start == end and start > 1 and b'"' not in lines[start - 1]:
                    plain.append(start - 1)
        reads[path.name] = records - 1
        line = rng.choice(plain)
        cells = lines[line].split(b",")
        cell = rng.randrange(len(cells))
        cells[cell] = b'"' + cells[cell]
        lines[line] = b",".join(cells)
        path.write_bytes(b"\n".join(lines))
    result = invoke(["map", "--mapping", str(REPO / "mappings" / "mt-cmp.yaml"), str(folder),
                     "--out", str(tmp_path / "out")])
    assert result.code == 1, result.text
    check_summary(tmp_path / "out", reads)
