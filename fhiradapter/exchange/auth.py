"""Authentication to the payer endpoint: none, bearer, SMART Backend Services, mutual TLS.

Secrets are read from an environment variable or a file, never from argv, and never appear in
repr(), logs or the journal. SMART Backend Services (hl7.org/fhir/smart-app-launch backend-services):
client_credentials grant with a JWT client assertion signed RS384 or ES384, `exp` at most 5 minutes
ahead, a fresh `jti` per assertion; the access token is cached until shortly before it expires.
"""
from __future__ import annotations

import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

import requests

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_LIFETIME = 300  # seconds; SMART: "no more than five minutes in the future"
SUPPORTED_ALGS = ("RS384", "ES384")
MAX_SECRET_BYTES = 64 * 1024   # a token or a PEM key is a few KiB at most


class AuthError(Exception):
    """Credentials missing, unreadable or refused. Messages name the source, never the secret."""


class Auth(Protocol):
    def headers(self) -> dict[str, str]: ...
    def invalidate(self) -> None: ...


class NoAuth:
    def headers(self) -> dict[str, str]:
        return {}

    def invalidate(self) -> None:
        return None

    def __repr__(self) -> str:
        return "NoAuth()"


def read_secret(*, env: str | None = None, file: str | Path | None = None, what: str = "token",
                first_line: bool = False) -> str:
    """A secret from an environment variable or a file (`first_line`: a token file's first line)."""
    if env:
        value = os.environ.get(env, "").strip()
        if not value:
            raise AuthError(f"{what}: environment variable {env} is not set or empty")
        return value
    if file:
        path = Path(file)
        try:
            # Bounded: /dev/zero or a huge file by mistake must not fill memory.
            with open(path, "rb") as handle:
                raw = handle.read(MAX_SECRET_BYTES + 1)
        except OSError as exc:
            raise AuthError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None
        if len(raw) > MAX_SECRET_BYTES:
            raise AuthError(f"{what}: {path} is larger than {MAX_SECRET_BYTES // 1024} KiB; "
                            "that is not a token or key file")
        try:
            value = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise AuthError(f"{what}: {path} is not UTF-8 text") from None
        if first_line and value:
            value = value.splitlines()[0].strip()
        if not value:
            raise AuthError(f"{what}: {path} is empty")
        return value
    raise AuthError(f"{what}: give an environment variable or a file")


class BearerAuth:
    def __init__(self, token: str) -> None:
        self._token = token

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def invalidate(self) -> None:
        return None  # a static token cannot be refreshed

    def __repr__(self) -> str:
        return "BearerAuth(token=***)"


@dataclass(slots=True)
class _Token:
    value: str
    expires_at: float


class SmartBackendAuth:
    """SMART Backend Services client. `fetch` is the HTTP POST used for the token request."""

    def __init__(self, *, client_id: str, token_url: str, private_key_pem: str, key_id: str | None,
                 alg: str = "RS384", scope: str = "system/*.write", lifetime: int = MAX_ASSERTION_LIFETIME,
                 session: requests.Session | None = None, timeout: float = 30.0,
                 clock: Callable[[], float] = time.time) -> None:
        if alg not in SUPPORTED_ALGS:
            raise AuthError(f"--alg must be one of {', '.join(SUPPORTED_ALGS)}")
        if not 0 < lifetime <= MAX_ASSERTION_LIFETIME:
            raise AuthError("assertion lifetime must be 1..300 seconds")
        self.client_id, self.token_url, self.key_id, self.alg, self.scope = client_id, token_url, key_id, alg, scope
        self._key = private_key_pem
        self._lifetime = lifetime
        self._session = session or requests.Session()
        self._timeout = timeout
        self._clock = clock
        self._token: _Token | None = None
        self._lock = threading.Lock()
        self._check_key()

    def _check_key(self) -> None:
        import jwt  # PyJWT; imported here so `send` without SMART never loads crypto
        try:
            jwt.encode({"probe": 1}, self._key, algorithm=self.alg)
        except Exception as exc:  # wrong key type for the alg, bad PEM
            raise AuthError(f"the key file does not hold a private key usable with {self.alg} "
                            f"({type(exc).__name__})") from None

    def assertion(self) -> str:
        import jwt
        now = int(self._clock())
        claims = {"iss": self.client_id, "sub": self.client_id, "aud": self.token_url,
                  "iat": now, "exp": now + self._lifetime, "jti": str(uuid.uuid4())}
        headers = {"typ": "JWT"}
        if self.key_id:
            headers["kid"] = self.key_id
        return jwt.encode(claims, self._key, algorithm=self.alg, headers=headers)

    def _fetch(self) -> _Token:
        form = {"grant_type": "client_credentials", "scope": self.scope,
                "client_assertion_type": ASSERTION_TYPE, "client_assertion": self.assertion()}
        try:
            response = self._session.post(self.token_url, data=form, timeout=self._timeout,
                                          headers={"Accept": "application/json"},
                                          verify=self._session.verify, cert=self._session.cert)
        except requests.RequestException as exc:
            raise AuthError(f"token endpoint unreachable ({type(exc).__name__})") from None
        if response.status_code != 200:
            error = ""
            try:
                error = str(response.json().get("error", ""))[:80]
            except ValueError:
                pass
            raise AuthError(f"token endpoint answered {response.status_code} {error}".rstrip())
        try:
            body = response.json()
            value = body["access_token"]
        except (ValueError, KeyError, TypeError):
            raise AuthError("token endpoint answer has no access_token") from None
        expires_in = body.get("expires_in", 300)
        try:
            expires_in = float(expires_in)
        except (TypeError, ValueError):
            expires_in = 300.0
        # Renew a little early so a token never expires in flight.
        return _Token(value, self._clock() + max(0.0, expires_in - min(30.0, expires_in / 10)))

    def headers(self) -> dict[str, str]:
        with self._lock:
            if self._token is None or self._clock() >= self._token.expires_at:
                self._token = self._fetch()
            return {"Authorization": f"Bearer {self._token.value}"}

    def invalidate(self) -> None:
        with self._lock:
            self._token = None

    def __repr__(self) -> str:
        return f"SmartBackendAuth(client_id={self.client_id!r}, token_url={self.token_url!r}, alg={self.alg})"


def configure_tls(session: requests.Session, *, ca_bundle: str | None, cert: str | None,
                  key: str | None) -> None:
    """TLS verification is always on; a CA bundle replaces the system store; cert+key = mutual TLS."""
    for label, path in (("--ca-bundle", ca_bundle), ("--cert", cert), ("--key", key)):
        if path and not Path(path).is_file():
            raise AuthError(f"{label}: {path} is not a readable file")
    if key and not cert:
        raise AuthError("--key needs --cert (mutual TLS client certificate)")
    session.verify = ca_bundle or True
    if cert:
        session.cert = (cert, key) if key else cert


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: the only hosts a token may reach over plain http (local tests)."""
    import ipaddress
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def insecure_http_problem(url: str, allowed: bool) -> str | None:
    """Why a credential must not go to `url` (plain http), or None."""
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    if parts.scheme != "http":
        return None
    if not allowed:
        return ("refusing to send a token over plain http:// (anyone on the path could read it); use https://, "
                "or --allow-insecure-http for a loopback test server")
    if not is_loopback(parts.hostname or ""):
        return "--allow-insecure-http is only allowed for a loopback host (127.0.0.1, ::1, localhost)"
    return None
