"""One HTTP exchange with the FHIR endpoint. No retry loop here (the sender owns it, so the journal
is written around every single request); this module only turns what happened into an `HttpResult`.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
import requests

from .auth import Auth, NoAuth
from .retry import parse_retry_after

USER_AGENT = "fhiradapter-exchange/0.1"
FHIR_JSON = "application/fhir+json"
_TYPE = re.compile(r"[A-Z][A-Za-z]{1,63}")
TLS_ERROR = "tls (certificate not trusted, or client certificate refused)"


@dataclass(slots=True)
class HttpResult:
    status: int | None                 # None: no HTTP answer (connection error, timeout)
    body: Any = None                   # parsed JSON, or None
    error: str | None = None           # short kind: "timeout", "connection", "not-json" (never a secret)
    retry_after: float | None = None
    server_request_id: str | None = None
    correlation_id: str | None = None  # ours, new for every try (X-Correlation-Id); X-Request-Id is per Bundle


class FhirClient:
    def __init__(self, endpoint: str, *, auth: Auth | None = None, session: requests.Session | None = None,
                 timeout: float = 60.0) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.auth = auth or NoAuth()
        self.session = session or requests.Session()
        self.timeout = (min(10.0, timeout), timeout)

    def post_bundle(self, bundle: dict[str, Any], request_id: str, correlation_id: str | None = None) -> HttpResult:
        return self._post(self.endpoint, bundle, request_id, correlation_id)

    def validate(self, resource: dict[str, Any], request_id: str) -> HttpResult:
        rtype = resource.get("resourceType", "")
        if not _TYPE.fullmatch(str(rtype)):  # never build a path from an unchecked value
            return HttpResult(None, error="invalid resourceType")
        return self._post(f"{self.endpoint}/{rtype}/$validate", resource, request_id)

    def capability(self, request_id: str) -> HttpResult:
        """GET [base]/metadata (the CapabilityStatement), without credentials: servers publish it openly
        (SMART: metadata needs no token), and no token is fetched before the first real request."""
        return self._send("GET", f"{self.endpoint}/metadata", None, request_id, str(uuid.uuid4()), auth=False)

    def _post(self, url: str, body: dict[str, Any], request_id: str, correlation_id: str | None = None) -> HttpResult:
        result = self._send("POST", url, body, request_id, correlation_id or str(uuid.uuid4()))
        if result.status == 401:
            # An expired or revoked SMART token: fetch a new one and try once more at once.
            self.auth.invalidate()
            result = self._send("POST", url, body, request_id, str(uuid.uuid4()))
        return result

    def _send(self, method: str, url: str, body: dict[str, Any] | None, request_id: str,
              correlation_id: str, auth: bool = True) -> HttpResult:
        headers = {"Accept": FHIR_JSON, "X-Request-Id": request_id, "X-Correlation-Id": correlation_id,
                   "User-Agent": USER_AGENT, "Prefer": "return=OperationOutcome"}
        if body is not None:
            headers["Content-Type"] = FHIR_JSON
        if auth:
            headers.update(self.auth.headers())
        try:
            # verify/cert passed per request: requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override a
            # Session's own `verify`, which would silently ignore --ca-bundle.
            response = self.session.request(method, url, data=orjson.dumps(body) if body is not None else None,
                                            headers=headers, timeout=self.timeout,
                                            verify=self.session.verify, cert=self.session.cert,
                                            # A redirected POST turns into a GET (301/302) and may carry the
                                            # token elsewhere: a 3xx is reported, never followed.
                                            allow_redirects=False)
        except requests.Timeout:
            return HttpResult(None, error="timeout", correlation_id=correlation_id)
        except requests.exceptions.SSLError:
            # Certificate not trusted, or our client certificate refused: retrying cannot help.
            return HttpResult(None, error=TLS_ERROR, correlation_id=correlation_id)
        except requests.ConnectionError:
            return HttpResult(None, error="connection", correlation_id=correlation_id)
        except requests.RequestException as exc:  # e.g. ChunkedEncodingError: the answer broke off
            return HttpResult(None, error=f"transport ({type(exc).__name__})", correlation_id=correlation_id)
        parsed: Any = None
        error = None
        if response.content:
            try:
                parsed = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                error = "not-json"
        return HttpResult(response.status_code, parsed, error,
                          parse_retry_after(response.headers.get("Retry-After")),
                          response.headers.get("X-Request-Id") or response.headers.get("X-Correlation-Id"),
                          correlation_id)
