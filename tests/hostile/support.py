"""Helpers of the hostile-input suite: run the CLI in-process (its real exit-code handling, `main`),
snapshot a folder to prove nothing outside OUT changed, and the checks every run must pass."""
from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

from fhiradapter.cli import main

ALLOWED_EXITS = {0, 1, 2}


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def invoke(argv: list[str]) -> Outcome:
    """`fhiradapter ARGV` in this process, through `main` (so exit codes are the user's)."""
    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code
    return Outcome(code if isinstance(code, int) else (0 if code is None else 2), out.getvalue(), err.getvalue())


def snapshot(folder: Path, skip: Path | None = None) -> dict[str, tuple[int, int]]:
    """Every path under `folder` (links not followed) with size and mtime, except those under `skip`."""
    found: dict[str, tuple[int, int]] = {}
    for path in folder.rglob("*"):
        if skip is not None and (path == skip or skip in path.parents):
            continue
        stat = path.lstat()
        found[str(path.relative_to(folder))] = (stat.st_size, stat.st_mtime_ns)
    return found


def report_texts(out: Path) -> dict[str, str]:
    """The files of an output folder a person reads about problems (never the mapped data itself)."""
    texts = {}
    for name in ("errors.ndjson", "findings.ndjson", "summary.json", "output.json", "report.html"):
        path = out / name
        if path.is_file():
            texts[name] = path.read_text("utf-8", errors="replace")
    return texts


def check_summary(out: Path, expected_reads: dict[str, int] | None = None) -> dict[str, object]:
    """rows read = mapped + rejected, per file and in total; and (when given) every row written was read."""
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    rows = summary["rows"]
    assert rows["read"] == rows["mapped"] + rows["rejected"], rows
    for name, count in summary["files"].items():
        assert count["read"] == count["mapped"] + count["rejected"], (name, count)
        if expected_reads is not None and name in expected_reads:
            assert count["read"] == expected_reads[name], (name, count, expected_reads[name])
    return summary
