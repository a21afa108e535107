"""Jinja2 templates (templates/) filled from the output folder's files (collect.py) and pygal charts."""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import jinja2

from fhiradapter.report import charts
from fhiradapter.report.collect import WeeklyCounts, collect

TEMPLATES = Path(__file__).with_name("templates")


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    """One environment per process; compiled templates are kept in Jinja's per-user cache folder
    (checked against the template's text), so a run does not parse and compile them again (~0.1 s)."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
                              bytecode_cache=jinja2.FileSystemBytecodeCache())


def render_run_report(out: Path, counted: WeeklyCounts | None = None) -> str:
    """report.html of an output folder (map/run wrote summary.json there); counted: the Encounters the
    run counted as it wrote them (else read back from the folder)."""
    data = collect(out, counted)
    weekly = data.weekly
    svg = {
        "rows": charts.rows_chart(data),
        "met": charts.met_chart(weekly) if weekly is not None else None,
        "delivery": charts.delivery_chart(data.delivery["bundles"]) if data.delivery else None,
    }
    return _environment().get_template("run.html.j2").render(d=data, svg=svg,
                                                              css=(TEMPLATES / "report.css").read_text("utf-8"))


def write_run_report(out: Path, summary: dict[str, Any] | None = None, weekly: WeeklyCounts | None = None,
                     **_: Any) -> None:
    """Write OUT/report.html (atomically: a reader never sees half a page)."""
    from fhiradapter.mapping.writers import open_output
    page = render_run_report(out, weekly).encode("utf-8")
    tmp = out / "report.html.tmp"
    with open_output(out, tmp.name) as handle:
        handle.write(page)
    os.replace(tmp, out / "report.html")


def refresh_run_report(out: Path) -> bool:
    """Re-write report.html of a complete output folder (after a delivery: its journal state)."""
    if not (out / "summary.json").is_file() or not (out / "output.json").is_file():
        return False
    write_run_report(out)
    return True


def render_status(report: dict[str, Any]) -> str:
    """`fhiradapter status --format html`: the journal's report as a page."""
    svg = charts.delivery_chart(report["bundles"])
    return _environment().get_template("status.html.j2").render(
        r=report, svg=svg, css=(TEMPLATES / "report.css").read_text("utf-8"))
