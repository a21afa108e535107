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


def _noop() -> None:
    return None


def _pid(_task: object) -> int:
    import os
    return os.getpid()


def test_a_pool_whose_worker_died_holding_a_queue_lock_still_stops():
    """A worker killed (out of memory) while it held the answer queue's lock: stopping the pool must
    not wait for that lock (it did, and `validate --jobs 2` hung instead of exiting 2)."""
    import os
    import signal
    import threading
    import time

    from fhiradapter.parallel import Pool, WorkerDied

    threads_before = threading.active_count()
    pool = Pool(2, _noop)
    victim = pool.submit(_pid, None).get(timeout=120)
    inner = pool._pool
    assert inner._outqueue._wlock.acquire(timeout=60)    # as the dying worker held it, mid-answer
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30   # the kernel ends it (the pool notices within a second)
    while time.monotonic() < deadline and all(p.exitcode is None for p in inner._pool):
        time.sleep(0.01)
    ended = threading.Event()
    errors: list[BaseException] = []

    def stop() -> None:
        try:
            pool.close()
        except BaseException as exc:   # noqa: BLE001 - the thread hands it to the test
            errors.append(exc)
        finally:
            ended.set()

    threading.Thread(target=stop, daemon=True).start()
    assert ended.wait(60), "stopping the pool waited on the dead worker's lock"
    assert len(errors) == 1 and isinstance(errors[0], WorkerDied)
    assert not any(p.is_alive() for p in inner._pool)
    deadline = time.monotonic() + 30   # and the pool's own threads end: nothing is left stuck
    while time.monotonic() < deadline and threading.active_count() > threads_before:
        time.sleep(0.05)
    assert threading.active_count() == threads_before
