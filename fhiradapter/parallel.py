"""Every core of one machine: `--jobs N` for `validate`, `rules check`, `map` and `run` (issue 18).

The input is cut into chunks (byte ranges of NDJSON files, batches of export records, batches of
member records) that N worker processes take from a bounded window, so memory stays bounded however
large the input: nothing is pickled whole, and a worker holds one chunk at a time. Results come back
in input order and the parent does everything whose outcome depends on order (notes said once per
file, team findings said once per run, duplicate ids, the output files), so the output is
byte-identical to `--jobs 1`. Member records stay whole: program rules run on a member's resources
together (grouped by fhiradapter.members.member_key), never split between chunks.

Two pieces of state are "once" sets that a worker cannot know exactly in advance (the validator's
"not checked" notes per NDJSON file, the team findings of Bundles per run). A worker is handed the
parent's best guess and reports every key it looked up; when a looked-up key's membership differs
from the exact set in order, a worker redoes that chunk with the exact set (rare: the keys settle in
the first chunk). Member records' team findings come back unfiltered and the parent keeps each once.

Workers start by fork from the command line's single thread (what the parent imported and the
mapping it compiled are shared, not rebuilt), by forkserver where other threads run (a server),
spawn where there is neither. Each builds its validator, rules and mapping state once. Workers ignore SIGINT;
the parent's KeyboardInterrupt terminates and joins them (no orphans) and goes on up (exit 130).
"""
from __future__ import annotations

import io
import multiprocessing
import os
import pickle
import signal
import tempfile
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

if TYPE_CHECKING:
    from multiprocessing.pool import Pool as MPPool

    from .api import RulesCheck, Unreadable
    from .mapping.engine import MappingRun, RowResult
    from .mapping.loader import Mapping
    from .mapping.run import Checks, RulesHook
    from .outcome import Issue
    from .provenance import SourceRef
    from .rules import RuleConfig
    from .rules.members import MemberInput
    from .validator.engine import Validator
    from .validator.runner import Result

AUTO_MIN_BYTES = 4 << 20    # default --jobs: inputs smaller than this run in one process (start-up ~0.5 s)
CHUNK_BYTES = 256 << 10     # NDJSON bytes per task (~150-250 resources)
ROWS_PER_TASK = 200         # export records per task
RESOURCES_PER_TASK = 400    # resources of member records per rules task
WINDOW_PER_WORKER = 3       # tasks in flight per worker: enough to keep each busy, bounded memory
LOCK_WAIT = 2.0             # seconds terminate() waits for the task queue's lock (a killed worker may hold it)


def cores() -> int:
    """The cores this process may run on (the default of --jobs)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:   # not Linux
        return os.cpu_count() or 1


def resolve_jobs(jobs: int | None, input_bytes: int) -> int:
    """jobs None (the default): every core, unless the input is too small to pay for the start-up."""
    if jobs is None:
        return cores() if input_bytes >= AUTO_MIN_BYTES else 1
    return max(1, jobs)


def _size(paths: Iterable[str | Path]) -> int:
    total = 0
    for p in paths:
        try:
            total += os.path.getsize(p)
        except OSError:
            pass
    return total


# -- the pool ----------------------------------------------------------------------------------------

class Local:
    """A task item the parent already has the answer for: passed through in order, not sent."""
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


BARRIER = object()   # a task item: wait for every result before the next task is taken


CPU_LOG_ENV = "FHIRADAPTER_JOBS_CPU_LOG"   # benchmarks: each worker appends its CPU seconds to this file
_STATE: dict[str, Any] = {}   # in a worker: what its initializer built (validator, mapping, rules)


def _init(builder: Callable[..., None], args: tuple[Any, ...]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's to handle: it ends us
    import gc
    _STATE.clear()
    builder(*args)
    if os.environ.get(CPU_LOG_ENV):
        from multiprocessing.util import Finalize
        Finalize(None, _log_cpu, exitpriority=10)   # runs when the worker ends normally
    gc.freeze()   # what was built is long-lived: keep it out of the collector's passes (gcpolicy.py)
    gc.set_threshold(10_000, *gc.get_threshold()[1:])


def _log_cpu() -> None:
    import resource
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with open(os.environ[CPU_LOG_ENV], "a", encoding="utf-8") as handle:
        handle.write(f"{usage.ru_utime + usage.ru_stime:.3f} {usage.ru_maxrss} {os.getppid()} {os.getpid()}\n")


_INHERIT: dict[str, Any] = {}   # in the parent, while its workers are forked: what they may take over


def _context() -> Any:
    """fork where this process runs no other thread (the command line): the workers start with the
    modules and what the parent built (the mapping) in place, none of it imported or built again;
    they never write the parent's open output (a forked worker ends by os._exit, never flushing it).
    Else (a server's threads: a fork could copy a lock another thread holds) a fork server that
    imported the modules once; spawn where there is neither."""
    import threading
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        # the server imports these once; each worker forks from it with them loaded
        ctx.set_forkserver_preload(["fhiradapter.validator.engine", "fhiradapter.rules", "fhiradapter.mapping.run"])
        return ctx
    return multiprocessing.get_context("spawn")


def _quiet_pool() -> Any:
    """multiprocessing's Pool without its worker-maintenance thread waking on every result: that
    thread also waits on the results pipe (for maxtasksperchild, which we do not use), so while a
    result sits unread it loops, taking the parent's GIL: ~18,000 turns and a tenth of the parent's
    CPU for one `map` of the benchmark's 24,000 rows. Worker deaths, close and terminate still wake it
    (the workers' sentinels, the pool's change notifier)."""
    from multiprocessing.pool import Pool as MPPool

    class QuietPool(MPPool):
        def _get_sentinels(self) -> list[Any]:
            return [self._change_notifier._reader]   # type: ignore[attr-defined]

        @staticmethod
        def _help_stuff_finish(inqueue: Any, task_handler: Any, size: int) -> None:
            # multiprocessing's, but a worker killed while it waited for a task holds the task
            # queue's read lock for ever, and terminate() waited on it for ever: wait a little,
            # then go on without it (the workers are terminated next; nothing reads the queue)
            import time
            inqueue._rlock.acquire(timeout=LOCK_WAIT)
            while task_handler.is_alive() and inqueue._reader.poll():
                inqueue._reader.recv()
                time.sleep(0)

    return QuietPool


class Pool:
    """N worker processes, each initialised by `builder(*args)`; tasks run in order of results."""

    def __init__(self, jobs: int, builder: Callable[..., None], args: tuple[Any, ...] = ()) -> None:
        self.jobs = jobs
        self.window = WINDOW_PER_WORKER * jobs
        self._pool: MPPool = _quiet_pool()(jobs, initializer=_init, initargs=(builder, args), context=_context())
        self._pids = {p.pid for p in self._pool._pool}
        self._closed = False

    def ordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        """(task, fn(task) run in a worker) for each task, in task order; at most `window` in flight.
        Local items pass through in order as (item, item.value); BARRIER drains the window before
        the next task is taken (the tasks after it are made from what came back)."""
        pending: deque[tuple[Any, Any]] = deque()
        try:
            for task in tasks:
                if task is BARRIER:
                    while pending:
                        yield _get(pending.popleft(), self)
                    continue
                pending.append((task, task if isinstance(task, Local) else self._pool.apply_async(fn, (task,))))
                while len(pending) >= self.window:
                    yield _get(pending.popleft(), self)
            while pending:
                yield _get(pending.popleft(), self)
        except BaseException:   # Ctrl-C, an error, or the consumer stopped early: no worker outlives it
            self.terminate()
            raise

    def wait(self, answer: Any) -> Any:
        """answer.get(), but a worker that died raises WorkerDied: workers never end on their own
        while the pool is open, so a changed set of workers means one was killed (out of memory, a
        signal). Checked before every answer, not only when one is late: a worker killed between
        tasks loses no task, and the pool would quietly replace it, but the run must still say so."""
        while True:
            self._check_workers()
            try:
                return answer.get(timeout=1.0)
            except multiprocessing.TimeoutError:
                continue   # the task of a dead worker never completes: look again

    def _worker_died(self) -> bool:
        """A worker ended (workers never end on their own while the pool is open): replaced by the
        pool already, or dead and not yet noticed by it (exitcode polls the process)."""
        workers = list(self._pool._pool)   # type: ignore[attr-defined]
        return {p.pid for p in workers} != self._pids or any(p.exitcode is not None for p in workers)

    def _check_workers(self) -> None:
        if self._worker_died():
            raise WorkerDied("a worker process ended unexpectedly (out of memory?); try fewer --jobs")

    def submit(self, fn: Callable[[Any], Any], task: Any) -> Any:
        """fn(task) in a worker; .get() the answer."""
        return self._pool.apply_async(fn, (task,))

    def terminate(self) -> None:
        if not self._closed:
            self._closed = True
            if self._worker_died():
                self._abandon()
                return
            self._pool.terminate()
            self._pool.join()

    def _abandon(self) -> None:
        """Stop after a worker was killed. It may have died holding a queue's lock or halfway through
        writing its answer, and multiprocessing's own terminate then waits for that lock or message
        forever (seen under load: `validate --jobs 2` hung instead of exiting 2). So: stop the thread
        that replaces workers, kill every worker, and leave the pool's other threads (daemons) be."""
        from multiprocessing.pool import TERMINATE
        pool: Any = self._pool
        pool._state = TERMINATE
        pool._worker_handler._state = TERMINATE
        pool._change_notifier.put(None)   # wakes the worker handler (a queue only this process writes)
        pool._worker_handler.join(timeout=5)
        for process in list(pool._pool):
            if process.is_alive():
                process.kill()
        for process in list(pool._pool):
            process.join(timeout=10)
        pool._terminate.cancel()   # the finalizer would run multiprocessing's terminate at exit
        # every worker is gone now: a queue lock still taken was a dead worker's; give it back so the
        # pool's threads can see their end-of-work sentinels and end (a library caller keeps no
        # stuck threads, and later pools can fork again)
        for lock in (pool._outqueue._wlock, pool._inqueue._rlock):
            if lock is not None and not lock.acquire(timeout=LOCK_WAIT):
                lock.release()
            elif lock is not None:
                lock.release()
        pool._taskqueue.put(None)
        pool._outqueue.put(None)
        for thread in (pool._task_handler, pool._result_handler):
            thread.join(timeout=LOCK_WAIT)

    def close(self) -> None:
        if not self._closed:
            try:
                self._check_workers()   # one that died after its last task: the run still says so
            except WorkerDied:
                self.terminate()
                raise
            self._closed = True
            self._pool.close()
            self._pool.join()

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, kind: Any, *_: Any) -> None:
        if kind is None:
            self.close()
        else:
            self.terminate()


