"""Program-rule throughput alone, on the member records `fhiradapter run` hands to the rules.

    python benchmarks/rules_bench.py                 # 10,000 mt-cmp contact rows (500 members)
    python benchmarks/rules_bench.py --rows 2000 --repeat 5

Maps map_bench.py's synthetic input once (profiles not checked: a stub validator passes every
resource, so each row is kept as in a clean run), keeps the member records `run` passes to
run_rules (the member's resources plus the shared ones), then times run_rules over all of them:
best of --repeat, in CPU seconds (process_time, robust to other processes on the machine). The
findings digest must not change when only the speed of the rules changes.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from map_bench import MAPPING, generate  # noqa: E402


class _PassValidator:
    """Stands in for the profile validator: the rules need the mapped records, not profile checks."""

    def validate_resource(self, resource: dict, **_: Any) -> list:
        return []


def member_records(rows: int) -> tuple[list[tuple[list[dict], dict]], Any]:
    """(member record, run_rules keyword arguments) for each member, exactly as `run` calls the rules."""
    from fhiradapter.mapping.loader import load_mapping
    from fhiradapter.mapping.run import Checks, map_input
    from fhiradapter.rules import run_rules

    calls: list[tuple[list[dict], dict]] = []

    def keep(member_record: list[dict], **kwargs: Any) -> list:
        calls.append((list(member_record), kwargs))
        return []

    with tempfile.TemporaryDirectory(prefix="rules-bench-") as tmp:
        folder = Path(tmp)
        (folder / "in").mkdir()
        (folder / "bench.yaml").write_text(MAPPING, encoding="utf-8")
        generate(folder / "in", rows)
        mapping = load_mapping(folder / "bench.yaml")
        checks = Checks(validator=_PassValidator(), run_rules=keep, program=mapping.program,
                        timezone=mapping.timezone, status="profiles+rules")
        map_input(mapping, folder / "in", folder / "out", validate=True, checks=checks)
    return calls, run_rules


def _clear_caches() -> None:
    """Empty the rules' process-wide caches, so each pass costs what the one pass of `run` costs."""
    for name, module in list(sys.modules.items()):
        if name.startswith("fhiradapter.rules"):
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()
    getattr(sys.modules["fhiradapter.rules.record"], "_PARSED", {}).clear()  # dateTimes parsed per zone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one pass instead")
    args = parser.parse_args()
    calls, run_rules = member_records(args.rows)
    resources = sum(len(record) for record, _ in calls)
    print(f"{len(calls)} member records, {resources} resources (shared ones counted per member)")

    def one_pass() -> list:
        _clear_caches()
        return [run_rules(record, **kwargs) for record, kwargs in calls]

    if args.profile:
        import cProfile
        import pstats
        profiler = cProfile.Profile()
        profiler.runcall(one_pass)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return
    best = float("inf")
    for _ in range(args.repeat):
        started = time.process_time()
        issues = one_pass()
        best = min(best, time.process_time() - started)
    digest = hashlib.sha256(repr(issues).encode()).hexdigest()[:16]
    count = sum(len(found) for found in issues)
    print(f"run_rules best of {args.repeat}: {best:.3f} CPU-s = {len(calls) / best:,.0f} members/s, "
          f"{resources / best:,.0f} resources/s; {count} issues, digest {digest}")


if __name__ == "__main__":
    main()
