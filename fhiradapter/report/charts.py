"""The report's charts as inline SVG, drawn by pygal (a maintained, pure-Python SVG charting library).

pygal would link its tooltip script from a CDN, add an inline config script and stamp each chart with a
random id and the date: the scripts are left out (js=[], the inline one removed: the page's policy runs
no script) and the id and comments are replaced, so the page needs no network and a re-run writes the
same bytes.
"""
from __future__ import annotations

import re
from typing import Any

from fhiradapter.report.collect import RunData, Weekly

_UUID = re.compile(r"chart-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)   # pygal's inline config script (for its tooltips)


def _style() -> Any:
    from pygal.style import Style
    return Style(background="white", plot_background="white", foreground="#222", foreground_strong="#111",
                 foreground_subtle="#888", font_family="system-ui, sans-serif", label_font_size=11,
                 major_label_font_size=11, legend_font_size=12, title_font_size=14,
                 colors=("#2b6cb0", "#c53030", "#2f855a", "#b7791f", "#6b46c1", "#718096"))


def _svg(chart: Any, name: str) -> str:
    text = str(chart.render(is_unicode=True))
    text = _SCRIPT.sub("", _COMMENT.sub("", text))
    return _UUID.sub(f"chart-{name}", text)


def _config(**kwargs: Any) -> dict[str, Any]:
    return {"js": [], "disable_xml_declaration": True, "style": _style(), "explicit_size": False,
            "pretty_print": False, **kwargs}


def rows_chart(data: RunData) -> str | None:
    """Rows per file: mapped, rejected, skipped (stacked), so a file that lost rows stands out."""
    if not data.files:
        return None
    import pygal
    chart = pygal.HorizontalStackedBar(**_config(title="Rows per file", width=760,
                                                 height=80 + 26 * len(data.files), legend_at_bottom=True,
                                                 print_values=False))
    files = data.files[::-1]   # pygal draws the first label at the bottom: keep the table's order top-down
    chart.x_labels = [f["name"] for f in files]
    chart.add("mapped", [f["mapped"] for f in files])
    chart.add("rejected", [f["rejected"] for f in files])
    if any(f["skipped"] for f in files):
        chart.add("skipped", [f["skipped"] for f in files])
    return _svg(chart, "rows")


def met_chart(weekly: Weekly) -> str | None:
    """Per week: members at or above the requirement, and below it (of the members whose contacts span
    that week: from their first to their last contact)."""
    if weekly.required is None:
        return None
    import pygal
    weeks, required = weekly.weeks, weekly.required
    met, short = [0] * len(weeks), [0] * len(weeks)
    base = weeks[0].toordinal()
    for first, per_week in weekly.counts.spans():   # each member from its first to its last contact week
        low = next(n for n, c in enumerate(per_week) if c)
        high = len(per_week) - next(n for n, c in enumerate(reversed(per_week)) if c)
        offset = (first - base) // 7
        for n in range(low, high):
            if per_week[n] >= required:
                met[offset + n] += 1
            else:
                short[offset + n] += 1
    chart = pygal.StackedBar(**_config(title="Members meeting the weekly requirement", width=1000, height=320,
                                       legend_at_bottom=True, x_label_rotation=35, show_minor_x_labels=False,
                                       x_labels_major_every=max(1, len(weekly.weeks) // 12)))
    chart.x_labels = [w.isoformat() for w in weekly.weeks]
    chart.add("met", met)
    chart.add("below", short)
    return _svg(chart, "met")


def delivery_chart(counts: dict[str, int]) -> str | None:
    """Bundles per journal state."""
    shown = {state: n for state, n in counts.items() if n}
    if not shown:
        return None
    import pygal
    chart = pygal.HorizontalBar(**_config(title="Bundles by delivery state", width=760,
                                          height=90 + 34 * len(shown), show_legend=False))
    chart.x_labels = list(shown)
    top = max(shown.values())
    if top <= 10:   # whole Bundles: no 0.2 steps on a small axis
        chart.y_labels = list(range(top + 1))
    chart.add("bundles", list(shown.values()))
    return _svg(chart, "delivery")
