"""CSV quirks and JSON / NDJSON record paths."""
from __future__ import annotations

import json

PATIENT_FROM = """\
sources:
  members: {{file: {file}{opts}}}
resources:
  - name: patient
    source: members
    key: {{$col: {key}}}
    template:
      resourceType: Patient
      name: [{{text: {{$col: {name}}}}}]
"""


def _body(file: str = "members.csv", opts: str = "", key: str = "id", name: str = "name") -> str:
    return PATIENT_FROM.format(file=file, opts=opts, key=key, name=name)


def _names(result) -> list[str]:
    return [p["name"][0]["text"] if "name" in p else None for p in result.resources("Patient")]


def test_bom_quotes_embedded_newlines_and_line_numbers(mapper):
    data = '\ufeffid,name\n1,"Smith, ""J"""\n2,"two\nlines"\n\n3,  padded  \n4,\n'.encode("utf-8")
    result = mapper(_body(), {"members.csv": data})
    assert _names(result) == ['Smith, "J"', "two\nlines", "padded", None]
    lines = [p["meta"]["source"].rsplit(":", 1)[1] for p in result.resources("Patient")]
    assert lines == ["2", "3", "6", "7"]                     # embedded newline and blank line counted
    assert result.summary["rows"] == {"read": 4, "mapped": 4, "rejected": 0}   # row 4: empty name is fine


def test_semicolon_delimiter_and_latin1(mapper):
    data = "id;name\n1;Zoë Müller\n2;Ångström; Jr\n".encode("latin-1")
    result = mapper(_body(opts=', delimiter: ";", encoding: latin-1'), {"members.csv": data})
    assert _names(result) == ["Zoë Müller"]
    assert result.messages == ["members.csv:3: row has 3 fields, header has 2"]


def test_tab_delimiter_and_header_list(mapper):
    result = mapper(_body(opts=', delimiter: "\\t", header: [id, name]'), {"members.csv": "1\tAda\n2\tBo\n"})
    assert _names(result) == ["Ada", "Bo"]


def test_short_rows_are_padded(mapper):
    result = mapper(_body(), {"members.csv": "id,name,extra\n1,Ada\n"})
    assert _names(result) == ["Ada"]


def test_json_record_path_with_parent_fields(mapper):
    doc = {"clients": [
        {"client_id": "C1", "visits": [{"id": "V1", "mode": "F2F"}, {"id": "V2", "mode": "TH"}]},
        {"client_id": "C2", "visits": []},
        {"client_id": "C3", "visits": [{"id": "V3", "mode": "F2F", "tags": ["a", "b"]}]},
    ]}
    body = """\
    sources:
      visits: {file: export.json, format: json, record_path: "clients[*].visits[*]"}
    resources:
      - name: visit
        source: visits
        key: {$col: id}
        template:
          resourceType: Encounter
          status: finished
          subject: {$ref: {type: Patient, kind: client}, key: {$col: "^.client_id"}}
          type: [{text: {$col: mode}}]
          reasonCode:
            - $each: {$col: tags}
              do: {text: {$item: .}}
    """
    result = mapper(body, {"export.json": json.dumps(doc, indent=1)})
    encounters = result.resources("Encounter")
    assert [e["identifier"][0]["value"] for e in encounters] == ["V1", "V2", "V3"]
    assert encounters[0]["subject"] == encounters[1]["subject"] != encounters[2]["subject"]
    assert encounters[2]["reasonCode"] == [{"text": "a"}, {"text": "b"}]
    # the line where each record's object starts in the document
    text = json.dumps(doc, indent=1).splitlines()
    lines = [int(e["meta"]["source"].rsplit(":", 1)[1]) for e in encounters]
    assert [text[n - 1].strip() for n in lines] == ["{", "{", "{"]
    assert [text[n] for n in lines] == [t for t in text if '"id": "V' in t]


def test_json_errors_name_the_record_pointer(mapper):
    doc = {"clients": [{"visits": [{"id": "V1", "n": "x"}]}]}
    body = """\
    sources:
      visits: {file: export.json, format: json, record_path: "clients.0.visits"}
    resources:
      - name: visit
        source: visits
        key: {$col: id}
        template: {resourceType: Encounter, length: {value: {$col: n, as: integer}}}
    """
    result = mapper(body.replace("clients.0.visits", "clients[0].visits"), {"export.json": json.dumps(doc)})
    (error,) = result.errors
    assert error["record"] == "clients[0].visits[0]" and error["line"] == 1   # one-line document
    assert "not an integer" in error["issues"][0]["message"]


def test_ndjson_with_record_path_and_nested_fields(mapper):
    body = """\
    sources:
      people: {file: people.ndjson, format: ndjson, record_path: "members[*]"}
    resources:
      - name: p
        source: people
        key: {$col: ids.local}
        template:
          resourceType: Patient
          active: {$col: active, as: boolean}
          name: [{text: {$col: "names[0]"}}]
          birthDate: {$date: {$col: dob}, format: iso}
    """
    lines = [json.dumps({"members": [{"ids": {"local": 7}, "active": True, "names": ["A"], "dob": "1980-02-03"},
                                     {"ids": {"local": 8}, "active": False, "names": []}]}),
             json.dumps({"members": [{"ids": {}, "active": True}]})]
    result = mapper(body, {"people.ndjson": "\n".join(lines) + "\n"})
    p7, p8 = result.resources("Patient")
    assert p7["identifier"][0]["value"] == "7" and p7["active"] is True and p7["name"] == [{"text": "A"}]
    assert p7["birthDate"] == "1980-02-03"
    assert p8["active"] is False and "name" not in p8
    (error,) = result.errors
    assert error["line"] == 2 and "source key is missing" in error["issues"][0]["message"]


def test_invalid_json_document_is_a_file_error(mapper):
    body = """\
    sources:
      visits: {file: export.json, format: json, record_path: "a[*]"}
    resources:
      - name: v
        source: visits
        key: {$col: id}
        template: {resourceType: Encounter}
    """
    result = mapper(body, {"export.json": '{"a": [\n{"id": 1},\n]}'})   # trailing comma on line 2
    assert result.summary["rows"]["read"] == 0
    assert result.summary["file_errors"][0].startswith("export.json:3: not valid JSON")


def test_duplicate_header_column_is_a_file_error(mapper):
    result = mapper(_body(), {"members.csv": "id,name,name\n1,A,B\n"})
    assert result.summary["rows"]["read"] == 0
    assert result.summary["file_errors"] == ["members.csv:1: column(s) 'name' appear more than once in the header"]
