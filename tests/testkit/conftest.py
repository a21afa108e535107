"""Test-kit fixtures: each program's example output of `fhiradapter run`, the members it reports clean, and
the project's real FHIR test server (tests/fhir_server_fixtures.py, registered in tests/conftest.py)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest


REPO = Path(__file__).resolve().parents[2]
MEMBERS = 12   # members loaded: enough for every rule and search path, small enough to send quickly


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from fhiradapter.cli import main; main()", *args],
                          capture_output=True, text=True, cwd=REPO)


PROGRAMS = ("mt-cmp", "mt-imr", "dc-cs", "ma-csp", "pa-tcm")


@pytest.fixture(scope="session")
def example_output(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """`fhiradapter run` over a program's example export (made once per program)."""
    made: dict[str, Path] = {}

    def get(program: str) -> Path:
        if program not in made:
            out = tmp_path_factory.mktemp("run") / program
            proc = cli("run", "--program", program, f"examples/{program}", "--out", str(out))
            assert proc.returncode in (0, 1), proc.stderr   # 1: the examples' planted findings
            made[program] = out
        return made[program]
    return get


@pytest.fixture(scope="session")
def mt_cmp_output(example_output: Callable[[str], Path]) -> Path:
    return example_output("mt-cmp")


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["reference"]} if isinstance(node.get("reference"), str) else set()
        return found.union(*(_refs(v) for v in node.values())) if node else found
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node)) if node else set()
    return set()


def _shape(node: Any, path: str = "") -> set[str]:
    """The element paths a value fills (extensions told apart by url), without the values."""
    if isinstance(node, dict):
        here = f"{path}[{node['url']}]" if isinstance(node.get("url"), str) else path
        return {here}.union(*(_shape(v, f"{here}.{k}") for k, v in node.items() if k not in ("id", "meta")))
    if isinstance(node, list):
        return set().union(*(_shape(v, path) for v in node)) if node else set()
    return {path}


def make_clean_sample(output: Path, out: Path) -> Path:
    """The example output restricted to members the run reports clean: no rule finding in findings.ndjson,
    every reference resolving within the member's Bundle and the shared one. Team rosters (Group) are
    left out: they list every member, most of whom are not loaded. One transaction Bundle per member."""
    flagged = set()
    for line in (output / "findings.ndjson").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["stage"] == "rules" and row.get("member"):
            flagged.add(row["member"])
    bundles = output / "bundles"
    shared = [e for f in sorted(bundles.glob("000-shared*.json"))
              for e in json.loads(f.read_text(encoding="utf-8"))["entry"] if e["resource"]["resourceType"] != "Group"]
    shared_keys = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in shared}
    out.mkdir(parents=True, exist_ok=True)
    candidates: list[tuple[str, list[Any]]] = []
    for path in sorted(bundles.glob("Patient-*.json")):   # a member's Bundle: Patient-<id>.json (.partN.json)
        if ".part" in path.name:
            continue
        parts = [path] + sorted(bundles.glob(path.name[:-len(".json")] + ".part*.json"))
        entries = [e for f in parts for e in json.loads(f.read_text(encoding="utf-8"))["entry"]]
        keys = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in entries}
        patients = [k for k in keys if k.startswith("Patient/")]
        if len(patients) != 1 or patients[0] in flagged:
            continue
        if not _refs([e["resource"] for e in entries]) <= keys | shared_keys:
            continue
        candidates.append((patients[0].split("/")[1], entries))
    # As a vendor is told to (docs/vendors.md): pick members whose records show every element the export
    # fills (e.g. the few Part 2 consents, a terminated plan), then fill up in file order.
    chosen: list[tuple[str, list[Any]]] = []
    seen: set[str] = set()
    while len(chosen) < MEMBERS:
        gains = [(len(_shape([e["resource"] for e in c[1]]) - seen), n) for n, c in enumerate(candidates)
                 if c not in chosen]
        if not gains or max(gains)[0] == 0:
            break
        best = candidates[max(gains, key=lambda g: (g[0], -g[1]))[1]]
        chosen.append(best)
        seen |= _shape([e["resource"] for e in best[1]])
    chosen += [c for c in candidates if c not in chosen][:MEMBERS - len(chosen)]
    assert len(chosen) == MEMBERS, f"only {len(chosen)} clean members in the example output"
    for patient_id, entries in chosen:
        (out / f"{patient_id}.json").write_text(json.dumps(
            {"resourceType": "Bundle", "type": "transaction", "entry": entries}), encoding="utf-8")
    (out / "000-shared.json").write_text(json.dumps({"resourceType": "Bundle", "type": "transaction",
                                                     "entry": shared}), encoding="utf-8")
    return out


@pytest.fixture(scope="session")
def clean_samples(example_output: Callable[[str], Path],
                  tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    made: dict[str, Path] = {}

    def get(program: str) -> Path:
        if program not in made:
            made[program] = make_clean_sample(example_output(program), tmp_path_factory.mktemp(f"clean-{program}"))
        return made[program]
    return get


@pytest.fixture(scope="session")
def clean_sample(clean_samples: Callable[[str], Path]) -> Path:
    return clean_samples("mt-cmp")
