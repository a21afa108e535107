"""Mapping files: schema and semantic problems name the file and YAML path; includes; YAML quirks."""
from __future__ import annotations

import pytest

from fhiradapter.mapping.errors import MappingLoadError
from fhiradapter.mapping.loader import load_mapping

MINIMAL = """\
sources:
  members: {file: members.csv}
resources:
  - name: patient
    source: members
    key: {$col: id}
    template:
      resourceType: Patient
"""


def _problems(path) -> list[str]:
    with pytest.raises(MappingLoadError) as info:
        load_mapping(path)
    return [str(p) for p in info.value.problems]


def test_schema_problem_names_file_and_path(write_mapping):
    path = write_mapping(MINIMAL + "      gender: {$lookup: sex}\n")
    problems = _problems(path)
    assert len(problems) == 1
    # file:line (the line of the bad element in the mapping file), then the YAML path
    assert problems[0].endswith("mapping.yaml:14: resources[0].template.gender: $lookup needs col: or from:")


def test_directive_typos_get_readable_messages(write_mapping):
    path = write_mapping(MINIMAL + """      gender: {$col: sex, requird: true}
      birthDate: {$date: {$col: dob}}
      name: [{$lookp: x}]
""")
    problems = "\n".join(_problems(path))
    assert "template.gender: unknown option 'requird' for $col (allowed: as, default, required)" in problems
    assert "template.birthDate: $date needs format:" in problems
    assert "template.name[0]: unknown directive '$lookp'" in problems


def test_missing_top_level_fields(write_mapping):
    path = write_mapping(MINIMAL, header="fhiradapter-mapping: 1\nid: t\n")
    problems = _problems(path)
    assert any("'version' is a required property" in p for p in problems)


def test_semantic_problems_are_all_listed(write_mapping):
    path = write_mapping(MINIMAL + """\
      gender: {$lookup: nope, col: sex}
      birthDate: {$date: {$col: dob}, format: "%H:%M"}
      generalPractitioner: [{$ref: staff, key: {$col: gp}}]
      extension: [{url: x, valueCode: {$var: program}}]
      contact: [{name: {text: {$item: name}}}]
""")
    problems = "\n".join(_problems(path))
    assert "resources[0].template.gender: lookup 'nope' is not defined" in problems
    assert "resources[0].template.birthDate.format: format '%H:%M' has no date directive" in problems
    assert "$ref to 'staff', which is not a resource template" in problems
    assert "var 'program' is not defined" in problems
    assert "$item is only meaningful inside $each" in problems


def test_unknown_timezone_and_unknown_source(write_mapping):
    header = "fhiradapter-mapping: 1\nid: t\nversion: '1'\nagency: a\ntimezone: America/Nowhere\n"
    path = write_mapping(MINIMAL.replace("source: members", "source: people"), header=header)
    problems = "\n".join(_problems(path))
    assert "timezone: unknown IANA time zone 'America/Nowhere'" in problems
    assert "source 'people' is not defined" in problems


def test_ref_key_arity_must_match(write_mapping):
    path = write_mapping(MINIMAL.replace("key: {$col: id}", "key: [{$col: id}, {$col: site}]") +
                         "      link: [{other: {$ref: patient, key: {$col: id}}, type: seealso}]\n")
    assert any("has a key of 2 part(s), this $ref gives 1" in p for p in _problems(path))


def test_yaml_keeps_codes_as_written(write_mapping, mapper):
    result = mapper("""\
    lookups:
      yn: {map: {Y: "yes-code", N: "no-code", NO: norway, 007: bond, 2025-01-01: newyear}}
    sources:
      m: {file: m.csv}
    resources:
      - name: p
        source: m
        key: {$col: id}
        template:
          resourceType: Patient
          extension: [{url: x, valueCode: {$lookup: yn, col: c}}]
    """, {"m.csv": "id,c\n1,N\n2,NO\n3,007\n4,2025-01-01\n"})
    codes = [p["extension"][0]["valueCode"] for p in result.resources("Patient")]
    assert codes == ["no-code", "norway", "bond", "newyear"]


def test_includes_share_templates_and_vars_override(tmp_path, write_mapping):
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "base.yaml").write_text("""\
fhiradapter-mapping: 1
fragment: true
vars: {program: default}
sources:
  members: {file: members.csv}
lookups:
  sex: {map: {F: female}}
resources:
  - name: patient
    source: members
    key: {$col: id}
    template:
      resourceType: Patient
      gender: {$lookup: sex, col: sex}
      extension: [{url: x, valueCode: {$var: program}}]
""")
    path = write_mapping("include: [common/base.yaml]\nvars: {program: mt-cmp}\n")
    mapping = load_mapping(path)
    assert [t.name for t in mapping.templates] == ["patient"]
    assert mapping.vars["program"] == "mt-cmp"
    dup = write_mapping("include: [common/base.yaml]\n" + MINIMAL, name="dup.yaml")
    problems = "\n".join(_problems(dup))
    assert "source defined twice" in problems and "resource template 'patient' defined twice" in problems


def test_include_cycle_and_non_fragment(tmp_path, write_mapping):
    (tmp_path / "a.yaml").write_text("fhiradapter-mapping: 1\nfragment: true\ninclude: [b.yaml]\n")
    (tmp_path / "b.yaml").write_text("fhiradapter-mapping: 1\nfragment: true\ninclude: [a.yaml]\n")
    path = write_mapping("include: [a.yaml]\n" + MINIMAL)
    assert any("include cycle" in p for p in _problems(path))


def test_invalid_yaml_reports_position(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("fhiradapter-mapping: 1\nid: [unclosed\n")
    (problem,) = _problems(path)
    assert "bad.yaml: line" in problem and "not valid YAML" in problem


def test_lookup_file_problems(tmp_path, write_mapping):
    (tmp_path / "l.csv").write_text("code,value\nA,x\nA,y\n")
    path = write_mapping("""\
lookups:
  dup: {csv: l.csv, key: code, value: value}
  gone: {csv: missing.csv, key: code, value: value}
  cols: {csv: l.csv, key: code, value: fhir}
""" + MINIMAL)
    problems = "\n".join(_problems(path))
    assert "lookups.dup: duplicate key 'A'" in problems
    assert "lookups.gone: cannot read lookup file missing.csv" in problems
    assert "lookups.cols: l.csv: column(s) fhir not in the header" in problems


def test_directive_problems_point_at_the_option_and_outside_templates(write_mapping):
    text = MINIMAL.replace("key: {$col: id}", "key: [{$col: id}, {$colum: x}]") + """\
      gender: {$lookup: sex, col: a, from: {$col: b}}
      birthDate: {$date: {$col: 7}, format: "%Y"}
      active: {$col: flag, required: yes}
"""
    problems = "\n".join(_problems(write_mapping(text)))
    assert "resources[0].key[1]: unknown directive '$colum'" in problems
    assert "template.gender: $lookup takes col: or from:, not both" in problems
    assert "template.birthDate.$date.$col: 7 is not of type 'string'" in problems
    assert "template.active.required: 'yes' is not of type 'boolean'" in problems
