"""Exchange fixtures. The real FHIR server (`fhir_server`, `server`) lives in tests/fhir_server_fixtures.py,
shared with tests/intake."""
from __future__ import annotations

import pytest

from fhiradapter.exchange.retry import RetryPolicy

# The server fixtures moved to tests/fhir_server_fixtures.py (shared with tests/intake).
from fhir_server_fixtures import TEST_PROFILE_URL, FhirServer  # noqa: E402,F401  (tests import them from here)


class SleepRecorder:
    """Stands in for time.sleep in retry tests: records the waits, never sleeps."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def no_sleep_retry() -> tuple[RetryPolicy, SleepRecorder]:
    recorder = SleepRecorder()
    return RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=8.0, sleep=recorder), recorder
