"""Each directive produces the FHIR value the language doc promises."""
from __future__ import annotations

import json

from fhiradapter.ids import identifier_system, mapped_id
from fhiradapter.mapping.errorfile import read_errors

PATIENTS = """\
sources:
  members: {file: members.csv}
resources:
  - name: patient
    source: members
    key: {$col: id}
    template:
      resourceType: Patient
"""


def test_col_options_and_constants(mapper):
    result = mapper(PATIENTS + """\
      active: true
      gender: {$col: sex, default: unknown}
      multipleBirthInteger: {$col: order, as: integer}
      deceasedBoolean: {$col: dead, as: boolean}
      extension:
        - url: http://example.org/weight
          valueDecimal: {$col: weight, as: decimal}
        - url: http://example.org/literal
          valueString: {$const: {$col: not-a-directive}}
    """, {"members.csv": "id,sex,order,dead,weight\n1,,2,Y,70.50\n2,female,,no,\n"})
    first, second = result.resources("Patient")
    assert first["active"] is True
    assert first["gender"] == "unknown"
    assert first["multipleBirthInteger"] == 2
    assert first["deceasedBoolean"] is True
    assert first["extension"][0]["valueDecimal"] == 70.5
    assert first["extension"][1]["valueString"] == {"$col": "not-a-directive"}
    assert second["gender"] == "female" and second["deceasedBoolean"] is False
    assert "multipleBirthInteger" not in second          # empty column -> element left out
    # a map that keeps a constant (url) stays; only maps that end up empty are dropped
    assert second["extension"][0] == {"url": "http://example.org/weight"}


def test_empty_values_never_leave_empty_elements(mapper):
    result = mapper(PATIENTS + """\
      name:
        - family: {$col: last}
          given: [{$col: first}]
      telecom: [{system: phone, value: {$col: phone}}]
    """, {"members.csv": "id,last,first,phone\n1,,,\n"})
    (patient,) = result.resources("Patient")
    assert "name" not in patient          # {} and [] are dropped, never emitted
    assert patient["telecom"] == [{"system": "phone"}]


def test_quotes_and_newlines_in_values_stay_data(mapper):
    result = mapper(PATIENTS + """\
      name: [{text: {$col: name}}]
    """, {"members.csv": 'id,name\n1,"O\'Neil, ""Bo""\n}{ </x>"\n'})
    (patient,) = result.resources("Patient")
    assert patient["name"][0]["text"] == 'O\'Neil, "Bo"\n}{ </x>'


def test_var_and_concat_and_coalesce(mapper):
    result = mapper("vars: {program: mt-cmp}\n" + PATIENTS + """\
      name: [{text: {$concat: [{$col: first}, {$col: middle}, {$col: last}], sep: " "}}]
      telecom: [{system: phone, value: {$coalesce: [{$col: mobile}, {$col: home}]}}]
      extension: [{url: http://example.org/program, valueCode: {$var: program}}]
    """, {"members.csv": "id,first,middle,last,mobile,home\n1,Ada,,Quill,,555-1\n"})
    (patient,) = result.resources("Patient")
    assert patient["name"][0]["text"] == "Ada Quill"
    assert patient["telecom"][0]["value"] == "555-1"
    assert patient["extension"][0]["valueCode"] == "mt-cmp"


def test_lookup_inline_default_and_case(mapper):
    result = mapper("""\
lookups:
  sex: {map: {F: female, M: male}}
  sexi: {map: {F: female}, ignore_case: true}
  coded:
    map:
      F: {system: http://hl7.org/fhir/administrative-gender, code: female}
""" + PATIENTS + """\
      gender: {$lookup: sex, col: sex, default: unknown}
      extension:
        - url: http://example.org/a
          valueCode: {$lookup: sexi, col: sex, default: null}
        - url: http://example.org/b
          valueCoding: {$lookup: coded, from: {$col: sex}, default: null}
    """, {"members.csv": "id,sex\n1,F\n2,f\n3,X\n"})
    p1, p2, p3 = result.resources("Patient")
    assert p1["gender"] == "female"
    assert p1["extension"][1]["valueCoding"] == {"system": "http://hl7.org/fhir/administrative-gender", "code": "female"}
    assert p2["gender"] == "unknown" and p2["extension"][0]["valueCode"] == "female"
    assert p3["gender"] == "unknown"
    assert p3["extension"] == [{"url": "http://example.org/a"}, {"url": "http://example.org/b"}]  # default: null


