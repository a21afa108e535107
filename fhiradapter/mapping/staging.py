"""Staged output: `map`/`run` write into a sibling folder `OUT.partial-<pid>` and move the files into
OUT only when the run completed, so an interrupted run (Ctrl-C, a crash, a full disk) never leaves
output that looks whole. OUT keeps what a previous complete run wrote (and its journal, outbox.sqlite,
which is no output of ours) until the new output replaces it.

The manifest (output.json) moves last: a folder with output.json is a complete output.
"""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from fhiradapter.mapping.writers import OutputPathError, clear_previous, output_dir

MANIFEST = "output.json"
# what a run writes, in the order it is moved into OUT (the manifest last)
OUR_ENTRIES = ("ndjson", "bundles", "errors.ndjson", "findings.ndjson", "summary.json", "report.html", MANIFEST)


def staging_path(out: Path) -> Path:
    return out.parent / f"{out.name}.partial-{os.getpid()}"


@contextmanager
def staged(out: str | Path) -> Iterator[Path]:
    """Yields the staging folder to write into; on success its files replace ours in OUT, on any
    exception (KeyboardInterrupt included) the staging folder is removed and OUT is left as it was."""
    out = Path(out)
    if out.is_symlink():
        raise OutputPathError(f"{out} is a symbolic link; refusing to write through it (remove it)")
    stage = staging_path(out)
    if stage.is_symlink() or stage.exists():
        _remove(stage)
    stage.mkdir(parents=True)
    try:
        yield stage
        commit(stage, out)
    except BaseException:
        _remove(stage)
        raise


def commit(stage: Path, out: Path) -> None:
    """Move the staged output into OUT: the previous run's files of ours go first (the manifest
    before anything else, so OUT never holds an old manifest over new files), then the new ones."""
    output_dir(out)
    for name in (MANIFEST, "report.html"):
        old = out / name
        if old.is_symlink() or old.is_file():
            old.unlink()
    clear_previous(out)
    for name in OUR_ENTRIES:
        src = stage / name
        if not src.exists():
            continue
        dst = out / name
        if src.is_dir():
            if dst.is_dir() and not dst.is_symlink():
                for item in sorted(src.iterdir()):   # a folder of ours that may hold other files too
                    os.replace(item, dst / item.name)
            else:
                os.replace(src, dst)
        else:
            os.replace(src, dst)
    _remove(stage)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path, ignore_errors=True)
