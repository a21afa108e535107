"""What the loader decides once per template instead of per resource must hold for every resource:
the orphan hold-back reads references only where its template can put them (compiler.reference_shape),
which must find exactly what a walk of the whole resource finds; a template that cannot make SUD data
(part2.may_be_sud) is not marked, so none of its resources may be SUD data."""
from __future__ import annotations

from pathlib import Path

import pytest

from fhiradapter.mapping.engine import MappingRun
from fhiradapter.mapping.loader import load_mapping
from fhiradapter.mapping.orphans import references, template_references
from fhiradapter.part2 import is_sud

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = sorted((ROOT / "mappings").glob("*.yaml"))


def _example_folder(mapping_path: Path) -> Path | None:
    mapping = load_mapping(mapping_path)
    for folder in sorted((ROOT / "examples").iterdir()):
        if folder.is_dir() and all((folder / spec["file"]).is_file() or spec.get("required", True) is False
                                   for spec in mapping.sources.values()):
            if mapping.program is None or folder.name in (mapping.program, mapping_path.stem.split("-mt-")[0]):
                return folder
    return None


@pytest.mark.parametrize("mapping_path", MAPPINGS, ids=lambda p: p.stem)
def test_template_facts_hold_for_every_example_resource(mapping_path: Path) -> None:
    folder = _example_folder(mapping_path)
    if folder is None:
        pytest.skip("no example export for this mapping")
    mapping = load_mapping(mapping_path)
    run = MappingRun(mapping, folder)
    compared = with_refs = 0
    for result in run.rows():
        for template, resource, _member, _key in result.resources:
            expected = list(references(resource))
            assert template_references(template.refs, resource) == expected, (template.name, result.line)
            assert template.read_refs is not None and template.read_refs(resource) == expected
            assert template.part2 or not is_sud(resource), (template.name, result.line)
            compared += 1
            with_refs += bool(expected)
    assert compared > 0 and with_refs > 0


def test_a_reference_built_by_hand_and_one_inside_a_constant_are_found(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "rows.csv").write_text("id,org,who\n1,O1,P1\n2,,P2\n", encoding="utf-8")
    (tmp_path / "m.yaml").write_text("""\
fhiradapter-mapping: 1
id: t
version: 1.0.0
agency: a
timezone: America/Denver
sources:
  rows: {file: rows.csv}
resources:
  - name: obs
    source: rows
    key: {$col: id}
    template:
      resourceType: Observation
      status: final
      code: {text: x}
      performer:
        - reference: {$concat: ["Organization/", {$col: org}]}
        - {$ref: {type: Practitioner, kind: staff}, key: {$col: who}}
      subject: {reference: Group/fixed-1}
      note: [{text: {$col: who}}]
""", encoding="utf-8")
    mapping = load_mapping(tmp_path / "m.yaml")
    seen = []
    for result in MappingRun(mapping, tmp_path / "in").rows():
        for template, resource, _m, _k in result.resources:
            found = template_references(template.refs, resource)
            assert found == list(references(resource))
            assert template.read_refs is not None and template.read_refs(resource) == found
            seen.append([target.split("/")[0] for _path, target in found])
    assert seen == [["Organization", "Practitioner", "Group"], ["Practitioner", "Group"]]


def test_a_template_with_sud_labels_or_diagnosis_codes_is_marked(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "rows.csv").write_text("id,member,code\n1,M1,F11.20\n2,M2,F32.9\n", encoding="utf-8")
    (tmp_path / "m.yaml").write_text("""\
fhiradapter-mapping: 1
id: t
version: 1.0.0
agency: a
timezone: America/Denver
sources:
  rows: {file: rows.csv}
resources:
  - name: dx
    source: rows
    key: {$col: id}
    template:
      resourceType: Condition
      code: {coding: [{system: "http://hl7.org/fhir/sid/icd-10-cm", code: {$col: code}}]}
      subject: {$ref: {type: Patient, kind: member}, key: {$col: member}}
  - name: labelled
    source: rows
    key: {$col: id}
    template:
      resourceType: Observation
      meta: {security: [{system: "http://terminology.hl7.org/CodeSystem/v3-ActCode", code: SUD}]}
      status: final
      code: {text: x}
  - name: plain
    source: rows
    key: {$col: id}
    template:
      resourceType: Encounter
      status: finished
      class: {code: AMB}
""", encoding="utf-8")
    mapping = load_mapping(tmp_path / "m.yaml")
    assert [t.part2 for t in mapping.templates] == [True, True, False]
    marked = {}
    for result in MappingRun(mapping, tmp_path / "in").rows():
        for template, resource, _m, _k in result.resources:
            marked[(template.name, result.line)] = "text" in resource
    assert marked == {("dx", 2): True, ("dx", 3): False, ("labelled", 2): True, ("labelled", 3): True,
                      ("plain", 2): False, ("plain", 3): False}


def test_datetime_conversions_remembered_per_row_text_give_the_same_values_and_errors(tmp_path: Path) -> None:
    """$datetime remembers converted texts: a repeated slot gives the same value, and a repeated bad
    add_minutes is an error on every row that has it (errors are never remembered)."""
    (tmp_path / "in").mkdir()
    rows = ["id,when,minutes"] + [f"{n},03/09/2025 01:30,{m}" for n, m in
                                  enumerate(["30", "30", "x", "x", "90", "30", "-5", "-5"], start=1)]
    (tmp_path / "in" / "rows.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "m.yaml").write_text("""\
fhiradapter-mapping: 1
id: t
version: 1.0.0
agency: a
timezone: America/Denver
sources:
  rows: {file: rows.csv}
resources:
  - name: visit
    source: rows
    key: {$col: id}
    template:
      resourceType: Encounter
      status: finished
      class: {code: AMB}
      period:
        start: {$datetime: {$col: when}, format: "%m/%d/%Y %H:%M"}
        end: {$datetime: {$col: when}, format: "%m/%d/%Y %H:%M", add_minutes: {$col: minutes}}
""", encoding="utf-8")
    mapping = load_mapping(tmp_path / "m.yaml")
    ends, errors = {}, {}
    for result in MappingRun(mapping, tmp_path / "in").rows():
        for _t, resource, _m, _k in result.resources:
            ends[result.line] = resource["period"]["end"]
        if result.issues:
            errors[result.line] = result.issues[0]["message"].split(": ", 1)[1]
    # 2025-03-09 is the spring-forward day in Denver: 01:30 -07:00 plus 30 minutes is 03:00 -06:00
    assert ends == {2: "2025-03-09T03:00:00-06:00", 3: "2025-03-09T03:00:00-06:00", 6: "2025-03-09T04:00:00-06:00",
                    7: "2025-03-09T03:00:00-06:00"}
    assert errors == {4: "add_minutes is not a number", 5: "add_minutes is not a number",
                      8: "add_minutes must be a finite number >= 0", 9: "add_minutes must be a finite number >= 0"}
