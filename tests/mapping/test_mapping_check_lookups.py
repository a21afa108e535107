"""`mapping check` knows a lookup used inside another directive ($concat) is used; an unused one is reported."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from fhiradapter.cli import cli

FIXTURE = Path(__file__).parent / "fixtures" / "example" / "mapping.yaml"


def _check(tmp_path: Path, text: str) -> str:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(text)
    result = CliRunner().invoke(cli, ["mapping", "check", str(mapping)])
    assert result.exit_code == 0, result.output
    return result.output


def test_lookup_inside_concat_counts_as_used(tmp_path):
    text = FIXTURE.read_text().replace("lookups:\n", "lookups:\n  salutation:\n    map: {F: Ms, M: Mr, U: Mx}\n", 1)
    text = text.replace(
        "      name:\n        - family: {$col: last_name, required: true}\n",
        "      name:\n        - family: {$col: last_name, required: true}\n"
        "          prefix: [{$concat: [{$lookup: salutation, col: sex}, \".\"]}]\n", 1)
    assert text.count("salutation") == 2     # defined once, used only inside $concat
    assert "never used" not in _check(tmp_path, text)


def test_unused_lookup_is_reported(tmp_path):
    text = FIXTURE.read_text().replace("lookups:\n", "lookups:\n  spare:\n    map: {A: b}\n", 1)
    assert "lookups.spare: lookup is never used" in _check(tmp_path, text)
