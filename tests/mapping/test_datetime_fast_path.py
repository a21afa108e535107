"""The fast path for local date-times (no datetime objects on days with one UTC offset) must give
exactly what the general path gives, or step aside: across zones, DST days, odd offsets and bad values."""
from __future__ import annotations

import random

import pytest

from fhiradapter.mapping.timefmt import TimeValueError, _fast_datetime, general_datetime, to_fhir_datetime

ZONES = ["America/Denver", "America/New_York", "America/Phoenix", "America/Anchorage", "Pacific/Honolulu", "UTC",
         "Europe/London", "America/Santiago", "Asia/Beirut", "Australia/Lord_Howe", "America/St_Johns",
         "Africa/Monrovia"]
FORMATS = ["%m/%d/%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M", "%d.%m.%Y %H", "%m/%d/%Y"]
ADDS = [None, 0.0, 15.0, 30.0, 90.0, 0.5, 0.25, 600.0, 1440.0]


def _value(fmt: str, rng: random.Random) -> str:
    year = rng.choice([1900, 1970, 2024, 2025, 2026])
    month = rng.choice([3, 4, 10, 11]) if rng.random() < 0.4 else rng.randint(1, 12)
    day = rng.randint(1, 14) if month in (3, 11) and rng.random() < 0.7 else rng.randint(1, 31)
    hour, minute, second = rng.randint(0, 25), rng.randint(0, 59), rng.randint(0, 60)
    padded = rng.random() < 0.8
    return (fmt.replace("%Y", f"{year:04d}").replace("%m", f"{month:02d}" if padded else str(month))
            .replace("%d", f"{day:02d}").replace("%H", f"{hour:02d}" if padded else str(hour))
            .replace("%M", f"{minute:02d}").replace("%S", f"{second:02d}"))


def _general(value: str, formats: tuple[str, ...], zone: str, add: float | None) -> str | tuple[str, str]:
    try:
        return general_datetime(value, formats, zone, "earlier", add)
    except TimeValueError as exc:
        return ("error", str(exc))


def test_fast_path_agrees_with_the_general_path_on_random_values() -> None:
    rng = random.Random(20261123)
    taken = 0
    for _ in range(6000):
        zone, fmt, add = rng.choice(ZONES), rng.choice(FORMATS), rng.choice(ADDS)
        value = _value(fmt, rng)
        fast = _fast_datetime(value, (fmt,), zone, add)
        if fast is not None:
            taken += 1
            assert fast == _general(value, (fmt,), zone, add), (value, fmt, zone, add)
    assert taken > 2000   # the sample really exercises the fast path


@pytest.mark.parametrize("value, add, expected", [
    # a day with a DST change goes the general way: the gap is an error, the offsets are right
    ("03/09/2025 02:30", None, ("error", "local time does not exist in America/Denver (daylight-saving change)")),
    ("03/09/2025 01:30", 60.0, "2025-03-09T03:30:00-06:00"),
    ("11/02/2025 01:30", None, "2025-11-02T01:30:00-06:00"),
    ("11/02/2025 01:30", 60.0, "2025-11-02T01:30:00-07:00"),
    # an ordinary day: fast path; ending after midnight: the next day's offset
    ("07/04/2025 09:15", 45.0, "2025-07-04T10:00:00-06:00"),
    ("03/08/2025 23:30", 60.0, "2025-03-09T00:30:00-07:00"),
    ("02/30/2025 09:00", None, ("error", "not a date in format '%m/%d/%Y %H:%M'")),
])
def test_known_days_in_denver(value: str, add: float | None, expected: object) -> None:
    fmt = ("%m/%d/%Y %H:%M",)
    try:
        got: object = to_fhir_datetime(value, fmt, "America/Denver", "earlier", add)
    except TimeValueError as exc:
        got = ("error", str(exc))
    assert got == expected
    assert got == _general(value, fmt, "America/Denver", add)


def test_the_remembered_reading_is_only_reused_for_the_same_text_format_and_zone() -> None:
    # the end of a period reuses the start's reading; a change of zone or format must not
    fmt_us, fmt_day_first = ("%m/%d/%Y %H:%M",), ("%d/%m/%Y %H:%M",)
    assert _fast_datetime("03/04/2025 10:00", fmt_us, "America/Denver", None) == "2025-03-04T10:00:00-07:00"
    assert _fast_datetime("03/04/2025 10:00", fmt_us, "America/New_York", 30.0) == "2025-03-04T10:30:00-05:00"
    assert _fast_datetime("03/04/2025 10:00", fmt_day_first, "America/New_York", None) == "2025-04-03T10:00:00-04:00"
    assert _fast_datetime("03/04/2025 10:00", fmt_us, "America/New_York", None) == "2025-03-04T10:00:00-05:00"
