"""Dates and local date-times of an export -> FHIR date / dateTime with the right UTC offset.

Formats are explicit (strptime formats or "iso"); local times are placed in an IANA zone with the
offset valid on that date, DST gaps are errors and ambiguous fall-back times take the earlier
occurrence unless told otherwise (docs/mapping-language.md, $date and $datetime).
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_TIME_DIRECTIVES = re.compile(r"%[HIMSTXcpf]")
_DATE_DIRECTIVES = re.compile(r"%[dYymbBjxcUWGVuaA]")


class TimeValueError(ValueError):
    """The value cannot be turned into the requested date/time; message names formats, not the value."""


def format_has_time(fmt: str) -> bool:
    return fmt == "iso" or bool(_TIME_DIRECTIVES.search(fmt))


def format_problem(fmt: str) -> str | None:
    """Why a format string cannot work, or None (used by `mapping check`)."""
    if fmt == "iso":
        return None
    if not _DATE_DIRECTIVES.search(fmt):
        return f"format '{fmt}' has no date directive (%Y, %m, %d, ...)"
    try:  # a round trip catches unknown directives, which strftime may let through
        datetime.strptime(datetime(2001, 2, 3, 4, 5, 6).strftime(fmt), fmt)
    except ValueError as exc:
        return f"format '{fmt}' is not a valid strptime format ({exc})"
    return None


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TimeValueError(f"unknown IANA time zone '{name}'") from exc


_FAST_FIELDS = {"Y": r"(?P<Y>\d{4})", "m": r"(?P<m>\d{1,2})", "d": r"(?P<d>\d{1,2})",
                "H": r"(?P<H>\d{1,2})", "M": r"(?P<M>\d{1,2})", "S": r"(?P<S>\d{1,2})"}


@lru_cache(maxsize=256)
def _fast_pattern(fmt: str) -> re.Pattern[str] | None:
    """A regex for formats made only of %Y %m %d %H %M %S and literals (strptime is slow), else None."""
    out, i, seen = [], 0, set()
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%":
            code = fmt[i + 1:i + 2]
            if code not in _FAST_FIELDS or code in seen:
                return None
            seen.add(code)
            out.append(_FAST_FIELDS[code])
            i += 2
        else:
            out.append(r"\s+" if ch.isspace() else re.escape(ch))   # as strptime: whitespace matches any run
            i += 1
    if not {"Y", "m", "d"} <= seen:
        return None
    return re.compile("".join(out) + r"\Z")


def _parse(value: str, formats: tuple[str, ...]) -> tuple[datetime, bool]:
    """(parsed, has_time) for the first format that matches the whole value."""
    for fmt in formats:
        pattern = _fast_pattern(fmt) if fmt != "iso" else None
        if pattern is not None:
            match = pattern.match(value)
            if match is None:
                continue
            g = match.groupdict()
            try:
                return datetime(int(g["Y"]), int(g["m"]), int(g["d"]), int(g.get("H") or 0),
                                int(g.get("M") or 0), int(g.get("S") or 0)), "H" in g
            except ValueError:
                continue
        if fmt == "iso":
            try:
                if len(value) == 10:
                    return datetime.combine(date.fromisoformat(value), datetime.min.time()), False
                return datetime.fromisoformat(value.replace("Z", "+00:00")), True
            except ValueError:
                continue
        try:
            return datetime.strptime(value, fmt), format_has_time(fmt)
        except ValueError:
            continue
    shown = "', '".join(formats)
    raise TimeValueError(f"not a date in format '{shown}'" if len(formats) == 1
                         else f"not a date in any of the formats '{shown}'")


@lru_cache(maxsize=16384)  # dates repeat a lot in an export; bounded memory
def to_fhir_date(value: str, formats: tuple[str, ...], precision: str = "day") -> str:
    parsed, _ = _parse(value, formats)
    if precision == "year":
        return f"{parsed.year:04d}"
    if precision == "month":
        return f"{parsed.year:04d}-{parsed.month:02d}"
    return f"{parsed.year:04d}-{parsed.month:02d}-{parsed.day:02d}"


def _offset_text(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _render(moment: datetime) -> str:
    offset = moment.utcoffset()
    assert offset is not None
    text = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + _offset_text(offset)


def localize(naive: datetime, tz: ZoneInfo, ambiguous: str = "earlier") -> datetime:
    """`naive` wall time in `tz`; a DST gap is an error, a repeated hour takes `ambiguous`."""
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    off0, off1 = first.utcoffset(), second.utcoffset()
    if off0 == off1:
        return first
    assert off0 is not None and off1 is not None
    if off1 > off0:  # PEP 495: fold=1 gives the later offset in a gap -> the wall time never happened
        raise TimeValueError(f"local time does not exist in {tz.key} (daylight-saving change)")
    if ambiguous == "error":
        raise TimeValueError(f"local time occurs twice in {tz.key} (daylight-saving change)")
    return second if ambiguous == "later" else first


@lru_cache(maxsize=16384)  # local date-times repeat (same slots every day); bounded memory
def _moment(value: str, formats: tuple[str, ...], tz_name: str, ambiguous: str) -> datetime | date:
    """The aware datetime a value means (or a date when the format has no time of day)."""
    parsed, has_time = _parse(value, formats)
    if not has_time:
        return parsed.date()
    if parsed.tzinfo is None:
        return localize(parsed, zone(tz_name), ambiguous)
    return parsed


@lru_cache(maxsize=256)
def _fast_layout(fmt: str) -> tuple[re.Pattern[str], tuple[int, ...]] | None:
    """For a plain-digits format with a time of day: its regex and the group numbers of
    Y, m, d, H, M, S (0 = not in the format). None for any other format."""
    pattern = _fast_pattern(fmt)
    if pattern is None or "H" not in pattern.groupindex:
        return None
    return pattern, tuple(pattern.groupindex.get(code, 0) for code in "YmdHMS")


@lru_cache(maxsize=4096)  # local days repeat a lot (every contact of the day); bounded
def _day_prefix(tz_name: str, year_text: str, month_text: str, day_text: str) -> tuple[str, str] | None:
    """('YYYY-MM-DDT', '+HH:MM') when `tz_name` keeps one whole-minute UTC offset all through that
    local day, else None: a daylight-saving change that day, a second-precision historical offset or
    a day that does not exist (30 February) sends the value to the general path."""
    year, month, day = int(year_text), int(month_text), int(day_text)
    tz = zone(tz_name)
    try:
        offsets = {datetime(year, month, day, hour, minute, tzinfo=tz, fold=fold).utcoffset()
                   for hour, minute in ((0, 0), (12, 0), (23, 59)) for fold in (0, 1)}
    except ValueError:
        return None
    if len(offsets) != 1:
        return None
    offset = offsets.pop()
    if offset is None or offset.total_seconds() % 60:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}T", _offset_text(offset)


# "HH:MM:" for every minute of a day and "SS" for every second: formatting integers with :02d
# was a third of a date-time's cost (measured with callgrind)
_CLOCK = tuple(f"{minute // 60:02d}:{minute % 60:02d}:" for minute in range(1440))
_SECONDS = tuple(f"{second:02d}" for second in range(60))


def _fast_datetime(value: str, formats: tuple[str, ...], tz_name: str, add_minutes: float | None) -> str | None:
    """The common case without datetime objects: the first format is plain digits (%Y %m %d %H %M %S)
    with a time of day, and the zone keeps one offset all that day (start and end).
    None means "not this case": the general path decides, with the same result or error."""
    global _last_read
    last, fmt = _last_read, formats[0]
    if last[0] == value and last[1] == fmt and last[2] == tz_name:
        read = last[3]   # the end of a period reads the same text as its start, just before
    else:
        read = _read_local(value, fmt, tz_name)
        _last_read = (value, fmt, tz_name, read)   # one tuple: a reader never sees half of it
    if read is None:
        return None
    prefix, minute_of_day, second, offset = read
    if add_minutes is not None:
        # on a day with one offset, absolute and wall-clock time move together: add on the wall clock
        extra = add_minutes * 60
        if extra != int(extra):
            return None
        seconds = minute_of_day * 60 + second + int(extra)
        if seconds >= 86400:
            return None   # ends on another day: the general path finds that day's offset
        minute_of_day, second = divmod(seconds, 60)
    text: str = prefix + _CLOCK[minute_of_day] + _SECONDS[second] + offset
    return text


_last_read: tuple[Any, ...] = (None, None, None, None)   # (value, format, zone, _read_local's answer)


def _read_local(value: str, fmt: str, tz_name: str) -> tuple[str, int, int, str] | None:
    """('YYYY-MM-DDT', minute of the day, second, '+HH:MM') of a local date-time in a plain-digits
    format on a day with one UTC offset; None for anything else."""
    layout = _fast_layout(fmt)
    if layout is None:
        return None
    pattern, (y, m, d, h, mi, s) = layout
    match = pattern.match(value)
    if match is None:
        return None
    hour = int(match.group(h))
    minute = int(match.group(mi)) if mi else 0
    second = int(match.group(s)) if s else 0
    if hour > 23 or minute > 59 or second > 59:
        return None
    day = _day_prefix(tz_name, match.group(y), match.group(m), match.group(d))
    if day is None:
        return None
    return day[0], hour * 60 + minute, second, day[1]


@lru_cache(maxsize=65536)  # start and end (x durations) of the same slots repeat; bounded (~15 MB)
def to_fhir_datetime(value: str, formats: tuple[str, ...], tz_name: str, ambiguous: str = "earlier",
                     add_minutes: float | None = None) -> str:
    fast = _fast_datetime(value, formats, tz_name, add_minutes)
    if fast is not None:
        return fast
    return general_datetime(value, formats, tz_name, ambiguous, add_minutes)


def general_datetime(value: str, formats: tuple[str, ...], tz_name: str, ambiguous: str = "earlier",
                     add_minutes: float | None = None) -> str:
    """to_fhir_datetime for every case, with datetime objects (the fast path must agree with it)."""
    moment = _moment(value, formats, tz_name, ambiguous)
    if not isinstance(moment, datetime):
        if add_minutes is not None:
            raise TimeValueError("add_minutes needs a value with a time of day")
        return moment.isoformat()
    if add_minutes is not None:
        # add in absolute time, then read the wall clock of the zone again (right offset across DST)
        tz = moment.tzinfo
        moment = (moment.astimezone(timezone.utc) + timedelta(minutes=add_minutes)).astimezone(tz)
    if moment.microsecond:
        return _render(moment)
    return moment.isoformat(timespec="seconds")
