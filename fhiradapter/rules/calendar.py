"""Dates as the agency sees them: local days, weeks, business days and calendar months.

Business days exclude weekends and US federal holidays, including the weekday a holiday is observed
on when it falls on a weekend (python-holidays `country_holidays("US")`, observed=True).
"""
from __future__ import annotations

import calendar as _cal
import re
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache

import holidays

_DATE_ONLY = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?\Z")   # \Z: no trailing newline either


class BadDate(ValueError):
    """A FHIR date/dateTime that cannot be read."""


def parse_fhir(value: str, zone: tzinfo) -> datetime | date:
    """A FHIR date or dateTime. dateTimes come back timezone-aware in `zone`; a dateTime without an
    offset is taken as agency-local time; a date stays a date (partial dates → first day)."""
    if not isinstance(value, str) or not value:
        raise BadDate("empty or not a string")
    if "T" not in value and _DATE_ONLY.match(value):  # (a dateTime has a 'T': skip the regex)
        parts = [int(p) for p in value.split("-")] + [1, 1]
        try:
            return date(parts[0], parts[1], parts[2])
        except ValueError as exc:
            raise BadDate(str(exc)) from exc
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadDate(str(exc)) from exc
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def local_date(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value


def start_of(value: datetime | date, zone: tzinfo) -> datetime:
    """The instant a value starts (a date starts at local midnight)."""
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=zone)


def end_of_day(day: date, zone: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(days=1)


@lru_cache(maxsize=64)
def _us_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("US", years=year)


def is_holiday(day: date) -> bool:
    return day in _us_holidays(day.year)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and not is_holiday(day)


def add_business_days(day: date, n: int) -> date:
    """The n-th business day after `day` (n >= 1); `day` itself never counts."""
    if n < 1:
        raise ValueError("n must be >= 1")
    current = day
    while n:
        current += timedelta(days=1)
        if is_business_day(current):
            n -= 1
    return current


def add_months(day: date, months: int) -> date:
    """Same day-of-month `months` later, clamped to the month's last day (Nov 30 + 3 → Feb 28/29)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, _cal.monthrange(year, month)[1]))


def week_start(day: date, first_weekday: int) -> date:
    """First day of the week holding `day` (first_weekday: 0 = Monday … 6 = Sunday)."""
    return day - timedelta(days=(day.weekday() - first_weekday) % 7)


def week_label(start: date) -> str:
    """A non-identifying name for a week, e.g. 'the week starting Monday of ISO week 2025-W14'."""
    iso_year, iso_week, _ = start.isocalendar()
    return f"the week starting {_cal.day_name[start.weekday()]} of ISO week {iso_year}-W{iso_week:02d}"


def week_runs(weeks: list[date]) -> list[list[date]]:
    """Consecutive week starts grouped into runs, so a long gap is one finding, not one per week."""
    runs: list[list[date]] = []
    for week in sorted(weeks):
        if runs and (week - runs[-1][-1]).days == 7:
            runs[-1].append(week)
        else:
            runs.append([week])
    return runs


def run_label(run: list[date]) -> str:
    if len(run) == 1:
        return week_label(run[0])
    return f"{len(run)} consecutive weeks, from {week_label(run[0])} to {week_label(run[-1])}"
