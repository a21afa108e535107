"""HTML reports people read instead of NDJSON: the run report (OUT/report.html, written by map/run and
refreshed after a delivery) and the delivery status (`fhiradapter status --format html`).

Self-contained pages: inline CSS and SVG charts, no script, no network (viewable offline, e-mailable).
"""
from __future__ import annotations

from fhiradapter.report.render import refresh_run_report, render_run_report, render_status, write_run_report

__all__ = ["render_run_report", "write_run_report", "refresh_run_report", "render_status"]
