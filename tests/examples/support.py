"""Helpers for the example-data tests: the README's documented rows, CSV lines, the CLI."""
from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from fhiradapter.canonical import PROGRAMS
from fhiradapter.cli import cli

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
MAPPINGS = REPO / "mappings"


@dataclass(frozen=True)
class Documented:
    program: str
    file: str
    line: int
    column: str = ""
    value: str = ""     # the bad value, "" when the documented problem is an empty value
    rule: str = ""      # validate stage: the program rule reporting the same fact


def _tables(section: str) -> list[list[str]]:
    rows = []
    for line in section.splitlines():
        if line.startswith("| ") and not line.startswith("| program") and not line.startswith("|---"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start:end if end != -1 else None]


def documented(stage: str) -> tuple[list[Documented], list[Documented]]:
    """(bad rows, rows rejected together with them) listed in examples/README.md for a stage."""
    text = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    heading = "## Rows the mapper rejects" if stage == "map" else "## Rows the validator rejects"
    bad, together = [], []
    for cells in _tables(_section(text, heading)):
        if len(cells) in (6, 7):
            program, file, line, column, value = cells[:5]
            value = "" if value == "(empty)" else value.strip("`")
            bad.append(Documented(program, file, int(line), column, value, cells[6] if len(cells) == 7 else ""))
        elif len(cells) == 4:
            program, file, line, _ = cells
            together.append(Documented(program, file, int(line)))
        else:
            raise AssertionError(f"examples/README.md: unexpected table row {cells}")
    return bad, together


def records_by_line(path: Path) -> dict[int, dict[str, str]]:
    """CSV records keyed by the physical line each starts on (header = line 1)."""
    out = {}
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        reader.fieldnames   # noqa: B018 - reading it consumes the header line
        end = reader.line_num
        for record in reader:
            out[end + 1] = record
            end = reader.line_num
    return out


def run_cli(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    return result.exit_code, result.output


def read_ndjson(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def map_all(base: Path) -> dict[str, Path]:
    """`fhiradapter map` of each program's example export (and the JSON export) into a temp folder."""
    out = {}
    jobs = {p: (MAPPINGS / f"{p}.yaml", EXAMPLES / p) for p in PROGRAMS}
    jobs["casemgmt-json"] = (MAPPINGS / "casemgmt-json-mt-cmp.yaml", EXAMPLES / "casemgmt-json")
    for name, (mapping, folder) in jobs.items():
        code, output = run_cli(["map", "--mapping", str(mapping), str(folder),
                                "--out", str(base / name), "--no-progress", "--no-bundles"])
        assert code in (0, 1), f"{name}: map failed with exit {code}:\n{output}"
        out[name] = base / name
    return out


def resources(out: Path) -> list[dict]:
    found = []
    for f in sorted((out / "ndjson").glob("*.ndjson")):
        found += read_ndjson(f)
    return found


SOURCE_RE = re.compile(r"^urn:fhiradapter:[^:]+:[^:]+:(?P<file>.+):(?P<line>\d+)$")


def origin(resource: dict) -> tuple[str, int]:
    m = SOURCE_RE.match(resource["meta"]["source"])
    assert m, resource["meta"]["source"]
    return m["file"], int(m["line"])


@dataclass(frozen=True)
class PlantedFinding:
    program: str
    member: str
    rule: str


def planted_findings() -> list[PlantedFinding]:
    text = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    return [PlantedFinding(c[0], c[1], c[3]) for c in _tables(_section(text, "## Policy violations"))]


def documented_held(program: str, stage: str) -> tuple[dict[tuple[str, str], int], set[tuple[str, int]]]:
    """The README's held-back rows of a program for `map` or `run`: ((depends on, file) -> rows, and
    the planted orphans' (file, line))."""
    section = _section((EXAMPLES / "README.md").read_text(encoding="utf-8"), "## Rows held back")
    counts: dict[tuple[str, str], int] = {}
    orphans: set[tuple[str, int]] = set()
    for cells in _tables(section):
        if cells[0] != program:
            continue
        if len(cells) == 5 and cells[2] not in ("map and run", "run"):
            continue   # the held-without-consent table (documented_consent_held)
        if len(cells) == 5:
            _, depends, held_in, file, rows = cells
            if stage == "run" or held_in == "map and run":
                counts[(depends, file)] = int(rows)
        elif len(cells) == 6:
            orphans.add((cells[1], int(cells[2])))
        else:
            raise AssertionError(f"examples/README.md: unexpected table row {cells}")
    return counts, orphans


def held_in_errors(errors: list[dict]) -> tuple[dict[tuple[str, str], int], set[tuple[str, int]]]:
    """errors.ndjson's held-back lines in the same shape as documented_held."""
    counts: dict[tuple[str, str], int] = {}
    orphans: set[tuple[str, int]] = set()
    for e in errors:
        if e["stage"] != "held-back" or e["issues"][0]["code"] == "security":
            continue
        found = re.search(r"held back: depends on (\S+:\d+)[ ,(]", e["issues"][0]["message"])
        if found:
            key = (found.group(1), e["file"])
            counts[key] = counts.get(key, 0) + 1
        else:
            orphans.add((e["file"], e["line"]))
    return counts, orphans


def documented_consent_held(program: str) -> dict[tuple[str, str], int]:
    """The README's rows held back without consent: (law, file) -> rows."""
    section = _section((EXAMPLES / "README.md").read_text(encoding="utf-8"), "## Rows held back")
    counts: dict[tuple[str, str], int] = {}
    for cells in _tables(section):
        if cells[0] == program and len(cells) == 5 and cells[2] not in ("map and run", "run"):
            key = (cells[2], cells[3])
            counts[key] = counts.get(key, 0) + int(cells[4])
    return counts


def consent_held_in_errors(errors: list[dict]) -> dict[tuple[str, str], int]:
    """errors.ndjson's held-without-consent lines: (law, file) -> rows (the law: the citation's head)."""
    counts: dict[tuple[str, str], int] = {}
    for e in errors:
        if e["stage"] == "held-back" and e["issues"][0]["code"] == "security":
            law = re.search(r"\[([^:\]]+)", e["issues"][0]["message"])
            assert law, e
            key = (law.group(1), e["file"])
            counts[key] = counts.get(key, 0) + 1
    return counts
