#!/usr/bin/env python3
"""Speed of the HL7 reference validator batch process (tools/reference-validator) on the mutation corpus.

    python benchmarks/reference_bench.py [--resources 2000] [--threads N]

Prints the start-up (JVM, R4 core, our package, warm-up), wall throughput, and the CPU time per resource
of the validating threads (the figure to read on a shared machine). The first 10 % of the resources warm
the JIT and are not counted.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "conformance"))

from mutation_corpus import corpus  # noqa: E402
from reference_support import ReferenceValidator, Request, export_package  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--resources", type=int, default=2000)
    p.add_argument("--threads", type=int, default=0)
    args = p.parse_args()
    mutants = corpus(seed=13, size=args.resources)
    warm = max(1, len(mutants) // 10)
    with tempfile.TemporaryDirectory() as tmp:
        pkg = export_package(Path(tmp) / "pkg.tgz")
        with ReferenceValidator(packages=[pkg], threads=args.threads or None) as ref:
            print(f"startup_s: {ref.startup_s:.1f}")
            ref.validate([Request(m.name, m.resource) for m in mutants[:warm]])
            t0 = time.perf_counter()
            answers = ref.validate([Request(m.name, m.resource) for m in mutants[warm:]])
            wall = time.perf_counter() - t0
    cpu = [a.cpu_micros / 1000 for a in answers]
    print(f"resources: {len(answers)} (after {warm} warm-up)")
    print(f"wall_resources_per_s: {len(answers) / wall:.1f}")
    print(f"cpu_ms_per_resource: median {statistics.median(cpu):.1f}, mean {statistics.mean(cpu):.1f}")
    print(f"cpu_resources_per_s_per_core: {1000 / statistics.mean(cpu):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
