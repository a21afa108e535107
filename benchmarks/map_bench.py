"""Mapping throughput and memory (issue 5 targets: >= 20,000 rows/s to NDJSON, >= 4,000 rows/s with
full validation, 1,000,000 contact rows in constant memory).

    python benchmarks/map_bench.py                       # 10,000 contact rows
    python benchmarks/map_bench.py --rows 1000000 --phases ndjson,bundles
    python benchmarks/map_bench.py --examples            # `run --program all examples/`, per program

Generates N synthetic contact rows (plus members) in a temporary folder, maps them with a
contact mapping shaped like the shipped ones, and prints rows/s and the peak RSS of each phase.
Each phase runs in its own process so the peak RSS is that phase's own.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MAPPING = """\
fhiradapter-mapping: 1
id: bench
version: 1.0.0
agency: bench-agency
program: mt-cmp
timezone: America/Denver
sources:
  members: {file: members.csv}
  contacts: {file: contacts.csv}
lookups:
  mode: {map: {F2F: face-to-face, TH: telehealth, PH: phone, COL: collateral}}
  status: {map: {DONE: finished, NOSHOW: cancelled, CANCEL: cancelled}}
  actclass:
    map:
      F2F: {system: "http://terminology.hl7.org/CodeSystem/v3-ActCode", code: AMB}
      TH: {system: "http://terminology.hl7.org/CodeSystem/v3-ActCode", code: VR}
      PH: {system: "http://terminology.hl7.org/CodeSystem/v3-ActCode", code: AMB}
      COL: {system: "http://terminology.hl7.org/CodeSystem/v3-ActCode", code: AMB}
resources:
  - name: patient
    source: members
    key: {$col: member_id}
    template:
      resourceType: Patient
      name: [{family: {$col: last}, given: [{$col: first}]}]
      birthDate: {$date: {$col: dob}, format: "%m/%d/%Y"}
  - name: contact
    source: contacts
    key: {$col: contact_id}
    template:
      resourceType: Encounter
      meta:
        profile: ["https://fhiradapter.org/fhir/StructureDefinition/mt-cmp-encounter"]
      status: {$lookup: status, col: status, required: true}
      class: {$lookup: actclass, col: mode}
      type:
        - coding:
            - system: https://fhiradapter.org/fhir/CodeSystem/bh-contact-mode
              code: {$lookup: mode, col: mode, required: true}
      serviceType:
        coding: [{system: "https://fhiradapter.org/fhir/CodeSystem/bh-program", code: mt-cmp}]
      subject: {$ref: patient, key: {$col: member_id}}
      participant:
        - individual: {$ref: {type: Practitioner, kind: staff}, key: {$col: staff_id}}
      serviceProvider: {$ref: {type: Organization, kind: org}, key: {$col: org_id}}
      period:
        start: {$datetime: {$concat: [{$col: date}, {$col: time}], sep: " "}, format: "%m/%d/%Y %H:%M"}
        end: {$datetime: {$concat: [{$col: date}, {$col: time}], sep: " "}, format: "%m/%d/%Y %H:%M",
              add_minutes: {$col: minutes}}
