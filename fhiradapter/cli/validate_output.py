"""What `fhiradapter validate` adds for vendors used to the HL7 validator: `--ig id#version` from the local
FHIR package cache, an HTML report, and JSON that names each input (NDJSON of OperationOutcomes with
`meta.source`, or one collection Bundle whose entries' fullUrl is the input)."""
from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import jinja2
import orjson

from ..outcome import operation_outcome
from ..validator.runner import Result

PACKAGE_REF = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)#([A-Za-z0-9][A-Za-z0-9._+-]*)$")


def package_cache() -> Path:
    """The FHIR package cache SUSHI and the HL7 validator use: ~/.fhir/packages. FHIRADAPTER_FHIR_HOME
    replaces the home folder (as for tools/build_profiles.py), e.g. for a cache shared in CI."""
    home = os.environ.get("FHIRADAPTER_FHIR_HOME") or str(Path.home())
    return Path(home) / ".fhir" / "packages"


def resolve_ig(value: str, cache: Path | None = None) -> str:
    """An --ig value as a path: an existing file/folder as given, or `id#version` from the package cache.
    ValueError says where it looked and which versions of that package the cache holds."""
    if Path(value).exists():
        return value
    match = PACKAGE_REF.match(value)
    if not match:
        raise ValueError(f"--ig {value}: no such file or folder (give a package folder, a .tgz, or id#version)")
    root = cache or package_cache()
    folder = root / value
    if (folder / "package" / "package.json").is_file():
        return str(folder)
    versions = sorted(p.name.split("#", 1)[1] for p in root.glob(f"{match.group(1)}#*") if p.is_dir()) \
        if root.is_dir() else []
    hint = f"; the cache has {', '.join(versions)}" if versions else ""
    raise ValueError(f"--ig {value}: not in the FHIR package cache {root} (expected {folder}/package/package.json)"
                     f"{hint}")


def _uri(source: str) -> str:
    return "urn:fhiradapter:stdin" if source == "<stdin>" else Path(source).resolve().as_uri()


def named_outcome(result: Result) -> dict[str, Any]:
    """The input's OperationOutcome, naming the input in meta.source (a URI)."""
    outcome = operation_outcome(result.issues)
    return {"resourceType": "OperationOutcome", "meta": {"source": _uri(result.source)},
            **{k: v for k, v in outcome.items() if k != "resourceType"}}


def ndjson_line(result: Result) -> bytes:
    return orjson.dumps(named_outcome(result))


def outcome_bundle(results: Iterable[Result]) -> bytes:
    """One collection Bundle: an entry per input, fullUrl = the input's URI, resource = its outcome."""
    bundle = {"resourceType": "Bundle", "type": "collection",
              "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "entry": [{"fullUrl": _uri(r.source), "resource": named_outcome(r)} for r in results]}
    return orjson.dumps(bundle, option=orjson.OPT_INDENT_2)


def html(results: list[Result], *, title: str = "fhiradapter validate") -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).parents[1] / "guide" / "templates")),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    counts = {"error": 0, "warning": 0, "information": 0}
    for r in results:
        for i in r.issues:
            counts["error" if i.is_error else i.severity] = counts.get("error" if i.is_error else i.severity, 0) + 1
    return env.get_template("validate-report.html").render(
        title=title, results=results, counts=counts, bad=sum(1 for r in results if r.has_errors),
        resources=sum(r.resources for r in results))
