"""One writer per output folder: `run` (writing Bundles) and `send` (reading and delivering them) never
interleave on the same folder.

An OS lock (flock) on `{folder}/.fhiradapter.lock`, released by the kernel when the process ends (even
by SIGKILL), so a crash leaves no stale lock. The file names the holder (command, pid, start time) so
the second command can say who it waits for. Re-entrant within one process: `run --endpoint` holds the
folder while it maps and then sends it itself. On non-POSIX systems there is no lock (documented).
"""
from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Self

LOCK_NAME = ".fhiradapter.lock"

_held: dict[Path, tuple[IO[str], int]] = {}


class FolderBusy(Exception):
    """Another process is using the folder; the message names it."""


def _holder(handle: IO[str]) -> str:
    try:
        handle.seek(0)
        info = json.loads(handle.read(4096) or "{}")
        return f"`fhiradapter {info.get('command', '?')}` (pid {info.get('pid', '?')}, since {info.get('since', '?')})"
    except (OSError, ValueError):
        return "another fhiradapter process"


class FolderLock:
    def __init__(self, folder: str | Path, command: str) -> None:
        self.folder = Path(folder)
        self.command = command
        self._key: Path | None = None

    def acquire(self) -> Self:
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        key = self.folder.resolve()
        if key in _held:
            handle, count = _held[key]
            _held[key] = (handle, count + 1)
            self._key = key
            return self
        handle = open(key / LOCK_NAME, "a+", encoding="utf-8")  # noqa: SIM115 - held open: it IS the lock
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _holder(handle)
            handle.close()
            raise FolderBusy(f"{self.folder} is in use by {holder}; wait for it to finish") from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"command": self.command, "pid": os.getpid(),
                                 "since": datetime.now(UTC).isoformat(timespec="seconds")}))
        handle.flush()
        _held[key] = (handle, 1)
        self._key = key
        return self

    def release(self) -> None:
        if self._key is None:
            return
        handle, count = _held[self._key]
        if count > 1:
            _held[self._key] = (handle, count - 1)
        else:
            del _held[self._key]
            try:   # leave the file empty: a re-run writes byte-identical output folders
                handle.seek(0)
                handle.truncate()
            except OSError:
                pass
            handle.close()
        self._key = None

    def __enter__(self) -> Self:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def output_folders(paths: list[str | Path]) -> list[Path]:
    """The map/run output folders among `paths` (a folder, or the folder of files in its bundles/)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        folder = path if path.is_dir() else (path.parent.parent if path.parent.name == "bundles" else None)
        if folder is not None and folder not in found:
            found.append(folder)
    return found
