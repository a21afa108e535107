"""Run the test kit: gather the sample, run every group of named tests, write the reports."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from ..conformance.registry import Registry
from ..rules import RuleConfig
from ..rules.members import MemberInput, earliest_contact
from ..validator import Validator
from . import checks
from .model import Failure, Sample, TestResult
from .sources import ServerSource, from_files

GROUPS: tuple[tuple[str, str], ...] = (
    ("access", "Access: read, search and Bulk Data against the server"),
    ("profiles", "Profile requirements"),
    ("must-support", "Must-support coverage"),
    ("references", "Reference integrity across the sample"),
    ("rules", "Program rules"),
)


@dataclass(slots=True)
class KitRun:
    program: str
    target: str                    # the endpoint, or the input paths
    started: datetime
    results: list[TestResult] = field(default_factory=list)
    sample_size: int = 0
    show_values: bool = False

    @property
    def counts(self) -> dict[str, int]:
        out = {"pass": 0, "fail": 0, "skip": 0}
        for r in self.results:
            out[r.status] += 1
        return out

    @property
    def passed(self) -> bool:
        return not any(r.status == "fail" for r in self.results)


def run_kit(program: str, *, paths: list[str] | None = None, server: ServerSource | None = None,
            patients: list[str] | None = None, bulk: bool = True, config: RuleConfig | None = None,
            show_values: bool = False, registry: Registry | None = None,
            progress: Callable[[str], None] | None = None) -> KitRun:
    """Every test of the kit over files (`paths`) or a server (`server`)."""
    say = progress or (lambda _m: None)
    reg = registry or Registry.default()
    kit = KitRun(program, server.base if server else " ".join(paths or []), datetime.now(timezone.utc),
                 show_values=show_values)
    if server is not None:
        say("reading the sample from the server")
        sample = server.fetch(patients or [], bulk=bulk)
        kit.results += server.results
    else:
        say("reading the sample from files")
        sample = from_files(list(paths or []))
    kit.sample_size = len(sample.items)
    if sample.problems:
        kit.results.append(TestResult("access.input", "access", "Every input is readable FHIR JSON", "fail",
                                      f"{len(sample.problems)} unreadable inputs", list(sample.problems)))
    elif server is None:
        kit.results.append(TestResult("access.input", "access", "Every input is readable FHIR JSON", "pass",
                                      f"{len(sample.items)} resources read"))
    config = config or RuleConfig()
    if config.data_from is None:
        # As `rules check --data-from auto`: contacts before the sample's first one are not in it.
        members = [MemberInput(k, [i.resource for i in items]) for k, items in checks.member_records(sample)]
        config.data_from = earliest_contact(members, config) if len(members) > 1 else None
    validator = Validator(registry=reg, show_values=show_values, rules=False)
    say("profile requirements")
    kit.results += checks.profile_tests(sample, program, validator, reg)
    say("must-support coverage")
    kit.results += checks.must_support_tests(sample, program, reg)
    say("reference integrity")
    kit.results += checks.reference_tests(sample)
    say("program rules")
    kit.results += checks.rule_tests(sample, program, config)
    return kit


def write_reports(kit: KitRun, out: Path) -> dict[str, Path]:
    from .report import html_report, junit_xml, test_report
    out.mkdir(parents=True, exist_ok=True)
    paths = {"testreport": out / "TestReport.json", "junit": out / "junit.xml", "html": out / "report.html"}
    paths["testreport"].write_bytes(test_report(kit))
    paths["junit"].write_text(junit_xml(kit), encoding="utf-8")
    paths["html"].write_text(html_report(kit), encoding="utf-8")
    return paths


__all__ = ["run_kit", "write_reports", "KitRun", "GROUPS", "Failure", "Sample"]
