"""Ctrl-C during `map`: exit 130, "interrupted: OUT is incomplete", and no output that looks whole
(issue 17 §3). A real SIGINT to a real `fhiradapter` process, mid-run on an export large enough to
still be writing."""
from __future__ import annotations

import hashlib
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
import map_bench  # noqa: E402  (the benchmark's generator and mapping: a plain mt-cmp-like export)

CLI = [sys.executable, str(ROOT / "cli.py")]


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("big")
    (folder / "in").mkdir()
    map_bench.generate(folder / "in", 60_000)
    (folder / "bench.yaml").write_text(map_bench.MAPPING, encoding="utf-8")
    return folder


def _interrupt_mid_run(export: Path, out: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen(CLI + ["map", str(export / "in"), "--mapping", str(export / "bench.yaml"),
                                   "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    staged = out.parent / f"{out.name}.partial-{proc.pid}"
    deadline = time.monotonic() + 120
    # wait until the run is well into writing: its staged Encounter file has grown
    while time.monotonic() < deadline and proc.poll() is None:
        encounters = staged / "ndjson" / "Encounter.ndjson"
        if encounters.is_file() and encounters.stat().st_size > 200_000:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".fhiradapter.lock"}


def test_sigint_exits_130_and_leaves_no_output(export: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = _interrupt_mid_run(export, out)
    assert done.returncode == 130, done.stderr
    assert f"interrupted: {out} is incomplete" in done.stderr
    assert "Traceback" not in done.stderr and "Aborted" not in done.stderr
    # nothing of the run is in OUT, and the staging folder is gone
    assert not out.exists() or _tree(out) == {}
    assert not list(tmp_path.glob("out.partial-*"))


def test_sigint_keeps_the_previous_complete_output(export: Path, tmp_path: Path) -> None:
    small = tmp_path / "small"
    shutil.copytree(ROOT / "tests" / "mapping" / "fixtures" / "example", small)
    out = tmp_path / "out"
    first = subprocess.run(CLI + ["map", str(small / "input"), "--mapping", str(small / "mapping.yaml"),
                                  "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert first.returncode == 1 and (out / "output.json").is_file()
    before = _tree(out)
    done = _interrupt_mid_run(export, out)
    assert done.returncode == 130
    assert _tree(out) == before          # the earlier run's files, whole and unchanged
    assert not list(tmp_path.glob("out.partial-*"))
