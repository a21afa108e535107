"""No false alarms on real HL7 content: a sample of the R4 core package (its StructureDefinitions,
ValueSets, CodeSystems, SearchParameters ...) validates without errors, and trace() in their invariants
prints nothing. Uses the FHIR package cache that tools/make_fhir_cache.py builds for SUSHI."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from validator_support import errors

CORE = Path.home() / ".fhir" / "packages" / "hl7.fhir.r4.core#4.0.1" / "package"
# The whole package (4,480 resources) gives exactly these errors, all real: meta.profile claims of
# profiles the core package does not contain, and a fhirVersion (4.4.0) outside the R4 value set.
KNOWN = {"ValueSet-endpoint-connection-type.json", "ValueSet-endpoint-payload-type.json",
         "ValueSet-provenance-history-record-activity.json", "ValueSet-provenance-history-agent-type.json",
         "StructureDefinition-SubscriptionStatus.json"}


@pytest.fixture(scope="module")
def core_package(node_tools: Path) -> Path:
    """The R4 core package in ~/.fhir, made from the pinned definitions when missing (a new machine)."""
    subprocess.run([sys.executable, str(node_tools / "make_fhir_cache.py")], check=True, stdout=subprocess.DEVNULL)
    assert CORE.is_dir()
    return CORE


def _sample() -> list[Path]:
    files = sorted(p for p in CORE.glob("*.json") if not p.name.startswith(".")
                   and p.name != "package.json" and p.name not in KNOWN)
    return files[::15]


def test_core_package_sample_has_no_errors(validator, core_package, capsys):
    bad = {}
    sample = _sample()
    assert len(sample) > 250
    for f in sample:
        found = errors(validator.validate_resource(json.loads(f.read_text())))
        if found:
            bad[f.name] = [(i.expression, i.message) for i in found[:3]]
    assert bad == {}
    assert "TRACE" not in capsys.readouterr().out


def test_primitive_only_extension_value_satisfies_ext_1(validator, encounter):
    # the value is given only through its own extensions (_valueString), as in core CodeSystems
    encounter["extension"] = [{"url": "http://example.org/x",
                               "_valueString": {"extension": [{"url": "http://example.org/y", "valueCode": "nl"}]}}]
    assert errors(validator.validate_resource(encounter)) == []


def test_no_break_space_is_string_content(validator, encounter):
    encounter["text"] = {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}
    encounter["identifier"] = [{"value": "a\u00a0b"}]
    assert errors(validator.validate_resource(encounter)) == []
