"""Agreement of our validator's verdict (valid / invalid) with the HL7 reference validator's, on the
R4 cases of its own test suite (FHIR/fhir-test-cases, development half in ../shared/fhir-test-cases-dev).

    python tools/test_cases_agreement.py [--cases DIR] [--list] [--json]

Prints agreement overall, on the cases whose rule comes from R4 itself (the basis of each case is in
tests/validator/data/fhir_test_cases_basis.json), and per module. `--list` prints every disagreement
with our error messages. The thresholds are asserted by tests/validator/test_fhir_test_cases.py.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CASES = REPO.parent / "shared" / "fhir-test-cases-dev"
BASIS_FILE = REPO / "tests" / "validator" / "data" / "fhir_test_cases_basis.json"


@dataclass
class CaseResult:
    id: str
    module: str
    basis: str                 # "r4" (a rule of R4 itself) or "hl7" (a rule of the HL7 validator beyond R4)
    expected_valid: bool
    our_valid: bool
    errors: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return self.expected_valid == self.our_valid


def load_basis() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads(BASIS_FILE.read_text())["cases"]
    return data


def run_cases(cases_dir: Path = DEFAULT_CASES) -> list[CaseResult]:
    """Validate every case of the manifest as the reference did (its profile, its ig/ folder)."""
    from fhiradapter.validator import Validator

    manifest: dict[str, Any] = json.loads((cases_dir / "manifest.json").read_text())
    basis = load_basis()
    plain: Validator | None = None
    out: list[CaseResult] = []
    for case in manifest["cases"]:
        folder = cases_dir / "cases" / case["id"]
        ig = folder / "ig"
        if ig.is_dir():
            v = Validator(igs=[ig], rules=False)
        else:
            plain = plain or Validator(rules=False)
            v = plain
        try:
            resource = json.loads((folder / case["file"]).read_text())
        except (OSError, ValueError) as exc:   # the reference reports a syntax error as an error too
            res = CaseResult(case["id"], case["module"], basis.get(case["id"], {}).get("basis", "r4"),
                             bool(case["expected_valid"]), False, [f"unreadable: {exc}"])
            out.append(res)
            continue
        issues = v.validate_resource(resource, profile=case.get("profile"))
        errors = [f"{i.expression}: {i.message} [{i.rule}]" for i in issues if i.is_error]
        out.append(CaseResult(case["id"], case["module"], basis.get(case["id"], {}).get("basis", "r4"),
                              bool(case["expected_valid"]), not errors, errors))
    return out


def rate(results: list[CaseResult]) -> float:
    return sum(r.agrees for r in results) / len(results) if results else 1.0


def summary(results: list[CaseResult]) -> dict[str, Any]:
    by_module: dict[str, list[CaseResult]] = defaultdict(list)
    for r in results:
        by_module[r.module].append(r)
    r4 = [r for r in results if r.basis == "r4"]
    return {
        "cases": len(results),
        "overall": rate(results),
        "r4_cases": len(r4),
        "r4": rate(r4),
        "modules": {m: {"cases": len(rs), "agree": sum(x.agrees for x in rs), "rate": rate(rs)}
                    for m, rs in sorted(by_module.items())},
        "disagreements": [r.id for r in results if not r.agrees],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=Path, default=DEFAULT_CASES, help="the fhir-test-cases folder (with manifest.json)")
    ap.add_argument("--list", action="store_true", help="print each disagreement with our errors")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = ap.parse_args(argv)
    if not (args.cases / "manifest.json").is_file():
        print(f"error: {args.cases}/manifest.json not found", file=sys.stderr)
        return 2
    results = run_cases(args.cases)
    s = summary(results)
    if args.json:
        print(json.dumps(s, indent=1))
        return 0
    print(f"overall: {s['overall']:.1%} of {s['cases']} cases; "
          f"rules of R4 itself: {s['r4']:.1%} of {s['r4_cases']} cases")
    for m, d in s["modules"].items():
        print(f"  {m:<12} {d['agree']:>3}/{d['cases']:<3} {d['rate']:.0%}")
    if args.list:
        for r in results:
            if not r.agrees:
                want = "valid" if r.expected_valid else "invalid"
                print(f"\n{r.id} [{r.module}, {r.basis}]: reference says {want}")
                for e in r.errors[:8]:
                    print(f"    {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
