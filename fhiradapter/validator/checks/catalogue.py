"""The catalogue of validator checks (catalogue.json): each check's id, severity, basis and one passing
and one failing example. The ids are the codes of the CodeSystem every OperationOutcome issue points
to (details.coding); `fhiradapter validate --list-checks` prints it; tests/validator/test_check_catalogue.py
runs every example. Checks without examples are reachable only through broken definitions or a bug."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_FILE = Path(__file__).with_name("catalogue.json")


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    severity: str
    basis: str
    summary: str
    passing: Any = None          # a resource (or JSON text when input == "text") that passes the check
    failing: Any = None          # one that fails it
    profile: str | None = None   # validate against this profile (from tests/validator/data/checks-ig)
    options: dict[str, Any] | None = None   # Validator options the example needs
    input: str = "resource"      # "text": the examples are file contents
    rule: str | None = None      # the code the issue carries when it is not the id (invariant keys)
    strict: str | None = None    # the severity under `--strict` (checks/strictness.py), when it differs


def _load() -> tuple[str, tuple[Check, ...]]:
    data = json.loads(_FILE.read_text(encoding="utf-8"))
    checks = tuple(Check(id=c["id"], severity=c["severity"], basis=c["basis"], summary=c["summary"],
                         passing=c.get("pass"), failing=c.get("fail"), profile=c.get("profile"),
                         options=c.get("options"), input=c.get("input", "resource"), rule=c.get("rule"),
                         strict=c.get("strict"))
                   for c in data["checks"])
    return data["system"], checks


SYSTEM, CHECKS = _load()
BY_ID: dict[str, Check] = {c.id: c for c in CHECKS}


def codesystem_fsh() -> str:
    """The FSH of the CodeSystem of check ids (profiles/fsh/input/fsh/validator-checks.fsh)."""
    lines = ["// Generated from fhiradapter/validator/checks/catalogue.json by",
             "// `python -m fhiradapter.validator.checks.catalogue`: do not edit by hand.", "",
             "CodeSystem: ValidatorCheck", "Id: validator-check", 'Title: "fhiradapter validator checks"',
             ('Description: "The checks of fhiradapter validate; OperationOutcome.issue.details.coding carries the '
              'check id. Issues of FHIRPath invariants carry the constraint key of the definition that '
              'declares it (code invariant stands for them here)."'),
             f'* ^url = "{SYSTEM}"', "* ^status = #active", "* ^experimental = false",
             "* ^caseSensitive = true", "* ^content = #complete"]
    for c in CHECKS:
        severity = f"{c.severity}, --strict: {c.strict}" if c.strict else c.severity
        text = _fsh_text(f"{c.summary} ({severity}; basis: {c.basis})")
        lines.append(f'* #{c.id} "{_fsh_text(c.summary)}" "{text}"')
    return "\n".join(lines) + "\n"


def _fsh_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "'")


if __name__ == "__main__":
    out = Path(__file__).resolve().parents[3] / "profiles" / "fsh" / "input" / "fsh" / "validator-checks.fsh"
    out.write_text(codesystem_fsh(), encoding="utf-8")
    print(f"wrote {out}")
