"""Every row error kind: rejected row, named by file, line, column and element; the rest goes on."""
from __future__ import annotations

CONTACTS = """\
lookups:
  mode: {map: {F2F: face-to-face, TH: telehealth}}
sources:
  contacts: {file: contacts.csv}
resources:
  - name: contact
    source: contacts
    key: {$col: id}
    template:
      resourceType: Encounter
      status: {$col: status, required: true}
      type: [{coding: [{code: {$lookup: mode, col: mode}}]}]
      period:
        start: {$datetime: {$col: start}, format: "%Y-%m-%d %H:%M"}
      length: {value: {$col: minutes, as: integer}}
"""
GOOD = "1,finished,F2F,2025-01-06 10:00,30"


def _run(mapper, rows: list[str], **options):
    text = "id,status,mode,start,minutes\n" + "\n".join(rows) + "\n"
    return mapper(CONTACTS, {"contacts.csv": text}, **options)


def test_unmapped_code_is_a_row_error_not_a_pass_through(mapper):
    result = _run(mapper, [GOOD, "2,finished,NOSHOW,2025-01-06 10:00,30", GOOD.replace("1,", "3,", 1)])
    assert result.summary["rows"] == {"read": 3, "mapped": 2, "rejected": 1}
    (error,) = result.errors
    assert (error["file"], error["line"], error["template"], error["stage"]) == ("contacts.csv", 3, "contact", "map")
    (issue,) = error["issues"]
    assert issue["code"] == "code-invalid" and issue["column"] == "mode"
    assert issue["message"] == ("contacts.csv:3 column 'mode' at Encounter.type[0].coding[0].code: "
                                "code not in lookup 'mode'")
    assert "NOSHOW" not in issue["message"]                    # no value echoed by default
    assert [e["identifier"][0]["value"] for e in result.resources("Encounter")] == ["1", "3"]


def test_show_values_echoes_the_value_when_asked(mapper):
    result = _run(mapper, ["2,finished,NOSHOW,2025-01-06 10:00,30"], show_values=True)
    assert result.messages[0].endswith("code not in lookup 'mode' (value: 'NOSHOW')")


def test_unparseable_date(mapper):
    result = _run(mapper, ["1,finished,F2F,06/01/2025 10:00,30"])
    (issue,) = result.errors[0]["issues"]
    assert issue["code"] == "value" and issue["expression"] == "Encounter.period.start"
    assert issue["message"] == ("contacts.csv:2 column 'start' at Encounter.period.start: "
                                "not a date in format '%Y-%m-%d %H:%M'")


def test_dst_gap_time_is_an_error(mapper):
    result = _run(mapper, ["1,finished,F2F,2025-03-09 02:30,30"])
    assert "local time does not exist in America/New_York" in result.messages[0]


def test_bad_integer_and_required_missing_are_all_reported(mapper):
    result = _run(mapper, ["1,,F2F,2025-01-06 10:00,half"])
    (error,) = result.errors
    codes = sorted((i["code"], i["expression"]) for i in error["issues"])
    assert codes == [("required", "Encounter.status"), ("value", "Encounter.length.value")]
    assert any("not an integer" in i["message"] for i in error["issues"])


def test_missing_key_is_an_error(mapper):
    result = _run(mapper, [",finished,F2F,2025-01-06 10:00,30"])
    assert result.errors[0]["issues"][0]["message"] == "contacts.csv:2 column 'id' at Encounter: source key is missing"


def test_column_missing_from_header_rejects_rows_even_if_optional(mapper):
    result = mapper(CONTACTS, {"contacts.csv": "id,status,mode,start\n1,finished,F2F,2025-01-06 10:00\n"})
    (issue,) = result.errors[0]["issues"]
    assert issue["code"] == "required"
    assert issue["message"] == "contacts.csv:2 column 'minutes' at Encounter.length.value: column not in the file header"


def test_row_with_too_many_fields(mapper):
    result = _run(mapper, [GOOD + ",extra"])
    assert result.errors[0]["stage"] == "read"
    assert result.messages == ["contacts.csv:2: row has 6 fields, header has 5"]


def test_row_no_template_applies(mapper):
    body = CONTACTS.replace("    key: {$col: id}\n", "    key: {$col: id}\n    when: {equals: [{$col: mode}, F2F]}\n")
    result = mapper(body, {"contacts.csv": "id,status,mode,start,minutes\n1,finished,TH,2025-01-06 10:00,3\n"})
    assert result.messages == ["contacts.csv:2: no resource template applies to this row"]
    assert result.summary["rows"] == {"read": 1, "mapped": 0, "rejected": 1}