class WorkerDied(OSError):
    """A worker process ended in the middle of the work (killed: out of memory, a signal)."""


def _get(item: tuple[Any, Any], pool: Pool) -> tuple[Any, Any]:
    task, answer = item
    if isinstance(answer, Local):
        return task, answer.value
    return task, pool.wait(answer)


class RecordingSet(set[Any]):
    """A 'said once' set handed to a worker: starts as the parent's guess, records every key looked
    up and added, so the parent can tell whether the guess changed anything."""

    def __init__(self, guess: Iterable[Any] = ()) -> None:
        super().__init__(guess)
        self.guess = frozenset(guess)
        self.queried: set[Any] = set()
        self.added: list[Any] = []

    def __contains__(self, key: object) -> bool:
        self.queried.add(key)
        return super().__contains__(key)

    def add(self, key: Any) -> None:
        self.queried.add(key)
        if not super().__contains__(key):
            self.added.append(key)
        super().add(key)

    def report(self) -> tuple[frozenset[Any], frozenset[Any], list[Any]]:
        return self.guess, frozenset(self.queried), self.added


def exact(report: tuple[frozenset[Any], frozenset[Any], list[Any]], truth: set[Any]) -> bool:
    """Whether a worker's run with `guess` is the run the exact set would have given: every key it
    looked up is in the guess exactly when it is in the truth."""
    guess, queried, _added = report
    return all((k in guess) == (k in truth) for k in queried)


