"""`fhiradapter testkit run`: an Inferno-style conformance test a vendor runs against its own FHIR server
or against files it exported (issue 16).

Named tests in groups: access (read/search by patient, Bulk Data $export where offered), profile
requirements (one test per constrained element and invariant of each program profile), must-support
coverage (each must-support element populated in at least one resource of the sample), reference
integrity across the sample, and each program rule. Reports: FHIR TestReport, JUnit XML and HTML,
without record values unless asked.
"""
from __future__ import annotations

from .run import KitRun, run_kit, write_reports

__all__ = ["run_kit", "write_reports", "KitRun"]
