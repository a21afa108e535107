"""The guide in a real browser (headless Chromium): every page loads without console errors or failed
loads with the network blocked, every internal link and anchor resolves, every page is reachable."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from .browser import Browser, PageVisit


def _crawl(browser: Browser, site: Path) -> dict[Path, PageVisit]:
    visits: dict[Path, PageVisit] = {}
    queue = [site / "index.html"]
    while queue:
        page = queue.pop()
        if page in visits:
            continue
        visits[page] = browser.visit(page.as_uri())
        for link in visits[page].links:
            parts = urlsplit(link)
            target = Path(unquote(parts.path))
            if parts.scheme == "file" and target.suffix == ".html" and target.is_file() and target not in visits:
                queue.append(target)
    return visits


def test_every_page_loads_cleanly_and_every_internal_link_resolves(browser: Browser, site: Path) -> None:
    visits = _crawl(browser, site)
    all_pages = set(site.glob("*.html"))
    assert all_pages == set(visits), f"pages not reachable from index.html: {sorted(p.name for p in all_pages - set(visits))}"
    assert len(all_pages) > 60
    problems, broken = [], []
    for page, visit in sorted(visits.items()):
        problems += [f"{page.name}: {p}" for p in visit.problems]
        for link in visit.links:
            parts = urlsplit(link)
            if parts.scheme in ("http", "https"):
                continue   # outbound links (hl7.org) are references, not resources the page loads
            if parts.scheme != "file":
                broken.append(f"{page.name}: unexpected link {link}")
                continue
            target = Path(unquote(parts.path))
            if not target.is_file():
                broken.append(f"{page.name}: {target.name} does not exist")
            elif parts.fragment and target.suffix == ".html" and parts.fragment not in visits[target].anchors:
                broken.append(f"{page.name}: no #{parts.fragment} in {target.name}")
    assert not problems, "\n".join(problems[:30])
    assert not broken, "\n".join(broken[:30])


def test_profile_page_shows_tables_bindings_invariants_and_examples(browser: Browser, site: Path) -> None:
    visit = browser.visit((site / "StructureDefinition-mt-cmp-encounter.html").as_uri())
    text = visit.text
    for heading in ("Invariants", "Differential", "Snapshot", "Examples"):
        assert heading in text
    assert "mt-cmp-enc-1" in text and "Encounter.type:contactMode" in text
    assert "required mt-cmp-contact-mode" in text           # binding, linked to the value set page
    assert any(link.endswith("/ValueSet-mt-cmp-contact-mode.html") for link in visit.links)
    assert "mt-cmp-encounter-example" in text               # the profile's example
    assert "Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (3)" in text
    assert ".txt" not in text and "issue 2" not in text


def test_program_page_never_presents_an_unconfirmed_code_as_confirmed(browser: Browser, site: Path) -> None:
    mt = browser.visit((site / "program-mt-cmp.html").as_uri()).text
    billing = mt[mt.index("Billing codes"):]
    assert "unconfirmed" in billing and "confirmed\t" not in billing.replace("unconfirmed", "")
    assert "H0" not in billing     # no code for mt-cmp is known
    dc = browser.visit((site / "program-dc-cs.html").as_uri()).text
    dc_billing = dc[dc.index("Billing codes"):]
    assert "H0036" in dc_billing and "confirmed" in dc_billing
    assert "mt-cmp-billable-days-per-week" in mt and "Service Requirements (5)" in mt


def test_screenshot_of_a_profile_page(browser: Browser, site: Path, tmp_path: Path) -> None:
    shot = tmp_path / "profile.png"
    browser.screenshot((site / "StructureDefinition-mt-cmp-encounter.html").as_uri(), shot)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000   # a rendered page, not a blank one


def test_reports_load_cleanly_in_the_browser(browser: Browser, tmp_path: Path) -> None:
    """The test kit's report.html and `validate --format html` are self-contained pages too."""
    from click.testing import CliRunner

    from fhiradapter.cli import cli
    examples = Path(__file__).resolve().parents[2] / "profiles" / "examples"
    kit = CliRunner().invoke(cli, ["testkit", "run", "--program", "mt-cmp", str(examples), "--out", str(tmp_path / "kit")])
    assert kit.exit_code in (0, 1), kit.output
    CliRunner().invoke(cli, ["validate", str(examples), "--format", "html", "-o", str(tmp_path / "v.html")])
    for page in (tmp_path / "kit" / "report.html", tmp_path / "v.html"):
        visit = browser.visit(page.as_uri())
        assert not visit.problems, visit.problems
        assert "passed" in visit.text or "input(s)" in visit.text
        for link in visit.links:   # in-page anchors only
            assert link.startswith(page.as_uri()), link