class _ContextFile:
    """Data every task of a phase needs (shared reference resources, evaluation date), written once
    to a temporary file instead of being pickled into each task; workers load it once."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="fhiradapter-jobs-")
        self._n = 0

    def write(self, value: Any) -> str:
        self._n += 1
        path = os.path.join(self._dir.name, f"context-{self._n}.pickle")
        with open(path, "wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        return path

    def close(self) -> None:
        self._dir.cleanup()


def _context_value(path: str) -> Any:
    cached = _STATE.get("context")
    if cached is None or cached[0] != path:
        with open(path, "rb") as handle:
            cached = _STATE["context"] = (path, pickle.load(handle))
    return cached[1]


# -- validate ----------------------------------------------------------------------------------------

def _build_validator(options: dict[str, Any]) -> None:
    from .validator.engine import Validator
    _STATE["validator"] = Validator(**options)


def _ndjson_chunks(path: str, size: int | None = None) -> Iterator[tuple[int, int, int]]:
    """(byte offset, length, number of the first line) of pieces of an NDJSON file, cut after a newline."""
    size = size or CHUNK_BYTES   # read when called: the tests make it small
    with open(path, "rb") as handle:
        offset, line, carry = 0, 1, b""
        while True:
            block = handle.read(size)
            if not block:
                if carry:
                    yield offset, len(carry), line
                return
            data = carry + block
            cut = data.rfind(b"\n")
            if cut < 0:
                carry = data
                continue
            yield offset, cut + 1, line
            line += data.count(b"\n", 0, cut + 1)
            offset += cut + 1
            carry = data[cut + 1:]


SHARED_KEY = ""   # in a worker's groups: the member-less reference data of its input

@dataclass(slots=True)
class _Chunk:
    path: str
    offset: int
    length: int
    first_line: int
    profile: str | None
    program: str | None
    want_rules: bool
    notes_guess: frozenset[Any]


@dataclass(slots=True)
class _ChunkResult:
    issues: list[Issue]
    resources: int
    first: tuple[str, int] | None          # (source, line) of the first item: the file has content
    entries: list[tuple[str, int, int, int]]   # (member key, line, offset, length) for the rules
    shared: list[dict[str, Any]]           # member-less reference data (joins every record)
    latest: str | None                     # the latest date among the grouped resources
    notes: tuple[frozenset[Any], frozenset[Any], list[Any]]


def _validate_chunk(task: _Chunk) -> _ChunkResult:
    return validate_chunk(_STATE["validator"], task)


def _line_starts(data: bytes) -> list[int]:
    """The offset of each line's first byte in a piece of an NDJSON file."""
    starts = [0]
    pos = data.find(b"\n")
    while pos >= 0:
        starts.append(pos + 1)
        pos = data.find(b"\n", pos + 1)
    return starts


def validate_chunk(v: Validator, task: _Chunk) -> _ChunkResult:
    """Validate the lines of one piece of an NDJSON file (check_path's NDJSON branch)."""
    from .members import member_key
    from .rules.window import LatestDate
    from .validator.inputs import _ndjson_lines
    from .validator.submission import SHARED_TYPES
    with open(task.path, "rb") as handle:
        handle.seek(task.offset)
        data = handle.read(task.length)
    notes = RecordingSet(task.notes_guess)
    out = _ChunkResult([], 0, None, [], [], None, notes.report())
    latest = LatestDate()
    # line offsets: the item's line number indexes them (blank lines are skipped by the reader)
    starts = _line_starts(data)
    for item in _ndjson_lines(io.BytesIO(data), task.path, start=task.first_line):
        if out.first is None:
            out.first = (item.source, item.line or 0)
        if item.issue is not None:
            out.issues.append(item.issue)
            continue
        out.resources += 1
        out.issues.extend(v.validate_resource(item.resource, profile=task.profile, program=task.program,
                                              source=item.source, line=item.line, run_rules=False,
                                              notes_seen=notes))
        if task.want_rules and isinstance(item.resource, dict):
            key = member_key(item.resource)
            if key is not None:
                k = (item.line or 0) - task.first_line
                end = starts[k + 1] if k + 1 < len(starts) else len(data)
                out.entries.append((key, item.line or 0, task.offset + starts[k], end - starts[k]))
                latest.add(item.resource)
            elif item.resource.get("resourceType") in SHARED_TYPES:
                out.shared.append(item.resource)
                latest.add(item.resource)
    out.latest = latest.text
    out.notes = notes.report()
    return out


@dataclass(slots=True)
class _JsonTask:
    path: str
    profile: str | None
    program: str | None
    context: str            # _ContextFile: (shared context, rules' evaluation date)
    want_groups: bool
    shared_guess: frozenset[Any]


def _validate_json(task: _JsonTask) -> Any:
    return validate_json(_STATE["validator"], task)


def validate_json(v: Validator, task: _JsonTask) -> Any:
    """A whole-file JSON input (resource or Bundle, rules on Bundles): check_path in a worker."""
    from .validator.inputs import InputError
    from .validator.runner import Groups, check_path
    v.shared_context, v.rules_as_of = _context_value(task.context) if task.context else ((), None)
    seen = RecordingSet(task.shared_guess)
    v.__dict__["_shared_findings"] = seen
    groups: Groups | None = Groups() if task.want_groups else None
    try:
        r = check_path(v, task.path, profile=task.profile, program=task.program, groups=groups)
    except InputError as exc:
        return ("unreadable", str(exc), seen.report())
    found: dict[str, list[tuple[str, int | None, Any]]] = {}
    if groups is not None:   # as plain data for the parent (member key -> items; SHARED_KEY: reference data)
        found = {member: items for _first, member, items in groups.records()}
        if groups.shared:
            found[SHARED_KEY] = [(r.source, None, resource) for resource in groups.shared]
    return ("ok", r, found, seen.report())


@dataclass(slots=True)
class _MembersTask:
    context: str
    program: str | None
    groups: list[list[tuple[str, int, Any]]]   # (source, line, (path, offset, length) or the resource)


def _member_rules(task: _MembersTask) -> Any:
    return member_rules(_STATE["validator"], task, _STATE.setdefault("files", {}))


def member_rules(v: Validator, task: _MembersTask, files: dict[str, Any]) -> Any:
    """Program rules over NDJSON member records (run_member_rules), re-reading each line by offset."""
    import orjson
    v.shared_context, v.rules_as_of = _context_value(task.context)
    out = []
    for members in task.groups:
        resources = []
        for _source, _line, where in members:
            if isinstance(where, tuple):
                path, offset, length = where
                handle = files.get(path)
                if handle is None:
                    if len(files) > 64:
                        for old in files.values():
                            old.close()
                        files.clear()
                    handle = files[path] = open(path, "rb")  # noqa: SIM115 - cached across tasks
                handle.seek(offset)
                resources.append(orjson.loads(handle.read(length)))
            else:
                resources.append(where)
        exprs = [r.get("resourceType", "Resource") for r in resources]
        # unfiltered: the parent keeps a team finding once per run, in member order (Validator.rules_for)
        out.append(v.rules_for_record(resources, task.program, exprs))
    return out


