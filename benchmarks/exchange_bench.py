"""Delivery throughput against the local Medplum-based test server (tools/fhir-server/server.mjs).

    python benchmarks/exchange_bench.py                     # 200 members x 5 contacts
    python benchmarks/exchange_bench.py --members 1000 --contacts 10 --no-validate

Prints: local validation + send time, Bundles/s and entries/s, and the time of a second run that
finds everything delivered in the journal (the resume path). The server is in-process memory on
loopback, so this measures the client and journal overhead, not a payer's network.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fhiradapter.exchange.client import FhirClient  # noqa: E402
from fhiradapter.exchange.journal import Journal  # noqa: E402
from fhiradapter.exchange.sender import Sender  # noqa: E402
from tests.exchange.builders import members_out  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--contacts", type=int, default=5)
    parser.add_argument("--no-validate", action="store_true", help="skip local validation (client cost only)")
    parser.add_argument("--conditional", action="store_true",
                        help="contacts by conditional create (the in-memory server then scans per entry: "
                             "its cost grows with what it holds)")
    args = parser.parse_args()
    # SIGTERM (e.g. from `timeout`) must still stop the server: turn it into an exception.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    server = subprocess.Popen(["node", str(ROOT / "tools/fhir-server/server.mjs"), "--port", "0",
                               "--no-validate-writes"], stdout=subprocess.PIPE, text=True)
    try:
        port = json.loads(server.stdout.readline())["listening"]
        base = f"http://127.0.0.1:{port}/fhir"
        with tempfile.TemporaryDirectory() as tmp:
            out = members_out(Path(tmp) / "out", args.members, args.contacts,
                              encounter_method="POST" if args.conditional else "PUT")
            entries = args.members * (args.contacts + 1)
            checker = (lambda bundle, source: []) if args.no_validate else None
            with Journal(out / "outbox.sqlite") as journal:
                sender = Sender(FhirClient(base), journal, checker=checker)
                start = time.perf_counter()
                summary = sender.run([out])
                elapsed = time.perf_counter() - start
                assert summary.delivered == args.members, summary
                start = time.perf_counter()
                again = sender.run([out])
                resume = time.perf_counter() - start
                assert again.already_delivered == args.members
            print(f"{args.members} Bundles, {entries} entries, local validation "
                  f"{'off' if args.no_validate else 'on'}, contacts by "
                  f"{'conditional create' if args.conditional else 'PUT Type/id'}")
            print(f"send:   {elapsed:.2f} s  {args.members / elapsed:.1f} Bundles/s  {entries / elapsed:.0f} entries/s")
            print(f"resume: {resume:.2f} s  (all already delivered; {args.members / resume:.0f} Bundles/s checked)")
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(10)


if __name__ == "__main__":
    main()