def test_lookup_files_relative_to_mapping(tmp_path, write_mapping):
    from fhiradapter.mapping.loader import load_mapping
    from fhiradapter.mapping.run import map_input
    (tmp_path / "lookups").mkdir()
    (tmp_path / "lookups" / "qual.csv").write_text("agency,system,fhir\nLCSW,urn:q,licsw\nRN,,rn\n", "utf-8")
    (tmp_path / "lookups" / "status.json").write_text(json.dumps({
        "resourceType": "ConceptMap", "status": "active",
        "group": [{"target": "http://hl7.org/fhir/encounter-status", "element": [
            {"code": "DONE", "target": [{"code": "finished", "display": "Finished", "equivalence": "equivalent"}]},
            {"code": "GONE", "target": [{"code": "cancelled", "equivalence": "unmatched"}]}]}]}), "utf-8")
    path = write_mapping("""\
    lookups:
      qual: {csv: lookups/qual.csv, key: agency, value: fhir}
      qualc: {csv: lookups/qual.csv, key: agency, values: [system, fhir]}
      status: {conceptmap: lookups/status.json, output: coding}
      status_code: {conceptmap: lookups/status.json}
    sources:
      staff: {file: staff.csv}
    resources:
      - name: staff
        source: staff
        key: {$col: id}
        template:
          resourceType: Practitioner
          qualification:
            - code: {coding: [{code: {$lookup: qual, col: q}}]}
            - code: {coding: [{$lookup: qualc, col: q}]}
          extension:
            - url: http://example.org/s
              valueCoding: {$lookup: status, col: s}
            - url: http://example.org/c
              valueCode: {$lookup: status_code, col: s}
    """)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "staff.csv").write_text("id,q,s\n1,LCSW,DONE\n2,RN,GONE\n", "utf-8")
    summary = map_input(load_mapping(path), tmp_path / "in", tmp_path / "out")
    (staff,) = [json.loads(x) for x in (tmp_path / "out/ndjson/Practitioner.ndjson").read_text().splitlines()]
    assert staff["qualification"][0]["code"]["coding"][0]["code"] == "licsw"
    assert staff["qualification"][1]["code"]["coding"][0] == {"system": "urn:q", "fhir": "licsw"}
    assert staff["extension"][0]["valueCoding"] == {"system": "http://hl7.org/fhir/encounter-status",
                                                    "code": "finished", "display": "Finished"}
    assert staff["extension"][1]["valueCode"] == "finished"
    # GONE maps to 'unmatched' in the ConceptMap: not in the table, so the row is rejected
    assert summary["rows"] == {"read": 2, "mapped": 1, "rejected": 1}
    (error,) = read_errors(tmp_path / "out/errors.ndjson")
    assert error["line"] == 3 and "code not in lookup 'status'" in error["issues"][0]["message"]


def test_date_formats_and_precision(mapper):
    result = mapper(PATIENTS + """\
      birthDate: {$date: {$col: dob}, format: ["%m/%d/%Y", "%Y%m%d"]}
      extension:
        - url: http://example.org/since
          valueDate: {$date: {$col: since}, format: "%Y-%m", precision: month}
    """, {"members.csv": "id,dob,since\n1,07/02/1984,2020-03\n2,19900102,\n"})
    p1, p2 = result.resources("Patient")
    assert p1["birthDate"] == "1984-07-02" and p1["extension"][0]["valueDate"] == "2020-03"
    assert p2["birthDate"] == "1990-01-02"


def test_if_conditions(mapper):
    result = mapper(PATIENTS + """\
      gender:
        $if: {in: [{$col: sex}, [F, W]]}
        then: female
        else:
          $if: {all: [{present: {$col: sex}}, {not: {equals: [{$col: sex}, M]}}]}
          then: other
          else: {$if: {matches: [{$col: sex}, "^M$"]}, then: male}
      active: {$if: {any: [{absent: {$col: sex}}, {equals: [{$col: vip, as: boolean}, true]}]}, then: true, else: false}
      telecom:
        - $if: {present: {$col: phone}}
          then: {system: phone, value: {$col: phone}}
        - {system: email, value: x@example.org}
    """, {"members.csv": "id,sex,vip,phone\n1,F,n,\n2,M,y,5\n3,X,0,\n4,,1,\n"})
    genders = [p.get("gender") for p in result.resources("Patient")]
    assert genders == ["female", "male", "other", None]
    actives = [p["active"] for p in result.resources("Patient")]
    assert actives == [False, True, False, True]
    p1, p2 = result.resources("Patient")[:2]
    assert p1["telecom"] == [{"system": "email", "value": "x@example.org"}]   # false $if adds no item
    assert p2["telecom"][0] == {"system": "phone", "value": "5"}


