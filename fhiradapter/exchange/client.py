"""One HTTP exchange with the FHIR endpoint. No retry loop here (the sender owns it, so the journal
is written around every single request); this module only turns what happened into an `HttpResult`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import requests

from .auth import Auth, NoAuth
from .retry import parse_retry_after

USER_AGENT = "fhiradapter-exchange/0.1"
FHIR_JSON = "application/fhir+json"


@dataclass(slots=True)
class HttpResult:
    status: int | None                 # None: no HTTP answer (connection error, timeout)
    body: Any = None                   # parsed JSON, or None
    error: str | None = None           # short kind: "timeout", "connection", "not-json" (never a secret)
    retry_after: float | None = None
    server_request_id: str | None = None


class FhirClient:
    def __init__(self, endpoint: str, *, auth: Auth | None = None, session: requests.Session | None = None,
                 timeout: float = 60.0) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.auth = auth or NoAuth()
        self.session = session or requests.Session()
        self.timeout = (min(10.0, timeout), timeout)

    def post_bundle(self, bundle: dict[str, Any], request_id: str) -> HttpResult:
        return self._post(self.endpoint, bundle, request_id)

    def validate(self, resource: dict[str, Any], request_id: str) -> HttpResult:
        rtype = resource.get("resourceType", "")
        return self._post(f"{self.endpoint}/{rtype}/$validate", resource, request_id)

    def _post(self, url: str, body: dict[str, Any], request_id: str) -> HttpResult:
        result = self._once(url, body, request_id)
        if result.status == 401:
            # An expired or revoked SMART token: fetch a new one and try once more at once.
            self.auth.invalidate()
            result = self._once(url, body, request_id)
        return result

    def _once(self, url: str, body: dict[str, Any], request_id: str) -> HttpResult:
        headers = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON, "X-Request-Id": request_id,
                   "User-Agent": USER_AGENT, "Prefer": "return=OperationOutcome"}
        headers.update(self.auth.headers())
        try:
            # verify/cert passed per request: requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override a
            # Session's own `verify`, which would silently ignore --ca-bundle.
            response = self.session.post(url, data=orjson.dumps(body), headers=headers, timeout=self.timeout,
                                         verify=self.session.verify, cert=self.session.cert,
                                         # A redirected POST turns into a GET (301/302) and may carry the
                                         # token elsewhere: a 3xx is reported, never followed.
                                         allow_redirects=False)
        except requests.Timeout:
            return HttpResult(None, error="timeout")
        except requests.ConnectionError:
            return HttpResult(None, error="connection")
        except requests.RequestException as exc:  # e.g. ChunkedEncodingError: the answer broke off
            return HttpResult(None, error=f"transport ({type(exc).__name__})")
        parsed: Any = None
        error = None
        if response.content:
            try:
                parsed = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                error = "not-json"
        return HttpResult(response.status_code, parsed, error,
                          parse_retry_after(response.headers.get("Retry-After")),
                          response.headers.get("X-Request-Id") or response.headers.get("X-Correlation-Id"))
