"""Limits and signals, in a real process: a 1 GiB line under a memory cap, Ctrl-C during `run`,
`send` against a loopback port that refuses connections. The in-process suite covers the rest."""
from __future__ import annotations

import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from .support import ALLOWED_EXITS, invoke

REPO = Path(__file__).parents[2]
FIXTURE = REPO / "tests" / "mapping" / "fixtures" / "example"
CLI = [sys.executable, "-c", "from fhiradapter.cli import main; main()"]


def _capped(limit_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))


def test_a_1_gib_line_is_one_row_error_under_a_400_mb_memory_cap(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(FIXTURE / "input", folder)
    members = folder / "members.csv"
    text = members.read_text()
    with open(members, "wb") as handle:   # header, a 1 GiB line (sparse: no disk), then every row again
        header, rest = text.split("\n", 1)
        handle.write(header.encode() + b"\nM999,")
        handle.seek(1 << 30, os.SEEK_CUR)
        handle.write(b",x\n" + rest.encode())
    rows = rest.count("\n")
    result = subprocess.run(CLI + ["map", "--mapping", str(FIXTURE / "mapping.yaml"), str(folder),
                                   "--out", str(tmp_path / "out")],
                            preexec_fn=lambda: _capped(400 * 1024 * 1024), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "members.csv:2: line longer than 32 MiB" in result.stdout
    assert f"members.csv: {rows + 1} read, {rows} mapped" in result.stdout


def test_ctrl_c_during_run_exits_130(tmp_path: Path) -> None:
    out = tmp_path / "out"
    process = subprocess.Popen(CLI + ["run", "--program", "all", str(REPO / "examples"), "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not out.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)
    assert process.poll() is None, "the run ended before it could be interrupted"
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-2000:]
    assert f"interrupted: {out / 'mt-cmp'} is incomplete" in stderr and "Traceback" not in stderr + stdout
    assert not (out / "mt-cmp" / "output.json").exists() and not list(out.glob("*.partial-*"))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_send_to_a_refusing_loopback_endpoint(tmp_path: Path, monkeypatch: object) -> None:
    out = tmp_path / "out"
    small = tmp_path / "in"
    small.mkdir()
    for path in (REPO / "examples" / "mt-cmp").glob("*.csv"):
        (small / path.name).write_text("".join(path.read_text().splitlines(keepends=True)[:8]))
    made = invoke(["run", "--program", "mt-cmp", str(small), "--out", str(out)])
    assert made.code in (0, 1), made.text[-2000:]
    secret = "sekrit-token-ZZ9"
    env = dict(os.environ, HOSTILE_TOKEN=secret)
    result = subprocess.run(CLI + ["send", "--endpoint", f"http://127.0.0.1:{_closed_port()}/fhir",
                                   "--max-attempts", "1", "--timeout", "2", "--auth", "bearer",
                                   "--token-env", "HOSTILE_TOKEN", str(out)],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode in ALLOWED_EXITS - {0}, result.stderr[-2000:]
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".ndjson", ".sqlite", ".txt"):
            assert secret.encode() not in path.read_bytes(), path
    assert secret not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
