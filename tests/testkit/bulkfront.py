"""A loopback front for the FHIR test server that adds Bulk Data `Patient/$export` (the Medplum-based
test server has none): kick-off answers 202 + Content-Location, the status URL answers 202 with
Retry-After once and then the manifest, and the output NDJSON files are read from the real server.
Everything else is relayed to the real server unchanged."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import requests

TYPES = ("Patient", "CarePlan", "Encounter", "ServiceRequest", "Consent")


class BulkFront:
    def __init__(self, upstream_root: str, token: str | None = None) -> None:
        self.upstream = upstream_root.rstrip("/")
        self.token = token        # when set, every request needs `Authorization: Bearer {token}`
        self.kickoffs: list[dict[str, str]] = []     # headers of each kick-off request
        self.polls = 0
        self.downloads: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/fhir"

    def __enter__(self) -> "BulkFront":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _ndjson(self, resource_type: str) -> bytes:
        lines: list[str] = []
        url: str | None = f"{self.upstream}/fhir/{resource_type}?_count=1000"
        while url:
            bundle = requests.get(url, timeout=30).json()
            lines += [json.dumps(e["resource"]) for e in bundle.get("entry") or []]
            url = next((link["url"] for link in bundle.get("link") or [] if link.get("relation") == "next"), None)
        return ("\n".join(lines) + "\n").encode() if lines else b""

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        front = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return None

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                path = urlsplit(self.path).path
                if front.token and self.headers.get("Authorization") != f"Bearer {front.token}" \
                        and not path.startswith("/bulkfiles/"):
                    return self._send(401, b'{"resourceType":"OperationOutcome"}', {"WWW-Authenticate": "Bearer"})
                here = f"http://127.0.0.1:{front.port}"
                if path == "/fhir/metadata":
                    capability: dict[str, Any] = requests.get(f"{front.upstream}/fhir/metadata", timeout=30).json()
                    capability["rest"] = [{"mode": "server", "operation": [
                        {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"}]}]
                    return self._send(200, json.dumps(capability).encode(), {"Content-Type": "application/fhir+json"})
                if path == "/fhir/Patient/$export":
                    front.kickoffs.append(dict(self.headers))
                    if self.headers.get("Prefer") != "respond-async":
                        return self._send(400, b'{"resourceType":"OperationOutcome"}')
                    return self._send(202, b"", {"Content-Location": f"{here}/bulkstatus/1"})
                if path == "/bulkstatus/1":
                    front.polls += 1
                    if front.polls == 1:
                        return self._send(202, b"", {"Retry-After": "1", "X-Progress": "in progress"})
                    manifest = {"transactionTime": "2026-04-27T00:00:00Z", "request": f"{front.base}/Patient/$export",
                                "requiresAccessToken": False, "error": [],
                                "output": [{"type": t, "url": f"{here}/bulkfiles/{t}.ndjson"} for t in TYPES]}
                    return self._send(200, json.dumps(manifest).encode(), {"Content-Type": "application/json"})
                if path.startswith("/bulkfiles/"):
                    resource_type = path.rsplit("/", 1)[1].split(".")[0]
                    front.downloads.append(resource_type)
                    return self._send(200, front._ndjson(resource_type), {"Content-Type": "application/fhir+ndjson"})
                upstream = requests.get(f"{front.upstream}{self.path}", headers={"Accept": "application/fhir+json"},
                                        timeout=30)
                body = upstream.content.replace(front.upstream.encode(), here.encode())
                return self._send(upstream.status_code, body,
                                  {"Content-Type": upstream.headers.get("Content-Type", "application/fhir+json")})

        return Handler
