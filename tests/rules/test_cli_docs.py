"""`fhiradapter rules list` / `billing-codes`, and docs/rules.md kept in step with the catalogue."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from fhiradapter.cli.rules import rules
from fhiradapter.rules import catalogue


def test_list_table_shows_every_rule_with_citation() -> None:
    result = CliRunner().invoke(rules, ["list"])
    assert result.exit_code == 0
    for r in catalogue():
        assert r.id in result.output and r.citation in result.output
    assert "not checkable:" in result.output


def test_list_json_and_program_filter() -> None:
    result = CliRunner().invoke(rules, ["list", "--program", "pa-tcm", "--format", "json"])
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert {r["program"] for r in rows} == {"pa-tcm", "all"}
    assert any(not r["checkable"] and r["reason_if_not"] for r in rows)
    assert len(rows) == len(catalogue("pa-tcm"))


def test_unknown_program_is_a_usage_error() -> None:
    assert CliRunner().invoke(rules, ["list", "--program", "xx"]).exit_code == 2


def test_billing_codes_table_only_dc_h0036_confirmed() -> None:
    result = CliRunner().invoke(rules, ["billing-codes"])
    assert result.exit_code == 0
    confirmed = [line for line in result.output.splitlines() if " confirmed " in line]
    assert confirmed and all(line.startswith("dc-cs") and "H0036" in line for line in confirmed)


def test_bad_billing_table_names_file_row_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "codes.csv"
    bad.write_text("program,code,modifier,unit,effective_from,effective_to,status,source_citation\n"
                   "mt-cmp,H9999,,per-diem,,,unconfirmed,guess\n"
                   "dc-cs,H0036,,15-min,2026-13-01,,confirmed,x\n", encoding="utf-8")
    result = CliRunner().invoke(rules, ["billing-codes", "--table", str(bad)])
    assert result.exit_code == 2
    assert "codes.csv:2 column code" in result.output and "codes.csv:3 column effective_from" in result.output


def test_docs_catalogue_matches_the_rules(repo_root: Path) -> None:
    text = (repo_root / "docs" / "rules.md").read_text(encoding="utf-8")
    generated = CliRunner().invoke(rules, ["list", "--format", "markdown"]).output
    assert text[text.index("### Checked rules"):] == generated, \
        "docs/rules.md catalogue is stale: regenerate with `fhiradapter rules list --format markdown`"
    assert all(f"`{r.id}`" in generated for r in catalogue())
