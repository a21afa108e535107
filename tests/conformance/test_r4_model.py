"""The committed R4 model archive is what tools/build_r4_model.py makes from the pinned definitions."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.node
def test_committed_archive_is_up_to_date(node_tools: Path, repo_root: Path) -> None:
    proc = subprocess.run([sys.executable, str(node_tools / "build_r4_model.py"), "--check"],
                          capture_output=True, text=True, cwd=repo_root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
