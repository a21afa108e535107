"""Business days (weekends + US federal holidays incl. observed days) and agency-local dates."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fhiradapter.rules import ConfigError, RuleConfig
from fhiradapter.rules.calendar import (BadDate, add_business_days, add_months, is_business_day, local_date,
                                        parse_fhir, week_start)

DENVER = ZoneInfo("America/Denver")


def test_weekend_and_federal_holiday_are_not_business_days() -> None:
    assert not is_business_day(date(2026, 2, 14))       # Saturday
    assert not is_business_day(date(2026, 2, 16))       # Washington's Birthday
    assert is_business_day(date(2026, 2, 17))


def test_observed_holiday_on_friday_when_july_4_is_saturday() -> None:
    assert not is_business_day(date(2026, 7, 3))
    assert add_business_days(date(2026, 7, 2), 1) == date(2026, 7, 6)
    assert add_business_days(date(2026, 7, 2), 2) == date(2026, 7, 7)


def test_new_years_day_observed_in_previous_year() -> None:
    # 2028-01-01 is a Saturday: observed Friday 2027-12-31
    assert not is_business_day(date(2027, 12, 31))
    assert add_business_days(date(2027, 12, 30), 1) == date(2028, 1, 3)


def test_dst_spring_forward_moves_late_utc_contact_to_next_local_day() -> None:
    # 06:30Z on 2026-03-09 is 00:30 MDT (DST began 2026-03-08): Monday locally, not Sunday
    assert local_date(parse_fhir("2026-03-09T06:30:00Z", DENVER)) == date(2026, 3, 9)
    assert local_date(parse_fhir("2026-03-09T06:30:00Z", ZoneInfo("America/Phoenix"))) == date(2026, 3, 8)


def test_dst_fall_back_keeps_utc_contact_on_previous_local_day() -> None:
    # after DST ends (2026-11-01) Denver is UTC-7: 06:30Z on Nov 2 is 23:30 on Nov 1
    assert local_date(parse_fhir("2026-11-02T06:30:00Z", DENVER)) == date(2026, 11, 1)
    assert local_date(parse_fhir("2026-10-31T06:30:00Z", DENVER)) == date(2026, 10, 31)


def test_dates_and_offsetless_datetimes() -> None:
    assert parse_fhir("2026-02", DENVER) == date(2026, 2, 1)
    naive = parse_fhir("2026-02-03T10:00:00", DENVER)
    assert isinstance(naive, datetime) and naive.utcoffset().total_seconds() == -7 * 3600
    with pytest.raises(BadDate):
        parse_fhir("03/02/2026", DENVER)
    with pytest.raises(BadDate):   # FHIR dates allow no trailing whitespace
        parse_fhir("2026-02-03\n", DENVER)


def test_add_months_clamps_and_week_start() -> None:
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)
    assert add_months(date(2026, 1, 15), 3) == date(2026, 4, 15)
    assert week_start(date(2026, 2, 8), 0) == date(2026, 2, 2)   # Sunday in a Monday week
    assert week_start(date(2026, 2, 8), 6) == date(2026, 2, 8)   # Sunday starts a Sunday week


def test_config_rejects_unknown_zone_and_week_start() -> None:
    with pytest.raises(ConfigError, match="time zone"):
        RuleConfig(timezone="Mars/Olympus")
    with pytest.raises(ConfigError, match="week_start"):
        RuleConfig(week_start="funday")


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)), st.integers(min_value=1, max_value=15))
def test_add_business_days_lands_on_the_nth_business_day(start: date, n: int) -> None:
    end = add_business_days(start, n)
    assert is_business_day(end)
    between = [start + timedelta(days=k) for k in range(1, (end - start).days + 1)]
    assert sum(is_business_day(d) for d in between) == n
