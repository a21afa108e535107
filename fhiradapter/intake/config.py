"""Settings of `fhiradapter serve`: a TOML file, then environment variables, then command-line flags.

Every setting has a default that is safe for local use (127.0.0.1, no upstream, SQLite ledger under
`./intake-data`). The environment overrides the file: `FHIRADAPTER_INTAKE_<SECTION>_<KEY>` in upper case
(e.g. `FHIRADAPTER_INTAKE_LEDGER_DSN`, `FHIRADAPTER_INTAKE_UPSTREAM_URL`); secrets (the upstream token)
are only read from the environment or a file, never from the config file's text or argv.
"""
from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

ENV_PREFIX = "FHIRADAPTER_INTAKE_"
CONFIG_ENV = "FHIRADAPTER_INTAKE_CONFIG"   # the config file's path (for uvicorn worker processes)


class ConfigError(Exception):
    """A setting is missing, malformed or unsafe; the message names it."""


@dataclass(slots=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8090
    base_url: str = ""            # public base as clients see it (behind a proxy); default http://host:port
    data_dir: str = "intake-data"
    workers: int = 1              # uvicorn worker processes (one of them delivers, see forward.py)
    audit_log: str = "-"          # AuditEvent lines: "-" standard output, a file path, or "" for none


@dataclass(slots=True)
class AuthSettings:
    jwks_url: str = ""            # the authorization server's JWKS (https://…/.well-known/jwks.json)
    jwks_file: str = ""           # or a JWKS file
    issuer: str = ""              # required `iss`
    audience: str = ""            # required `aud` (this service's URL as registered)
    org_claim: str = "org"        # claim naming the sender's Organization (`Organization/abc` or `abc`)
    leeway_seconds: int = 30

    @property
    def enabled(self) -> bool:
        return bool(self.jwks_url or self.jwks_file)


@dataclass(slots=True)
class LedgerSettings:
    dsn: str = ""                 # empty: SQLite at {data_dir}/ledger.sqlite; postgresql://… for PostgreSQL


@dataclass(slots=True)
class UpstreamSettings:
    url: str = ""                 # the payer's FHIR base; empty: accepted submissions stay queued
    token_env: str = ""           # name of an env variable holding a bearer token for the upstream
    token_file: str = ""          # or a file holding it
    ca_bundle: str = ""
    timeout_seconds: float = 60.0
    bundle_size: int = 100        # entries per upstream request (servers cap transactions; Medplum: 50)
    max_attempts: int = 6         # per delivery round; a later round tries again
    retry_interval_seconds: float = 5.0   # how often queued submissions are tried again
    wait_seconds: float = 10.0    # how long POST / waits for the upstream before answering 202


@dataclass(slots=True)
class LimitSettings:
    max_body_bytes: int = 20 * 1024 * 1024
    max_entries: int = 1000
    validation_workers: int = 2   # concurrent validations (threads); one more waits at most `queue`
    validation_queue: int = 64    # requests waiting for a worker before 429
    retry_after_seconds: int = 2
    validation_timeout_seconds: float = 30.0
    inline_bytes: int = 16384     # $validate bodies up to this size run on the event loop (no thread hop)


@dataclass(slots=True)
class ValidationSettings:
    igs: list[str] = field(default_factory=list)   # extra FHIR packages (folders or .tgz), like --ig
    rules: bool = True
    timezone: str = ""


@dataclass(slots=True)
class IntakeConfig:
    server: ServerSettings = field(default_factory=ServerSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    ledger: LedgerSettings = field(default_factory=LedgerSettings)
    upstream: UpstreamSettings = field(default_factory=UpstreamSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    validation: ValidationSettings = field(default_factory=ValidationSettings)

    @property
    def data_dir(self) -> Path:
        return Path(self.server.data_dir)

    @property
    def public_base(self) -> str:
        return (self.server.base_url or f"http://{self.server.host}:{self.server.port}").rstrip("/")

    def check_safe(self) -> None:
        """Refuse a public interface without auth: anyone could write into the payer's server."""
        if not self.auth.enabled and not is_loopback(self.server.host):
            raise ConfigError(f"server.host {self.server.host}: refusing to listen on a non-loopback interface "
                              "without auth; set auth.jwks_url or auth.jwks_file (and issuer, audience)")
        if self.auth.enabled and not (self.auth.issuer and self.auth.audience):
            raise ConfigError("auth: issuer and audience are required when a JWKS is configured")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None,
                overrides: Mapping[str, Any] | None = None) -> IntakeConfig:
    """File, then environment, then `overrides` ({"server.port": 9000}). Relative paths in the file are
    resolved against the file's folder, so a config works from any working directory."""
    config = IntakeConfig()
    base = Path.cwd()
    if path is not None:
        file = Path(path)
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{file}: cannot read ({exc.strerror})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML ({exc})") from None
        base = file.resolve().parent
        for section, values in raw.items():
            if not isinstance(values, dict):
                raise ConfigError(f"{file}: [{section}] must be a table")
            for key, value in values.items():
                _set(config, f"{section}.{key}", value, str(file))
    for name, value in (os.environ if env is None else env).items():
        if name.startswith(ENV_PREFIX) and name != CONFIG_ENV:
            section, _, key = name[len(ENV_PREFIX):].lower().partition("_")
            _set(config, f"{section}.{key}", value, f"environment {name}")
    for dotted, value in (overrides or {}).items():
        if value is not None:
            _set(config, dotted, value, "command line")
    for holder, name in ((config.server, "data_dir"), (config.server, "audit_log"), (config.auth, "jwks_file"), (config.upstream, "token_file"),
                         (config.upstream, "ca_bundle")):
        value = getattr(holder, name)
        if value and value != "-" and not Path(value).is_absolute():
            setattr(holder, name, os.path.normpath(base / value))
    config.validation.igs = [v if Path(v).is_absolute() else os.path.normpath(base / v) for v in config.validation.igs]
    return config


def _set(config: IntakeConfig, dotted: str, value: Any, origin: str) -> None:
    section, _, key = dotted.partition(".")
    holder = getattr(config, section, None) if section in {f.name for f in fields(config)} else None
    names = {f.name: f for f in fields(holder)} if holder is not None else {}
    if key not in names:
        raise ConfigError(f"{origin}: unknown setting {dotted}")
    current = getattr(holder, key)
    try:
        if isinstance(current, bool):
            converted: Any = value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
        elif isinstance(current, int):
            converted = int(value)
        elif isinstance(current, float):
            converted = float(value)
        elif isinstance(current, list):
            converted = list(value) if isinstance(value, list) else [v for v in str(value).split(",") if v]
        else:
            converted = str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{origin}: {dotted} must be a {type(current).__name__}") from None
    setattr(holder, key, converted)
