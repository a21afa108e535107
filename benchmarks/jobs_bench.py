"""--jobs and Spark scaling (issue 18): the same work with 1 and N worker processes, and on Spark.

    python benchmarks/jobs_bench.py                   # examples x4: validate, run, rules check, map
    python benchmarks/jobs_bench.py --scale 8 --jobs 1,2 --spark 1,2

Generates the example exports at --scale (examples/generate.py), runs `fhiradapter run` once to get
NDJSON, then times each command with each --jobs value in its own process. Printed per run: wall
seconds, CPU seconds of the whole process tree (parent, workers, fork server), the parent's own CPU (and its
share of the tree's: with --jobs N the parent must stay well under 1/N of it to scale), and two
speed-ups against --jobs 1: by wall clock, and by CPU ("ideal": what the run would take on idle
cores = max(parent CPU, all CPU / cores)). On a shared, loaded machine read the ideal column: the
wall clock there measures the other jobs as much as ours. Worker peak RSS shows the bounded memory.
--profile-parent map prints where the parent's CPU goes (cProfile of its main thread, and the CPU of
the pool's threads). --spark N runs `python -m fhiradapter.spark --master local[N] validate` on the same NDJSON
(wall includes the JVM start; CPU is the whole tree: JVM, Python workers).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, str(ROOT / "cli.py")]


def timed(cmd: list[str], cpu_log: Path) -> dict[str, float]:
    """Wall, CPU of the tree and of the parent, peak worker RSS (MB) of one command."""
    cpu_log.unlink(missing_ok=True)
    env = dict(os.environ, FHIRADAPTER_JOBS_CPU_LOG=str(cpu_log))
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    tree: dict[int, float] = {}   # CPU seconds last seen per process below ours (Spark's JVM is not reaped by us)
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        for child in _descendants(proc.pid):
            tree[child] = max(tree.get(child, 0.0), _cpu(child))
        time.sleep(0.25)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} exited {code}")
    parent = usage.ru_utime + usage.ru_stime   # the CLI process and the children it reaped (Spark: the JVM)
    workers = [line.split() for line in cpu_log.read_text().splitlines()] if cpu_log.exists() else []
    worker_cpu = sum(float(w[0]) for w in workers)
    # workers forked by the parent itself are reaped by it: their CPU is in its rusage, take it out
    parent -= sum(float(w[0]) for w in workers if int(w[2]) == proc.pid)
    # the fork server (it imports the modules the workers share) and the resource tracker are ours
    # too but no child the parent reaps: their CPU as last sampled from /proc
    helpers = sum(cpu for pid, cpu in tree.items() if pid != proc.pid and str(pid) not in {w[-1] for w in workers})
    return {"wall": wall, "cpu": parent + worker_cpu + helpers, "parent": parent, "tree": sum(tree.values()),
            "rss": max((int(w[1]) for w in workers), default=0) / 1024}


TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()


def _cpu(pid: int) -> float:
    try:
        fields = _stat(pid)
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK   # utime + stime of the process itself


def _descendants(root: int) -> set[int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)] = int(_stat(int(entry))[1])
            except OSError:
                continue
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found | {root}


PROFILED = """
import cProfile, pstats, runpy, sys, time
sys.argv = sys.argv[1:]
profile = cProfile.Profile(time.thread_time)   # the main thread's CPU: the workers and waiting do not count
profile.enable()
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit:
    pass
profile.disable()
main = time.thread_time()
other = time.process_time() - main
stats = pstats.Stats(profile, stream=sys.stderr)
print(f"parent: main thread {main:.2f} CPU-s (profiled), other threads (the pool's task and result "
      f"handlers: pickling, unpickling) {other:.2f} CPU-s", file=sys.stderr)
