"""A value set the validator cannot expand offline is noted once per run and element (issue 3:
"one explicit information issue"), not once per row."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from fhiradapter.cli import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_not_checked_note_once_per_element_and_value_set(tmp_path):
    CliRunner().invoke(cli, ["run", "--program", "ma-csp", str(EXAMPLES / "ma-csp"), "--out", str(tmp_path)])
    notes = [r["issue"] for r in map(json.loads, (tmp_path / "findings.ndjson").read_text().splitlines())
             if r["issue"].get("rule") == "binding-not-checked"]
    currency = [n for n in notes if "ValueSet/currencies" in n["message"]]
    assert len(currency) == 1     # every billed CSP contact carries a charge in USD
    keys = [(n["expression"], n["message"].split(" at ", 1)[-1]) for n in notes]
    assert len(keys) == len(set(keys))
