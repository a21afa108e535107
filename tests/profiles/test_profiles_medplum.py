"""Independent cross-check: Medplum's validator (not ours) accepts every example, rejects every fixture."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import EXAMPLES, INVALID, PROFILES

pytestmark = pytest.mark.node

FIXTURES = yaml.safe_load((PROFILES / "fsh" / "invalid-fixtures.yaml").read_text(encoding="utf-8"))["fixtures"]
INVARIANT_KEY = re.compile(r"\b((?:[a-z]+-)+\d+)\b")


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.json")))
def test_example_passes_medplum(medplum_results: dict[str, Any], name: str) -> None:
    result = medplum_results[name]
    assert result["valid"], result["issues"]


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f["name"])
def test_invalid_fixture_fails_medplum_for_the_stated_reason(medplum_results: dict[str, Any],
                                                             fixture: dict[str, Any]) -> None:
    result = medplum_results[f"{fixture['name']}.json"]
    assert not result["valid"], f"Medplum accepted {fixture['name']} ({fixture['note']})"
    assert result["profile"] and result["profile"].startswith("https://fhiradapter.org/fhir/StructureDefinition/")
    findings = " ".join(f"{i['expression']} {i['message']}" for i in result["issues"])
    assert fixture["expect"] in findings, findings
    for key in INVARIANT_KEY.findall(fixture["note"]):  # an invariant named in the note is reported
        assert f"Constraint {key} not met" in findings, findings


def test_snapshot_package_has_every_profile_with_a_snapshot(snapshot_package: Path) -> None:
    import json
    import tarfile

    if snapshot_package.is_dir():
        sds = [json.loads(p.read_text()) for p in snapshot_package.glob("StructureDefinition-*.json")]
    else:
        with tarfile.open(snapshot_package) as tar:
            sds = [json.load(tar.extractfile(m)) for m in tar.getmembers()
                   if m.name.startswith("package/StructureDefinition-")]
    assert len(sds) == 36   # 31 profiles (25 program, 6 shared) and 5 extensions
    assert all(sd.get("snapshot", {}).get("element") for sd in sds)


def test_bundle_entries_are_checked_against_their_profiles(node_tools: Path, snapshot_package: Path,
                                                           tmp_path: Path) -> None:
    import json
    import subprocess

    examples = [json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*.json"))]
    broken = json.loads((INVALID / "dc-cs-encounter-20-beds.json").read_text())
    good = {"resourceType": "Bundle", "type": "collection",
            "entry": [{"fullUrl": f"urn:uuid:{i}", "resource": r} for i, r in enumerate(examples)]}
    bad = dict(good, entry=good["entry"] + [{"fullUrl": "urn:uuid:x", "resource": broken}])
    paths = []
    for name, bundle in (("good.json", good), ("bad.json", bad)):
        (tmp_path / name).write_text(json.dumps(bundle))
        paths.append(str(tmp_path / name))
    proc = subprocess.run(["node", str(node_tools / "medplum-validate.mjs"), "--profiles", str(snapshot_package),
                           *paths], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    good_result, bad_result = (json.loads(line) for line in proc.stdout.splitlines())
    assert good_result["valid"], good_result["issues"]
    assert not bad_result["valid"]
    assert [i["expression"].split(" ")[0] for i in bad_result["issues"]] == [f"Bundle.entry[{len(examples)}].resource"]