"""


def generate(folder: Path, rows: int, seed: int = 5) -> None:
    rng = random.Random(seed)
    members = max(1, rows // 20)
    with open(folder / "members.csv", "w", encoding="utf-8") as handle:
        handle.write("member_id,first,last,dob\n")
        for i in range(members):
            handle.write(f"M{i:07d},Ann{i % 97},Lee{i % 89},{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/19{rng.randint(40, 99)}\n")
    modes = ["F2F", "TH"]   # the mt-cmp contact profile allows face-to-face and telehealth only
    statuses = ["DONE", "DONE", "DONE", "NOSHOW"]
    with open(folder / "contacts.csv", "w", encoding="utf-8") as handle:
        handle.write("contact_id,member_id,date,time,minutes,mode,status,staff_id,org_id\n")
        for i in range(rows):
            handle.write(f"C{i:08d},M{rng.randrange(members):07d},{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/2025,"
                         f"{rng.randint(8, 17):02d}:{rng.choice(('00', '15', '30', '45'))},{rng.choice((15, 30, 60))},"
                         f"{rng.choice(modes)},{rng.choice(statuses)},S{rng.randrange(40):03d},ORG1\n")


def phase(folder: Path, name: str) -> dict:
    """Run one phase in this process and report (called in a child process)."""
    from fhiradapter.mapping.loader import load_mapping
    from fhiradapter.mapping.run import load_checks, map_input
    mapping = load_mapping(folder / "bench.yaml")
    out = folder / f"out-{name}"
    checks = load_checks("mt-cmp", mapping.timezone) if name == "validated" else None
    started, cpu_started = time.perf_counter(), time.process_time()
    summary = map_input(mapping, folder / "in", out, bundles=name != "ndjson", validate=name == "validated",
                        checks=checks)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started   # robust to other processes sharing the machine
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"phase": name, "rows": summary["rows"]["read"], "seconds": round(elapsed, 3),
            "rows_per_s": round(summary["rows"]["read"] / elapsed),
            "rows_per_cpu_s": round(summary["rows"]["read"] / cpu), "peak_rss_mb": round(rss_kb / 1024, 1),
            "rejected": summary["rows"]["rejected"], "validation": summary["validation"]}


def examples() -> list[dict]:
    """`run` on the shipped example exports (all five mappings, every resource type, planted bad rows):
    per program, rows per CPU-second of map + validate + rules + write, and the load time apart."""
    from fhiradapter.mapping.loader import load_mapping
    from fhiradapter.mapping.run import load_checks, map_input
    from fhiradapter.canonical import PROGRAMS
    from fhiradapter.cli.run import shipped_mapping
    results = []
    with tempfile.TemporaryDirectory(prefix="map-bench-examples-") as tmp:
        for program in PROGRAMS:
            cpu_started = time.process_time()
            mapping = load_mapping(shipped_mapping(program))
            checks = load_checks(program, mapping.timezone)
            load_cpu = time.process_time() - cpu_started
            cpu_started = time.process_time()
            summary = map_input(mapping, ROOT / "examples" / program, Path(tmp) / program, validate=True, checks=checks)
            cpu = time.process_time() - cpu_started
            results.append({"program": program, "rows": summary["rows"]["read"], "load_cpu_s": round(load_cpu, 2),
                            "run_cpu_s": round(cpu, 2), "rows_per_cpu_s": round(summary["rows"]["read"] / cpu)})
    return results


TARGETS = {"ndjson": 60_000, "validated": 8_000}   # issue 18, rows per CPU-second on 10,000 visit rows


def floor_per_cpu_s(folder: Path) -> float:
    """The floor of any CSV-to-NDJSON mapping: read each row (csv) and write it as one JSON line (orjson)."""
    import csv

    import orjson
    rates = []
    for _ in range(3):
        started, rows = time.process_time(), 0
        with open(folder / "contacts.csv", newline="", encoding="utf-8") as handle, open(os.devnull, "wb") as sink:
            for row in csv.DictReader(handle):
                sink.write(orjson.dumps(row) + b"\n")
                rows += 1
        rates.append(rows / (time.process_time() - started))
    return max(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--phases", default="ndjson,bundles,validated",
                        help="comma list of: ndjson (NDJSON only), bundles (NDJSON + bundles), validated (run: + profiles + rules)")
    parser.add_argument("--examples", action="store_true",
                        help="instead: `run` on the shipped examples/ (all programs), rows per CPU-second")
    parser.add_argument("--child", nargs=2, metavar=("FOLDER", "PHASE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.examples:
        results = examples()
        for r in results:
            print(f"{r['program']:>7}: {r['rows']} rows, load {r['load_cpu_s']} s, run {r['run_cpu_s']} s CPU "
                  f"= {r['rows_per_cpu_s']} rows per CPU-second")
        rows, cpu = sum(r["rows"] for r in results), sum(r["run_cpu_s"] for r in results)
        load = sum(r["load_cpu_s"] for r in results)
        print(f"    all: {rows} rows = {round(rows / cpu)} rows per CPU-second of run "
              f"({round(rows / (cpu + load))} with the loads), peak RSS "
              f"{round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)} MB")
        return
    if args.child:
        print(json.dumps(phase(Path(args.child[0]), args.child[1])))
        return
    with tempfile.TemporaryDirectory(prefix="map-bench-") as tmp:
        folder = Path(tmp)
        (folder / "in").mkdir()
        (folder / "bench.yaml").write_text(MAPPING, encoding="utf-8")
        generate(folder / "in", args.rows)
        size = sum(p.stat().st_size for p in (folder / "in").iterdir()) / 1e6
        print(f"input: {args.rows} contact rows + {max(1, args.rows // 20)} members ({size:.1f} MB CSV)")
        floor = floor_per_cpu_s(folder / "in")
        print(f"     floor: {round(floor)} rows per CPU-second (csv.DictReader + orjson.dumps of each row, same run)")
        for name in args.phases.split(","):
            out = subprocess.run([sys.executable, __file__, "--child", str(folder), name], capture_output=True,
                                 text=True, check=False)
            if out.returncode != 0:
                print(f"{name}: failed\n{out.stderr[-2000:]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{r['phase']:>10}: {r['rows']} rows in {r['seconds']} s = {r['rows_per_s']} rows/s "
                  f"({r['rows_per_cpu_s']} rows per CPU-second), "
                  f"peak RSS {r['peak_rss_mb']} MB, rejected {r['rejected']}, validation {r['validation']}")
            target = TARGETS.get(name)
            print(f"{'':>12}{r['rows_per_cpu_s'] / floor:.3f} of the floor"
                  + (f"; target {target} rows per CPU-second: {'met' if r['rows_per_cpu_s'] >= target else 'NOT met'}"
                     if target else ""))


if __name__ == "__main__":
    main()
