"""Program-rule throughput alone, on the member records `fhiradapter run` hands to the rules.

    python benchmarks/rules_bench.py                 # 10,000 mt-cmp contact rows (500 members)
    python benchmarks/rules_bench.py --rows 2000 --repeat 5
    python benchmarks/rules_bench.py --shared-scale  # rule cost per member against practitioners

Maps map_bench.py's synthetic input once (profiles not checked: a stub validator passes every
resource, so each row is kept as in a clean run), keeps the member records `run` passes to
run_rules (the member's resources plus the shared ones), then times run_rules over all of them:
best of --repeat, in CPU seconds (process_time, robust to other processes on the machine). The
findings digest must not change when only the speed of the rules changes.

--shared-scale (issue 18, costs that grow wrongly): member records of every program profile
(validate_bench.member_records) whose contacts and plans reference one of P practitioners, with the P
Practitioners as the submission's member-less reference data, as `fhiradapter validate` reads an NDJSON
export (Validator.rules_for_record). Prints the rules' CPU time per member for P = 10 ... 10,000: flat
when the reference data is indexed once per run (rules/shared.py), and beside it the same records
judged with the reference data appended to each (how the rules read them before), which grows with P.
"""
from __future__ import annotations

import argparse
import functools
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


SCALE = (10, 100, 1_000, 10_000)   # practitioners


def scale_corpus(members: int, practitioners: int) -> tuple[list[list[dict]], list[dict]]:
    """(member records, shared reference data): each member's resources reference practitioner
    member % practitioners; the Organizations and the practitioners are shared."""
    from validate_bench import SHARED, _vary_member, corpus
    items = corpus()
    own = [r for r in items if r["resourceType"] not in SHARED]
    template = next(r for r in items if r["resourceType"] == "Practitioner")
    staff = [{**template, "id": f"practitioner-{i}"} for i in range(practitioners)]
    orgs = [r for r in items if r["resourceType"] == "Organization"]
    old = f"Practitioner/{template['id']}"

    def assign(node: Any, ref: str) -> Any:
        if isinstance(node, dict):
            return {k: (ref if k == "reference" and v == old else assign(v, ref)) for k, v in node.items()}
        if isinstance(node, list):
            return [assign(v, ref) for v in node]
        return node

    records = [[assign(_vary_member(r, n), f"Practitioner/practitioner-{n % practitioners}") for r in own]
               for n in range(members)]
    return records, orgs + staff


def _indexed(v: Any, records: list[list[dict]], exprs: list[list[str]]) -> None:
    """`validate`'s way: the reference data is the validator's shared context, indexed once."""
    for record, names in zip(records, exprs):
        v.rules_for_record(record, None, names)


def _appended(records: list[list[dict]], shared: list[dict], config: Any) -> None:
    """The way before: the reference data appended to every member record."""
    from fhiradapter.rules import run_rules
    for record in records:
        run_rules(record + shared, config=config)


def shared_scale(members: int, repeat: int) -> None:
    """Rules' CPU time per member record against the number of shared practitioners (see above)."""
    import gc
    from datetime import date

    from fhiradapter.rules import RuleConfig
    from fhiradapter.validator.engine import Validator
    print(f"{members} member records of every program profile; CPU time of the program rules per member")
    print(f"{'practitioners':>13}  {'indexed once (validate)':>24}  {'appended to each record':>24}")
    gc.disable()   # the collector's passes depend on what else is held: count the rules' own work
    for count in SCALE:
        records, shared = scale_corpus(members, count)
        v = Validator(rules=True, timezone="America/Denver")
        v.shared_context, v.rules_as_of = tuple(shared), date(2025, 12, 31)
        config = RuleConfig(timezone="America/Denver", export_end=v.rules_as_of)
        exprs = [[r["resourceType"] for r in record] for record in records]

        indexed = functools.partial(_indexed, v, records, exprs)
        appended = functools.partial(_appended, records, shared, config)
        figures = []
        for fn in (indexed, appended):
            _clear_caches()
            fn()   # warm: one-time loads (billing table, holidays) are no per-member cost
            best = float("inf")
            for _ in range(repeat):
                started = time.process_time()
                fn()
                best = min(best, time.process_time() - started)
            figures.append(best / members * 1e6)
        print(f"{count:>13,}  {figures[0]:>20,.0f} µs  {figures[1]:>20,.0f} µs", flush=True)
    gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one pass instead")
    parser.add_argument("--shared-scale", action="store_true",
                        help="rules' cost per member against 10 ... 10,000 shared practitioners instead")
    parser.add_argument("--members", type=int, default=200, help="member records of --shared-scale")
    args = parser.parse_args()
    if args.shared_scale:
        shared_scale(args.members, args.repeat)
        return
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
