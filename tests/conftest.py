"""Shared test fixtures. Area fixtures live in tests/<area>/conftest.py."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO / "tools"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def node_tools() -> Path:
    """tools/node_modules with the pinned Node packages (npm ci on first use; CI starts clean).

    Returns the tools/ folder. Tests that need Node take this fixture; without Node on the machine
    they are skipped with the reason, never silently passed.
    """
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js/npm not installed: the Node-based cross-checks cannot run")
    if not (TOOLS / "node_modules" / "@medplum" / "definitions").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=TOOLS, check=True,
                       stdout=subprocess.DEVNULL)
    return TOOLS


# The real test FHIR server, shared by tests/exchange and tests/intake (tests/ is on sys.path here).
from fhir_server_fixtures import fhir_server, server  # noqa: E402,F401
@pytest.fixture(scope="session")
def reference_validator_jar() -> Path:
    """tools/reference-validator/target/reference-validator.jar (HAPI FHIR 8.4.0, pinned), built on first use.

    Built offline from ~/.m2 when the pinned artefacts are there (`.ci/run` downloads them once), else
    online from Maven Central. Without Java 17 or Maven the test FAILS: the differential tests are the
    proof of agreement with the HL7 reference validator, never silently skipped.
    """
    import sys
    sys.path.insert(0, str(REPO / "tests" / "conformance"))
    from reference_support import ReferenceUnavailable, build
    try:
        return build()
    except ReferenceUnavailable as e:
        pytest.fail(str(e))
