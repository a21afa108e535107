"""Test-kit fixtures: the mt-cmp example output of `fhiradapter run`, the members it reports clean, and
the project's real FHIR test server (tests/fhir_server_fixtures.py, registered in tests/conftest.py)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


REPO = Path(__file__).resolve().parents[2]
MEMBERS = 12   # members loaded: enough for every rule and search path, small enough to send quickly


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from fhiradapter.cli import main; main()", *args],
                          capture_output=True, text=True, cwd=REPO)


@pytest.fixture(scope="session")
def mt_cmp_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "mt-cmp"
    proc = cli("run", "--program", "mt-cmp", "examples/mt-cmp", "--out", str(out))
    assert proc.returncode in (0, 1), proc.stderr   # 1: the examples' planted findings
    return out


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["reference"]} if isinstance(node.get("reference"), str) else set()
        return found.union(*(_refs(v) for v in node.values())) if node else found
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node)) if node else set()
    return set()


@pytest.fixture(scope="session")
def clean_sample(mt_cmp_output: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example output restricted to members the run reports clean: no rule finding in findings.ndjson,
    every reference resolving within the member's Bundle and the shared one. Team rosters (Group) are
    left out: they list every member, most of whom are not loaded. One transaction Bundle per member."""
    flagged = set()
    for line in (mt_cmp_output / "findings.ndjson").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["stage"] == "rules" and row.get("member"):
            flagged.add(row["member"])
    bundles = mt_cmp_output / "bundles"
    shared = [e for f in sorted(bundles.glob("000-shared*.json"))
              for e in json.loads(f.read_text(encoding="utf-8"))["entry"] if e["resource"]["resourceType"] != "Group"]
    shared_keys = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in shared}
    out = tmp_path_factory.mktemp("clean-sample")
    chosen = 0
    for path in sorted(bundles.glob("Patient-*.json")):   # a member's Bundle: Patient-<id>.json (.partN.json)
        if ".part" in path.name or chosen >= MEMBERS:
            continue
        parts = [path] + sorted(bundles.glob(path.name[:-len(".json")] + ".part*.json"))
        entries = [e for f in parts for e in json.loads(f.read_text(encoding="utf-8"))["entry"]]
        keys = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in entries}
        patients = [k for k in keys if k.startswith("Patient/")]
        if len(patients) != 1 or patients[0] in flagged:
            continue
        if not _refs([e["resource"] for e in entries]) <= keys | shared_keys:
            continue
        (out / f"{patients[0].split('/')[1]}.json").write_text(json.dumps(
            {"resourceType": "Bundle", "type": "transaction", "entry": entries}), encoding="utf-8")
        chosen += 1
    assert chosen == MEMBERS, f"only {chosen} clean members in the example output"
    (out / "000-shared.json").write_text(json.dumps({"resourceType": "Bundle", "type": "transaction",
                                                     "entry": shared}), encoding="utf-8")
    return out
