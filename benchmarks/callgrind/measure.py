#!/usr/bin/env python3
"""Instruction counts per unit of work under callgrind: stable where wall-clock figures swing ±20 %.

    python benchmarks/callgrind/measure.py                      # all three figures
    python benchmarks/callgrind/measure.py ndjson encounter     # some of them
    python benchmarks/callgrind/measure.py --json               # machine-readable

Figures (the bench contact mapping and rows of benchmarks/map_bench.py, same seed):
  ndjson     instructions per CSV visit row mapped to NDJSON (map_input, no Bundles, no validation)
  validated  instructions per visit row of `run` (map + profile validation + program rules + Bundles)
  encounter  instructions per mapped Encounter validated against its profile (Validator, rules off,
             the NDJSON path of `fhiradapter validate`)
  mixed      instructions per resource of the mixed program corpus (validate_bench.member_records:
             every program profile, member records), profiles only
  mixed_rules  the same with program rules (`fhiradapter validate`'s default)
  errors     the mixed corpus with profiles + rules where 1 resource in 4 carries errors

Each figure is a difference: the workload runs under callgrind at two sizes, and
(I(large) - I(small)) / (large - small) cancels start-up, imports and loading. Inputs are generated
natively before valgrind starts. Needs valgrind (apt-get install -y valgrind); runs the real Python
binary (sys.executable, never a pyenv shim script, which valgrind would trace instead) with
PYTHONHASHSEED=0 so dict and set orders, and so the counts, repeat. Takes a few minutes.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

# figure -> (small size, large size): large enough that per-row work dominates the difference
SIZES = {"ndjson": (1000, 4000), "validated": (500, 2000), "encounter": (500, 2000),
         "mixed": (500, 2000), "mixed_rules": (500, 2000), "errors": (500, 2000)}
UNITS = {"ndjson": "NDJSON row", "validated": "validated row", "encounter": "validated Encounter",
         "mixed": "resource", "mixed_rules": "resource", "errors": "resource"}
CORPUS = ("mixed", "mixed_rules", "errors")   # the validate_bench corpus, as NDJSON


def workload(kind: str, folder: Path) -> None:
    """The measured work (runs under valgrind in a child process)."""
    if kind == "encounter":
        from fhiradapter.validator.engine import Validator
        from fhiradapter.validator.runner import check_path
        validator = Validator(rules=False, timezone="America/Denver")
        check_path(validator, str(folder / "Encounter.ndjson"), rules=False)
        return
    if kind in CORPUS:
        from fhiradapter import api
        validator = api.open_validator(rules=kind != "mixed")
        for _ in api.validate_files(validator, [str(folder / "corpus.ndjson")]):
            pass
        return
    from fhiradapter.mapping.loader import load_mapping
    from fhiradapter.mapping.run import load_checks, map_input
    mapping = load_mapping(folder / "bench.yaml")
    validated = kind == "validated"
    checks = load_checks("mt-cmp", mapping.timezone) if validated else None
    map_input(mapping, folder / "in", folder / f"out-{kind}", bundles=validated, validate=validated, checks=checks)


def prepare(kind: str, rows: int, folder: Path) -> None:
    """Bench inputs (natively, outside valgrind): CSV rows, or for 'encounter' mapped Encounters."""
    if kind in CORPUS:
        from validate_bench import corpus, member_records, with_errors
        items = member_records(corpus(), rows)
        folder.mkdir(parents=True)
        with open(folder / "corpus.ndjson", "wb") as handle:
            for item in with_errors(items) if kind == "errors" else items:
                handle.write(json.dumps(item, separators=(",", ":")).encode() + b"\n")
        return
    from map_bench import MAPPING, generate
    (folder / "in").mkdir(parents=True)
    (folder / "bench.yaml").write_text(MAPPING, encoding="utf-8")
    generate(folder / "in", rows)
    if kind == "encounter":
        from fhiradapter.mapping.loader import load_mapping
        from fhiradapter.mapping.run import map_input
        map_input(load_mapping(folder / "bench.yaml"), folder / "in", folder / "mapped", bundles=False)
        shutil.copy(folder / "mapped" / "ndjson" / "Encounter.ndjson", folder / "Encounter.ndjson")


def instructions(kind: str, folder: Path) -> int:
    python = os.path.realpath(sys.executable)
    with open(python, "rb") as handle:
        if handle.read(4) != b"\x7fELF":
            raise SystemExit(f"{sys.executable} is not a Python binary (a shim script?): run with the real python")
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "benchmarks")]))
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                           sys.executable, __file__, "--child", kind, str(folder)],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{kind}: the workload failed under valgrind:\n{done.stderr[-3000:]}")
    found = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"{kind}: no 'Collected' line in valgrind's output:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def measure(kind: str) -> dict[str, object]:
    small, large = SIZES[kind]
    counts = []
    with tempfile.TemporaryDirectory(prefix=f"callgrind-{kind}-") as tmp:
        for rows in (small, large):
            folder = Path(tmp) / str(rows)
            prepare(kind, rows, folder)
            units = rows
            if kind == "encounter":
                units = sum(1 for _ in open(folder / "Encounter.ndjson", encoding="utf-8"))
            counts.append((units, instructions(kind, folder)))
    (n1, i1), (n2, i2) = counts
    return {"figure": kind, "unit": UNITS[kind], "per_unit": round((i2 - i1) / (n2 - n1)),
            "sizes": [n1, n2], "instructions": [i1, i2]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("figures", nargs="*", metavar="FIGURE", help=f"any of {', '.join(SIZES)} (default: all)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        workload(args.child[0], Path(args.child[1]))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install -y valgrind)")
    unknown = [f for f in args.figures if f not in SIZES]
    if unknown:
        parser.error(f"unknown figure(s) {', '.join(unknown)}; choose from {', '.join(SIZES)}")
    for kind in args.figures or list(SIZES):
        result = measure(kind)
        if args.json:
            print(json.dumps(result))
        else:
            print(f"{kind:>9}: {result['per_unit']:,} instructions per {result['unit']} "
                  f"(sizes {result['sizes'][0]}/{result['sizes'][1]}: {result['instructions'][0]:,} / "
                  f"{result['instructions'][1]:,})", flush=True)


if __name__ == "__main__":
    main()
