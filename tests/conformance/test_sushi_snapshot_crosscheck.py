"""Our snapshots against SUSHI's own (`sushi build --snapshot`), for every profile and extension.

SUSHI compiles profiles/fsh offline (R4 cache from tools/make_fhir_cache.py); we load SUSHI's
differentials into a fresh Registry, generate our snapshots and compare, element by element, the
structural fields: ids (and their order), paths, min, max, type codes, profiles, targetProfiles,
binding strength + ValueSet, fixed/pattern values, slicing discriminators, mustSupport and constraint keys.
Accepted differences: none on these fields. Prose (definition, comment, requirements, mapping) differs
by design: our base model has none (issue 2), SUSHI copies HL7's.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from fhiradapter.conformance import Registry
from fhiradapter.paths import profiles_dir

pytestmark = pytest.mark.node
DEAD_END = "http://127.0.0.1:9"   # registry / npm lookups fail at once: nothing leaves the machine


def _structural(e: dict[str, Any]) -> dict[str, Any]:
    binding = e.get("binding") or {}
    types = e.get("type") or []
    return {
        "path": e["path"], "min": e.get("min"), "max": e.get("max"),
        "types": [t.get("code") for t in types],
        "profiles": [t.get("profile", []) for t in types],
        "targets": [t.get("targetProfile", []) for t in types],
        "binding": (binding.get("strength"), (binding.get("valueSet") or "").split("|")[0]) if binding else None,
        "fixed": {k: v for k, v in e.items() if k.startswith(("fixed", "pattern"))},
        "slicing": json.dumps((e.get("slicing") or {}).get("discriminator"), sort_keys=True),
        "rules": (e.get("slicing") or {}).get("rules"),
        "mustSupport": e.get("mustSupport", False),
        "constraints": sorted(c["key"] for c in e.get("constraint") or []),
    }


@pytest.fixture(scope="module")
def sushi_output(node_tools: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not list(profiles_dir().glob("StructureDefinition-*.json")):
        pytest.skip("profiles/ has no StructureDefinitions yet")
    home = tmp_path_factory.mktemp("home")
    spec = importlib.util.spec_from_file_location("make_fhir_cache", node_tools / "make_fhir_cache.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.make_cache(home)
    out = tmp_path_factory.mktemp("sushi")
    env = dict(os.environ, HOME=str(home), FPL_REGISTRY=DEAD_END, HTTPS_PROXY=DEAD_END, HTTP_PROXY=DEAD_END,
               NPM_CONFIG_OFFLINE="true", NPM_CONFIG_REGISTRY=DEAD_END)
    app = node_tools / "node_modules" / "fsh-sushi" / "dist" / "app.js"
    proc = subprocess.run(["node", str(app), "build", str(profiles_dir() / "fsh"), "-o", str(out), "--snapshot"],
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return out / "fsh-generated" / "resources"


def test_sushi_snapshots_match_ours(sushi_output: Path) -> None:
    theirs = [json.loads(p.read_text()) for p in sorted(sushi_output.glob("StructureDefinition-*.json"))]
    assert len(theirs) >= 28
    differentials = sushi_output.parent / "differentials"
    differentials.mkdir()
    for sd in theirs:
        (differentials / f"StructureDefinition-{sd['id']}.json").write_text(
            json.dumps({k: v for k, v in sd.items() if k != "snapshot"}))
    for p in sushi_output.glob("*.json"):
        if not p.name.startswith("StructureDefinition-"):
            (differentials / p.name).write_text(p.read_text())
    reg = Registry()
    reg.add_package(differentials)
    problems: list[str] = []
    for sd in theirs:
        ours = reg.structure_definition(sd["url"])
        if ours is None:
            problems.append(f"{sd['id']}: no snapshot ({[i.message for i in reg.issues]})")
            continue
        our_ids = [e["id"] for e in ours["snapshot"]["element"]]
        their_ids = [e["id"] for e in sd["snapshot"]["element"]]
        if our_ids != their_ids:
            problems.append(f"{sd['id']}: element ids differ: only ours {sorted(set(our_ids) - set(their_ids))}, "
                            f"only SUSHI {sorted(set(their_ids) - set(our_ids))}, or order")
            continue
        for mine, sushi in zip(ours["snapshot"]["element"], sd["snapshot"]["element"]):
            a, b = _structural(mine), _structural(sushi)
            if a != b:
                problems.append(f"{sd['id']} {mine['id']}: " +
                                ", ".join(f"{k} ours={a[k]} sushi={b[k]}" for k in a if a[k] != b[k]))
    assert not problems, "\n".join(problems)


def test_committed_differentials_match_sushi(sushi_output: Path) -> None:
    """profiles/ holds what SUSHI makes of profiles/fsh (else our snapshots describe stale profiles)."""
    stale = []
    for p in sorted(sushi_output.glob("StructureDefinition-*.json")):
        committed = profiles_dir() / p.name
        fresh = json.loads(p.read_text())
        if not committed.is_file():
            stale.append(f"{p.name}: missing from profiles/")
        elif json.loads(committed.read_text()).get("differential") != fresh.get("differential"):
            stale.append(f"{p.name}: differential differs from a fresh SUSHI build")
    assert not stale, "run `python tools/build_profiles.py`:\n" + "\n".join(stale)
