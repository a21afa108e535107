"""The source readers on broken and hostile files: a bad record costs that record, never the rows
after it, the file, or memory (docs/limits.md)."""
from __future__ import annotations

from pathlib import Path

import pytest

from fhiradapter.mapping import sources
from fhiradapter.mapping.sources import (
    Record,
    SourceReadError,
    iter_csv,
    iter_json,
    iter_ndjson,
)


def _rows(records: list[Record]) -> list[tuple[int, str | None, str | None]]:
    return [(r.line, (r.data or {}).get("id"), r.problem[1] if r.problem else None) for r in records]


def _csv(tmp_path: Path, text: str | bytes, **kw: object) -> list[Record]:
    path = tmp_path / "in.csv"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return list(iter_csv(path, **kw))  # type: ignore[arg-type]


def test_unbalanced_quote_reports_its_row_and_the_rows_after_it_go_on(tmp_path: Path) -> None:
    body = "".join(f'{i},"note {i}",x\n' for i in range(2, 200))
    rows = _rows(_csv(tmp_path, 'id,note,z\n1,"broken note,x\n' + body))
    assert rows[0] == (2, None, "a quoted field is not closed properly (a quote inside it is not doubled)")
    assert [r[1] for r in rows[1:]] == [str(i) for i in range(2, 200)]
    assert [r[0] for r in rows[1:]] == list(range(3, 201))   # each row at its own physical line


def test_quote_never_closed_before_end_of_file(tmp_path: Path) -> None:
    rows = _rows(_csv(tmp_path, 'id,note\n1,ok\n2,"never closed\n3,c\n4,d\n'))
    assert rows == [(2, "1", None), (3, None, "a quoted field opened on this line is never closed"),
                    (4, "3", None), (5, "4", None)]


def test_a_quoted_field_running_over_the_line_limit_is_one_row_error(tmp_path: Path) -> None:
    many = "".join(f"{i},plain\n" for i in range(2, 400))
    rows = _rows(_csv(tmp_path, 'id,note\n1,"opened\n' + many))
    assert rows[0][2] == f"a quoted field opened on this line runs over {sources.RECORD_LINES} lines"
    assert [r[1] for r in rows[1:]] == [str(i) for i in range(2, 400)]


def test_legitimate_multi_line_notes_still_read(tmp_path: Path) -> None:
    rows = _csv(tmp_path, 'id,note\n1,"line one\nline two\r\nline three"\n2,x\n')
    assert [(r.line, r.data) for r in rows] == [(2, {"id": "1", "note": "line one\nline two\r\nline three"}),
                                                (5, {"id": "2", "note": "x"})]


def test_cr_only_line_endings(tmp_path: Path) -> None:
    rows = _rows(_csv(tmp_path, "id,note\r1,a\r2,b\r3,c\r"))
    assert rows == [(2, "1", None), (3, "2", None), (4, "3", None)]


def test_a_field_over_the_field_limit_is_one_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = "y" * (sources.FIELD_LIMIT + 10)
    rows = _rows(_csv(tmp_path, f"id,note\n1,a\n2,{big}\n3,c\n"))
    assert rows == [(2, "1", None), (3, None, "a field is longer than 16 MiB"), (4, "3", None)]


def test_a_line_over_the_line_limit_is_skipped_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "LINE_LIMIT", 1024)
    rows = _rows(_csv(tmp_path, "id,note\n1,a\n2," + "z" * 5000 + "\n3,c\n"))
    assert rows == [(2, "1", None), (3, None, "line longer than 0 MiB"), (4, "3", None)]


def test_bad_bytes_cost_one_row(tmp_path: Path) -> None:
    rows = _rows(_csv(tmp_path, b"id,note\n1,a\n2,\xff\xfe\n3,c\n"))
    assert rows == [(2, "1", None), (3, None, "row is not valid utf-8 text"), (4, "3", None)]


@pytest.mark.parametrize("encoding", ["hex", "base64", "zlib_codec", "rot13", "unicode_escape", "no-such-codec"])
def test_a_codec_that_is_no_text_encoding_is_a_clear_file_error(tmp_path: Path, encoding: str) -> None:
    with pytest.raises(SourceReadError) as info:
        _csv(tmp_path, "id\n1\n", encoding=encoding)
    assert encoding in info.value.message


def _ndjson(tmp_path: Path, raw: bytes, **kw: object) -> list[tuple[int, str | None, str | None]]:
    path = tmp_path / "in.ndjson"
    path.write_bytes(raw)
    return _rows(list(iter_ndjson(path, **kw)))  # type: ignore[arg-type]


