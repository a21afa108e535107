"""Settings the program rules need beyond the member's own records."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..programs import FALLBACK_TIMEZONE, timezone_for

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ConfigError(ValueError):
    """A RuleConfig value that cannot be used (unknown time zone, week start, ...)."""


@dataclass(slots=True)
class RuleConfig:
    # the agency's IANA zone: dates are compared in it. None = the zone of the record's program in the
    # programs table (fhiradapter/programs.py), resolved per member record by run_rules
    timezone: str | None = None
    week_start: str = "monday"             # first day of a 'week' for weekly limits
    recipient: str | None = None           # "Organization/x" or "system|value": who receives the data
    purpose: str | None = None             # v3-ActReason code the data is released for (e.g. HPAYMT)
    as_of: date | None = None              # evaluation date: deadlines after it are not yet findings
    rosters: list[dict[str, Any]] | None = None  # team roster Groups (mt-cmp 20% rule)
    today: date | None = None              # alias of as_of kept for callers that say 'today'
    data_from: date | None = None          # contacts before this date are not in the input (extract window)
    # the end of the export (issue 12 defect 3): the evaluation date when as_of is not set, instead of
    # each member's own latest record; `run`, `validate` and `rules check` set it to the latest date of
    # the whole input. Unlike as_of it is not the consent rule's release date.
    export_end: date | None = None
    # mapping sources absent from the input (e.g. "stays"): rules needing that data report "not evaluated"
    absent_inputs: frozenset[str] = frozenset()
    billing_codes: str | None = None       # path of another billing-code table (default: the shipped one)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone or FALLBACK_TIMEZONE)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"unknown time zone {self.timezone!r} (expected an IANA name such as "
                              f"America/Denver)") from exc
        if self.week_start.lower() not in WEEKDAYS:
            raise ConfigError(f"week_start must be one of {', '.join(WEEKDAYS)}, not {self.week_start!r}")
        self.week_start = self.week_start.lower()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone or FALLBACK_TIMEZONE)

    def for_programs(self, programs: set[str]) -> RuleConfig:
        """This config with the agency zone of `programs` when no zone was set (else itself)."""
        if self.timezone is not None:
            return self
        return replace(self, timezone=timezone_for(programs))

    @property
    def week_start_index(self) -> int:
        return WEEKDAYS.index(self.week_start)

    def evaluation_date(self) -> date:
        """as_of, else today, else the current date in the agency's zone."""
        return self.as_of or self.today or datetime.now(self.zone).date()