def validate_files(v: Validator, files: Sequence[str], *, profile: str | None, program: str | None,
                   jobs: int, options: dict[str, Any]) -> Iterator[Result | Unreadable]:
    """api.validate_files with `jobs` worker processes: the same Results in the same order."""
    from .api import Unreadable
    from .outcome import Issue
    from .validator.inputs import NDJSON_SUFFIXES
    from .validator.runner import Result
    from .validator.submission import Submission
    ndjson_rules = v.rules and any(f.endswith(NDJSON_SUFFIXES) for f in files)
    submission = Submission()
    for f in files:
        if not f.endswith(NDJSON_SUFFIXES):
            submission.add_file(f)
    v.shared_context = tuple(submission.shared)
    v.rules_as_of = submission.latest.day
    contexts = _ContextFile()
    json_context = contexts.write((v.shared_context, v.rules_as_of))
    # member key -> (source, line, where): where is (path, offset, length) or the resource itself
    groups: dict[str, list[tuple[str, int, Any]]] = {}
    shared: list[dict[str, Any]] = []
    latest_texts: list[str] = []
    team_seen: set[Any] = set(v.__dict__.get("_shared_findings", ()))   # exact, in input order
    notes_seen: dict[str, set[Any]] = {}                                # per NDJSON file, exact
    building: dict[str, Result] = {}
    held: list[Result] = []

    def tasks() -> Iterator[Any]:
        for f in files:
            if not f.endswith(NDJSON_SUFFIXES):
                yield _JsonTask(f, profile, program, json_context, ndjson_rules, frozenset(team_seen))
                continue
            try:
                first = True
                for offset, length, line in _ndjson_chunks(f):
                    yield _Chunk(f, offset, length, line, profile, program, ndjson_rules,
                                 frozenset(notes_seen.get(f, ())))
                    if first:   # the notes of a file settle in its first piece: guess from it
                        first = False
                        yield BARRIER
                yield Local(("end", f))
            except OSError as exc:
                yield Local(("unreadable", f, f"{f}: cannot read ({exc.strerror})"))

    def finished(r: Result) -> Iterator[Result]:
        r.issues.extend(submission.issues_for(r.source))
        if ndjson_rules and r.ndjson:
            held.append(r)
        else:
            yield r

    def add_groups(found: dict[str, list[tuple[str, int, Any]]]) -> None:
        for key, members in found.items():
            if key == SHARED_KEY:
                shared.extend(r for _, _, r in members)
            else:
                groups.setdefault(key, []).extend(members)
            for _, _, resource in members:
                latest.add(resource)

    latest = submission.latest
    with Pool(jobs, _build_validator, (options,)) as pool, _closing(contexts):
        for task, answer in pool.ordered(_dispatch, tasks()):
            if isinstance(task, _JsonTask):
                if not exact(answer[-1], team_seen):   # a team finding the guess missed: redo it exactly
                    answer = pool.wait(pool.submit(_dispatch, _replace(task, shared_guess=frozenset(team_seen))))
                team_seen.update(answer[-1][2])
                if answer[0] == "unreadable":
                    yield Unreadable(task.path, answer[1])
                    continue
                add_groups(answer[2])
                yield from finished(answer[1])
            elif isinstance(task, _Chunk):
                seen = notes_seen.setdefault(task.path, set())
                if not exact(answer.notes, seen):   # a note the guess had wrong: redo it exactly
                    answer = pool.wait(pool.submit(_dispatch, _replace(task, notes_guess=frozenset(seen))))
                seen.update(answer.notes[2])
                r = building.get(task.path)
                if r is None and answer.first is not None:
                    r = building[task.path] = Result(answer.first[0], ndjson=True)
                if r is not None:
                    r.issues.extend(answer.issues)
                    r.resources += answer.resources
                for key, line, offset, length in answer.entries:
                    groups.setdefault(key, []).append((task.path, line, (task.path, offset, length)))
                shared.extend(answer.shared)
                if answer.latest is not None:
                    latest_texts.append(answer.latest)
            elif answer[0] == "end":
                notes_seen.pop(answer[1], None)
                r = building.pop(answer[1], None)
                if r is None:
                    r = Result(answer[1])
                    r.issues.append(Issue("error", "structure", "input is empty: no resource found",
                                          source=r.source, rule="empty-input"))
                yield from finished(r)
            else:   # ("unreadable", path, message)
                building.pop(answer[1], None)
                yield Unreadable(answer[1], answer[2])
        if held:
            for text in latest_texts:
                if latest.text is None or text > latest.text:
                    latest.text = text
            v.rules_as_of = latest.day
            if shared:
                v.shared_context = (*v.shared_context, *shared)
            results = {r.source: r for r in held}
            member_context = contexts.write((v.shared_context, v.rules_as_of))

            def member_tasks() -> Iterator[_MembersTask]:
                batch: list[list[tuple[str, int, Any]]] = []
                size = 0
                for members in groups.values():
                    batch.append(members)
                    size += len(members)
                    if size >= RESOURCES_PER_TASK:
                        yield _MembersTask(member_context, program, batch)
                        batch, size = [], 0
                if batch:
                    yield _MembersTask(member_context, program, batch)

            for task, answer in pool.ordered(_dispatch, member_tasks()):
                for members, found in zip(task.groups, answer):
                    for k, issue, team_key in found:
                        if team_key is not None:   # a team's finding: once per run
                            if team_key in team_seen:
                                continue
                            team_seen.add(team_key)
                        source, line = (members[k][0], members[k][1]) if k is not None else (members[0][0], None)
                        issue.source = source
                        issue.line = line
                        target = results.get(source)
                        if target is not None:
                            target.issues.append(issue)
            groups.clear()
    yield from held


class _closing:
    def __init__(self, contexts: _ContextFile) -> None:
        self.contexts = contexts

    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: Any) -> None:
        self.contexts.close()


def _replace(task: Any, **changes: Any) -> Any:
    from dataclasses import replace
    return replace(task, **changes)


def _dispatch(task: Any) -> Any:
    if isinstance(task, _Chunk):
        return _validate_chunk(task)
    if isinstance(task, _JsonTask):
        return _validate_json(task)
    return _member_rules(task)


def input_size(paths: Iterable[str | Path]) -> int:
    """Bytes of the input files (what decides whether the default --jobs starts workers)."""
    return _size(paths)


def validator_options(options: dict[str, Any]) -> dict[str, Any]:
    """open_validator's arguments as Validator's (a worker builds its own; --profile is checked once)."""
    return {k: v for k, v in options.items() if k != "profile"}


# -- map and run -------------------------------------------------------------------------------------

def _build_mapper(mapping_path: str, input_dir: str, show_values: bool, validate: bool, timezone: str,
                  strict: bool) -> None:
    from .mapping.engine import MappingRun
    from .mapping.loader import load_mapping
    inherited = _INHERIT.get("mapping")   # a forked worker: the parent's, already compiled
    mapping = inherited if inherited is not None and str(inherited.path) == mapping_path else load_mapping(mapping_path)
    run = MappingRun(mapping, input_dir, show_values=show_values)
    for _ in run._load_related():   # the related (index:) rows the records look up; problems are the parent's
        pass
    _STATE["run"] = run
    _STATE["templates"] = {id(t): i for i, t in enumerate(mapping.templates)}
    if validate:
        from .validator.engine import Validator
        _STATE["validator"] = Validator(rules=False, timezone=timezone, show_values=show_values, strict=strict)
    from .mapping.run import _release_gate, _weekly_counts
    _STATE["gate"] = _release_gate(mapping.program)
    _STATE["weekly"] = _weekly_counts(mapping.program)


