"""OUT/output.json: the FHIR Bulk Data export manifest of a map/run output folder.

As the Bulk Data Access IG's complete-status response body: transactionTime, request,
requiresAccessToken, output[{type, url, count}] (the NDJSON files, one per resource type) and
error[{type: OperationOutcome, url, count}] (errors.ndjson: one OperationOutcome per rejected row).
The files are local, so each `url` is relative to the manifest (a consumer resolves it against the
folder), and requiresAccessToken is false. The fhiradapter extras (Bundles, findings, summary, report)
sit under `extension`, as the spec allows.

transactionTime is not the clock: it is the end of the export's latest day in the agency's zone (the
data holds nothing later), so a re-run on the same input writes the same bytes. A run whose data has
no date at all falls back to the clock.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fhiradapter.mapping.errorfile import count_lines
from fhiradapter.mapping.writers import write_json

EXTENSION_KEY = "https://fhiradapter.org/bulk-output"


def transaction_time(latest: date | None, timezone: str | None) -> str:
    if latest is None:
        return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.combine(latest, time(23, 59, 59), zone).isoformat()


def build_manifest(out: Path, summary: dict[str, Any], *, command: str, latest: date | None,
                   timezone: str | None) -> dict[str, Any]:
    mapping = summary.get("mapping", {})
    request = f"fhiradapter {command}"
    if summary.get("program"):
        request += f" --program {summary['program']}"
    request += f" (mapping {mapping.get('id')} {mapping.get('version')})"
    output = [{"type": rtype, "url": f"ndjson/{rtype}.ndjson", "count": count}
              for rtype, count in sorted(summary.get("resources", {}).items())
              if (out / "ndjson" / f"{rtype}.ndjson").is_file()]
    errors = count_lines(out / "errors.ndjson")
    extras: dict[str, Any] = {"summary": "summary.json", "report": "report.html",
                              "bundles": {"folder": "bundles/", "count": summary.get("bundles", 0)}}
    if (out / "findings.ndjson").is_file():
        extras["findings"] = {"url": "findings.ndjson", "count": count_lines(out / "findings.ndjson")}
    return {
        "transactionTime": transaction_time(latest, timezone),
        "request": request,
        "requiresAccessToken": False,
        "output": output,
        "error": [{"type": "OperationOutcome", "url": "errors.ndjson", "count": errors}] if errors else [],
        "extension": {EXTENSION_KEY: extras},
    }


def write_manifest(out: Path, summary: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    manifest = build_manifest(out, summary, **kwargs)
    write_json(out / "output.json", manifest)
    return manifest
