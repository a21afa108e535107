"""The catalogue of validator checks: every check's passing example raises no issue with its id, its
failing example raises one at the catalogued severity; every issue the validator emits carries a
catalogued id (or an invariant's constraint key); the CodeSystem in the package lists every id."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fhiradapter.outcome import Issue
from fhiradapter.validator import Validator
from fhiradapter.validator.checks.catalogue import (
    BY_ID,
    CHECKS,
    SYSTEM,
    Check,
    codesystem_fsh,
)
from fhiradapter.validator.runner import check_path

REPO = Path(__file__).resolve().parents[2]
CHECKS_IG = Path(__file__).parent / "data" / "checks-ig"
WITH_EXAMPLES = [c for c in CHECKS if c.failing is not None or c.input == "text"]
_validators: dict[tuple[Any, ...], Validator] = {}


def _validator(check: Check) -> Validator:
    opts = check.options or {}
    key = tuple(sorted(opts.items())) + ((check.profile is not None),)
    if key not in _validators:
        _validators[key] = Validator(igs=[CHECKS_IG] if check.profile else (), rules=False, **opts)
    return _validators[key]


def _issues(check: Check, example: Any, tmp_path: Path) -> list[Issue]:
    v = _validator(check)
    if check.input == "text":
        f = tmp_path / "input.ndjson"   # an empty .json is a syntax error; an empty NDJSON file has no resource
        f.write_text(example, encoding="utf-8")
        return list(check_path(v, str(f)).issues)
    return v.validate_resource(example, profile=check.profile)


@pytest.mark.parametrize("check", WITH_EXAMPLES, ids=[c.id for c in WITH_EXAMPLES])
def test_check_passes_and_fails_its_examples(check: Check, tmp_path: Path) -> None:
    code = check.rule or check.id
    good = [i for i in _issues(check, check.passing, tmp_path) if i.rule == code and i.severity == check.severity]
    assert good == [], [i.message for i in good]
    bad = [i for i in _issues(check, check.failing, tmp_path) if i.rule == code]
    assert bad, f"{check.id}: the failing example raised no {code} issue"
    assert {i.severity for i in bad} == {check.severity}


STRICT = [c for c in CHECKS if c.strict]


@pytest.mark.parametrize("check", STRICT, ids=[c.id for c in STRICT])
def test_strict_checks_are_errors_only_with_strict(check: Check) -> None:
    """R4 rules the HL7 validator does not apply offline: a warning by default (our verdict follows the
    reference's), an error under `strict=True` (`validate --strict`); the passing example stays clean."""
    code = check.rule or check.id
    strict = Validator(rules=False, strict=True)
    bad = [i for i in strict.validate_resource(check.failing, profile=check.profile) if i.rule == code]
    assert bad and {i.severity for i in bad} == {check.strict}
    assert not [i for i in strict.validate_resource(check.passing, profile=check.profile) if i.rule == code]
    default = _validator(check).validate_resource(check.failing, profile=check.profile)
    assert not [i for i in default if i.is_error], [i.rule for i in default if i.is_error]


def test_the_strict_checks_are_the_ones_the_reference_leaves_offline() -> None:
    assert {c.id for c in STRICT} == {"string-control-char", "xhtml-wellformed", "coding-code-unknown",
                                      "reference-target", "reference-format", "reference-type-unknown",
                                      "extension-unknown-package"}
    assert all(c.severity == "warning" and c.strict == "error" and "--strict" in c.basis for c in STRICT)


def test_ids_are_unique_and_every_check_without_examples_says_why() -> None:
    assert len(BY_ID) == len(CHECKS)
    bare = {c.id for c in CHECKS if c.failing is None and c.input != "text"}
    # reachable only through definitions we cannot ship as a small example, or a validator bug
    assert bare == {"slice-open-at-end", "binding-not-checked", "code-system-supplement", "internal",
                    "type-unknown", "searchparameter-derived-base"}


def test_every_issue_on_the_invalid_fixtures_carries_a_catalogued_id() -> None:
    v = Validator(rules=False)
    seen = 0
    for path in sorted((REPO / "profiles" / "invalid").glob("*.json")):
        for issue in v.validate_resource(json.loads(path.read_text())):
            seen += 1
            assert issue.rule, (path.name, issue.message)
            coding = issue.to_fhir()["details"]["coding"][0]
            assert coding["system"] == SYSTEM
            assert issue.rule in BY_ID or "-" in issue.rule, (path.name, issue.rule)   # or a constraint key
    assert seen > 10


def test_the_package_codesystem_lists_every_check() -> None:
    fsh = REPO / "profiles" / "fsh" / "input" / "fsh" / "validator-checks.fsh"
    assert fsh.read_text(encoding="utf-8") == codesystem_fsh(), \
        "run: python -m fhiradapter.validator.checks.catalogue && python tools/build_profiles.py"
    cs = json.loads((REPO / "profiles" / "CodeSystem-validator-check.json").read_text())
    assert cs["url"] == SYSTEM
    assert [c["code"] for c in cs["concept"]] == [c.id for c in CHECKS]


def test_list_checks_prints_the_catalogue() -> None:
    from click.testing import CliRunner

    from fhiradapter.cli.validate import validate
    out = CliRunner().invoke(validate, ["--list-checks"])
    assert out.exit_code == 0
    assert [line.split()[0] for line in out.output.splitlines()] == [c.id for c in CHECKS]
