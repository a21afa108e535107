#!/usr/bin/env python3
"""Generate the synthetic example exports in examples/ (docs/agency-export.md).

    python examples/generate.py                  # default seed and size, into examples/
    python examples/generate.py --seed 7 --scale 0.1 --out /tmp/ex

Same seed and scale -> byte-identical files. No real people: names are random pairs from small
built-in lists. Writes examples/{program}/*.csv, examples/casemgmt-json/casemgmt-export.json and
examples/README.md (which lists every deliberately bad row by file and line).
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from synth import casemgmt, dc, massachusetts, montana, pennsylvania  # noqa: E402
from synth.common import Export, write_export  # noqa: E402
from synth.readme import render_readme  # noqa: E402

DEFAULT_SEED = 20260105
# Members per program at scale 1.0 (hundreds of members, ~10,000 contacts in all).
PROGRAMS = {
    "mt-cmp": (montana.cmp_export, 70),
    "mt-imr": (montana.imr_export, 50),
    "dc-cs": (dc.cs_export, 90),
    "ma-csp": (massachusetts.csp_export, 80),
    "pa-tcm": (pennsylvania.tcm_export, 80),
}
AGENCIES = {"mt-cmp": "yellowstone-plains-bh", "mt-imr": "yellowstone-plains-bh",
            "dc-cs": "anacostia-riverside-cs", "ma-csp": "pioneer-valley-cs", "pa-tcm": "susquehanna-ridge-cm"}
CASEMGMT_CLIENTS = 12


def generate(out: Path, seed: int = DEFAULT_SEED, scale: float = 1.0) -> dict[str, Export]:
    exports: dict[str, Export] = {}
    for program, (make, size) in PROGRAMS.items():
        rng = random.Random(f"{seed}:{program}")
        export = make(rng, max(12, round(size * scale)))
        write_export(export, out / program)
        exports[program] = export
    doc = casemgmt.build(exports["mt-cmp"], CASEMGMT_CLIENTS, AGENCIES["mt-cmp"])
    folder = out / "casemgmt-json"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "casemgmt-export.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n",
                                                 encoding="utf-8", newline="")
    (out / "README.md").write_text(render_readme(exports, seed, scale, len(doc["clients"])), encoding="utf-8",
                                   newline="")
    return exports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="members per program relative to the default size (min 12 each)")
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: examples/)")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be positive")
    exports = generate(args.out, args.seed, args.scale)
    for program, export in exports.items():
        counts = ", ".join(f"{name.removesuffix('.csv')} {len(rows)}"
                           for name, rows in export.tables.items() if rows)
        print(f"{program}: {counts}; bad rows {len(export.bad)}, planted findings {len(export.findings)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
