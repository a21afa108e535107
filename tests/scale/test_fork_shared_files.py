"""Workers forked by `--jobs` inherit the parent's open R4 definitions archive. A forked handle shares
its file offset with the parent and the other workers, so two processes reading it at once got each
other's bytes: under load `validate --jobs 2` said value sets "cannot be expanded offline" and once
reported a false error. Each process must read the archive through its own handle."""
from __future__ import annotations

import multiprocessing

from fhiradapter.conformance.r4 import R4Base

ROUNDS = 40


def _read_all(base: R4Base, names: list[str]) -> int:
    """Read every member again and again (cache cleared); count those whose content is not theirs."""
    wrong = 0
    for _ in range(ROUNDS):
        base._cache.clear()
        for url in names:
            try:
                vs = base.value_set(url)
            except Exception:
                wrong += 1
                continue
            if not vs or vs.get("url") != url:
                wrong += 1
    return wrong


def _child(names: list[str], answer: "multiprocessing.queues.Queue[int]") -> None:
    answer.put(_read_all(R4Base.shared(), names))


def test_forked_workers_and_the_parent_read_the_definitions_at_once_without_mixing_bytes():
    base = R4Base.shared()
    names = sorted(base.vs_index)[:150]
    ctx = multiprocessing.get_context("fork")
    answer = ctx.Queue()
    children = [ctx.Process(target=_child, args=(names, answer)) for _ in range(2)]
    for child in children:
        child.start()
    wrong_here = _read_all(base, names)
    wrong_there = [answer.get(timeout=600) for _ in children]
    for child in children:
        child.join(timeout=60)
    assert wrong_here == 0 and wrong_there == [0, 0]
