"""An agency export without the columns docs/agency-export.md does not mark R still maps: the shipped
mapping declares them `optional_columns:` (one warning per file, no row errors)."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from .support import EXAMPLES, MAPPINGS, read_ndjson, run_cli
from .test_export_doc import documented_flags

# the columns the example exports gained recently, which many agencies will not have. (Not members.csv
# primary_dx: without it the member's diagnosis Condition is not made, and the plans and contacts that
# reference it are held back as orphans; the reference mapping does not yet drop those references.)
NEWER = {"referrals.csv": ["requested_start", "referral_form"],
         "plans.csv": ["goal", "goal_target_date", "team_org_id"], "consents.csv": ["form_file"],
         "contacts.csv": ["sud_related"]}


def _export_without(tmp: Path, drop: dict[str, list[str]]) -> Path:
    folder = tmp / "in"
    shutil.copytree(EXAMPLES / "mt-cmp", folder)
    for file, columns in drop.items():
        path = folder / file
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        keep = [i for i, name in enumerate(rows[0]) if name not in columns]
        with path.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows([[row[i] for i in keep if i < len(row)] for row in rows])
    return folder


def _map(folder: Path, out: Path) -> dict:
    code, output = run_cli(["map", "--mapping", str(MAPPINGS / "mt-cmp.yaml"), str(folder), "--out", str(out),
                            "--no-progress", "--no-bundles"])
    assert code in (0, 1), output
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def test_an_export_without_the_newer_columns_maps_the_same_rows_without_those_elements(mapped, tmp_path):
    full = json.loads((mapped["mt-cmp"] / "summary.json").read_text(encoding="utf-8"))
    summary = _map(_export_without(tmp_path, NEWER), tmp_path / "out")
    assert summary["files"] == full["files"] and summary["rows"] == full["rows"]
    order = {file: [name for name, _ in columns] for file, columns in documented_flags().items()}
    expected = []
    for file, dropped in NEWER.items():
        cols = [c for c in order[file] if c in dropped]   # named in the documented order
        expected.append(f"{file}: the header lacks the optional column{'s' if len(cols) > 1 else ''} "
                        f"{', '.join(cols)}: read as empty, so what {'they feed is' if len(cols) > 1 else 'it feeds is'}"
                        " left out")
    assert sorted(summary["file_warnings"]) == sorted(expected)
    assert not any("not in the file header" in json.dumps(e) for e in read_ndjson(tmp_path / "out" / "errors.ndjson"))
    out = tmp_path / "out" / "ndjson"
    assert full["resources"]["Goal"] > 0 and "Goal" not in summary["resources"]
    plans = read_ndjson(out / "CarePlan.ndjson")
    assert plans and not any("goal" in p or "careTeam" in p for p in plans)
    assert not any("sourceAttachment" in c for c in read_ndjson(out / "Consent.ndjson"))
    assert not any("occurrencePeriod" in s for s in read_ndjson(out / "ServiceRequest.ndjson"))

    def labelled(path: Path) -> set[str]:   # SUD also comes from an F1x diagnosis, not only sud_related
        return {e["id"] for e in read_ndjson(path) if "SUD" in json.dumps(e.get("meta", {}).get("security", []))}
    assert labelled(out / "Encounter.ndjson") < labelled(mapped["mt-cmp"] / "ndjson" / "Encounter.ndjson")


def test_an_export_without_any_column_not_marked_required_has_no_header_rejects(tmp_path):
    optional = {file: [name for name, flag in columns if flag != "R"] for file, columns in documented_flags().items()}
    summary = _map(_export_without(tmp_path, {f: c for f, c in optional.items() if (EXAMPLES / "mt-cmp" / f).exists()}),
                   tmp_path / "out")
    assert summary["rows"]["mapped"] > 0
    assert not any("not in the file header" in json.dumps(e) for e in read_ndjson(tmp_path / "out" / "errors.ndjson"))


def test_an_export_without_a_required_column_still_rejects_its_rows(tmp_path):
    summary = _map(_export_without(tmp_path, {"plans.csv": ["plan_type"]}), tmp_path / "out")
    assert summary["files"]["plans.csv"]["mapped"] == 0
    assert summary["files"]["plans.csv"]["rejected"] == summary["files"]["plans.csv"]["read"] > 0
    assert "plans.csv: the header lacks a column the mapping reads: 'plan_type'; rows that need it are rejected" \
        in summary["file_warnings"]
    errors = read_ndjson(tmp_path / "out" / "errors.ndjson")
    assert any("column 'plan_type'" in json.dumps(e) and "not in the file header" in json.dumps(e) for e in errors)
