"""Issue 14 §6: `run --endpoint` and `send` on the same output folder never interleave: the second one
stops at once (exit 2) and names the command holding the folder; the Bundle files stay as they were."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from fhiradapter.cli import cli

from .faultproxy import FaultProxy

pytestmark = pytest.mark.node

FIXTURE = Path(__file__).resolve().parents[1] / "mapping" / "fixtures" / "example"


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from fhiradapter.cli import main; main()", *args]


def _run_args(out: Path, endpoint: str) -> list[str]:
    return ["run", "--program", "mt-cmp", str(FIXTURE / "input"), "--mapping", str(FIXTURE / "mapping.yaml"),
            "--out", str(out), "--endpoint", endpoint]


def _snapshot(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "bundles").glob("*.json"))}


def test_send_and_run_on_one_folder_refuse_each_other_naming_the_holder(server, tmp_path):
    out = tmp_path / "out"
    first = CliRunner().invoke(cli, ["run", "--program", "mt-cmp", str(FIXTURE / "input"), "--mapping",
                                     str(FIXTURE / "mapping.yaml"), "--out", str(out)])
    assert first.exit_code in (0, 1) and _snapshot(out)
    before = _snapshot(out)

    # `send` holds the folder (its second request is held by the proxy) ...
    with FaultProxy(server.base, ["pass", "hold"], lifetime=60) as proxy:
        sending = subprocess.Popen(_cli("send", "--endpoint", proxy.url(), str(out)), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            assert proxy.held.wait(60), "send never reached the server"
            refused = subprocess.run(_cli(*_run_args(out, server.base)), capture_output=True, check=False, text=True,
                                     timeout=120)
            assert refused.returncode == 2, refused.stderr
            assert f"in use by `fhiradapter send` (pid {sending.pid}" in refused.stderr
            assert _snapshot(out) == before                     # nothing rewritten under the sender
            second = subprocess.run(_cli("send", "--endpoint", server.base, str(out)), capture_output=True, check=False,
                                    text=True, timeout=120)
            assert second.returncode == 2 and "in use by `fhiradapter send`" in second.stderr
        finally:
            proxy.release.set()
            sending.wait(60)

    # ... and `run --endpoint` holds it while it writes and sends.
    with FaultProxy(server.base, ["pass", "hold"], lifetime=60) as proxy:
        running = subprocess.Popen(_cli(*_run_args(out, proxy.url())), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            assert proxy.held.wait(90), "run never reached the server"
            refused = subprocess.run(_cli("send", "--endpoint", server.base, str(out)), capture_output=True,
                                     check=False, text=True, timeout=120)
            assert refused.returncode == 2
            assert f"in use by `fhiradapter run` (pid {running.pid}" in refused.stderr
        finally:
            proxy.release.set()
            running.wait(120)
    # Once both are done, the folder is free again.
    done = subprocess.run(_cli("send", "--endpoint", server.base, str(out)), capture_output=True, check=False,
                          text=True, timeout=300)
    assert done.returncode in (0, 1) and "in use by" not in done.stderr
