"""The export's end (exportend.LatestDate) lives outside the rules package so that `map` loads no
program rules (issue 18: importing them was a fixed ~0.1 CPU-s of every `map`); it must read the same
date paths as the rules."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fhiradapter import exportend
from fhiradapter.rules import record, window

ROOT = Path(__file__).resolve().parents[2]


def test_the_export_end_reads_the_rules_date_paths() -> None:
    assert exportend.DATE_PATHS == record.DATE_PATHS
    assert window.LatestDate is exportend.LatestDate


def test_map_loads_no_program_rules(tmp_path: Path) -> None:
    # mt-imr's report has no weekly table (whose citation comes from the rules catalogue)
    script = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "from fhiradapter.cli.run import shipped_mapping\n"
        "from fhiradapter.mapping.loader import load_mapping\n"
        "from fhiradapter.mapping.run import map_input\n"
        f"summary = map_input(load_mapping(shipped_mapping('mt-imr')), Path({str(ROOT / 'examples' / 'mt-imr')!r}),"
        f" Path({str(tmp_path / 'out')!r}))\n"
        "print(json.dumps([summary['rows']['mapped'], sorted(m for m in sys.modules if m.startswith('fhiradapter.rules')"
        " or m == 'holidays')]))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    mapped, loaded = eval(done.stdout.strip().splitlines()[-1])  # noqa: S307 - our own JSON list
    assert mapped > 0
    assert loaded == []
    manifest = (tmp_path / "out" / "output.json").read_text(encoding="utf-8")
    assert '"transactionTime"' in manifest   # the export's end still reaches the manifest
