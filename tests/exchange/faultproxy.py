"""A loopback HTTP proxy that misbehaves on purpose, for the exchange fault tests.

Bounded: it binds 127.0.0.1 only, serves at most `max_requests`, every delay is capped, and it
stops itself after `lifetime` seconds. Each incoming request takes the next action from a plan
(then `pass` once the plan is used up):

  pass          forward to the upstream server and relay its answer
  drop          close the connection without forwarding (nothing reached the server)
  drop-after    forward, then close without answering (the server HAS stored it; the client can't know)
  delay         hold the request `delay` seconds, then forward (longer than the client's timeout)
  delay-after   forward, then hold the answer `delay` seconds (stored, but the client times out)
  503 / 429     answer that status without forwarding (429 carries Retry-After: 1)
  429/600       429 with Retry-After: 600 (any number of seconds after the slash)
  404           answer 404 without forwarding (e.g. a server without GET metadata)
  hold          forward, then wait until `release` is set (lets a test SIGKILL the client mid-request)

`slow` adds that many seconds before every forwarded request (for the SIGKILL test).
"""
from __future__ import annotations

import http.client
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterable
from urllib.parse import urlsplit

MAX_DELAY = 10.0


class FaultProxy:
    def __init__(self, upstream: str, plan: Iterable[str] = (), *, delay: float = 2.0, slow: float = 0.0,
                 max_requests: int = 500, lifetime: float = 120.0, port: int = 0) -> None:
        parts = urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname or "127.0.0.1", parts.port or 80
        self.plan = list(plan)
        self.delay = min(delay, MAX_DELAY)
        self.slow = min(slow, MAX_DELAY)
        self.max_requests = max_requests
        self.lifetime = lifetime
        self.log: list[tuple[str, str, str | None]] = []  # (action, path, X-Request-Id)
        self.correlation_ids: list[str | None] = []          # X-Correlation-Id of each request, as log
        self.held = threading.Event()      # set when a `hold` request has been forwarded
        self.release = threading.Event()
        self._lock = threading.Lock()
        # One forward at a time: the upstream never sees two of our requests overlap. Conditional
        # create is only race-free on servers that serialise it (docs/exchange.md), and these tests
        # are about the client, not about the server's concurrency control.
        self._forward_lock = threading.Lock()
        self._stopped = threading.Event()
        self._connections: set = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._timer = threading.Timer(lifetime, self.stop)
        self._timer.daemon = True

    def url(self, path: str = "/fhir") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> "FaultProxy":
        self._thread.start()
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop listening (connections then get refused): also how a test 'kills' the proxy mid-run."""
        self._stopped.set()
        self.release.set()
        self._timer.cancel()
        with self._lock:
            connections = list(self._connections)
        for sock in connections:  # keep-alive connections die with the proxy too
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def actions(self) -> list[str]:
        return [a for a, _, _ in self.log]

    def _next_action(self, path: str, request_id: str | None, correlation_id: str | None = None) -> str:
        with self._lock:
            if len(self.log) >= self.max_requests:
                action = "503"
            else:
                action = self.plan.pop(0) if self.plan else "pass"
            self.log.append((action, path, request_id))
            self.correlation_ids.append(correlation_id)
            return action

    def requests_to(self, suffix: str = "") -> list[tuple[str, str, str | None]]:
        """The log without the CapabilityStatement reads (GET metadata) a run starts with."""
        return [e for e in self.log if not e[1].endswith("/metadata") and e[1].endswith(suffix)]

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list, bytes]:
        if self.slow:
            time.sleep(self.slow)
        with self._forward_lock:
            conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=30)
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                return response.status, response.getheaders(), response.read()
            finally:
                conn.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                return None

            def setup(self) -> None:
                super().setup()
                with proxy._lock:
                    proxy._connections.add(self.connection)

            def finish(self) -> None:
                with proxy._lock:
                    proxy._connections.discard(self.connection)
                try:
                    super().finish()
                except OSError:
                    pass

            def _handle(self) -> None:
                if proxy._stopped.is_set():
                    self.close_connection = True
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                action = proxy._next_action(self.path, self.headers.get("X-Request-Id"),
                                            self.headers.get("X-Correlation-Id"))
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "connection", "content-length")}
                if action == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if action in ("503", "429", "404") or action.startswith("429/"):
                    code, _, after = action.partition("/")
                    extra = {"Retry-After": after or "1"} if code == "429" else {}
                    self._reply(int(code), [("Content-Type", "application/fhir+json"), *extra.items()],
                                b'{"resourceType":"OperationOutcome","issue":[{"severity":"error",'
                                b'"code":"transient","details":{"text":"injected"}}]}')
                    return
                if action == "delay":
                    time.sleep(proxy.delay)
                status, upstream_headers, payload = proxy._forward(self.command, self.path, headers, body)
                if action == "drop-after":
                    self.close_connection = True
                    self.connection.close()
                    return
                if action == "delay-after":
                    time.sleep(proxy.delay)
                if action == "hold":
                    proxy.held.set()
                    proxy.release.wait(MAX_DELAY)
                    self.close_connection = True
                    try:
                        self.connection.close()
                    except OSError:
                        pass
                    return
                keep = [(k, v) for k, v in upstream_headers
                        if k.lower() not in ("connection", "transfer-encoding", "content-length", "keep-alive")]
                try:
                    self._reply(status, keep, payload)
                except OSError:
                    pass  # the client gave up (timeout) while we held the answer

            def _reply(self, status: int, headers: list, payload: bytes) -> None:
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = _handle

        return Handler
