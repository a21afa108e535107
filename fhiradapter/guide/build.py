"""Render the guide model into a folder of HTML pages plus downloads."""
from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any, Iterable

import jinja2

from ..citations import OTHER_SOURCES
from ..conformance.package import export_package
from ..conformance.registry import Registry
from ..outcome import RULE_SYSTEM
from .model import GuideModel, ProfileView, build_model, page_of

TEMPLATES = Path(__file__).with_name("templates")
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed zip entry time: the same guide gives the same bytes


class GuideError(Exception):
    """The guide cannot be built (no package, unreadable findings file); the message says which."""


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                              autoescape=jinja2.select_autoescape(["html"]),
                              trim_blocks=True, lstrip_blocks=True)  # missing optional FHIR elements render empty


def _rule_of(issue: dict[str, Any]) -> str | None:
    for coding in (issue.get("details") or {}).get("coding", []):
        if coding.get("system") == RULE_SYSTEM and coding.get("code"):
            return str(coding["code"])
    return None


def findings_by_rule(paths: Iterable[Path]) -> dict[str, tuple[dict[str, Any], str]]:
    """The first finding of each rule in `findings.ndjson` files (of `fhiradapter run` output folders) or
    OperationOutcome JSON files: rule id -> (the issue, where it was found)."""
    found: dict[str, tuple[dict[str, Any], str]] = {}
    for path in paths:
        files = sorted(path.rglob("findings.ndjson")) if path.is_dir() else [path]
        for file in files:
            try:
                text = file.read_text(encoding="utf-8")
            except OSError as exc:
                raise GuideError(f"{file}: cannot read ({exc.strerror})") from None
            issues: list[dict[str, Any]] = []
            if file.suffix == ".ndjson":
                for number, line in enumerate(text.splitlines(), start=1):
                    if not line.strip():
                        continue
                    try:
                        row = json.loads(line)
                    except ValueError:
                        raise GuideError(f"{file}:{number}: not a JSON line") from None
                    issue = row.get("issue", row) if isinstance(row, dict) else None
                    if isinstance(issue, dict):
                        issues.append(issue)
            else:
                try:
                    outcome = json.loads(text)
                except ValueError:
                    raise GuideError(f"{file}: not JSON") from None
                issues = [i for i in outcome.get("issue", []) if isinstance(i, dict)] if isinstance(outcome, dict) else []
            for issue in issues:
                rule = _rule_of(issue)
                if rule and rule not in found:
                    found[rule] = (issue, f"{file.parent.name}/{file.name}" if file.parent.name else file.name)
    return found


def _examples_findings(registry: Registry) -> dict[str, tuple[dict[str, Any], str]]:
    """Findings of the rules over the package's own examples (one member record)."""
    from ..rules import RuleConfig, run_rules
    pkg = registry.primary_package()
    if pkg is None:
        return {}
    found: dict[str, tuple[dict[str, Any], str]] = {}
    for issue in run_rules(list(pkg.examples), config=RuleConfig()):
        if issue.rule and issue.rule not in found:
            found[issue.rule] = (issue.to_fhir(), "package examples")
    return found


def _expansion(registry: Registry, url: str) -> list[tuple[str, str, str]]:
    expansion = registry.expand(url)
    if expansion is None:
        return []
    rows = []
    for system, code in expansion.pairs:
        display = ""
        cs = registry.code_system(system)
        if cs:
            display = next((c.get("display", "") for c in cs.get("concept", []) if c.get("code") == code), "")
        rows.append((system, code, display))
    return sorted(rows)


