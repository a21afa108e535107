"""OUT/report.html of `run` and `status --format html` (issue 17 §4) in a real headless Chromium:
they load offline with no console error and no network request, show what a reviewer looks for, and
hold no record value."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from fhiradapter.cli import cli

from .browser import Browser

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "mt-cmp"
    result = CliRunner().invoke(cli, ["run", "--program", "mt-cmp", str(ROOT / "examples" / "mt-cmp"), "--out", str(out)])
    assert result.exit_code == 1, result.output      # the example export has planted bad rows
    return out


def _offline(visit) -> None:
    assert not visit.problems, visit.problems      # console errors, exceptions, failed (remote) loads
    assert not [link for link in visit.links if not link.startswith(("file:", "about:"))], visit.links


def test_run_report_loads_offline_and_shows_counts_rejections_findings_and_weeks(browser: Browser,
                                                                                  run_out: Path) -> None:
    page = run_out / "report.html"
    visit = browser.visit(page.as_uri())
    _offline(visit)
    text = visit.text
    summary = json.loads((run_out / "summary.json").read_text())
    # per-file counts as summary.json has them
    contacts = summary["files"]["contacts.csv"]
    assert f"contacts.csv\t{contacts['read']}\t{contacts['mapped']}\t{contacts['rejected']}\t0" in text
    # rejected rows grouped by reason and column, each file:line linking to the row's entry
    assert "Rejected rows by reason and column" in text and "required value is missing" in text
    row_links = [link for link in visit.links if "#row-" in link]
    assert row_links and all(link.split("#", 1)[1] in visit.anchors for link in row_links)
    # findings by rule, with the public citation; by member, with the member's Bundle
    assert "mt-cmp-weekly-quality-contact" in text
    assert "Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (3)" in text
    member_bundles = [link for link in visit.links if "/bundles/Patient-" in link]
    assert member_bundles and all(Path(link.removeprefix("file://")).is_file() for link in member_bundles)
    # the weekly chart against the program's requirement
    assert "Weekly contacts per member" in text and "at least 1 contact per member per week" in text
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") >= 2 and "<script" not in html
    # no record values: no member's name, birth date or Medicaid id anywhere on the page
    with open(ROOT / "examples" / "mt-cmp" / "members.csv", encoding="utf-8") as handle:
        members = list(csv.DictReader(handle))
    for member in members[:25]:
        for column in ("last_name", "dob", "payer_member_id", "address_line"):
            if member[column]:
                assert member[column] not in html, column


def test_screenshot_of_the_run_report(browser: Browser, run_out: Path, tmp_path: Path) -> None:
    shot = tmp_path / "run-report.png"
    browser.screenshot((run_out / "report.html").as_uri(), shot, height=2400)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000   # a rendered page, not a blank one


@pytest.mark.node
def test_delivery_state_in_the_run_report_and_status_html(browser: Browser, server, tmp_path: Path) -> None:
    """After `send`, report.html shows the journal's state; `status --format html` is a clean page too."""
    out = tmp_path / "out"
    example = ROOT / "tests" / "mapping" / "fixtures" / "example"
    shutil.copytree(example / "input", tmp_path / "in")
    mapped = CliRunner().invoke(cli, ["run", str(tmp_path / "in"), "--mapping", str(example / "mapping.yaml"),
                                      "--out", str(out)])
    assert mapped.exit_code == 1, mapped.output
    assert "Not sent yet" in (out / "report.html").read_text(encoding="utf-8")
    sent = CliRunner().invoke(cli, ["send", "--endpoint", server.base, str(out)])
    assert sent.exit_code in (0, 1), sent.output
    visit = browser.visit((out / "report.html").as_uri())
    _offline(visit)
    assert "Journal outbox.sqlite" in visit.text and "Not sent yet" not in visit.text
    status = CliRunner().invoke(cli, ["status", str(out), "--format", "html"])
    assert status.exit_code in (0, 1)
    page = tmp_path / "status.html"
    page.write_text(status.output, encoding="utf-8")
    visit = browser.visit(page.as_uri())
    _offline(visit)
    counts = json.loads(CliRunner().invoke(cli, ["status", str(out), "--format", "json"]).output)["bundles"]
    assert "Bundles by state" in visit.text
    for state, n in counts.items():
        assert f"{state}\t{n}" in visit.text


def test_skipped_rows_are_shown_per_file_and_per_reason(browser: Browser, run_out: Path, tmp_path: Path) -> None:
    """A mapping's skip: conditions count rows as skipped (summary.json `files[].skipped`, `skipped`
    reason -> rows): the report shows both."""
    from fhiradapter.report import write_run_report
    out = tmp_path / "out"
    shutil.copytree(run_out, out)
    summary = json.loads((out / "summary.json").read_text())
    summary["files"]["contacts.csv"]["skipped"] = 7
    summary["rows"]["skipped"] = 7
    summary["skipped"] = {"status is cancelled": 7}
    (out / "summary.json").write_text(json.dumps(summary))
    write_run_report(out)
    visit = browser.visit((out / "report.html").as_uri())
    _offline(visit)
    assert "skipped\n7" in visit.text and "7\tstatus is cancelled" in visit.text
    contacts = summary["files"]["contacts.csv"]
    assert f"contacts.csv\t{contacts['read']}\t{contacts['mapped']}\t{contacts['rejected']}\t7" in visit.text
