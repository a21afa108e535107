"""`fhiradapter guide build` as a user runs it."""
from __future__ import annotations

import json
import tarfile
from pathlib import Path

from click.testing import CliRunner

from fhiradapter.cli import cli


def test_build_writes_the_site_and_its_downloads(tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["guide", "build", "--out", str(out)])
    assert result.exit_code == 0, result.output
    pages = {p.name for p in out.glob("*.html")}
    assert {"index.html", "rules.html", "downloads.html", "terminology.html", "program-mt-cmp.html",
            "StructureDefinition-mt-cmp-encounter.html", "CodeSystem-bh-program.html",
            "ValueSet-mt-cmp-contact-mode.html"} <= pages
    with tarfile.open(out / "package.tgz") as tar:
        assert "package/examples/.index.json" in tar.getnames()
    sd = json.loads((out / "StructureDefinition-mt-cmp-encounter.json").read_text(encoding="utf-8"))
    assert "snapshot" in sd
    # No page needs the network: no remote stylesheet, script, font or image.
    for page in out.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script" not in text and 'rel="stylesheet" href="http' not in text and "@import" not in text


def test_findings_from_a_run_output_and_bad_findings_file(tmp_path: Path) -> None:
    run_out = tmp_path / "run" / "mt-cmp"
    run_out.mkdir(parents=True)
    issue = {"severity": "error", "code": "business-rule",
             "details": {"text": "a planted finding [citation]",
                         "coding": [{"system": "https://fhiradapter.org/fhir/CodeSystem/bh-rule",
                                     "code": "mt-cmp-weekly-team-meeting"}]}}
    (run_out / "findings.ndjson").write_text(json.dumps({"stage": "rules", "issue": issue}) + "\n")
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["guide", "build", "--out", str(out), "--findings", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "a planted finding" in (out / "rules.html").read_text(encoding="utf-8")
    broken = tmp_path / "findings.ndjson"
    broken.write_text("{not json\n")
    bad = CliRunner().invoke(cli, ["guide", "build", "--out", str(out), "--findings", str(broken)])
    assert bad.exit_code == 2 and "findings.ndjson:1" in bad.output
