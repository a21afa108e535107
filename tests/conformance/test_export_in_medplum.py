"""The exported tarball (our snapshots) loads in Medplum's validator: examples pass, invalid fixtures fail."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from fhiradapter.conformance import export_package
from fhiradapter.paths import profiles_dir

pytestmark = pytest.mark.node


def _run(node_tools: Path, tarball: Path, files: list[Path]) -> dict[str, dict]:
    script = node_tools / "medplum-validate.mjs"
    if not script.is_file():
        pytest.skip("tools/medplum-validate.mjs (profiles helper's cross-check tool) is not there")
    proc = subprocess.run(["node", str(script), "--profiles", str(tarball), *map(str, files)],
                          cwd=node_tools, capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return {Path(r["file"]).name: r for r in results}


def test_examples_pass_and_invalid_fixtures_fail(node_tools: Path, tmp_path: Path) -> None:
    examples = sorted((profiles_dir() / "examples").glob("*.json"))
    invalid = sorted((profiles_dir() / "invalid").glob("*.json"))
    if not examples:
        pytest.skip("profiles/examples has no examples yet")
    tarball = export_package(tmp_path / "fhiradapter.bh.tgz")
    results = _run(node_tools, tarball, examples + invalid)
    assert len(results) == len(examples) + len(invalid)
    failing_examples = {n: r["issues"][:2] for n, r in results.items()
                        if n in {p.name for p in examples} and not r["valid"]}
    assert not failing_examples
    passing_invalid = [p.name for p in invalid if results[p.name]["valid"]]
    assert not passing_invalid
