"""report.html stays the same size however large the run (issue 18: it was rendered per row): it
lists the first rejected rows, the members with the most weeks below the requirement, and says how
many more the files hold; every row link still leads to a listed row."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from fhiradapter.mapping.loader import load_mapping
from fhiradapter.mapping.run import map_input
from fhiradapter.report.collect import MEMBERS, REJECTED_ROWS

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from map_bench import MAPPING  # noqa: E402  (the bench's contact mapping, program mt-cmp)


def _export(folder: Path, members: int, contacts: int, bad: int) -> None:
    folder.mkdir()
    with open(folder / "members.csv", "w", encoding="utf-8") as handle:
        handle.write("member_id,first,last,dob\n")
        for i in range(members):
            handle.write(f"M{i:05d},Ann,Lee,01/02/1970\n")
    with open(folder / "contacts.csv", "w", encoding="utf-8") as handle:
        handle.write("contact_id,member_id,date,time,minutes,mode,status,staff_id,org_id\n")
        for i in range(contacts):
            member = i % members
            # member n has a contact in week 1 and in week 1 + (n % 9): n % 9 weeks between go short
            week = 1 if i < members else 1 + member % 9
            status = "BOGUS" if i >= contacts - bad else "DONE"
            handle.write(f"C{i:06d},M{member:05d},03/{week * 7 - 5:02d}/2025,09:00,30,F2F,{status},S001,ORG1\n"
                         if week * 7 - 5 <= 31 else
                         f"C{i:06d},M{member:05d},04/{week * 7 - 36:02d}/2025,09:00,30,F2F,{status},S001,ORG1\n")


def _report(tmp_path: Path, members: int, contacts: int, bad: int) -> str:
    (tmp_path / "bench.yaml").write_text(MAPPING, encoding="utf-8")
    _export(tmp_path / "in", members, contacts, bad)
    summary = map_input(load_mapping(tmp_path / "bench.yaml"), tmp_path / "in", tmp_path / "out", bundles=False)
    assert summary["rows"]["rejected"] == bad
    return (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


def test_a_large_run_lists_the_first_rejected_rows_and_the_members_most_below(tmp_path: Path) -> None:
    members, bad = MEMBERS + 40, REJECTED_ROWS + 100
    html = _report(tmp_path, members, 2 * members + bad, bad)
    assert f"The first {REJECTED_ROWS} of the {bad} rejected rows" in html
    assert html.count('<tr id="row-') == REJECTED_ROWS
    anchors = set(re.findall(r'<tr id="(row-\d+)"', html))
    links = re.findall(r'href="#(row-\d+)"', html)
    assert links and set(links) <= anchors          # a link only to a listed row
    assert f"and {bad - 12} more" in html           # the group counts every row
    # the weekly table: MEMBERS rows, those with the most short weeks (8 short weeks: member n % 9 == 8)
    table = html.split('<div class="heat">', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr><td><code>") == MEMBERS
    assert f"The {MEMBERS} of {members} members with the most weeks below the requirement" in html
    shown_short = table.count('class="below"')
    assert shown_short == sum(sorted((m % 9 - 1 if m % 9 > 1 else 0 for m in range(members)), reverse=True)[:MEMBERS])


def test_a_small_run_lists_every_rejected_row_and_member(tmp_path: Path) -> None:
    html = _report(tmp_path, 30, 70, 10)
    assert "Every rejected row (10), as in errors.ndjson" in html
    assert html.count('<tr id="row-') == 10
    table = html.split('<div class="heat">', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr><td><code>") == 30
    assert "most weeks below" not in html


def test_the_weekly_counts_of_the_run_equal_those_read_back_from_its_files(tmp_path: Path) -> None:
    """map/run count the Encounters as they write them and take out those held back afterwards; a
    report refreshed later reads Encounter.ndjson: both give the same page (examples with planted
    orphans and consent hold-backs)."""
    from fhiradapter.cli.run import shipped_mapping
    from fhiradapter.mapping.errorfile import read_errors
    from fhiradapter.report import render_run_report
    held = 0
    for program in ("mt-cmp", "pa-tcm"):
        out = tmp_path / program
        map_input(load_mapping(shipped_mapping(program)), ROOT / "examples" / program, out, bundles=False)
        held += sum(1 for r in read_errors(out / "errors.ndjson") if r.get("stage") == "held-back")
        assert "Weekly contacts per member" in (out / "report.html").read_text(encoding="utf-8")
        assert render_run_report(out) == (out / "report.html").read_text(encoding="utf-8")
    assert held > 0
