"""Local times -> FHIR dateTime with the offset valid on that date, across DST changes."""
from __future__ import annotations

import pytest

BODY = """\
sources:
  contacts: {{file: contacts.csv}}
resources:
  - name: c
    source: contacts
    key: {{$col: id}}
    template:
      resourceType: Encounter
      status: finished
      period:
        start: {{$datetime: {{$concat: [{{$col: date}}, {{$col: time}}], sep: " "}}, format: "%m/%d/%Y %H:%M"{opts}}}
        end: {{$datetime: {{$concat: [{{$col: date}}, {{$col: time}}], sep: " "}}, format: "%m/%d/%Y %H:%M",
               add_minutes: {{$col: minutes}}{opts}}}
"""


def _periods(mapper, rows: str, opts: str = "", header: str | None = None):
    kwargs = {"header": header} if header else {}
    result = mapper(BODY.format(opts=opts), {"contacts.csv": "id,date,time,minutes\n" + rows}, **kwargs)
    return result, [e["period"] for e in result.resources("Encounter")]


@pytest.mark.parametrize("date,time,start", [
    ("03/08/2025", "10:00", "2025-03-08T10:00:00-05:00"),   # the day before spring-forward: EST
    ("03/09/2025", "01:59", "2025-03-09T01:59:00-05:00"),
    ("03/09/2025", "03:00", "2025-03-09T03:00:00-04:00"),   # after the jump: EDT
    ("03/10/2025", "10:00", "2025-03-10T10:00:00-04:00"),
    ("11/01/2025", "10:00", "2025-11-01T10:00:00-04:00"),
    ("11/02/2025", "01:30", "2025-11-02T01:30:00-04:00"),   # repeated hour: earlier occurrence by default
    ("11/02/2025", "02:30", "2025-11-02T02:30:00-05:00"),
    ("11/03/2025", "10:00", "2025-11-03T10:00:00-05:00"),
])
def test_new_york_offsets_follow_the_date(mapper, date, time, start):
    _, (period,) = _periods(mapper, f"1,{date},{time},\n")
    assert period == {"start": start, "end": start}


def test_add_minutes_crosses_the_change(mapper):
    _, periods = _periods(mapper, "1,11/02/2025,00:30,90\n2,03/09/2025,01:30,60\n")
    assert periods[0] == {"start": "2025-11-02T00:30:00-04:00", "end": "2025-11-02T01:00:00-05:00"}
    assert periods[1] == {"start": "2025-03-09T01:30:00-05:00", "end": "2025-03-09T03:30:00-04:00"}


def test_ambiguous_later_and_error(mapper):
    _, (period,) = _periods(mapper, "1,11/02/2025,01:30,\n", opts=", ambiguous: later")
    assert period["start"] == "2025-11-02T01:30:00-05:00"
    result, periods = _periods(mapper, "1,11/02/2025,01:30,\n", opts=", ambiguous: error")
    assert periods == [] and "occurs twice in America/New_York" in result.messages[0]


def test_gap_is_rejected(mapper):
    result, periods = _periods(mapper, "1,03/09/2025,02:30,\n2,03/09/2025,03:30,\n")
    assert [p["start"] for p in periods] == ["2025-03-09T03:30:00-04:00"]
    assert result.messages[0] == ("contacts.csv:2 columns 'date, time' at Encounter.period.start: local time does "
                                  "not exist in America/New_York (daylight-saving change)")
    assert result.summary["rows"] == {"read": 2, "mapped": 1, "rejected": 1}


def test_mapping_timezone_is_used(mapper):
    header = "fhiradapter-mapping: 1\nid: t\nversion: 1.0.0\nagency: a\ntimezone: America/Denver\n"
    _, (period,) = _periods(mapper, "1,07/01/2025,09:15,\n", header=header)
    assert period["start"] == "2025-07-01T09:15:00-06:00"


def test_explicit_offset_is_kept_and_date_only_stays_a_date(mapper):
    body = """\
    sources:
      c: {file: c.csv}
    resources:
      - name: c
        source: c
        key: {$col: id}
        template:
          resourceType: Encounter
          status: finished
          period: {start: {$datetime: {$col: at}, format: [iso, "%Y-%m-%d"]}}
    """
    result = mapper(body, {"c.csv": "id,at\n1,2025-03-09T02:30:00+01:00\n2,2025-03-09\n3,2025-03-09T12:00\n"})
    assert [e["period"]["start"] for e in result.resources("Encounter")] == [
        "2025-03-09T02:30:00+01:00", "2025-03-09", "2025-03-09T12:00:00-04:00"]


@pytest.mark.parametrize("minutes, message", [
    ("abc", "add_minutes is not a number"),
    ("-15", "add_minutes must be a finite number >= 0"),
    ("nan", "add_minutes must be a finite number >= 0"),
    ("inf", "add_minutes must be a finite number >= 0"),
])
def test_bad_durations_reject_the_row_and_name_the_column(mapper, minutes, message):
    result, periods = _periods(mapper, f"1,07/01/2025,10:00,{minutes}\n2,07/01/2025,10:00,30\n")
    assert [p["end"] for p in periods] == ["2025-07-01T10:30:00-04:00"]   # the good row goes on
    assert len(result.messages) == 1
    assert "contacts.csv:2 column 'minutes'" in result.messages[0] and message in result.messages[0]
    assert "(value:" not in result.messages[0]   # the value is not echoed unless asked
