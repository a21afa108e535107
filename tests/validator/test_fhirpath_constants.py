"""The FHIRPath subset knows FHIR's fixed variables (%ucum, %sct, %loinc), so rules such as drt-1 on
every Duration run compiled instead of in fhirpathpy, with the same verdicts."""
from __future__ import annotations

import pytest

from fhiradapter.fhirpath import compile_expression

DRT_1 = "code.exists() implies ((system = %ucum) and value.exists())"


@pytest.mark.parametrize("duration, verdict", [
    ({"value": 30, "unit": "min", "system": "http://unitsofmeasure.org", "code": "min"}, True),
    ({"value": 30, "unit": "min"}, True),                                  # no code: nothing to check
    ({"value": 30, "system": "http://example.org/units", "code": "min"}, False),
    ({"system": "http://unitsofmeasure.org", "code": "min"}, False),        # a code needs a value
])
def test_drt_1_runs_compiled_with_the_spec_verdicts(duration, verdict):
    import fhirpathpy

    fast = compile_expression(DRT_1)
    assert fast(duration, {"resource": duration, "rootResource": duration}) == [verdict]
    assert fhirpathpy.evaluate(duration, DRT_1) == [verdict]


def test_terminology_constants():
    for name, url in (("%sct", "http://snomed.info/sct"), ("%loinc", "http://loinc.org")):
        coding = {"system": url, "code": "1"}
        assert compile_expression(f"system = {name}")(coding, {}) == [True]
