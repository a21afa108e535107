"""fhiradapter.api: the library layer gives Python callers what the commands print, and refuses bad
arguments with UsageError (the commands' exit 2) instead of exiting."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fhiradapter import api
from fhiradapter.cli import cli
from fhiradapter.rules import RuleConfig
from fhiradapter.cli.validate_output import ndjson_line
from fhiradapter.validator.report import text_line

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "mapping" / "fixtures" / "example"
EXAMPLE = ROOT / "profiles" / "examples" / "Encounter-mt-cmp-encounter-example.json"


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mapping fixture through api.plan_run + api.run_job (what `run` does)."""
    target = tmp_path_factory.mktemp("run")
    [job] = api.plan_run("mt-cmp", FIXTURE / "input", target, FIXTURE / "mapping.yaml")
    assert job.error is None
    from fhiradapter.mapping.loader import load_mapping
    summary = api.run_job(job, load_mapping(job.mapping_path), api.ChecksCache())
    assert summary["rows"]["read"] == summary["rows"]["mapped"] + summary["rows"]["rejected"] > 0
    assert summary["validation"] == "profiles+rules"
    return target


def test_validate_paths_gives_the_outcomes_the_command_prints(out: Path, tmp_path: Path) -> None:
    broken = json.loads(EXAMPLE.read_text())
    broken["status"] = "not-a-status"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(broken))
    paths = [str(EXAMPLE), str(bad), str(out / "ndjson")]
    results = list(api.validate_paths(paths, program="mt-cmp"))
    assert not any(isinstance(r, api.Unreadable) for r in results)
    by_source = {r.source: r for r in results if not isinstance(r, api.Unreadable)}
    assert not by_source[str(EXAMPLE)].has_errors
    assert any(i.expression == "Encounter.status" for i in by_source[str(bad)].issues if i.is_error)
    printed = CliRunner().invoke(cli, ["validate", *paths, "--program", "mt-cmp", "--format", "json"]).output
    assert printed.splitlines() == [ndjson_line(r).decode() for r in results if not isinstance(r, api.Unreadable)]


def test_validate_paths_refuses_what_the_command_refuses(tmp_path: Path) -> None:
    with pytest.raises(api.UsageError, match="no such"):
        list(api.validate_paths([str(tmp_path / "missing.json")]))
    with pytest.raises(api.UsageError, match="--profile"):
        list(api.validate_paths([str(EXAMPLE)], profile="https://example.org/StructureDefinition/none"))
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(api.UsageError, match="no .json/.ndjson files"):
        list(api.validate_paths([str(tmp_path)]))


def test_check_rules_matches_the_rules_check_command(out: Path) -> None:
    report = api.check_rules([str(out / "ndjson")], RuleConfig(timezone="America/Denver"), data_from_auto=True)
    assert report.records
    lines = [text_line(i, unplaced="-") for i in report.problems]
    lines += [text_line(i, unplaced="-") for _, found in report.records for i in found]
    result = CliRunner().invoke(cli, ["rules", "check", str(out / "ndjson")])
    assert result.exit_code == (1 if report.has_errors else 0)
    assert result.stdout.splitlines() == lines
    assert all(i.source and i.source.endswith(".ndjson") for _, found in report.records for i in found)


def test_plan_run_reports_programs_it_cannot_run(tmp_path: Path) -> None:
    with pytest.raises(api.UsageError, match="--mapping applies to one program"):
        api.plan_run("all", tmp_path, tmp_path / "out", FIXTURE / "mapping.yaml")
    (tmp_path / "mt-cmp").mkdir()
    jobs = {j.program: j for j in api.plan_run("all", tmp_path, tmp_path / "out")}
    assert jobs["mt-cmp"].error is None and jobs["mt-cmp"].target == tmp_path / "out" / "mt-cmp"
    assert jobs["pa-tcm"].error == f"input folder {tmp_path / 'pa-tcm'} does not exist"


def test_send_and_status_refuse_unusable_arguments(tmp_path: Path) -> None:
    with pytest.raises(api.UsageError, match="http"):
        api.send([tmp_path], "ftp://payer.example/fhir")
    with pytest.raises(api.UsageError, match="credentials"):
        api.send([tmp_path], "https://user:secret@payer.example/fhir")
    with pytest.raises(api.UsageError, match="--token-env"):
        api.send([tmp_path], "https://payer.example/fhir", api.Delivery(auth_kind="bearer",
                                                                       state_path=tmp_path / "j.sqlite"))
    with pytest.raises(api.UsageError, match="no journal here"):
        api.status(tmp_path / "outbox.sqlite")


def test_send_and_run_take_exactly_the_delivery_options() -> None:
    """The shared delivery options map one to one onto api.Delivery (`send` and `run --endpoint`)."""
    from dataclasses import fields

    from fhiradapter.cli.run import run
    from fhiradapter.cli.send import send
    wanted = {f.name for f in fields(api.Delivery)}
    for command, own in ((send, {"paths", "endpoint", "fmt", "verbose"}),
                         (run, {"program", "input_dir", "out", "mapping_file", "show_values", "max_entries",
                                "bundle_method", "no_bundles", "progress", "provenance_time", "endpoint", "as_of",
                                "workers"})):
        assert {p.name for p in command.params} - own == wanted