def _zip(examples: list[dict[str, Any]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for x in examples:
            info = zipfile.ZipInfo(f"examples/{x['resourceType']}-{x['id']}.json", ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, json.dumps(x, indent=2, ensure_ascii=False) + "\n")
    return buffer.getvalue()


def build_guide(out: Path, *, registry: Registry | None = None, findings_from: Iterable[Path] = (),
                billing_table: str | None = None) -> list[Path]:
    """Write the guide into `out` (created; existing guide files are overwritten); return the pages."""
    reg = registry or Registry.default()
    findings = _examples_findings(reg)
    sources = list(findings_from)
    seen = findings_by_rule(sources)
    findings.update(seen)   # findings from real output are better examples than the package's own
    try:
        model = build_model(reg, findings, billing_table)
    except ValueError as exc:
        raise GuideError(str(exc)) from None
    out.mkdir(parents=True, exist_ok=True)
    (out / "examples").mkdir(exist_ok=True)
    env = _environment()
    common = _common(model, sources)
    pages: list[Path] = []

    def render(name: str, template: str, **values: Any) -> None:
        path = out / name
        path.write_text(env.get_template(template).render(**common, **values), encoding="utf-8")
        pages.append(path)

    render("index.html", "index.html", title="Home")
    render("programs.html", "programs.html", title="Programs")
    render("citations.html", "citations.html", title="Policy citations", other_sources=sorted(OTHER_SOURCES.values()))
    for p in model.programs:
        render(f"program-{p.program}.html", "program.html", title=p.policy.program_name, p=p)
    render("profiles.html", "profiles.html", title="Profiles")
    example_json = {f"{x['resourceType']}-{x['id']}": json.dumps(x, indent=2, ensure_ascii=False) for x in model.examples}
    for v in _all_profiles(model):
        render(v.page, "profile.html", title=v.sd.get("title") or v.sd["id"], v=v, example_json=example_json)
        full = reg.structure_definition(str(v.sd["url"])) or v.sd
        (out / v.page.replace(".html", ".json")).write_text(json.dumps(full, indent=2, ensure_ascii=False), encoding="utf-8")
    render("terminology.html", "terminology.html", title="Terminology")
    for cs in model.code_systems:
        used = [vs for vs in model.value_sets if any(i.get("system") == cs["url"] for i in vs.get("compose", {}).get("include", []))]
        render(page_of(cs), "codesystem.html", title=cs.get("title") or cs["id"], cs=cs, used_by=used)
        (out / f"CodeSystem-{cs['id']}.json").write_text(json.dumps(cs, indent=2, ensure_ascii=False), encoding="utf-8")
    bound = _bindings(model)
    for vs in model.value_sets:
        render(page_of(vs), "valueset.html", title=vs.get("title") or vs["id"], vs=vs,
               expansion=_expansion(reg, vs["url"]), used_by=bound.get(vs["url"], []))
        (out / f"ValueSet-{vs['id']}.json").write_text(json.dumps(vs, indent=2, ensure_ascii=False), encoding="utf-8")
    groups = [(p.program, p.policy.program_name, [rv for rv in p.rules if rv.rule.program == p.program])
              for p in model.programs]
    groups.append(("all", "All programs", [rv for rv in model.rules if rv.rule.program == "all"]))
    shape = {"severity": "error", "code": "business-rule",
             "details": {"text": "<what was found, naming resources and elements> [<citation>]",
                         "coding": [{"system": RULE_SYSTEM, "code": "<rule id>"}]},
             "expression": ["Encounter.where(id='<id>').period.start"]}
    render("rules.html", "rules.html", title="Rule catalogue", groups=groups,
           findings_source=", ".join(str(s) for s in sources), shape=json.dumps(shape, indent=2))
    export_package(out / "package.tgz", reg)
    archive = _zip(model.examples)
    (out / "examples.zip").write_bytes(archive)
    for x in model.examples:
        (out / "examples" / f"{x['resourceType']}-{x['id']}.json").write_text(
            json.dumps(x, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    render("downloads.html", "downloads.html", title="Downloads", package_size=(out / "package.tgz").stat().st_size,
           examples_size=len(archive))
    shutil.copyfile(TEMPLATES / "style.css", out / "style.css")
    return pages


def _all_profiles(model: GuideModel) -> list[ProfileView]:
    return model.bases + [v for p in model.programs for v in p.profiles] + model.extensions


def _bindings(model: GuideModel) -> dict[str, list[tuple[str, str, str]]]:
    """ValueSet URL -> [(profile page, profile title, element)] of the elements bound to it."""
    bound: dict[str, list[tuple[str, str, str]]] = {}
    for v in _all_profiles(model):
        for element in v.sd.get("differential", {}).get("element", []):
            url = str((element.get("binding") or {}).get("valueSet", "")).split("|", 1)[0]
            if url:
                bound.setdefault(url, []).append((v.page, str(v.sd.get("title") or v.sd["id"]), str(element.get("id"))))
    return bound


def _common(model: GuideModel, sources: list[Path]) -> dict[str, Any]:
    first = next(iter(model.code_systems + model.value_sets), {})
    return {"manifest": model.manifest, "programs": model.programs, "bases": model.bases,
            "extensions": model.extensions, "code_systems": model.code_systems, "value_sets": model.value_sets,
            "rules": model.rules, "examples": model.examples, "pages": model.pages,
            "status": first.get("status", "draft"), "date": first.get("date", ""),
            "publisher": first.get("publisher", model.manifest.get("author", ""))}
