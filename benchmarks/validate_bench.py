"""Validator benchmark: throughput, start-up, Bundle latency, NDJSON peak memory.

    python benchmarks/validate_bench.py                      # quick (5,000 resources, 100,000 NDJSON lines)
    python benchmarks/validate_bench.py --resources 20000 --ndjson-lines 1000000

Corpus: the profile examples in profiles/examples (the 20 program profiles plus Patient, Practitioner,
Organization), repeated as distinct variants (ids, identifier values, references and dates differ; coded
values repeat, as in real data). `validate_no_repeats_per_cpu_s` is the rate with the walker's memory of
clean coded values switched off, i.e. for data whose codes never repeat.

Prints our rate beside fhir.resources' R4B parse of the same corpus in the same run (the ratio is what
to compare across machines), and peak RSS of `fhiradapter validate` on NDJSON files of two sizes (equal
peaks = constant memory; `--skip-ndjson` leaves those runs out).

Issue 18's figures (`program_*`, on the mixed corpus of all program profiles as member records, through
the NDJSON path of `validate`): profiles alone, profiles + program rules, the same with 1 resource in 4
carrying errors, each beside fhir.resources' parse and the orjson parse floor of the same lines, with
the issue's target; and with `--rules-memory N` the peak RSS of `fhiradapter validate` (rules on) at
N/3 and N resources (`--rules-memory 300000` takes minutes).
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "profiles" / "examples"


def corpus() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*.json"))]


_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


def _vary(node: Any, n: int, key: str = "") -> Any:
    """A distinct copy: ids, identifier values, references and dates differ per copy, as in real data."""
    if isinstance(node, dict):
        return {k: _vary(v, n, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_vary(v, n, key) for v in node]
    if isinstance(node, str):
        if key in ("id", "value") and not node.startswith("http"):
            return f"{node}-{n}"[:64]
        if key == "reference" and "/" in node:
            return f"{node}-{n}"[:64]
        m = _DATE.match(node)
        if m:
            return f"{m.group(1)}-{m.group(2)}-{(int(m.group(3)) + n) % 28 + 1:02d}" + node[10:]
    return node


def varied_corpus(items: list[dict], count: int) -> list[dict]:
    return [_vary(items[i % len(items)], i // len(items)) for i in range(count)]


SHARED = ("Organization", "Practitioner")   # an agency's reference data: the same in every member's record


def _vary_member(node: Any, n: int, key: str = "") -> Any:
    """_vary, but references to the shared reference data stay as they are."""
    if isinstance(node, dict):
        return {k: _vary_member(v, n, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_vary_member(v, n, key) for v in node]
    if key == "reference" and isinstance(node, str) and node.startswith(tuple(f"{t}/" for t in SHARED)):
        return node
    return _vary(node, n, key)


def member_records(items: list[dict], count: int) -> list[dict]:
    """count resources as member records: one Patient with its Encounters, ServiceRequests, CarePlans
    and Consents of every program profile per record, the Organizations and Practitioner once."""
    shared = [r for r in items if r["resourceType"] in SHARED]
    own = [r for r in items if r["resourceType"] not in SHARED]
    out = list(shared)
    n = 0
    while len(out) < count:
        out.extend(_vary_member(r, n) for r in own[: count - len(out)])
        n += 1
    return out[:count]


def error_variant(resource: dict, n: int) -> dict:
    """The same resource with errors a real export carries: a status outside its value set, a malformed
    date, an unknown element (every 4th resource of the error-heavy corpus)."""
    bad = dict(resource)
    if "status" in bad:
        bad["status"] = "not-a-status"
    for key in ("birthDate", "authoredOn", "dateTime"):
        if key in bad:
            bad[key] = "2025-13-45"
    if isinstance(bad.get("period"), dict):
        bad["period"] = {**bad["period"], "start": "03/04/2025"}
    bad["unknownElement"] = n
    return bad


def with_errors(items: list[dict], every: int = 4) -> list[dict]:
    return [error_variant(r, i) if i % every == every - 1 else r for i, r in enumerate(items)]


def rate(fn, items: list, repeat_to: int) -> tuple[float, float]:
    """(resources per CPU second, per wall second) for fn over items repeated to repeat_to."""
    n = 0
    c0, w0 = time.process_time(), time.perf_counter()
    while n < repeat_to:
        for r in items:
            fn(r)
        n += len(items)
    return n / (time.process_time() - c0), n / (time.perf_counter() - w0)


def startup_seconds() -> float:
    code = ("import time; t=time.perf_counter(); from fhiradapter.validator import Validator; "
            "v=Validator(rules=False); import json; "
            "v.validate_resource(json.load(open(%r))); print(time.perf_counter()-t)"
            % str(EXAMPLES / "Encounter-mt-cmp-encounter-example.json"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def bundle_of(items: list[dict], size: int) -> dict:
    entries = []
    for i in range(size):
        r = copy.deepcopy(items[i % len(items)])
        r["id"] = f"r{i}"
        entries.append({"fullUrl": f"urn:uuid:00000000-0000-4000-8000-{i:012d}", "resource": r})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def ndjson_peak_rss(items: list[dict], lines: int, folder: Path) -> tuple[float, float]:
    """(peak RSS MB of `fhiradapter validate --no-rules` on an NDJSON file, seconds)."""
    path = folder / f"corpus-{lines}.ndjson"
    with open(path, "w") as fh:
        encoded = [json.dumps(r, separators=(",", ":")) for r in items]
        for i in range(lines):
            fh.write(encoded[i % len(encoded)] + "\n")
    cmd = [sys.executable, "-c", "from fhiradapter.cli import main; main()", "validate", "--no-rules",
           "--min-severity", "error", str(path)]
    t = time.perf_counter()
    # a fresh child per run: RUSAGE_CHILDREN is a max over children, so measure in a wrapper
    wrapper = ("import resource,subprocess,sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - t
    path.unlink()
    return int(out.stdout.strip()) / 1024, seconds


def _ndjson(items: list[dict], path: Path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for r in items:
            fh.write(json.dumps(r, separators=(",", ":")) + "\n")


def program_figures(count: int, folder: Path) -> dict[str, object]:
    """Issue 18's single-core figures on the mixed program corpus (best of 3 CPU rates each)."""
    import orjson
    from fhir.resources.R4B import get_fhir_model_class

    from fhiradapter import api
    clean = member_records(corpus(), count)
    paths = {"clean": folder / "program-clean.ndjson", "errors": folder / "program-errors.ndjson"}
    _ndjson(clean, paths["clean"])
    _ndjson(with_errors(clean), paths["errors"])
    lines = paths["clean"].read_bytes().splitlines()

    def best(fn: Any, n: int) -> float:
        fn()   # warm: compiled profiles, rule tables, pydantic models
        rates = []
        for _ in range(3):
            c = time.process_time()
            fn()
            rates.append(n / (time.process_time() - c))
        return max(rates)

    def validate(v: Any, path: Path) -> Any:
        return lambda: [None for _ in api.validate_files(v, [str(path)])]

    def parse() -> None:
        for r in clean:
            try:
                get_fhir_model_class(r["resourceType"]).model_validate(r)
            except Exception:
                pass
    profiles = api.open_validator(rules=False)
    rules = api.open_validator(rules=True)
    out: dict[str, object] = {}
    # the floor is ~100x quicker than validating: repeated so that the CPU clock's granularity does not matter
    floor = best(lambda: [orjson.loads(line) for _ in range(20) for line in lines], 20 * count)
    peer = best(parse, count)
    figures = {
        "program_profiles_per_cpu_s": (best(validate(profiles, paths["clean"]), count), 20_000),
        "program_rules_per_cpu_s": (best(validate(rules, paths["clean"]), count), 10_000),
        "program_rules_errors_per_cpu_s": (best(validate(rules, paths["errors"]), count), None),
    }
    out["program_corpus"] = f"{count} resources: member records of every program profile (validate_bench.member_records)"
    out["orjson_parse_floor_per_cpu_s"] = round(floor)
    out["fhir_resources_parse_per_cpu_s"] = round(peer)
    for name, (value, target) in figures.items():
        out[name] = (f"{round(value)}  (x{value / peer:.2f} fhir.resources, {value / floor:.3f} of the parse floor"
                     + (f"; target {target}: {'met' if value >= target else 'NOT met'})" if target else ")"))
    slower = figures["program_rules_per_cpu_s"][0] / figures["program_rules_errors_per_cpu_s"][0]
    out["program_errors_slowdown"] = f"{slower:.2f}x slower with 1 in 4 erroneous (target <= 1.5: " \
                                     f"{'met' if slower <= 1.5 else 'NOT met'})"
    return out