stats.sort_stats("tottime").print_stats(20)
"""


def profile_parent(cmd: list[str], work: Path) -> None:
    """Where the parent's own CPU goes (profiled, so about twice its unprofiled time)."""
    result = subprocess.run([sys.executable, "-c", PROFILED, *cmd[1:]], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, cwd=work)
    text = result.stderr
    print(text[text.find("parent: main thread"):] if "parent: main thread" in text else text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=4.0, help="examples/generate.py --scale (default 4)")
    parser.add_argument("--jobs", default="1,2", help="worker counts to compare (default 1,2)")
    parser.add_argument("--commands", default="validate,run,rules,map")
    parser.add_argument("--spark", default="", help="Spark local[N] runs of validate, e.g. 1,2")
    parser.add_argument("--work", help="folder to keep the corpus in (default: a temporary one)")
    parser.add_argument("--profile-parent", metavar="COMMAND",
                        help="after the table, profile the parent of COMMAND with the largest --jobs: its main "
                             "thread's CPU per function (cProfile, thread CPU clock) and its other threads' CPU")
    args = parser.parse_args()
    jobs = [int(j) for j in args.jobs.split(",")]
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="jobs-bench-") as tmp:
        work = Path(args.work or tmp)
        corpus = work / f"examples-x{args.scale:g}"
        if not corpus.is_dir():
            subprocess.run([sys.executable, str(ROOT / "examples" / "generate.py"), "--scale", str(args.scale),
                            "--out", str(corpus)], check=True, stdout=subprocess.DEVNULL)
        ran = work / f"run-x{args.scale:g}"
        if not ran.is_dir():
            subprocess.run([*CLI, "run", "--program", "all", str(corpus), "--out", str(ran), "--no-progress",
                            "--jobs", "1"], stdout=subprocess.DEVNULL, check=False)
        ndjson = [str(p) for p in sorted(ran.glob("*/ndjson"))]
        lines = sum(1 for p in ran.glob("*/ndjson/*.ndjson") for _ in open(p, "rb"))
        rows = sum(1 for p in (corpus / "mt-cmp").glob("*.csv") for _ in open(p, "rb"))
        commands = {
            "validate": (lines, "resources", lambda j: [*CLI, "validate", *ndjson, "--format", "json",
                                                        "--output", os.devnull, "--jobs", str(j)]),
            "rules": (lines, "resources", lambda j: [*CLI, "rules", "check", *ndjson, "--format", "json",
                                                     "--jobs", str(j)]),
            "run": (rows, "rows", lambda j: [*CLI, "run", "--program", "mt-cmp", str(corpus / "mt-cmp"), "--out",
                                             str(work / f"out-run-{j}"), "--no-progress", "--jobs", str(j)]),
            "map": (rows, "rows", lambda j: [*CLI, "map", "--mapping", str(ROOT / "mappings" / "mt-cmp.yaml"),
                                             str(corpus / "mt-cmp"), "--out", str(work / f"out-map-{j}"),
                                             "--no-progress", "--jobs", str(j)]),
        }
        print(f"corpus: examples x{args.scale:g} ({lines:,} NDJSON resources; mt-cmp export {rows:,} lines); "
              f"{cores} cores; load average {os.getloadavg()[0]:.1f}")
        print(f"{'command':<10}{'jobs':>6}{'wall s':>9}{'CPU s':>8}{'parent':>8}{'parent %':>10}{'per CPU-s':>11}"
              f"{'wall x':>8}{'ideal x':>9}{'worker MB':>11}")
        for name in args.commands.split(","):
            count, unit, make = commands[name]
            base = None
            for j in jobs:
                m = timed(make(j), work / "cpu.log")
                if base is None:
                    base = m
                ideal = base["cpu"] / max(m["parent"], m["cpu"] / min(j, cores) if j > 1 else m["cpu"])
                print(f"{name:<10}{j:>6}{m['wall']:>9.1f}{m['cpu']:>8.1f}{m['parent']:>8.1f}"
                      f"{100 * m['parent'] / m['cpu']:>9.0f}%"
                      f"{count / m['cpu']:>9,.0f}/s{base['wall'] / m['wall']:>8.2f}{ideal:>9.2f}"
                      f"{m['rss']:>11.0f}  ({unit})")
        if args.profile_parent:
            profile_parent(commands[args.profile_parent][2](max(jobs)), work)
        for n in [int(x) for x in args.spark.split(",") if x]:
            m = timed([sys.executable, "-m", "fhiradapter.spark", "--master", f"local[{n}]", "validate",
                       "--out", str(work / f"spark-{n}"), *ndjson], work / "cpu.log")
            print(f"{'spark':<10}{f'local[{n}]':>6}{m['wall']:>9.1f}{m['tree']:>8.1f}{'':>8}"
                  f"{lines / m['tree']:>9,.0f}/s   (resources; wall and CPU include the JVM start; CPU sampled "
                  f"from /proc every 0.25 s)")


if __name__ == "__main__":
    main()
