"""`fhiradapter send` and `fhiradapter status` as a user runs them."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from fhiradapter.cli import cli

from .builders import member_bundle, members_out, write_out


def _run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.node
def test_send_then_status(server, tmp_path):
    out = members_out(tmp_path / "out", 2)
    bad = member_bundle("BAD", contacts=2, source_file="contacts.csv", first_line=40)
    bad["entry"][2]["resource"]["status"] = "no-such-status"
    write_out(out, {"zz-bad-1": bad})
    sent = _run("send", "--endpoint", server.base, str(out))
    assert sent.exit_code == 1  # one file refused locally
    assert "2 delivered" in sent.output and "1 rejected locally" in sent.output
    assert server.counts() == {"Patient": 2, "Encounter": 4}

    status = _run("status", str(out))
    assert status.exit_code == 1
    assert "delivered 2" in status.output and "rejected-local 1" in status.output
    assert "contacts.csv:41" in status.output  # the second contact of the bad member

    as_json = json.loads(_run("status", "--state", str(out / "outbox.sqlite"), "--format", "json").output)
    assert as_json["bundles"]["delivered"] == 2 and as_json["entries"]["delivered"] == 6
    [failure] = as_json["failures"]
    assert failure["state"] == "rejected-local" and failure["file"].endswith("zz-bad-1.json")
    assert any(i.get("source_line") == 41 for i in failure["issues"])

    again = _run("send", "--endpoint", server.base, "--format", "json", str(out))
    summary = json.loads(again.output)
    assert summary["delivered"] == 0 and summary["already_delivered"] == 2
    assert server.counts() == {"Patient": 2, "Encounter": 4}


def test_loose_files_need_state(tmp_path):
    path = tmp_path / "one.json"
    path.write_text(json.dumps(member_bundle("L1")))
    result = _run("send", "--endpoint", "https://payer.example/fhir", str(path))
    assert result.exit_code == 2 and "--state" in result.output


def test_missing_input_is_a_usage_error(tmp_path):
    result = _run("send", "--endpoint", "https://payer.example/fhir", "--state", str(tmp_path / "j.sqlite"),
                  str(tmp_path / "nope"))
    assert result.exit_code == 2 and "nope: no such file or folder" in result.output


def test_status_without_journal(tmp_path):
    result = _run("status", "--state", str(tmp_path / "none.sqlite"))
    assert result.exit_code == 2 and "no journal" in result.output


def test_status_on_a_file_that_is_not_a_journal(tmp_path):
    bogus = tmp_path / "bogus.sqlite"
    bogus.write_text("this is not sqlite")
    result = _run("status", "--state", str(bogus))
    assert result.exit_code == 2 and "not a usable journal" in result.output
