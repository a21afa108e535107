"""Intake fixtures: the gateway (`fhiradapter serve`) started as a real process on a free loopback port,
a local token issuer with its JWKS, mapper output of the mt-cmp example as submissions, and PostgreSQL."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

REPO = Path(__file__).resolve().parents[2]
FHIR_JSON = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def toml(settings: dict[str, dict[str, Any]]) -> str:
    """Our settings are flat tables of strings, numbers, booleans and string lists: JSON spells them as TOML."""
    lines: list[str] = []
    for section, values in settings.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
        lines.append("")
    return "\n".join(lines)


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from fhiradapter.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO, check=False,
                          env={**os.environ, **(env or {})})


@dataclass
class Service:
    base: str
    data_dir: Path
    config_file: Path
    process: subprocess.Popen[str]
    log_file: Path

    def post(self, path: str, body: Any, *, headers: dict[str, str] | None = None, token: str | None = None,
             timeout: float = 60) -> requests.Response:
        h = {**FHIR_JSON, **(headers or {})}
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return requests.post(f"{self.base}{path}", data=data, headers=h, timeout=timeout)

    def get(self, path: str, token: str | None = None) -> requests.Response:
        h = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(f"{self.base}{path}", headers=h, timeout=30)

    def submission(self, sub_id: str, token: str | None = None) -> dict[str, Any]:
        response = self.get(f"/submissions/{sub_id}", token)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def wait_delivery(self, sub_id: str, state: str = "delivered", timeout: float = 60,
                      token: str | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.submission(sub_id, token)
            if found["delivery"] == state or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    def audit_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log_file.read_text().splitlines() if line.startswith("{")]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


StartService = Callable[..., Service]


@pytest.fixture
def start_service(tmp_path: Path) -> Iterator[StartService]:
    """start_service(settings, data_dir=None) -> a running `fhiradapter serve --config FILE` process."""
    started: list[Service] = []

    def start(settings: dict[str, dict[str, Any]] | None = None, *, data_dir: Path | None = None,
              env: dict[str, str] | None = None) -> Service:
        port = free_port()
        data = data_dir or tmp_path / f"data-{len(started)}"
        config = {"server": {"host": "127.0.0.1", "port": port, "data_dir": str(data)},
                  "upstream": {"retry_interval_seconds": 0.5, "max_attempts": 2, "wait_seconds": 10,
                               "bundle_size": 50}}
        for section, values in (settings or {}).items():
            config.setdefault(section, {}).update(values)
        config_file = tmp_path / f"intake-{len(started)}.toml"
        config_file.write_text(toml(config), encoding="utf-8")
        log_file = tmp_path / f"intake-{len(started)}.log"
        # settings come from the config file only: drop FHIRADAPTER_INTAKE_* the caller's shell may have
        clean = {k: v for k, v in os.environ.items() if not k.startswith("FHIRADAPTER_INTAKE_")}
        with open(log_file, "w") as log:   # the child keeps its own copy of the descriptor
            process = subprocess.Popen(
                [sys.executable, "-c", "from fhiradapter.cli import main; main()", "serve", "--config",
                 str(config_file)], stdout=log, stderr=subprocess.STDOUT, text=True, cwd=REPO,
                env={**clean, **(env or {})})
        service = Service(f"http://127.0.0.1:{port}", data, config_file, process, log_file)
        started.append(service)
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"intake service exited {process.returncode}: {log_file.read_text()[-3000:]}")
            try:
                if requests.get(f"{service.base}/metadata", timeout=2).status_code == 200:
                    return service
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                service.stop()
                pytest.fail(f"intake service never answered /metadata: {log_file.read_text()[-3000:]}")
            time.sleep(0.1)

    yield start
    for service in started:
        service.stop()


# -- submissions: the mapper's real output for the mt-cmp example -------------------------------------

@pytest.fixture(scope="session")
def mt_cmp_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mt-cmp-out")
    result = cli("run", "--program", "mt-cmp", str(REPO / "examples" / "mt-cmp"), "--out", str(out))
    assert (out / "bundles").is_dir(), result.stderr[-2000:]
    return out


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@dataclass
class Example:
    shared: dict[str, Any]                 # Organizations, Practitioners, Groups
    members: list[dict[str, Any]] = field(default_factory=list)   # one member Bundle each, <= 50 entries


@pytest.fixture(scope="session")
def example(mt_cmp_out: Path) -> Example:
    """The shared Bundle and member Bundles cut to their first 50 entries (the test server's transaction
    cap), keeping only member Bundles the validator and rules accept as they are."""
    from fhiradapter.validator import validate_issues

    bundles = sorted((mt_cmp_out / "bundles").glob("*.json"))
    shared = load(next(p for p in bundles if p.name.startswith("000-shared")))
    found = Example(shared=shared)
    for path in bundles:
        if path.name.startswith("000-shared") or len(found.members) >= 6:
            continue
        bundle = load(path)
        bundle["entry"] = bundle["entry"][:50]
        if not any(i.is_error for i in validate_issues(bundle)):
            found.members.append(bundle)
    assert len(found.members) >= 3
    return found


# -- a local token issuer ---------------------------------------------------------------------------

@dataclass
class Issuer:
    key: rsa.RSAPrivateKey
    kid: str
    jwks_file: Path
    issuer: str = "https://auth.payer.test"
    audience: str = "https://intake.payer.test"

    def token(self, *, org: str | None = "Organization/agency-a", scope: str = "system/*.write",
              aud: str | None = None, exp_in: int = 300, iss: str | None = None, key: Any = None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {"iss": iss or self.issuer, "sub": "agency-a-client", "aud": aud or self.audience,
                                  "iat": now, "exp": now + exp_in, "scope": scope}
        if org:
            claims["org"] = org
        return jwt.encode(claims, key or self.key, algorithm="RS384", headers={"kid": self.kid})

    def settings(self) -> dict[str, Any]:
        return {"jwks_file": str(self.jwks_file), "issuer": self.issuer, "audience": self.audience}


@pytest.fixture(scope="session")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Issuer:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "test-key-1", "use": "sig", "alg": "RS384"})
    path = tmp_path_factory.mktemp("issuer") / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}), encoding="utf-8")
    return Issuer(key, "test-key-1", path)


# -- PostgreSQL ------------------------------------------------------------------------------------

PG_ENV = "FHIRADAPTER_TEST_PG_DSN"


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / name).exists():
            return str(folder / name)
    return None


@pytest.fixture(scope="session")
def postgres_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The DSN .ci/run sets (its own cluster); else a temporary cluster from initdb/pg_ctl. Missing
    PostgreSQL fails under CI=true (the ledger test must run there) and skips elsewhere."""
    dsn = os.environ.get(PG_ENV)
    if dsn:
        yield dsn
        return
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        message = f"PostgreSQL not installed (no initdb/pg_ctl) and {PG_ENV} not set"
        if os.environ.get("CI") == "true":
            pytest.fail(message + ": .ci/run installs it")
        pytest.skip(message)
    # not under pytest's tmp folder: that is private to root, and the server runs as postgres
    folder = Path(tempfile.mkdtemp(prefix="fhiradapter-pg-"))
    port = free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:   # initdb refuses to run as root
        shutil.chown(folder, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    subprocess.run([*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "postgres"], check=True,
                   capture_output=True)
    subprocess.run([*as_user, pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-w", "-o",
                    f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "fast", "stop"], capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)
