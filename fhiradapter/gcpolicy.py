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


@contextmanager
def long_run() -> Iterator[None]:
    """Freeze the objects that exist now and collect less often until the block ends."""
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(previous[0], YOUNG_THRESHOLD), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()   # what was loaded before is collectable again, as if nothing happened
