"""The HL7 reference validator (tools/reference-validator, HAPI FHIR) for the tests and tools/reference_agreement.py.

`build()` compiles the pinned Maven project into tools/reference-validator/target/ (offline first, from
~/.m2; online only when a pinned artefact is missing). `ReferenceValidator` runs the jar in batch mode:
one JVM for the whole test run, one request and one answer per line (the protocol is described in
tools/reference-validator/src/main/java/org/fhiradapter/refval/Protocol.java).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable, Sequence

REPO = Path(__file__).resolve().parents[2]
PROJECT = REPO / "tools" / "reference-validator"
JAR = PROJECT / "target" / "reference-validator.jar"
# JVM flags: a fixed heap so a run's memory is predictable beside the other jobs, and the serial-ish GC
# that suits a 2-core machine; tiered compilation stays on (long runs need the C2 compiler).
JVM_FLAGS = ("-Xmx2g", "-XX:+UseParallelGC", "-XX:ParallelGCThreads=2")


class ReferenceUnavailable(RuntimeError):
    """Java or Maven is missing, or the build failed: the message says which and how to fix it."""


def _sources_newer_than_jar() -> bool:
    if not JAR.exists():
        return True
    built = JAR.stat().st_mtime
    sources = [PROJECT / "pom.xml", *(PROJECT / "src").rglob("*.java")]
    return any(p.stat().st_mtime > built for p in sources)


def build(quiet: bool = True) -> Path:
    """The jar, built if missing or older than its sources. Raises ReferenceUnavailable."""
    if not _sources_newer_than_jar():
        return JAR
    for tool in ("java", "mvn"):
        if shutil.which(tool) is None:
            raise ReferenceUnavailable(f"{tool} is not installed: the reference validator needs Java 17 and Maven")
    base = ["mvn", "-B", *(["-q"] if quiet else []), "-f", str(PROJECT / "pom.xml"), "package"]
    # offline first: after the first download everything pinned is in ~/.m2
    offline = subprocess.run([*base[:1], "-o", *base[1:]], capture_output=True, text=True)
    if offline.returncode != 0:
        online = subprocess.run(base, capture_output=True, text=True)
        if online.returncode != 0:
            raise ReferenceUnavailable("building tools/reference-validator failed:\n"
                                       + (online.stdout + online.stderr)[-4000:])
    if not JAR.exists():
        raise ReferenceUnavailable(f"the Maven build did not produce {JAR}")
    return JAR


@dataclass
class Answer:
    """The reference's answer for one input: its verdict and its OperationOutcome."""
    name: str
    valid: bool
    outcome: dict[str, Any]
    micros: int = 0          # wall time of the validation inside the JVM
    cpu_micros: int = 0      # CPU time of the worker thread for it

    @property
    def issues(self) -> list[dict[str, Any]]:
        return list(self.outcome.get("issue", []))

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [i for i in self.issues if i.get("severity") in ("error", "fatal")]


@dataclass
class Request:
    """One input: a resource (dict or JSON text) or a file; profiles to validate against; extra IG folders."""
    name: str
    resource: dict[str, Any] | str | None = None
    path: Path | None = None
    profiles: Sequence[str] = ()
    igs: Sequence[Path] = ()
    op: str = "validate"

    def line(self) -> str:
        if any(c in self.name for c in "\t\n"):
            raise ValueError(f"{self.name!r}: a name cannot hold a tab or newline")
        for text in (*self.profiles, *map(str, self.igs)):
            if any(c in text for c in "\t\n,"):
                raise ValueError(f"{text!r}: a profile or IG path cannot hold a tab, newline or comma")
        if self.path is not None:
            payload = "@" + str(self.path)
        elif isinstance(self.resource, str):
            payload = self.resource.replace("\r", " ").replace("\n", " ")
        else:
            payload = json.dumps(self.resource, ensure_ascii=False, separators=(",", ":"))
        return "\t".join((self.op, self.name, ",".join(self.profiles), ",".join(map(str, self.igs)), payload))


@dataclass
class ReferenceValidator:
    """A running `reference-validator --batch` process. Use as a context manager or call close()."""
    packages: Sequence[Path] = ()
    igs: Sequence[Path] = ()
    threads: int | None = None    # reference worker threads (default: one per core)
    startup_s: float = 0.0
    hapi_version: str = ""
    _proc: subprocess.Popen[str] | None = field(default=None, repr=False)
    _stderr: IO[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        jar = build()
        cmd = ["java", *JVM_FLAGS, "-jar", str(jar), "--batch"]
        for p in self.packages:
            cmd += ["--package", str(p)]
        for p in self.igs:
            cmd += ["--ig", str(p)]
        if self.threads:
            cmd += ["--threads", str(self.threads)]
        t0 = time.perf_counter()
        # stderr goes to a file, never an unread pipe: the HL7 core prints stack traces of failed
        # invariants there, and a full pipe would stall the validator
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                                      text=True, encoding="utf-8", bufsize=1)
        assert self._proc.stdout is not None
        ready = self._proc.stdout.readline()
        if not ready:
            err = self._stderr_tail()
            raise ReferenceUnavailable(f"the reference validator did not start: {err[-2000:]}")
        info = json.loads(ready)
        self.startup_s = time.perf_counter() - t0
        self.hapi_version = str(info.get("hapi", ""))

    def __enter__(self) -> "ReferenceValidator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.stdin:
                self._proc.stdin.close()
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            if self._proc.stdout:
                self._proc.stdout.close()
            self._stderr.close()
            self._proc = None

    def _stderr_tail(self) -> str:
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read()[-2000:]

    def run(self, requests: Iterable[Request]) -> list[dict[str, Any]]:
        """Raw answers (dicts), in request order. A writer thread feeds stdin so big batches cannot deadlock."""
        proc = self._proc
        if proc is None or proc.stdin is None or proc.stdout is None:
            raise RuntimeError("the reference validator is closed")
        lines = [r.line() for r in requests]
        stdin = proc.stdin

        def feed() -> None:
            for ln in lines:
                stdin.write(ln + "\n")
            stdin.flush()

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        answers = []
        for _ in lines:
            out = proc.stdout.readline()
            if not out:
                err = self._stderr_tail()
                raise RuntimeError(f"the reference validator stopped: {err[-2000:]}")
            answers.append(json.loads(out))
        writer.join()
        return answers

    def validate(self, requests: Iterable[Request]) -> list[Answer]:
        out = []
        for a in self.run(requests):
            if "error" in a:
                raise RuntimeError(f"{a.get('name')}: {a['error']}")
            out.append(Answer(a["name"], bool(a["valid"]), a["outcome"], int(a.get("micros", 0)),
                              int(a.get("cpu_micros", 0))))
        return out

    def snapshot(self, sd: dict[str, Any], igs: Sequence[Path] = ()) -> dict[str, Any]:
        """HAPI's snapshot of sd's differential: {"snapshot": SD} or {"error": text}."""
        (a,) = self.run([Request(sd.get("id", "sd"), sd, op="snapshot", igs=igs)])
        return dict(a["result"])


def export_package(out: Path) -> Path:
    """Our package as the reference loads it: `fhiradapter profiles export --out out` (the CLI, as a user runs it)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run([sys.executable, "-c", "from fhiradapter.cli import main; main()",
                           "profiles", "export", "--out", str(out)], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"profiles export failed: {proc.stderr[-2000:]}")
    return out
