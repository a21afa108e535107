"""fhiradapter.spark on local[2] (issue 18) gives what one process gives: the same issues and program
findings for NDJSON, the same resources and rejected rows for a CSV export."""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from fhiradapter import api
from fhiradapter.cli import cli
from fhiradapter.mapping.engine import MappingRun
from fhiradapter.mapping.loader import load_mapping
from fhiradapter.outcome import RULE_SYSTEM

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


@pytest.fixture(scope="module")
def mapped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`map` of the mt-cmp example export: NDJSON with the profile problems the validator finds."""
    out = tmp_path_factory.mktemp("spark") / "mt-cmp"
    result = CliRunner().invoke(cli, ["map", "--mapping", str(REPO / "mappings" / "mt-cmp.yaml"), "--input",
                                      str(EXAMPLES / "mt-cmp"), "--out", str(out), "--no-progress", "--no-bundles",
                                      "--jobs", "1"])
    assert result.exit_code in (0, 1), result.output
    return out / "ndjson"


def one_process(folder: Path) -> Counter[tuple[Any, ...]]:
    options: dict[str, Any] = dict(igs=(), show_values=False, must_support=False, rules=True, timezone=None)
    v = api.open_validator(**options)
    found: Counter[tuple[Any, ...]] = Counter()
    for r in api.validate_files(v, api.input_files([str(folder)])):
        assert not isinstance(r, api.Unreadable)
        for i in r.issues:
            found[(i.source, i.line, "rules" if i.rule_system == RULE_SYSTEM else "validate", i.severity, i.code,
                   i.rule, i.expression, i.message)] += 1
    return found


def test_validate_on_spark_finds_what_one_process_finds(spark: Any, mapped: Path) -> None:
    from fhiradapter import spark as fs
    rows = fs.validate(fs.read_ndjson(spark, [str(mapped)]), partitions=3).collect()
    on_spark = Counter(tuple(row) for row in rows)
    expected = one_process(mapped)
    assert on_spark == expected
    stages = Counter(key[2] for key in expected.elements())
    assert stages["rules"] > 0 and stages["validate"] > 0   # findings of both kinds are compared
    assert any(key[3] == "error" for key in expected)


def test_map_on_spark_maps_rows_as_one_process_does(spark: Any) -> None:
    from fhiradapter import spark as fs
    mapping = REPO / "mappings" / "mt-cmp.yaml"
    rows = fs.map(fs.read_csv(spark, str(EXAMPLES / "mt-cmp" / "contacts.csv")), str(mapping),
                  source="contacts", input_dir=str(EXAMPLES / "mt-cmp")).collect()
    on_spark_resources = sorted((r.line, r.resource) for r in rows if r.resource is not None)
    on_spark_rejected = sorted((r.line, r.issues) for r in rows if r.issues is not None)

    run = MappingRun(load_mapping(mapping), EXAMPLES / "mt-cmp")
    resources, rejected = [], []
    for result in run.rows():
        if result.source != "contacts" or not result.counted:
            continue
        if result.issues:
            rejected.append((result.line, orjson.dumps(result.issues).decode()))
        for _t, resource, _m, _k in result.resources:
            resources.append((result.line, orjson.dumps(resource).decode()))
    assert on_spark_resources == sorted(resources)
    assert on_spark_rejected == sorted(rejected)
    assert len(resources) > 1000 and rejected   # the planted bad rows are among those compared


def test_spark_submit_entry_point_writes_the_issues(spark: Any, tmp_path: Path, mapped: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The entry point spark-submit runs (`python -m fhiradapter.spark validate`), here in the test's
    session: reads and writes paths, the same issues, exit 1 because some are errors."""
    from fhiradapter.spark.__main__ import main
    subset = tmp_path / "in"
    subset.mkdir()
    for name in ("Patient.ndjson", "CarePlan.ndjson", "ServiceRequest.ndjson"):   # member records across files
        (subset / name).write_bytes((mapped / name).read_bytes())
    out = tmp_path / "issues"
    code = main(["validate", "--out", str(out), str(subset)])
    assert "issues written to" in capsys.readouterr().out
    written = Counter()
    for part in out.glob("part-*.json"):
        for line in part.read_text().splitlines():
            row = json.loads(line)
            written[tuple(row.get(c) for c in ("source", "line", "stage", "severity", "code", "rule",
                                               "expression", "message"))] += 1
    assert written == one_process(subset)
    assert written and code == (1 if any(k[3] in ("error", "fatal") for k in written) else 0)
    assert not spark.sparkContext._jsc.sc().isStopped()   # the caller's session is left running


def test_entry_point_names_the_script_for_spark_submit() -> None:
    proc = subprocess.run([sys.executable, "-m", "fhiradapter.spark", "--script"], capture_output=True, text=True,
                          check=True)
    assert Path(proc.stdout.strip()).read_text().startswith('"""The spark-submit entry point')
