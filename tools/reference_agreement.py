#!/usr/bin/env python3
"""Agreement of our validator with the HL7 reference validator (HAPI FHIR, tools/reference-validator).

    python tools/reference_agreement.py                  # all corpora: figures + disagreements by cause
    python tools/reference_agreement.py --write-known    # also rewrite the generated part of
                                                         # tests/conformance/known_disagreements.yaml
    python tools/reference_agreement.py --corpus examples --corpus fixtures
    python tools/reference_agreement.py --cache /tmp/ref-answers.json   # reuse reference answers across runs

Corpora: examples, fixtures, mapped, mutation (seeded, 10,000), hl7-cases (../shared/fhir-test-cases-dev,
judged against each case's expected outcome; --hl7-reference also runs HAPI on them and prints how often
HAPI 8.4 itself matches the expected outcomes). Exit 0 when every disagreement is listed and explained,
1 otherwise, 2 on a usage error.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "conformance"))

import agreement as ag  # noqa: E402
from reference_support import Answer, ReferenceValidator, export_package  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", action="append", choices=ag.CORPORA, help="a corpus to run (default: all)")
    p.add_argument("--mutations", type=int, default=ag.MUTATION_SIZE, help="mutation corpus size (default 10000)")
    p.add_argument("--write-known", action="store_true", help="rewrite the generated disagreements list")
    p.add_argument("--cache", type=Path, help="JSON file of reference answers by content hash, read and updated")
    p.add_argument("--run-dir", type=Path, help="reuse this `fhiradapter run --program all examples/` output")
    p.add_argument("--hl7-reference", action="store_true", help="also run HAPI on the HL7 cases")
    p.add_argument("--threads", type=int, default=0, help="reference worker threads (default: all cores)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = p.parse_args(argv)
    corpora = args.corpus or list(ag.CORPORA)
    if args.write_known and args.mutations != ag.MUTATION_SIZE:
        p.error("--write-known needs the full mutation corpus (no --mutations)")

    t0 = time.perf_counter()
    cases = {c: (ag.mapped(args.run_dir) if c == "mapped" else ag.load([c], args.mutations)[c]) for c in corpora}
    cache = json.loads(args.cache.read_text()) if args.cache and args.cache.exists() else ({} if args.cache else None)
    need_ref = [c for c in corpora if c != "hl7-cases"] + (["hl7-cases"] if args.hl7_reference and "hl7-cases" in corpora else [])
    answers: dict[str, list] = {}
    stats: dict[str, float] = {}
    hapi = "8.4.0"   # the pinned version (tools/reference-validator/pom.xml): the cache key's first part
    if cache is not None and all(ag.cache_key(case, hapi) in cache for c in need_ref for case in cases[c]):
        answers = {c: [Answer(**cache[ag.cache_key(case, hapi)]) for case in cases[c]] for c in need_ref}
        need_ref = []   # every answer is cached: no JVM
    if need_ref:
        with tempfile.TemporaryDirectory() as tmp:
            pkg = export_package(Path(tmp) / "fhiradapter.bh.tgz")
            with ReferenceValidator(packages=[pkg], threads=args.threads or None) as ref:
                stats["startup_s"] = ref.startup_s
                for c in need_ref:
                    t = time.perf_counter()
                    answers[c] = ag.run_reference(ref, cases[c], cache)
                    stats[f"{c}_s"] = time.perf_counter() - t
                    stats[f"{c}_n"] = len(cases[c])
        if cache is not None and args.cache:
            args.cache.write_text(json.dumps(cache))
    results = {c: ag.compare(cases[c], answers.get(c)) for c in corpora}
    known = ag.read_known()
    report: dict[str, object] = {"reference_startup_s": round(stats.get("startup_s", 0.0), 1)}
    for c in corpora:
        f = ag.figures(results[c], "module" if c == "hl7-cases" else ("kind" if c == "mutation" else None))
        entry: dict[str, object] = {"cases": f.total, "agree": f.agree, "agreement": round(100 * f.rate, 2),
                                    "location_agreement": f"{f.location_agree}/{f.location_pairs}"}
        if f.by:
            entry["by"] = {k: f"{a}/{n}" for k, (a, n) in f.by.items()}
        if c == "hl7-cases":
            r4 = [r for r in results[c] if r.case.r4_rule]
            entry["r4_only"] = round(100 * ag.figures(r4).rate, 2)
            entry["r4_only_cases"] = len(r4)
            if "hl7-cases" in answers:
                hapi = [a.valid == case.expected_valid for a, case in zip(answers[c], cases[c])]
                entry["hapi_matches_expected"] = f"{sum(hapi)}/{len(hapi)}"
        if f"{c}_s" in stats and stats[f"{c}_n"]:
            entry["reference_s"] = round(stats[f"{c}_s"], 1)
        report[c] = entry
    now = ag.current_disagreements([r for c in corpora for r in results[c]])
    by_cause: dict[str, int] = {}
    for per in now.values():
        for sig in per.values():
            cause = ag.cause_of(sig, known["causes"])
            key = cause["id"] if cause else f"UNEXPLAINED {sig}"
            by_cause[key] = by_cause.get(key, 0) + 1
    report["disagreements_by_cause"] = dict(sorted(by_cause.items(), key=lambda kv: -kv[1]))
    report["wall_s"] = round(time.perf_counter() - t0, 1)
    missing: list[str] = []
    if args.write_known:
        missing = ag.write_known([r for c in corpora for r in results[c]], corpora)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        for k, v in report.items():
            if isinstance(v, dict):
                print(f"{k}:")
                for k2, v2 in v.items():
                    print(f"  {k2}: {v2}")
            else:
                print(f"{k}: {v}")
    unlisted = [(c, n) for c, per in now.items() for n in per
                if n not in (known["disagreements"].get(c) or {})]
    if missing:
        print(f"signatures without a cause (write one in {ag.KNOWN_FILE.name}): {missing}", file=sys.stderr)
    if unlisted and not args.write_known:
        print(f"{len(unlisted)} disagreement(s) not in {ag.KNOWN_FILE.name}; first: {unlisted[:5]}", file=sys.stderr)
    return 1 if (missing or (unlisted and not args.write_known) or any(k.startswith("UNEXPLAINED") for k in by_cause)) else 0


if __name__ == "__main__":
    sys.exit(main())
