"""`optional_columns:` (docs/mapping-language.md, "Declared columns"): an export may lack them."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fhiradapter.mapping.errors import MappingLoadError
from fhiradapter.mapping.loader import load_mapping

ROOT = Path(__file__).resolve().parents[2]

PLANS = """\
sources:
  plans:
    file: plans.csv
    columns: [plan_id, member_id, status, goal, team_id]
    optional_columns: [goal, team_id]
  activities:
    file: activities.csv
    index: plan_id
    columns: [plan_id, text, note]
    optional_columns: [note]
resources:
  - name: plan
    source: plans
    key: {$col: plan_id}
    template:
      resourceType: CarePlan
      status: {$col: status, required: true}
      intent: plan
      subject: {$ref: {type: Patient}, key: {$col: member_id}}
      description: {$col: goal}
      careTeam:
        - {$if: {present: {$col: team_id}}, then: {$ref: {type: CareTeam}, key: {$col: team_id}}}
      activity:
        $each: {$rows: activities, match: {$col: plan_id}}
        do:
          detail:
            status: not-started
            description: {$item: text}
      note:
        $each: {$rows: activities, match: {$col: plan_id}}
        do: {$if: {present: {$item: note}}, then: {text: {$item: note}}}
"""

FULL = {"plans.csv": "plan_id,member_id,status,goal,team_id\nP1,M1,active,Walk daily,T1\nP2,M2,draft,,T2\n",
        "activities.csv": "plan_id,text,note\nP1,Group,first\nP2,Visit,\n"}
SHORT = {"plans.csv": "plan_id,member_id,status\nP1,M1,active\nP2,M2,draft\n",
         "activities.csv": "plan_id,text\nP1,Group\nP2,Visit\n"}


def test_an_export_without_its_optional_columns_maps_every_row_without_them(mapper):
    full = mapper(PLANS, FULL)
    short = mapper(PLANS, SHORT)
    assert short.summary["rows"] == full.summary["rows"] == {"read": 4, "mapped": 4, "rejected": 0}
    assert short.errors == []
    assert short.summary["file_warnings"] == [
        "activities.csv: the header lacks the optional column note: read as empty, so what it feeds is left out",
        "plans.csv: the header lacks the optional columns goal, team_id: read as empty, so what they feed is "
        "left out"]
    assert "file_warnings" not in full.summary
    (with_all, _), (without, _) = full.resources("CarePlan"), short.resources("CarePlan")
    assert with_all["description"] == "Walk daily" and with_all["note"] == [{"text": "first"}]
    assert len(with_all["careTeam"]) == 1
    for element in ("description", "careTeam", "note"):
        assert element not in without
    assert without["activity"] == [{"detail": {"status": "not-started", "description": "Group"}}]


def test_a_required_column_the_header_lacks_rejects_its_rows_and_names_the_closest_header_column(mapper):
    result = mapper(PLANS, {"plans.csv": "plan_id,member_id,Statuss,goal\nP1,M1,active,Walk\n",
                            "activities.csv": "plan_id,text\nP1,Group\n"})
    assert result.summary["rows"] == {"read": 2, "mapped": 0, "rejected": 2}
    assert "plans.csv:2 column 'status' at CarePlan.status: column not in the file header (did you mean " \
           "'Statuss'?)" in result.messages
    assert result.summary["file_warnings"] == [
        "activities.csv: the header lacks the optional column note: read as empty, so what it feeds is left out",
        "plans.csv: the header lacks a column the mapping reads: 'status' (did you mean 'Statuss'?); rows that "
        "need it are rejected",
        "plans.csv: the header lacks the optional column team_id: read as empty, so what it feeds is left out"]


def test_a_row_with_more_fields_than_the_header_is_still_rejected(mapper):
    result = mapper(PLANS, {"plans.csv": "plan_id,member_id,status\nP1,M1,active\nP2,M2,draft,Extra\n",
                            "activities.csv": "plan_id,text\nP1,Group\n"})
    assert result.summary["rows"] == {"read": 3, "mapped": 2, "rejected": 1}
    assert result.messages == ["plans.csv:3: row has 4 fields, header has 3"]


@pytest.mark.parametrize(("optional", "message"), [
    ("[gaol]", "sources.plans.optional_columns: optional column 'gaol' is not among the declared columns of "
               "plans.csv (did you mean 'goal'?)"),
    ("goal", "sources.plans.optional_columns: 'goal' is not of type 'array'"),
])
def test_optional_columns_must_be_a_list_of_declared_columns(write_mapping, optional, message):
    path = write_mapping(PLANS.replace("optional_columns: [goal, team_id]", f"optional_columns: {optional}"))
    with pytest.raises(MappingLoadError) as caught:
        load_mapping(path)
    assert any(message in str(problem) for problem in caught.value.problems), caught.value.problems


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), "mapping", *args],
                          capture_output=True, text=True, timeout=120)


def test_mapping_check_and_explain_show_optional_columns(write_mapping, tmp_path):
    path = write_mapping(PLANS)
    (tmp_path / "in").mkdir()
    for name, text in SHORT.items():
        (tmp_path / "in" / name).write_text(text, encoding="utf-8")
    done = _cli("check", str(path), "--input", str(tmp_path / "in"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "warning: " in done.stdout and "sources.plans: optional columns goal, team_id not in the header of " \
        "plans.csv: read as empty" in done.stdout
    assert "0 error(s)" in done.stdout
    (tmp_path / "in" / "plans.csv").write_text("plan_id,member_id\nP1,M1\n", encoding="utf-8")
    done = _cli("check", str(path), "--input", str(tmp_path / "in"))
    assert done.returncode == 1
    assert "declared column 'status' is not in the header of plans.csv" in done.stdout
    rows = [json.loads(line) for line in _cli("explain", str(path), "--json").stdout.splitlines()]
    assert {"plans.goal?", "plans.status", "plans.team_id?"} <= {r["columns"] for r in rows}
    assert "an optional column" in _cli("explain", str(path)).stdout
