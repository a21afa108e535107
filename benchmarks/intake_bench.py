"""Load test of `fhiradapter serve` (the payer intake gateway) over real HTTP.

    python benchmarks/intake_bench.py [--workers 2] [--duration 20] [--connections 32]
                                      [--memory-requests 100000] [--client wrk|httpx]

Starts the gateway on a free loopback port (no upstream: accepted submissions are spooled and stay
queued, so the figures are the gateway's own, not the payer server's), then measures:
  1. POST /Encounter/$validate of one mt-cmp program Encounter (target >= 1,500 req/s, p99 < 50 ms);
  2. POST / transaction Bundles of 50 entries (one member's record from the mt-cmp example), each with
     its own X-Request-Id, so every one is validated, ruled, recorded and spooled (target >= 100/s);
  3. memory: $validate until --memory-requests requests were answered, sampling the RSS of the gateway's
     processes; flat means the last sample is within 10% of the first after warm-up.
The load generator is wrk (apt install wrk) when present, else an asyncio client on httpx.
Prints throughput, latency percentiles (p50/p90/p99/max) and peak RSS.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
HEADERS = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    statuses: dict[str, int]
    percentiles: dict[str, float]      # milliseconds
    rss_mb: list[float] = field(default_factory=list)
    cpu: float = 0.0                   # gateway CPU seconds spent on this phase

    def report(self) -> str:
        rate = self.requests / self.seconds if self.seconds else 0.0
        p = self.percentiles
        lines = [(f"{self.name}: {self.requests} requests in {self.seconds:.1f} s = {rate:,.0f} req/s; "
                  f"latency ms p50 {p.get('p50', 0):.1f} p90 {p.get('p90', 0):.1f} p99 {p.get('p99', 0):.1f} "
                  f"max {p.get('max', 0):.1f}; statuses {self.statuses}")]
        if self.cpu:
            per = self.cpu / max(self.requests, 1) * 1000
            lines.append(f"  gateway CPU {per:.2f} ms per request = {1000 / per:,.0f} requests per CPU-second "
                         f"(about {2000 / per:,.0f}/s on 2 idle cores, before the load generator's share)")
        if self.rss_mb:
            lines.append(f"  gateway RSS MB (all processes): first {self.rss_mb[0]:.0f}, last {self.rss_mb[-1]:.0f}, "
                         f"peak {max(self.rss_mb):.0f} over {len(self.rss_mb)} samples")
        return "\n".join(lines)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _family(root_pid: int) -> set[int]:
    pids = {root_pid}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        ppid = re.search(r"^PPid:\s+(\d+)", text, re.MULTILINE)
        if ppid and int(ppid.group(1)) == root_pid:
            pids.add(int(status.parent.name))
    return pids


def cpu_seconds(root_pid: int) -> float:
    """User + system CPU time of the gateway's processes: a figure other jobs on the host barely move."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in _family(root_pid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def rss_mb(root_pid: int) -> float:
    """Resident memory of a process and its children (uvicorn's workers), from /proc."""
    pids = _family(root_pid)
    total = 0
    for pid in pids:
        try:
            match = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
        except OSError:
            continue
        total += int(match.group(1)) if match else 0
    return total / 1024


class Sampler:
    def __init__(self, pid: int, every: float = 1.0) -> None:
        self.pid, self.every = pid, every
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append(rss_mb(self.pid))

    def __enter__(self) -> Sampler:  # noqa: PYI034
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# -- load generators ------------------------------------------------------------------------------

_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/fhir+json"
local f = io.open("%(body)s", "rb"); wrk.body = f:read("*all"); f:close()
local counter = 0
local prefix = tostring(math.random(1, 1000000000))
local unique = %(unique)s
request = function()
  if unique then
    counter = counter + 1
    wrk.headers["X-Request-Id"] = prefix .. "-" .. counter
  end
  return wrk.format(nil, "%(path)s")
end
local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
done = function(summary, latency, requests)
  io.write(string.format("JSON{\\"requests\\": %%d, \\"seconds\\": %%f, \\"p50\\": %%f, \\"p90\\": %%f, \\"p99\\": %%f, \\"max\\": %%f, \\"non2xx\\": %%d}\\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def run_wrk(base: str, path: str, body: Path, *, unique: bool, connections: int, duration: float,
            threads: int = 1) -> Result:
    script = body.with_suffix(".lua")
    script.write_text(_LUA % {"body": body, "path": path, "unique": "true" if unique else "false"})
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration:.0f}s",
                          "--timeout", "10s", "-s", str(script), base], capture_output=True, text=True,
                         check=True).stdout
    data = json.loads(out[out.index("JSON{") + 4:].splitlines()[0])
    statuses = {"errors(non-2xx/3xx or socket)": data["non2xx"]} if data["non2xx"] else {"ok": data["requests"]}
    return Result(path, data["requests"], data["seconds"], statuses,
                  {k: data[k] for k in ("p50", "p90", "p99", "max")})