def test_ndjson_bad_byte_costs_one_line_at_its_number(tmp_path: Path) -> None:
    lines = [b'{"id": "%d"}' % i for i in range(1, 1001)]
    lines[499] = b'{"id": "\xff"}'
    rows = _ndjson(tmp_path, b"\n".join(lines) + b"\n")
    assert len(rows) == 1000
    assert rows[499] == (500, None, "line is not valid utf-8 text")
    assert [r[1] for r in rows[:499]] == [str(i) for i in range(1, 500)]
    assert [r[1] for r in rows[500:]] == [str(i) for i in range(501, 1001)]


@pytest.mark.parametrize("bad, message", [
    (b'{"id": ' + b"9" * 5000 + b"}", "not valid JSON (a number has too many digits)"),
    (b"[" * 100_000 + b"]" * 100_000, "not valid JSON (nested too deeply)"),
    (b'{"id": 1e999}', "not valid JSON (a number is too large)"),
    (b'{"id": NaN}', "not valid JSON (NaN is not a JSON number)"),
    (b'{"id": "x"', None),
])
def test_ndjson_hostile_value_is_one_line_error(tmp_path: Path, bad: bytes, message: str | None) -> None:
    rows = _ndjson(tmp_path, b'{"id": "1"}\n' + bad + b'\n{"id": "3"}\n')
    assert [r[1] for r in rows] == ["1", None, "3"]
    assert rows[1][0] == 2 and rows[1][2] is not None
    if message is not None:
        assert rows[1][2] == message


def test_ndjson_record_path_matching_nothing_is_a_line_error(tmp_path: Path) -> None:
    raw = b'{"visits": [{"id": "1"}]}\n{"visit": [{"id": "2"}]}\n{"visits": []}\n'
    assert _ndjson(tmp_path, raw, record_path="visits[*]") == [
        (1, "1", None), (2, None, "record_path 'visits[*]' matches nothing in this line")]
    assert _ndjson(tmp_path, raw, record_path="visits[*]", optional=True) == [(1, "1", None)]


def test_json_record_path_matching_nothing_is_an_error_or_a_warning_when_optional(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_text('{"customers": [{"id": "1"}], "empty": []}')
    with pytest.raises(SourceReadError) as info:
        list(iter_json(path, record_path="clients[*]"))
    assert info.value.severity == "error" and "matches nothing" in info.value.message
    sources.clear_cache()
    with pytest.raises(SourceReadError) as info:
        list(iter_json(path, record_path="clients[*]", optional=True))
    assert info.value.severity == "warning"
    sources.clear_cache()
    assert list(iter_json(path, record_path="empty[*]")) == []   # present and empty: zero records, fine


@pytest.mark.parametrize("doc, part", [
    ("[" * 5000 + "]" * 5000, "nested more than"),
    ('{"a": ' + "7" * 5000 + "}", "too many digits"),
    ('{"a": 1e999}', "too large"),
])
def test_json_document_hostile_values_are_a_clear_file_error(tmp_path: Path, doc: str, part: str) -> None:
    path = tmp_path / "doc.json"
    path.write_text(doc)
    sources.clear_cache()
    with pytest.raises(SourceReadError) as info:
        list(iter_json(path, record_path="a[*]"))
    assert part in info.value.message


def test_json_document_size_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "JSON_FILE_LIMIT", 100)
    path = tmp_path / "doc.json"
    path.write_text('{"a": [' + ",".join(["{}"] * 100) + "]}")
    with pytest.raises(SourceReadError) as info:
        list(iter_json(path, record_path="a[*]"))
    assert "larger than" in info.value.message


def test_ndjson_cr_only_line_endings(tmp_path: Path) -> None:
    assert _ndjson(tmp_path, b'{"id": "1"}\r{"id": "2"}\r\r{"id": "3"}') == [
        (1, "1", None), (2, "2", None), (4, "3", None)]


def test_large_cr_only_csv_is_read_line_by_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "LINE_LIMIT", 64)
    body = "".join(f"{i},note {i}\r" for i in range(1, 60))
    rows = _rows(_csv(tmp_path, "id,note\r" + body))
    assert rows == [(i + 1, str(i), None) for i in range(1, 60)]


def test_a_lone_cr_inside_an_otherwise_lf_file(tmp_path: Path) -> None:
    rows = _rows(_csv(tmp_path, "id,note\n1,a\r2,b\n3,c\n"))
    assert rows == [(2, "1", None), (3, "2", None), (4, "3", None)]


def test_bad_bytes_in_a_multi_line_record_cost_that_record_only(tmp_path: Path) -> None:
    rows = _rows(_csv(tmp_path, b'id,note\n\xc3,"line\nbreak",x\n2,b\n'))
    assert rows == [(2, None, "row is not valid utf-8 text"), (4, "2", None)]
