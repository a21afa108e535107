"""The committed differential digest: validator, mapper and rules give the same output on the fixed,
seeded corpus of tools/differential.py. A change of output fails here until it is accepted on purpose
(`python tools/differential.py --accept`, reviewed in the same commit)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_differential_digest_unchanged() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "differential.py"), "--quiet"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, (
        "the output of the validator, mapper or rules changed on the differential corpus:\n"
        + done.stdout + done.stderr)
    assert "unchanged" in done.stdout