async def _httpx_load(base: str, path: str, body: bytes, *, unique: bool, connections: int,
                      duration: float, max_requests: int | None) -> Result:
    import httpx

    latencies: list[float] = []
    statuses: dict[str, int] = {}
    deadline = time.monotonic() + duration
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        async def worker() -> None:
            while time.monotonic() < deadline and (max_requests is None or len(latencies) < max_requests):
                headers = dict(HEADERS)
                if unique:
                    headers["X-Request-Id"] = str(uuid.uuid4())
                started = time.perf_counter()
                response = await client.post(path, content=body, headers=headers)
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(connections)))
        seconds = time.monotonic() - started
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0.0

    return Result(path, len(latencies), seconds, statuses,
                  {"p50": pct(0.50), "p90": pct(0.90), "p99": pct(0.99), "max": latencies[-1] if latencies else 0})


def load(client: str, base: str, path: str, body: Path, *, unique: bool, connections: int, duration: float,
         max_requests: int | None = None) -> Result:
    if client == "wrk":
        return run_wrk(base, path, body, unique=unique, connections=connections, duration=duration)
    return asyncio.run(_httpx_load(base, path, body.read_bytes(), unique=unique, connections=connections,
                                   duration=duration, max_requests=max_requests))


# -- the gateway and its inputs ------------------------------------------------------------------

def example_inputs(folder: Path) -> tuple[Path, Path]:
    """(one program Encounter, a 50-entry member Bundle) from the mt-cmp example's mapper output."""
    out = folder / "out"
    subprocess.run([sys.executable, "-c", "from fhiradapter.cli import main; main()", "run", "--program", "mt-cmp",
                    str(REPO / "examples" / "mt-cmp"), "--out", str(out)], check=False, capture_output=True)
    from fhiradapter.validator import validate_issues

    for path in sorted((out / "bundles").glob("*.json")):
        if path.name.startswith("000-shared"):
            continue
        bundle: dict[str, Any] = json.loads(path.read_text())
        bundle["entry"] = bundle["entry"][:50]
        if len(bundle["entry"]) == 50 and not any(i.is_error for i in validate_issues(bundle)):
            encounter = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Encounter")
            (folder / "encounter.json").write_text(json.dumps(encounter))
            (folder / "bundle50.json").write_text(json.dumps(bundle))
            return folder / "encounter.json", folder / "bundle50.json"
    raise SystemExit("no valid 50-entry member Bundle in the mt-cmp example output")


def start_gateway(folder: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    config = folder / "intake.toml"
    config.write_text(f'[server]\nhost = "127.0.0.1"\nport = {port}\nworkers = {workers}\n'
                      f'data_dir = "{folder / "data"}"\naudit_log = "{folder / "audit.log"}"\n'
                      f'[limits]\nvalidation_queue = 512\n')
    process = subprocess.Popen([sys.executable, "-c", "from fhiradapter.cli import main; main()", "serve",
                                "--config", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import urllib.request

    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/metadata", timeout=2) as response:
                if response.status == 200:
                    return process, base
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the gateway did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default 2)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per throughput phase")
    parser.add_argument("--memory-requests", type=int, default=100_000)
    parser.add_argument("--client", choices=["auto", "wrk", "httpx"], default="auto")
    args = parser.parse_args()
    client = ("wrk" if shutil.which("wrk") else "httpx") if args.client == "auto" else args.client
    folder = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    encounter, bundle = example_inputs(folder)
    process, base = start_gateway(folder, args.workers)
    print(f"gateway {base}, {args.workers} worker(s), load generator {client}, {os.cpu_count()} CPUs, "
          f"{args.connections} connections")
    try:
        load(client, base, "/Encounter/$validate", encounter, unique=False, connections=8, duration=3)  # warm-up
        before = cpu_seconds(process.pid)
        validate = load(client, base, "/Encounter/$validate", encounter, unique=False,
                        connections=args.connections, duration=args.duration)
        validate.cpu = cpu_seconds(process.pid) - before
        print(validate.report())
        print("  target >= 1,500 req/s with p99 < 50 ms:",
              "met" if validate.requests / validate.seconds >= 1500 and validate.percentiles["p99"] < 50 else "NOT met")
        before = cpu_seconds(process.pid)
        bundles = load(client, base, "/", bundle, unique=True, connections=min(args.connections, 8),
                       duration=args.duration)
        bundles.cpu = cpu_seconds(process.pid) - before
        bundles.name = "POST / transaction Bundle of 50 entries"
        print(bundles.report())
        print("  target >= 100 Bundles/s:", "met" if bundles.requests / bundles.seconds >= 100 else "NOT met")
        rate = max(validate.requests / validate.seconds, 1.0)
        with Sampler(process.pid) as sampler:
            memory = load(client, base, "/Encounter/$validate", encounter, unique=False,
                          connections=args.connections, duration=args.memory_requests / rate * 1.3,
                          max_requests=args.memory_requests)
        memory.rss_mb = sampler.samples or [rss_mb(process.pid)]
        memory.name = f"memory run ({args.memory_requests:,} requests wanted)"
        print(memory.report())
        warm = memory.rss_mb[min(len(memory.rss_mb) - 1, 2)]
        print("  memory flat (last within 10% of the early sample):",
              "yes" if memory.rss_mb[-1] <= warm * 1.10 else "NO")
    finally:
        process.terminate()
        process.wait(30)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