def test_each_split_column_and_json_array(mapper):
    result = mapper(PATIENTS + """\
      communication:
        - $each: {$col: langs}
          split: ";"
          do: {language: {coding: [{system: "urn:ietf:bcp:47", code: {$item: .}}]}}
        - language: {text: always}
    """, {"members.csv": "id,langs\n1,en; es ;;\n2,\n"})
    p1, p2 = result.resources("Patient")
    assert [c["language"].get("coding", [{}])[0].get("code") for c in p1["communication"]] == ["en", "es", None]
    assert p2["communication"] == [{"language": {"text": "always"}}]


def test_ref_to_template_and_explicit_type(mapper):
    result = mapper(PATIENTS + """\
      generalPractitioner:
        - $ref: {type: Practitioner, kind: staff}
          key: {$col: gp}
        - $ref: patient
          key: {$col: id}
          display: {$col: id}
      link:
        - other: {$ref: patient, key: {$col: other}}
          type: seealso
    """, {"members.csv": "id,gp,other\n1,S9,\n"})
    (patient,) = result.resources("Patient")
    assert patient["id"] == mapped_id("test-agency", "Patient", "patient", "1")
    assert patient["generalPractitioner"][0] == {"reference": "Practitioner/" + mapped_id("test-agency", "Practitioner", "staff", "S9")}
    assert patient["generalPractitioner"][1] == {"reference": f"Patient/{patient['id']}", "display": "1"}
    assert patient["link"] == [{"type": "seealso"}]  # missing key -> no reference


def test_identifier_meta_and_composite_key(mapper):
    result = mapper("""\
    sources:
      members: {file: members.csv}
    resources:
      - name: episode
        source: members
        kind: episode
        key: [{$col: id}, {$col: start}]
        identifier_system: urn:agency:episodes
        template:
          resourceType: EpisodeOfCare
          meta: {profile: ["http://example.org/p"]}
          identifier: [{system: urn:other, value: {$col: id}}]
          status: active
    """, {"members.csv": "id,start\n7,2025-01-01\n"})
    (episode,) = result.resources("EpisodeOfCare")
    assert list(episode)[:4] == ["resourceType", "id", "meta", "identifier"]
    assert episode["id"] == mapped_id("test-agency", "EpisodeOfCare", "episode", "7|2025-01-01")
    assert episode["meta"] == {"profile": ["http://example.org/p"], "source": "urn:fhiradapter:t:1.0.0:members.csv:2"}
    assert episode["identifier"] == [{"system": "urn:agency:episodes", "value": "7|2025-01-01"},
                                     {"system": "urn:other", "value": "7"}]


def test_default_identifier_system(mapper):
    result = mapper(PATIENTS, {"members.csv": "id\nA1\n"})
    (patient,) = result.resources("Patient")
    assert patient["identifier"] == [{"system": identifier_system("test-agency", "patient"), "value": "A1"}]
    assert identifier_system("test-agency", "patient") == "https://fhiradapter.org/fhir/sid/test-agency/patient"


def test_when_selects_template_per_row(mapper):
    result = mapper("""\
    sources:
      contacts: {file: contacts.csv}
    resources:
      - name: visit
        source: contacts
        when: {not: {equals: [{$col: kind}, stay]}}
        key: {$col: id}
        template: {resourceType: Encounter, status: finished}
      - name: stay
        source: contacts
        when: {equals: [{$col: kind}, stay]}
        key: {$col: id}
        template: {resourceType: Encounter, status: in-progress}
    """, {"contacts.csv": "id,kind\n1,visit\n1,stay\n"})
    visit, stay = result.resources("Encounter")
    assert visit["status"] == "finished" and stay["status"] == "in-progress"
    assert visit["id"] != stay["id"]          # same key, different kind -> different id
