"""Fixtures for the FHIR package tests: the committed package, and Medplum's verdict on its examples."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
PROFILES = REPO / "profiles"
EXAMPLES = PROFILES / "examples"
INVALID = PROFILES / "invalid"


def load_tool(name: str) -> Any:
    """A module from tools/ (not a package), e.g. build_profiles."""
    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


def read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def structure_definitions() -> dict[str, dict[str, Any]]:
    return {sd["id"]: sd for sd in map(read, PROFILES.glob("StructureDefinition-*.json"))}


@pytest.fixture(scope="session")
def code_systems() -> dict[str, dict[str, Any]]:
    return {cs["url"]: cs for cs in map(read, PROFILES.glob("CodeSystem-*.json"))}


@pytest.fixture(scope="session")
def value_sets() -> dict[str, dict[str, Any]]:
    return {vs["url"]: vs for vs in map(read, PROFILES.glob("ValueSet-*.json"))}


@pytest.fixture(scope="session")
def snapshot_package(node_tools: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package with snapshots, as the users get it: `export_package`'s tarball.

    While the conformance exporter is not importable, SUSHI's own snapshots stand in (a real build,
    not a stub) so the Medplum cross-check still runs.
    """
    out = tmp_path_factory.mktemp("export")
    try:
        from fhiradapter.conformance.package import export_package
    except ImportError:
        build = load_tool("build_profiles")
        build.ensure_r4_cache(build.fhir_home())
        generated = build.run_sushi(out / "sushi", build.fhir_home(), snapshots=True)
        return generated
    tarball = out / "fhiradapter.bh.tgz"
    export_package(tarball)
    return tarball


@pytest.fixture(scope="session")
def medplum_results(node_tools: Path, snapshot_package: Path) -> dict[str, dict[str, Any]]:
    """Medplum's validateResource verdict for every example and invalid fixture, by file name."""
    files = sorted(str(p) for p in EXAMPLES.glob("*.json")) + sorted(str(p) for p in INVALID.glob("*.json"))
    proc = subprocess.run(["node", str(node_tools / "medplum-validate.mjs"), "--profiles", str(snapshot_package),
                           *files], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode in (0, 1), proc.stderr
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert len(results) == len(files), proc.stderr
    return {Path(r["file"]).name: r for r in results}
