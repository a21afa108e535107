"""`fhiradapter run ... --endpoint URL`: map, validate, write, then deliver what was written."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from fhiradapter.cli import cli

FIXTURE = Path(__file__).resolve().parents[1] / "mapping" / "fixtures" / "example"


def _ndjson_counts(out: Path) -> dict[str, int]:
    return {p.stem: len(p.read_text().splitlines()) for p in (out / "ndjson").glob("*.ndjson")}


def test_run_sends_its_output_and_a_rerun_sends_nothing_twice(server, tmp_path):
    out = tmp_path / "out"
    args = ["run", "--program", "mt-cmp", str(FIXTURE / "input"), "--mapping", str(FIXTURE / "mapping.yaml"),
            "--out", str(out), "--endpoint", server.base, "--bundle-size", "50"]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 1            # the fixture has rejected rows; they are never sent
    assert (out / "outbox.sqlite").is_file()
    written = _ndjson_counts(out)
    assert written and server.counts() == written
    second = CliRunner().invoke(cli, args)
    assert "already delivered" in second.stdout
    assert server.counts() == written


def test_run_endpoint_refuses_no_bundles(tmp_path):
    result = CliRunner().invoke(cli, ["run", "--program", "mt-cmp", str(FIXTURE / "input"), "--mapping",
                                      str(FIXTURE / "mapping.yaml"), "--out", str(tmp_path), "--no-bundles",
                                      "--endpoint", "http://127.0.0.1:9/fhir"])
    assert result.exit_code == 2 and "--no-bundles" in result.output
