"""Garbage-collector settings for long runs over many records.

A run allocates millions of short-lived dicts and holds large long-lived structures (compiled
profiles, the terminology, mapped resources waiting for their Bundle). With the default settings
the collector walks those long-lived objects again and again: measured at ~8 % of `run`'s CPU
(benchmarks/map_bench.py, validated phase). Records hold no reference cycles, so collecting less
often frees the same memory; freezing what is loaded before the run keeps it out of every pass.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

YOUNG_THRESHOLD = 10_000   # allocations between young-generation passes (CPython's default is 700)
_runs = 0                  # long_run blocks open (keep_long_lived acts only inside one)


@contextmanager
def long_run() -> Iterator[None]:
    """Freeze the objects that exist now and collect less often until the block ends."""
    global _runs
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(previous[0], YOUNG_THRESHOLD), *previous[1:])
    _runs += 1
    try:
        yield
    finally:
        _runs -= 1
        gc.set_threshold(*previous)
        if not _runs:
            gc.unfreeze()   # what was loaded before is collectable again, as if nothing happened


def keep_long_lived() -> None:
    """Inside long_run: leave what exists now out of the collector's passes until the run ends, e.g.
    member records held for the program rules (issue 18: with them held, the full passes over them
    cost ~3 % of `validate`). They hold no cycles: freed by reference counting as soon as they are
    dropped, frozen or not. Outside a run it does nothing (an embedding program keeps its collector)."""
    if _runs:
        gc.freeze()