def rules_peak_rss(count: int, folder: Path) -> tuple[float, float]:
    """(peak RSS MB, CPU s) of `fhiradapter validate` with program rules on `count` resources."""
    path = folder / f"members-{count}.ndjson"
    _ndjson(member_records(corpus(), count), path)
    wrapper = ("import resource,subprocess,sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
               "r=resource.getrusage(resource.RUSAGE_CHILDREN); print(r.ru_maxrss, r.ru_utime + r.ru_stime)")
    cmd = [sys.executable, "-c", "from fhiradapter.cli import main; main()", "validate", "--min-severity", "error",
           str(path)]
    out = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, check=True)
    path.unlink()
    rss, cpu = out.stdout.split()
    return int(rss) / 1024, float(cpu)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--resources", type=int, default=5000)
    ap.add_argument("--ndjson-lines", type=int, default=100_000)
    ap.add_argument("--bundle-size", type=int, default=1000)
    ap.add_argument("--skip-ndjson", action="store_true", help="leave out the CLI NDJSON memory runs")
    ap.add_argument("--program-resources", type=int, default=5000,
                    help="size of the mixed program corpus of issue 18's figures (0: leave them out)")
    ap.add_argument("--rules-memory", type=int, default=0, metavar="N",
                    help="also peak RSS of validate with rules at N/3 and N resources")
    args = ap.parse_args()

    from fhir.resources.R4B import get_fhir_model_class

    from fhiradapter.validator import Validator

    base = corpus()
    rounds = 3
    per_round = max(len(base), args.resources // rounds)
    chunks = [varied_corpus(base, per_round * (k + 1))[per_round * k:] for k in range(rounds)]
    items = chunks[0]
    results: dict[str, object] = {"corpus": f"{per_round * rounds} distinct variants (ids, identifiers, "
                                            f"references, dates) of the {len(base)} resources in profiles/examples",
                                  "cpus": os.cpu_count()}
    results["startup_s"] = round(startup_seconds(), 3)
    if args.program_resources:
        with tempfile.TemporaryDirectory() as tmp:
            results.update(program_figures(args.program_resources, Path(tmp)))
    if args.rules_memory:
        with tempfile.TemporaryDirectory() as tmp:
            for n in (args.rules_memory // 3, args.rules_memory):
                rss, cpu = rules_peak_rss(n, Path(tmp))
                results[f"rules_{n}_peak_rss_mb"] = round(rss, 1)
                results[f"rules_{n}_cli_per_cpu_s"] = round(n / cpu)

    v = Validator(rules=False)

    def parse(r: dict) -> None:
        try:
            get_fhir_model_class(r["resourceType"]).model_validate(r)
        except Exception:
            pass
    for r in base:                      # warm both (compiled tables, pydantic models) on the originals
        v.validate_resource(r)
        parse(r)
    # each round sees resources neither side has seen; best round = least disturbed by other load
    ours_cpu = ours_wall = theirs_cpu = 0.0
    for chunk in chunks:
        c, w = rate(v.validate_resource, chunk, len(chunk))
        ours_cpu, ours_wall = max(ours_cpu, c), max(ours_wall, w)
        theirs_cpu = max(theirs_cpu, rate(parse, chunk[: len(chunk) // 3], len(chunk) // 3)[0])
    # the same with no remembered coded values (every Coding/CodeableConcept/Extension walked afresh):
    # the rate on data whose coded values never repeat
    cold = Validator(rules=False)
    cold.walker._memo_room = 0
    for r in base:
        cold.validate_resource(r)
    cold_cpu = max(rate(cold.validate_resource, chunk, len(chunk))[0] for chunk in chunks)
    results.update({
        "validate_per_cpu_s": round(ours_cpu), "validate_per_wall_s": round(ours_wall),
        "validate_no_repeats_per_cpu_s": round(cold_cpu),
        "fhir_resources_parse_per_cpu_s": round(theirs_cpu),
        "ratio_vs_fhir_resources": round(ours_cpu / theirs_cpu, 2),
    })

    bundle = bundle_of(items, args.bundle_size)
    v.validate_bundle(bundle)
    c, t = time.process_time(), time.perf_counter()
    v.validate_bundle(bundle)
    results[f"bundle_{args.bundle_size}_cpu_s"] = round(time.process_time() - c, 3)
    results[f"bundle_{args.bundle_size}_wall_s"] = round(time.perf_counter() - t, 3)
    vr = Validator(rules=True)
    vr.validate_bundle(bundle)
    c = time.process_time()
    vr.validate_bundle(bundle)
    results[f"bundle_{args.bundle_size}_with_rules_cpu_s"] = round(time.process_time() - c, 3)

    if args.skip_ndjson:
        _print(results)
        return
    with tempfile.TemporaryDirectory() as tmp:
        small = max(1000, args.ndjson_lines // 10)
        rss_small, _ = ndjson_peak_rss(items, small, Path(tmp))
        rss_big, secs = ndjson_peak_rss(items, args.ndjson_lines, Path(tmp))
    results.update({f"ndjson_{small}_peak_rss_mb": round(rss_small, 1),
                    f"ndjson_{args.ndjson_lines}_peak_rss_mb": round(rss_big, 1),
                    f"ndjson_{args.ndjson_lines}_cli_s": round(secs, 1),
                    "ndjson_cli_lines_per_s": round(args.ndjson_lines / secs)})

    _print(results)


def _print(results: dict) -> None:
    width = max(len(k) for k in results)
    for k, val in results.items():
        print(f"{k:<{width}}  {val}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