_HEAD = ("resourceType", "id")


class LazyResource(dict[str, Any]):
    """A resource a worker mapped, as the parent holds it: its resourceType and id, and its JSON
    line, parsed whole on the first use of anything else. The parent writes the worker's line and
    reads little more (the reference graph, the release gate and the Bundles have their parts from
    the worker), so most resources are never parsed here. Member-less reference data, which the
    program rules read, is parsed at once (MapWorkers.rows)."""
    __slots__ = ("_line",)

    def __init__(self, head: dict[str, Any], line: bytes) -> None:
        super().__init__(head)
        self._line: bytes | None = line

    def _whole(self) -> None:
        if self._line is not None:
            import orjson
            parsed = orjson.loads(self._line)
            self._line = None
            dict.clear(self)
            dict.update(self, parsed)   # the key order of the line

    def __getitem__(self, key: str) -> Any:
        if self._line is not None and key not in _HEAD:
            self._whole()
        return dict.__getitem__(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        if self._line is not None and key not in _HEAD:
            self._whole()
        return dict.get(self, key, default)

    def __contains__(self, key: object) -> bool:
        if self._line is not None and key not in _HEAD:
            self._whole()
        return dict.__contains__(self, key)

    def _whole_then(name: str) -> Any:   # type: ignore[misc]   # noqa: N805 - a class-body helper
        method = getattr(dict, name)

        def call(self: LazyResource, *args: Any, **kwargs: Any) -> Any:
            self._whole()
            return method(self, *args, **kwargs)
        call.__name__ = name
        return call

    __iter__ = _whole_then("__iter__")
    __len__ = _whole_then("__len__")
    __eq__ = _whole_then("__eq__")
    __ne__ = _whole_then("__ne__")
    __repr__ = _whole_then("__repr__")
    keys = _whole_then("keys")
    values = _whole_then("values")
    items = _whole_then("items")
    copy = _whole_then("copy")
    pop = _whole_then("pop")
    setdefault = _whole_then("setdefault")
    update = _whole_then("update")
    __setitem__ = _whole_then("__setitem__")
    __delitem__ = _whole_then("__delitem__")
    del _whole_then
    __hash__ = None

    def __reduce__(self) -> Any:   # pickled as the plain dict it stands for
        self._whole()
        return (dict, (dict.copy(self),))


@dataclass(slots=True)
class _RowsTask:
    source: str
    file: str
    prefix: str
    strict_columns: bool
    records: list[Any]


@dataclass(slots=True)
class Prepared:
    """What a worker did for one mapped row besides mapping it: the validator's issues per resource,
    and for each resource its JSON line, its references and its latest date (None: not made)."""
    found: list[list[Issue]] | None
    lines: list[bytes] | None = None
    refs: list[list[tuple[str, str]]] | None = None
    latest: list[str | None] | None = None
    heads: list[dict[str, Any]] | None = None   # each resource's resourceType and id (what the parent reads)
    gate: list[list[int] | None] | None = None   # the release gate's rows that withhold each resource
    weeks: list[tuple[str, str] | None] | None = None   # what the report's weekly table counts (WeeklyCounts.fact)


def _map_rows(task: _RowsTask) -> list[tuple[RowResult, list[Any] | None, Prepared]]:
    """Map (and profile-validate) a batch of export records: each row's result, the related rows it
    marked as having errors, and what else was done (Prepared). Resources travel as JSON lines
    (orjson: several times cheaper than pickling the dicts, and the parent writes those lines)."""
    import orjson

    from .mapping.orphans import template_references
    from .mapping.run import resource_issues
    from .mapping.sources import csv_record
    from .rules.window import LatestDate
    run: MappingRun = _STATE["run"]
    index: dict[int, int] = _STATE["templates"]
    validator = _STATE.get("validator")
    gate = _STATE.get("gate")
    weekly = _STATE.get("weekly")
    run.ctx.strict_columns = task.strict_columns
    templates = run.mapping.templates_of(task.source)
    own = run._related_own_errors
    out: list[tuple[RowResult, list[Any] | None, Prepared]] = []
    for record in task.records:
        if record.__class__ is tuple:   # a CSV row as read (sources.CsvRow)
            record = csv_record(record)
        before = len(own)
        result = run.map_one(task.source, task.file, record, templates, task.prefix)
        marks = list(own)[before:] if len(own) != before else None
        done = Prepared(resource_issues(validator, result)
                        if validator is not None and result.resources and not result.issues else None)
        if result.resources:
            try:
                done.lines = [orjson.dumps(r) for _t, r, _m, _k in result.resources]
            except (TypeError, ValueError, RecursionError):
                pass   # the parent serializes the row again and rejects it, saying why
            else:
                # where each template can put a reference, read there (as the parent would)
                done.refs = [template_references(t.refs, r) if t.read_refs is None else t.read_refs(r)
                             for t, r, _m, _k in result.resources]
                done.latest = []
                for _t, r, _m, _k in result.resources:
                    latest = LatestDate()
                    latest.add(r)
                    done.latest.append(latest.text)
                done.heads = [{k: r[k] for k in _HEAD if k in r} for _t, r, _m, _k in result.resources]
                if gate is not None:
                    done.gate = [[i for i, row in enumerate(gate.rows)
                                  if row.may_withhold(r.get("resourceType"), t.part2) and row.withholds(r)]
                                 if m else None
                                 for t, r, m, _k in result.resources]
                if weekly is not None:
                    done.weeks = [weekly.fact(r) if t.resource_type == "Encounter" else None
                                  for t, r, _m, _k in result.resources]
        result.resources = [(index[id(t)], None if done.lines is not None else r, m, k)  # type: ignore[misc]
                            for t, r, m, k in result.resources]
        out.append((result, marks, done))
    return out


@dataclass(slots=True)
class _RulesTask:
    context: str   # _ContextFile: (shared resources, programs, time zone, evaluation date, absent inputs)
    records: list[list[bytes]]   # each member's resources as JSON lines


def _judge_members(task: _RulesTask) -> list[tuple[list[Issue], list[SourceRef | None]]]:
    import orjson

    from .mapping.run import _origin, judge
    from .rules import RuleConfig, run_rules
    shared, programs, timezone, as_of, absent = _context_value(task.context)
    config = _STATE.get("rules_config")
    if config is None or config[0] != task.context:
        config = _STATE["rules_config"] = (task.context, RuleConfig(timezone=timezone, export_end=as_of,
                                                                     absent_inputs=absent))
    out = []
    for lines in task.records:
        record = [orjson.loads(line) for line in lines] + shared
        issues = judge(run_rules, record, programs, config[1])
        out.append((issues, [_origin(issue, record) for issue in issues]))   # RulesHook.record's origins
    return out


class MapWorkers:
    """What map_input hands to worker processes with --jobs: the mapping and profile validation of
    export records, and the program rules per member. Without a pool (one job) it does nothing."""

    def __init__(self, pool: Pool | None) -> None:
        self.pool = pool
        self._last: tuple[Any, Prepared] | None = None
        self._contexts = _ContextFile() if pool is not None else None

    def __enter__(self) -> MapWorkers:
        return self

    def __exit__(self, kind: Any, *rest: Any) -> None:
        if self.pool is not None:
            self.pool.__exit__(kind, *rest)
        if self._contexts is not None:
            self._contexts.close()

    def rows(self, run: MappingRun) -> Iterator[RowResult]:
        """run.rows(), the records mapped by the workers, in the same order."""
        from orjson import loads

        from .mapping.engine import RowResult
        from .mapping.writers import SHARED_CONTEXT_TYPES
        assert self.pool is not None
        templates = run.mapping.templates
        own = run._related_own_errors

        def tasks() -> Iterator[Any]:
            batch: _RowsTask | None = None
            for item in run.work(raw=True):   # the workers trim a CSV row's values into its Record
                if item.__class__ is RowResult:
                    if batch is not None:
                        yield batch
                        batch = None
                    yield Local(item)
                    continue
                name, file, record, _templates, prefix = item  # type: ignore[misc]
                if batch is None or batch.source != name:
                    if batch is not None:
                        yield batch
                    batch = _RowsTask(name, file, prefix, run.ctx.strict_columns, [])
                batch.records.append(record)
                if len(batch.records) >= ROWS_PER_TASK:
                    yield batch
                    batch = None
            if batch is not None:
                yield batch

        import gc
        for task, answer in self.pool.ordered(_map_rows, tasks()):
            if isinstance(task, Local):
                yield answer
                continue
            # what is held from here on (graph, lines for the Bundles) makes no cycles: keep it out
            # of the collector's passes, which otherwise walk it again for every batch that comes
            # back (gcpolicy.long_run unfreezes it at the end)
            gc.freeze()
            for result, marks, done in answer:
                if done.lines is not None and done.heads is not None:
                    result.resources = [(templates[i], LazyResource(head, line) if m or head.get("resourceType")
                                         not in SHARED_CONTEXT_TYPES else loads(line), m, k)
                                        for (i, _r, m, k), line, head in zip(result.resources, done.lines,
                                                                             done.heads)]
                else:
                    result.resources = [(templates[i], r, m, k) for i, r, m, k in result.resources]
                for mark in marks or ():
                    own[mark] = True
                self._last = (result, done)
                yield result

    def prepared(self, result: RowResult) -> Prepared | None:
        """What a worker already did for this row (None: all of it is done here)."""
        last = self._last
        return last[1] if last is not None and last[0] is result else None

    def rules(self, hook: RulesHook | None) -> Any:
        if hook is None or self.pool is None:
            return hook
        assert self._contexts is not None
        context = self._contexts.write((hook.shared, hook.programs, hook.checks.timezone, hook.as_of, hook.absent))
        return _ParallelRules(hook, self.pool, context)


class _ParallelRules:
    """RulesHook with the judging in workers: batches of members go out as JSON lines, findings are
    recorded in member order as the batches come back (at most the pool's window of batches held).
    The writer hands each member's resources as JSON lines where it has no parsed copy
    (`takes_lines`) and never parses them: the workers give each finding's origin (RulesHook.record)."""
    takes_lines = True

    def __init__(self, hook: RulesHook, pool: Pool, context: str) -> None:
        self.hook = hook
        self.pool = pool
        self.context = context
        self._batch: list[tuple[str, list[Any]]] = []
        self._size = 0
        self._pending: deque[tuple[list[tuple[str, list[Any]]], Any]] = deque()

    def __call__(self, member: str | None, resources: list[Any]) -> None:
        if member is None:
            return
        self._batch.append((member, resources))
        self._size += len(resources)
        if self._size >= RESOURCES_PER_TASK:
            self._submit()

    def _submit(self) -> None:
        from orjson import dumps
        task = _RulesTask(self.context, [[r if isinstance(r, bytes) else dumps(r) for r in resources]
                                         for _, resources in self._batch])
        self._pending.append((self._batch, self.pool.submit(_judge_members, task)))
        self._batch, self._size = [], 0
        while len(self._pending) >= self.pool.window:
            self._record_oldest()

    def _record_oldest(self) -> None:
        batch, answer = self._pending.popleft()
        for (member, _resources), (issues, origins) in zip(batch, self.pool.wait(answer)):
            if issues:
                self.hook.record(member, [], issues, origins)

    def flush(self) -> None:
        if self._batch:
            self._submit()
        while self._pending:
            self._record_oldest()


def map_workers(mapping: Mapping, input_dir: str | Path, jobs: int | None, *, checks: Checks | None,
                show_values: bool) -> MapWorkers:
    """The workers of one map_input (none with one job or a small export and the default)."""
    if jobs == 1:
        return MapWorkers(None)
    n = resolve_jobs(jobs, _size(Path(input_dir) / str(spec["file"]) for spec in mapping.sources.values()))
    if n <= 1:
        return MapWorkers(None)
    validate = checks is not None and checks.validator is not None
    timezone = (checks.timezone if checks is not None else None) or mapping.timezone
    # the parent's reading of R4: `run` validates strictly (load_checks), so must the workers
    strict = bool(checks is not None and checks.validator is not None and checks.validator.strict)
    _INHERIT["mapping"] = mapping
    try:
        return MapWorkers(Pool(n, _build_mapper, (str(mapping.path), str(input_dir), show_values, validate,
                                                  timezone, strict)))
    finally:
        _INHERIT.clear()


# -- rules check -------------------------------------------------------------------------------------
#
# Two passes over the input, both in the workers; the parent keeps an index entry per resource
# (member key, source, line, where) and the member-less reference data, never the resources:
#   1. scan: pieces of NDJSON files (byte ranges) and whole JSON files are read and parsed, each
#      resource indexed under its member key (a Bundle is a record of its own), the latest date and
#      what `--data-from auto` needs (a Window per member) taken;
#   2. judge: the program rules over batches of member records, issues stamped with file and line.
# Resources are re-read by offset in pass 2 (a JSON file: read again, its k-th item).

Where = tuple[str, int, int]   # (path, offset, length) of an NDJSON line; (path, -1, k): k-th item of a file


@dataclass(slots=True)
class _ScanTask:
    path: str
    offset: int          # -1: the whole (JSON) file
    length: int
    first_line: int
    window: str | None = None   # _ContextFile of (config, zones): take what --data-from auto needs


Window = tuple[set[str], dict[str, Any]]
"""What rules.members.earliest_contact reads of some resources: the programs they name, and per time
zone the earliest local day a program contact (no stay) of theirs starts. Merged over a member
record's resources, it gives that record's earliest contact in the record's zone."""


@dataclass(slots=True)
class _ScanResult:
    read_issues: list[Issue]
    problems: list[Issue]                                   # items that are no FHIR resource
    members: list[tuple[str, str, int | None, str, str, Where]]   # (key, source, line, type, id, where)
    bundles: list[tuple[str | None, str, int | None, Where]]       # (id or None, source, line, where)
    shared: list[tuple[dict[str, Any], tuple[str, int | None, int | None]]]
    latest: str | None            # latest date of the member resources and Bundle entries
    latest_shared: str | None     # ... of the member-less reference data (counts when members exist)
    unreadable: str | None = None
    windows: dict[Any, Window] | None = None   # member key / SHARED_KEY / ("bundle", n in this piece)


def _scan_items(task: _ScanTask) -> Iterator[tuple[Any, Where, int]]:
    """(Item, where, line start) of one scan task."""
    from .validator.inputs import _ndjson_lines, read
    if task.offset < 0:
        for k, item in enumerate(read(task.path)):
            yield item, (task.path, -1, k), 0
        return
    with open(task.path, "rb") as handle:
        handle.seek(task.offset)
        data = handle.read(task.length)
    starts = _line_starts(data)
    for item in _ndjson_lines(io.BytesIO(data), task.path, start=task.first_line):
        k = (item.line or 0) - task.first_line
        end = starts[k + 1] if k + 1 < len(starts) else len(data)
        yield item, (task.path, task.offset + starts[k], end - starts[k]), 0


def _rules_scan(task: _ScanTask) -> _ScanResult:
    """Pass 1 (rules.members.group's reading, per piece): what the parent needs to group."""
    from .members import member_key
    from .outcome import Issue
    from .rules.window import LatestDate
    from .validator.inputs import InputError
    out = _ScanResult([], [], [], [], [], None, None)
    latest, latest_shared = LatestDate(), LatestDate()
    window = _WindowScan(task.window) if task.window else None
    try:
        for item, where, _ in _scan_items(task):
            if item.issue is not None:
                out.read_issues.append(item.issue)
                continue
            data, source, line = item.resource, item.source, item.line
            if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
                out.problems.append(Issue("error", "structure", "not a FHIR resource (no resourceType)",
                                          source=source, line=line))
                continue
            if data["resourceType"] == "Bundle":
                bid = data.get("id")
                for entry in data.get("entry") or []:
                    res = entry.get("resource") if isinstance(entry, dict) else None
                    if isinstance(res, dict):
                        latest.add(res)
                        if window is not None:
                            window.add(("bundle", len(out.bundles)), res)
                out.bundles.append((str(bid) if bid else None, source, line, where))
                continue
            key = member_key(data)
            if key is None:
                out.shared.append((data, (source, line, None)))
                latest_shared.add(data)
                if window is not None:
                    window.add(SHARED_KEY, data)
                continue
            out.members.append((key, source, line, data["resourceType"], str(data.get("id")), where))
            latest.add(data)
            if window is not None:
                window.add(key, data)
    except InputError as exc:
        out.unreadable = str(exc)
    out.latest, out.latest_shared = latest.text, latest_shared.text
    if window is not None:
        out.windows = window.result()
    return out


class _WindowScan:
    """Window per owner of the resources of one scan piece (computed with rules.record.MemberRecord,
    as earliest_contact does: whether an Encounter is a program contact and no stay depends on the
    Encounter alone, its local day on the record's zone, which is one of a few)."""

    def __init__(self, context: str) -> None:
        self.config, self.zones = _context_value(context)
        self.programs: dict[Any, set[str]] = {}
        self.encounters: list[tuple[Any, dict[str, Any]]] = []

    def add(self, owner: Any, resource: dict[str, Any]) -> None:
        from .rules.record import programs_named
        found = self.programs.setdefault(owner, set())
        found |= programs_named([resource])
        if resource.get("resourceType") == "Encounter":
            self.encounters.append((owner, resource))

    def result(self) -> dict[Any, Window]:
        from dataclasses import replace
        from datetime import date

        from .rules.record import MemberRecord
        out: dict[Any, Window] = {owner: (programs, {}) for owner, programs in self.programs.items()}
        encounters = [e for _, e in self.encounters]
        records = {zone: MemberRecord(encounters, replace(self.config, timezone=zone, export_end=date.max))
                   for zone in self.zones}   # (export_end: no evaluation date is needed here)
        first = next(iter(records.values()), None)
        for owner, enc in self.encounters:
            if first is None or first.is_stay(enc) or not first.programs_of(enc):
                continue
            days = out[owner][1]
            for zone, record in records.items():
                day = record.day(enc, "period.start")
                if day is not None and (zone not in days or day < days[zone]):
                    days[zone] = day
        return out


def _window_zones(config: RuleConfig) -> tuple[str, ...]:
    """Every zone a record can be judged in: the set one, else each program's, else the fallback."""
    from . import canonical
    from .programs import FALLBACK_TIMEZONE, timezone_for
    if config.timezone is not None:
        return (config.timezone,)
    return tuple(sorted({timezone_for({p}) for p in canonical.PROGRAMS} | {timezone_for(None), FALLBACK_TIMEZONE}))


def _merge_window(into: Window, other: Window) -> None:
    into[0].update(other[0])
    for zone, day in other[1].items():
        if zone not in into[1] or day < into[1][zone]:
            into[1][zone] = day


def _earliest(window: Window, config: RuleConfig) -> Any:
    """A record's earliest contact from its merged Window (earliest_contact for one record)."""
    from . import canonical
    from .programs import FALLBACK_TIMEZONE
    zone = config.for_programs(window[0] & set(canonical.PROGRAMS)).timezone or FALLBACK_TIMEZONE
    return window[1].get(zone)


Record = tuple[str, int | None, Where] | list[tuple[str, int | None, str, str, Where]]
"""A Bundle (source, line, where) or a member's resources [(source, line, type, id, where)]."""


@dataclass(slots=True)
class _RecordsTask:
    context: str    # _ContextFile: (config, program, shared reference data with origins)
    records: list[Record]


def _reread(where: Where, files: dict[Any, Any]) -> Any:
    """The parsed item at `where` (files: open handles and the last JSON file's items, per worker)."""
    import orjson
    path, offset, length = where
    if offset < 0:
        cached = files.get(("json", path))
        if cached is None:
            from .validator.inputs import read
            files.pop(("json", files.get("json-last")), None)   # one whole file at a time
            cached = files[("json", path)] = [item.resource for item in read(path)]
            files["json-last"] = path
        return cached[length]
    handle = files.get(path)
    if handle is None:
        if len(files) > 64:
            for old in files.values():
                if hasattr(old, "close"):
                    old.close()
            files.clear()
        handle = files[path] = open(path, "rb")  # noqa: SIM115 - cached across tasks
    handle.seek(offset)
    return orjson.loads(handle.read(length))


def _member_input(record: Record, shared: list[tuple[dict[str, Any], tuple[str, int | None, int | None]]],
                  files: dict[Any, Any]) -> MemberInput:
    """The MemberInput rules.members.group builds, from its index entries."""
    from .rules.members import MemberInput
    out = MemberInput("")
    if isinstance(record, tuple):   # a Bundle: its entries
        source, line, where = record
        data = _reread(where, files)
        for i, entry in enumerate(data.get("entry") or []):
            res = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(res, dict):
                out.resources.append(res)
                out.origins[(str(res.get("resourceType")), str(res.get("id")))] = (source, line, i)
        return out
    for source, line, kind, rid, where in record:
        out.resources.append(_reread(where, files))
        out.origins[(kind, rid)] = (source, line, None)
    for res, origin in shared:
        out.resources.append(res)
        out.origins.setdefault((res["resourceType"], str(res.get("id"))), origin)
    return out


def _rules_records(task: _RecordsTask) -> list[list[Issue]]:
    """Pass 2: each record's issues, stamped with file and line."""
    from .api import judge_record
    config, program, shared = _context_value(task.context)
    inputs = [_member_input(record, shared, _STATE.setdefault("files", {})) for record in task.records]
    return [[record.stamp(issue) for issue in judge_record(record.resources, program, config)]
            for record in inputs]


def _no_state() -> None:
    """Workers of `rules check` build nothing up front: the rules modules are the fork server's."""


def check_rules(files: Sequence[str], config: RuleConfig, *, program: str | None, data_from_auto: bool,
                on_read_issue: Callable[[Issue], None] | None, jobs: int) -> RulesCheck:
    """api.check_rules with `jobs` worker processes: the same report (each MemberInput carries its
    key only: the resources stay in the workers)."""
    from .api import RulesCheck, UsageError
    from .rules.members import MemberInput
    from .rules.window import LatestDate
    from .validator.inputs import NDJSON_SUFFIXES

    contexts = _ContextFile()
    window = contexts.write((config, _window_zones(config))) if data_from_auto else None

    def scan_tasks() -> Iterator[Any]:
        for f in files:
            if not f.endswith(NDJSON_SUFFIXES):
                yield _ScanTask(f, -1, 0, 0, window)
                continue
            try:
                for offset, length, line in _ndjson_chunks(f):
                    yield _ScanTask(f, offset, length, line, window)
            except OSError as exc:
                yield Local(f"{f}: cannot read ({exc.strerror})")

    members: dict[str, list[tuple[str, int | None, str, str, Where]]] = {}
    bundles: list[tuple[str, Record]] = []   # (record key, (source, line, where))
    shared: list[tuple[dict[str, Any], tuple[str, int | None, int | None]]] = []
    latest, latest_shared = LatestDate(), LatestDate()
    report = RulesCheck()
    windows: dict[Any, Window] = {}   # member key, SHARED_KEY, or a Bundle's record key -> its Window
    with Pool(jobs, _no_state) as pool, _closing(contexts):
        for _task, answer in pool.ordered(_rules_scan, scan_tasks()):
            if isinstance(answer, str):
                raise UsageError(answer)
            for issue in answer.read_issues:
                report.read_errors = report.read_errors or issue.is_error
                if on_read_issue is not None:
                    on_read_issue(issue)
            if answer.unreadable is not None:
                raise UsageError(answer.unreadable)
            report.problems.extend(answer.problems)
            first_bundle = len(bundles)
            for bid, source, line, where in answer.bundles:
                bundles.append((f"Bundle/{bid or len(bundles)}", (source, line, where)))
            for key, source, line, kind, rid, where in answer.members:
                entries = members.get(key)
                if entries is None:
                    entries = members[key] = []
                entries.append((source, line, kind, rid, where))
            for owner, found in (answer.windows or {}).items():
                if isinstance(owner, tuple):   # a Bundle of this piece: a whole record
                    owner = (first_bundle + owner[1], "bundle")
                _merge_window(windows.setdefault(owner, (set(), {})), found)
            shared.extend(answer.shared)
            latest.add_text(answer.latest)
            latest_shared.add_text(answer.latest_shared)
        count = len(bundles) + len(members)
        if config.as_of is None and config.today is None:
            if members:
                latest.add_text(latest_shared.text)
            config.export_end = report.export_end = latest.day

        def record_tasks() -> Iterator[_RecordsTask]:
            context = contexts.write((config, program, shared))
            batch: list[Any] = []
            size = 0
            for _key, bundle in bundles:
                batch.append(bundle)
                size += 8
                if size >= RESOURCES_PER_TASK:
                    yield _RecordsTask(context, batch)
                    batch, size = [], 0
            for entries in members.values():
                batch.append(entries)
                size += len(entries)
                if size >= RESOURCES_PER_TASK:
                    yield _RecordsTask(context, batch)
                    batch, size = [], 0
            if batch:
                yield _RecordsTask(context, batch)

        if data_from_auto and count > 1:   # earliest_contact over the records, from the scan's Windows
            earliest = None
            shared_window = windows.get(SHARED_KEY, (set(), {}))
            for n in range(len(bundles)):
                day = _earliest(windows.get((n, "bundle"), (set(), {})), config)
                if day is not None and (earliest is None or day < earliest):
                    earliest = day
            for key in members:
                merged: Window = (set(), {})
                _merge_window(merged, windows.get(key, (set(), {})))
                _merge_window(merged, shared_window)
                day = _earliest(merged, config)
                if day is not None and (earliest is None or day < earliest):
                    earliest = day
            config.data_from = report.data_from = earliest
        keys = iter([key for key, _ in bundles] + list(members))
        seen_roster: set[tuple[Any, ...]] = set()   # a team-level (Group) finding repeats in every member record
        for _task, judged in pool.ordered(_rules_records, record_tasks()):
            for issues in judged:
                found = []
                for issue in issues:
                    if (issue.expression or "").startswith("Group."):
                        roster_key = (issue.rule, issue.expression, issue.message)
                        if roster_key in seen_roster:
                            continue
                        seen_roster.add(roster_key)
                    found.append(issue)
                report.records.append((MemberInput(next(keys)), found))
    return report