def test_missing_file_and_bad_encoding_are_file_errors(mapper):
    result = mapper(CONTACTS, {})
    assert result.summary["rows"]["read"] == 0
    assert result.summary["file_errors"] == ["contacts.csv: file not found in the input folder"]
    result = mapper(CONTACTS, {"contacts.csv": b"id,status,mode,start,minutes\n1,finished,F2F,2025-01-06 10:00,3\n2,fin\xe9,F2F,x,1\n"})
    # the row with the bad byte is rejected, the others are kept
    assert result.summary["rows"] == {"read": 2, "mapped": 1, "rejected": 1}
    assert result.messages == ["contacts.csv:3: row is not valid utf-8 text"]


def test_related_row_errors_orphans_and_parent_rejection(mapper):
    body = """\
    lookups:
      comp: {map: {CM: case-management}}
    sources:
      plans: {file: plans.csv}
      acts: {file: acts.csv, index: plan_id}
    resources:
      - name: plan
        source: plans
        key: {$col: plan_id}
        template:
          resourceType: CarePlan
          status: {$col: status, required: true}
          intent: plan
          activity:
            - $each: {$rows: acts, match: {$col: plan_id}}
              do: {detail: {status: scheduled, code: {text: {$lookup: comp, from: {$item: code}}}}}
    """
    result = mapper(body, {
        "plans.csv": "plan_id,status\nP1,active\nP2,active\nP3,\n",
        "acts.csv": "plan_id,code\nP1,CM\nP2,XX\nP9,CM\nP3,CM\nP2,CM\n",
    })
    summary = result.summary
    assert summary["files"]["plans.csv"] == {"read": 3, "mapped": 1, "rejected": 2}
    assert summary["files"]["acts.csv"] == {"read": 5, "mapped": 1, "rejected": 4}
    assert summary["rows"]["read"] == summary["rows"]["mapped"] + summary["rows"]["rejected"]
    by_place = {(e["file"], e["line"]): e for e in result.errors}
    # the bad code is reported at the related row's own file and line, inside the plan that uses it
    p2 = by_place[("plans.csv", 3)]["issues"][0]
    assert p2["message"] == ("acts.csv:3 column 'code' at CarePlan.activity[0].detail.code.text: "
                             "code not in lookup 'comp'")
    assert by_place[("acts.csv", 4)]["issues"][0]["code"] == "not-found"        # orphan P9
    assert by_place[("acts.csv", 5)]["issues"][0]["code"] == "processing"       # parent P3 rejected
    assert ("acts.csv", 6) in by_place                                          # sibling of the bad row
    (plan,) = result.resources("CarePlan")
    assert plan["activity"] == [{"detail": {"status": "scheduled", "code": {"text": "case-management"}}}]


def test_bad_ndjson_line_is_a_row_error(mapper):
    body = """\
    sources:
      people: {file: people.ndjson, format: ndjson}
    resources:
      - name: p
        source: people
        key: {$col: id}
        template: {resourceType: Patient}
    """
    result = mapper(body, {"people.ndjson": '{"id": 1}\n{"id": \n\n{"id": 3}\n'})
    assert result.summary["rows"] == {"read": 3, "mapped": 2, "rejected": 1}
    assert result.errors[0]["line"] == 2 and result.errors[0]["stage"] == "read"


def test_error_records_convert_to_shared_issues(mapper):
    from fhiradapter.mapping.engine import to_issues
    result = _run(mapper, ["2,finished,NOSHOW,2025-01-06 10:00,30"])
    (issue,) = to_issues(result.errors[0])
    assert (issue.source, issue.line, issue.code, issue.expression) == (
        "contacts.csv", 2, "code-invalid", "Encounter.type[0].coding[0].code")
    assert issue.is_error and issue.location_text() == "contacts.csv:2"


def test_error_in_a_split_item_names_the_column(mapper):
    body = """\
    lookups:
      purpose: {map: {TX: TREAT, PAY: HPAYMT}}
    sources:
      consents: {file: consents.csv}
    resources:
      - name: consent
        source: consents
        key: {$col: id}
        template:
          resourceType: Consent
          provision:
            purpose:
              - $each: {$col: purpose}
                split: ";"
                do: {code: {$lookup: purpose, from: {$item: .}}}
    """
    result = mapper(body, {"consents.csv": "id,purpose\n1,TX;PAY\n2,TX;RES\n"})
    (issue,) = result.errors[0]["issues"]
    assert issue["column"] == "purpose"
    assert issue["message"] == ("consents.csv:3 column 'purpose' at Consent.provision.purpose[1].code: "
                                "code not in lookup 'purpose'")
