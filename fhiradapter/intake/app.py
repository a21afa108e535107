"""The intake gateway as an ASGI application (Starlette): routes, request limits, auth, answers.

    GET  /metadata                    CapabilityStatement (open)
    POST /$validate, /{type}/$validate  OperationOutcome, as `fhiradapter validate --format json`
    POST /                            transaction or batch Bundle: check, record, forward exactly once
    GET  /submissions[/{id}]          the ledger, for senders to poll

Every error is an OperationOutcome; nothing answers a traceback.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fhiradapter.outcome import Issue, operation_outcome

from . import audit
from .auth import ANONYMOUS, AuthFailure, Principal, TokenVerifier
from .capability import capability_statement
from .checks import SUBMISSION_TYPES, BundleVerdict, Checks, UnknownProfile
from .config import IntakeConfig
from .forward import Forwarder
from .ledger import Ledger, Submission, open_ledger
from .members import MemberStore

log = logging.getLogger("fhiradapter.intake")

FHIR_JSON = "application/fhir+json"
JSON_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")


class Problem(Exception):
    """An answer that is an OperationOutcome: status, issue code, message, extra headers."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None,
                 issues: list[Issue] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.issues = issues or [Issue("error", code, message)]
        self.headers = headers or {}


def fhir_response(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=FHIR_JSON, headers=headers)


@dataclass
class Gate:
    """Admission to the validation pool: at most workers + queue requests in it, else 429."""
    workers: int
    queue: int
    timeout: float
    retry_after: int
    pool: concurrent.futures.ThreadPoolExecutor = field(init=False)
    in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.pool = concurrent.futures.ThreadPoolExecutor(self.workers, thread_name_prefix="intake-validate")

    def _release(self, _: object) -> None:
        with self.lock:
            self.in_flight -= 1

    async def run(self, fn: Callable[..., Any], *args: Any, small: bool = False) -> Any:
        """Run fn(*args) in the pool. `small` work (one resource) runs on the event loop itself when a
        worker is free: a thread hop costs about as much as validating one Encounter."""
        with self.lock:
            if self.in_flight >= self.workers + self.queue:
                raise Problem(429, "throttled", "too many validations in progress; try again later",
                              headers={"Retry-After": str(self.retry_after)})
            self.in_flight += 1
            inline = small and self.in_flight <= self.workers
        if inline:
            try:
                return fn(*args)
            finally:
                self._release(None)
        # released when the work really ends (a timed-out validation still holds its slot until then)
        future = self.pool.submit(fn, *args)
        future.add_done_callback(self._release)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout)
        except TimeoutError:
            raise Problem(503, "timeout", f"validation took longer than {self.timeout:g} s; try again later",
                          headers={"Retry-After": str(self.retry_after)}) from None


class Intake:
    """Everything a request needs, built once per process."""

    def __init__(self, config: IntakeConfig) -> None:
        config.check_safe()
        self.config = config
        data = config.data_dir
        data.mkdir(parents=True, exist_ok=True)
        self.verifier = TokenVerifier(config.auth) if config.auth.enabled else None
        self.ledger: Ledger = open_ledger(config.ledger.dsn, data)
        self.members = MemberStore(data / "members.sqlite")
        self.checks = Checks(config.validation, self.members)
        self.forwarder = Forwarder(config.upstream, self.ledger, data)
        limits = config.limits
        self.gate = Gate(limits.validation_workers, limits.validation_queue, limits.validation_timeout_seconds,
                         limits.retry_after_seconds)
        self.capability = capability_statement(config, self.checks.validator.registry)

    def start(self) -> None:
        self.forwarder.start()

    def stop(self) -> None:
        self.forwarder.stop()
        self.gate.pool.shutdown(wait=False, cancel_futures=True)
        self.ledger.close()

    # -- request helpers
    async def principal(self, request: Request) -> Principal:
        if self.verifier is None:
            principal = ANONYMOUS
        else:
            header = request.headers.get("authorization")
            if self.config.auth.jwks_url:
                principal = await run_in_threadpool(self.verifier.verify, header)  # may fetch the JWKS
            else:
                principal = self.verifier.verify(header)
        request.state.subject = principal.subject
        request.state.organization = principal.organization
        return principal

    async def body_json(self, request: Request) -> Any:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind not in JSON_TYPES:
            raise Problem(415, "not-supported", f"Content-Type must be {FHIR_JSON} (FHIR R4 JSON); got "
                          f"{kind or 'none'}")
        limit = self.config.limits.max_body_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise Problem(413, "too-costly", f"request body larger than {limit} bytes")
        chunks: list[bytes] = []
        size = 0

        async def read() -> None:
            nonlocal size
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise Problem(413, "too-costly", f"request body larger than {limit} bytes")
                chunks.append(chunk)

        try:
            await asyncio.wait_for(read(), self.config.limits.validation_timeout_seconds)
        except TimeoutError:
            raise Problem(408, "timeout", "the request body did not arrive in time") from None
        request.state.body_size = size
        try:
            return orjson.loads(b"".join(chunks))
        except orjson.JSONDecodeError as exc:
            raise Problem(400, "structure", f"request body is not valid JSON ({exc.msg} at line {exc.lineno}, "
                          f"column {exc.colno})") from None

    def sender(self, principal: Principal) -> str:
        return principal.organization or principal.subject


# -- routes -------------------------------------------------------------------------------------------

def _intake(request: Request) -> Intake:
    intake: Intake = request.app.state.intake
    return intake


async def metadata(request: Request) -> Response:
    request.state.interaction = "capabilities"
    return fhir_response(_intake(request).capability)


async def validate(request: Request) -> Response:
    request.state.interaction = "operation"
    intake = _intake(request)
    principal = await intake.principal(request)
    body = await intake.body_json(request)
    path_type = request.path_params.get("type")
    resource, profile = _validate_input(body)
    rtype = resource.get("resourceType") if isinstance(resource, dict) else None
    if path_type and rtype != path_type:
        raise Problem(400, "invalid", f"POST /{path_type}/$validate got a {rtype or 'non-resource'}; "
                      f"send a {path_type} or use POST /$validate")
    if isinstance(rtype, str) and not (principal.may(rtype, "read") or principal.may(rtype, "write")):
        raise Problem(403, "forbidden", f"the access token has no system/{rtype} scope")
    try:
        issues = await intake.gate.run(intake.checks.validate, resource, profile,
                                       small=request.state.body_size <= intake.config.limits.inline_bytes)
    except UnknownProfile as exc:
        raise Problem(400, "not-found", f"unknown profile {exc}: no such StructureDefinition is loaded "
                      "(a payer adds its own with validation.igs)") from None
    return fhir_response(operation_outcome(issues))


def _validate_input(body: Any) -> tuple[Any, str | None]:
    """(resource, profile) from a bare resource or a Parameters resource (resource, profile, mode)."""
    if not isinstance(body, dict) or not isinstance(body.get("resourceType"), str):
        raise Problem(400, "structure", "the body must be a FHIR resource (a JSON object with resourceType)")
    if body["resourceType"] != "Parameters":
        return body, None
    resource: Any = None
    profile: str | None = None
    for param in body.get("parameter") or []:
        if not isinstance(param, dict):
            continue
        name = param.get("name")
        if name == "resource":
            resource = param.get("resource")
        elif name == "profile":
            profile = param.get("valueUri") or param.get("valueCanonical") or param.get("valueString")
        elif name == "mode":
            mode = param.get("valueCode") or param.get("valueString")
            if mode not in ("create", "update", None):
                raise Problem(400, "not-supported", f"$validate mode {mode!r} is not supported "
                              "(only create and update)")
    if not isinstance(resource, dict):
        raise Problem(400, "required", "Parameters has no 'resource' parameter with a resource to validate")
    return resource, profile


async def submit(request: Request) -> Response:
    intake = _intake(request)
    request.state.interaction = "transaction"
    principal = await intake.principal(request)
    body = await intake.body_json(request)
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        found = body.get("resourceType") if isinstance(body, dict) else type(body).__name__
        raise Problem(400, "not-supported", f"POST / takes a transaction or batch Bundle; got {found}")
    kind = body.get("type")
    if kind not in SUBMISSION_TYPES:
        raise Problem(400, "value", f"Bundle.type must be transaction or batch; got {kind!r}")
    request.state.interaction = kind
    entries = body.get("entry") if isinstance(body.get("entry"), list) else []
    if not entries:
        raise Problem(400, "required", "the Bundle has no entries")
    if len(entries) > intake.config.limits.max_entries:
        raise Problem(413, "too-costly", f"the Bundle has {len(entries)} entries; at most "
                      f"{intake.config.limits.max_entries} per submission")
    types = sorted({e["resource"].get("resourceType") for e in entries if isinstance(e, dict)
                    and isinstance(e.get("resource"), dict) and isinstance(e["resource"].get("resourceType"), str)})
    refused = [t for t in types if not principal.may(t, "write")]
    if refused:
        raise Problem(403, "forbidden", "the access token lacks write scope for "
                      + ", ".join(f"system/{t}.write" for t in refused))
    sender = intake.sender(principal)
    request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
    request.state.request_id = request_id
    body_hash = hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()
    sub, new = await run_in_threadpool(intake.ledger.claim, sender, request_id, kind, len(entries), body_hash)
    request.state.submission = sub.id
    if not new:
        return _replay(intake, sub, body_hash)
    try:
        verdict = await intake.gate.run(intake.checks.check_submission, body, principal)
    except BaseException:
        await run_in_threadpool(intake.ledger.forget, sub.id)   # not judged: the sender may try again
        raise
    headers = {"Location": f"{intake.config.public_base}/submissions/{sub.id}", "X-Request-Id": request_id}
    if not verdict.accepted:
        errors = [i for i in verdict.issues if i.is_error]
        status = 403 if all(i.code in ("security", "forbidden") for i in errors) else 422
        outcome = operation_outcome(verdict.issues)
        await run_in_threadpool(intake.ledger.finish, sub.id, verdict="rejected", http_status=status,
                                outcome=outcome, response=None, delivery="not-forwarded")
        return fhir_response(outcome, status, headers)
    try:
        await run_in_threadpool(_accept, intake, sub.id, body, verdict)
    except BaseException:
        await run_in_threadpool(intake.ledger.forget, sub.id)   # not spooled (e.g. disk full): try again later
        raise
    provisional = _provisional_response(kind, entries)
    outcome = operation_outcome(verdict.issues)
    await run_in_threadpool(intake.ledger.finish, sub.id, verdict="accepted", http_status=202, outcome=outcome,
                            response=provisional, delivery="queued")
    if intake.config.upstream.url:
        await run_in_threadpool(intake.forwarder.wait, sub.id, intake.config.upstream.wait_seconds)
    current = await run_in_threadpool(intake.ledger.get, sub.id)
    assert current is not None
    return _answer(current, headers)


def _accept(intake: Intake, sub_id: str, body: dict[str, Any], verdict: BundleVerdict) -> None:
    if intake.members is not None:
        for member, items in verdict.remember:
            intake.members.remember(member, items, sub_id)
        intake.members.remember_parents(verdict.parents)
    intake.forwarder.enqueue(sub_id, body)


def _answer(sub: Submission, headers: dict[str, str]) -> Response:
    """200 with the upstream's transaction-response once delivered; 202 while queued; 502 when the
    upstream refused what we accepted (its reasons are in the ledger and the outcome)."""
    headers = {**headers, "X-Submission-State": sub.delivery}
    if sub.delivery == "delivered" and sub.response is not None:
        return fhir_response(sub.response, 200, headers)
    if sub.delivery == "failed":
        return fhir_response(operation_outcome([Issue("error", "exception", f"accepted, but the payer's FHIR "
                                                      f"server refused it: {sub.delivery_detail}")]), 502, headers)
    return fhir_response(sub.response or {"resourceType": "Bundle", "type": f"{sub.kind}-response"}, 202, headers)


def _replay(intake: Intake, sub: Submission, body_hash: str) -> Response:
    headers = {"Location": f"{intake.config.public_base}/submissions/{sub.id}", "X-Request-Id": sub.request_id,
               "X-Intake-Replayed": "true"}
    if sub.body_hash and sub.body_hash != body_hash:
        raise Problem(409, "conflict", "this X-Request-Id was already used for a different Bundle; "
                      "use a new X-Request-Id for new content", headers=headers)
    if sub.verdict == "processing":
        raise Problem(409, "conflict", "a submission with this X-Request-Id is still being processed",
                      headers={**headers, "Retry-After": "1"})
    if sub.verdict == "rejected":
        return fhir_response(sub.outcome or operation_outcome([]), sub.http_status or 422, headers)
    return _answer(sub, headers)


def _provisional_response(kind: str, entries: list[Any]) -> dict[str, Any]:
    """While queued: each entry accepted (202), with its location where the id is already known."""
    out: list[dict[str, Any]] = []
    for entry in entries:
        request = entry.get("request") if isinstance(entry.get("request"), dict) else {}
        resource = entry.get("resource") if isinstance(entry.get("resource"), dict) else {}
        response: dict[str, Any] = {"status": "202 Accepted"}
        url = str(request.get("url", ""))
        if str(request.get("method", "")).upper() == "PUT" and url.count("/") == 1 and "?" not in url:
            response["location"] = url
        elif isinstance(resource.get("id"), str) and request.get("method") is None:
            response["location"] = f"{resource.get('resourceType')}/{resource['id']}"
        out.append({"response": response})
    return {"resourceType": "Bundle", "type": f"{kind}-response", "entry": out}


async def submission(request: Request) -> Response:
    request.state.interaction = "read"
    intake = _intake(request)
    principal = await intake.principal(request)
    sub = await run_in_threadpool(intake.ledger.get, request.path_params["id"])
    request.state.submission = request.path_params["id"]
    if sub is None or (principal.authenticated and sub.sender != intake.sender(principal)):
        raise Problem(404, "not-found", "no such submission (or not yours)")
    return Response(orjson.dumps(sub.to_json(intake.config.public_base)), media_type="application/json")


async def submissions(request: Request) -> Response:
    request.state.interaction = "search-type"
    intake = _intake(request)
    principal = await intake.principal(request)
    try:
        count = min(max(int(request.query_params.get("_count", "50")), 1), 1000)
    except ValueError:
        raise Problem(400, "value", "_count must be a number") from None
    delivery = request.query_params.get("delivery")
    sender = intake.sender(principal) if principal.authenticated else request.query_params.get("sender")
    found = await run_in_threadpool(intake.ledger.find, sender, count, delivery)
    base = intake.config.public_base
    return Response(orjson.dumps({"total": len(found), "submissions": [s.to_json(base) for s in found]}),
                    media_type="application/json")


# -- errors and audit ---------------------------------------------------------------------------------

async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return fhir_response(operation_outcome(exc.issues), exc.status, exc.headers)


async def _auth_failure(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AuthFailure)
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if exc.status == 401 else {}
    code = "login" if exc.status == 401 else "security"
    return fhir_response(operation_outcome([Issue("error", code, exc.message)]), exc.status, headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = "not-found" if exc.status_code == 404 else "not-supported"
    message = {404: f"no such endpoint: {request.method} {request.url.path}",
               405: f"{request.method} is not allowed on {request.url.path}"}.get(exc.status_code, str(exc.detail))
    return fhir_response(operation_outcome([Issue("error", code, message)]), exc.status_code, dict(exc.headers or {}))


async def _internal(request: Request, exc: Exception) -> Response:
    log.error("internal error on %s %s: %s", request.method, request.url.path, type(exc).__name__,
              exc_info=log.isEnabledFor(logging.DEBUG))
    return fhir_response(operation_outcome([Issue("fatal", "exception", "internal error in the intake service "
                                                  f"({type(exc).__name__}); the submission was not processed")]),
                         500)


class AuditMiddleware:
    """One AuditEvent line per request, written after the answer (pure ASGI: no body buffering)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            state: dict[str, Any] = scope.get("state", {})
            client = scope.get("client") or ("", 0)
            headers = dict(scope.get("headers") or [])
            audit.write(audit.audit_event(
                interaction=state.get("interaction", "operation"), status=status,
                subject=state.get("subject", "unauthenticated"), organization=state.get("organization", ""),
                address=str(client[0]), request_id=state.get("request_id")
                or headers.get(b"x-request-id", b"").decode("latin-1"),
                submission=state.get("submission"), millis=(time.perf_counter() - started) * 1000))


def create_app(config: IntakeConfig) -> Starlette:
    intake = Intake(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        intake.start()
        try:
            yield
        finally:
            intake.stop()

    handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
        Problem: _problem, AuthFailure: _auth_failure, HTTPException: _http_error, Exception: _internal}
    app = Starlette(routes=[
        Route("/metadata", metadata, methods=["GET"]),
        Route("/$validate", validate, methods=["POST"]),
        Route("/{type:str}/$validate", validate, methods=["POST"]),
        Route("/", submit, methods=["POST"]),
        Route("/submissions", submissions, methods=["GET"]),
        Route("/submissions/{id:str}", submission, methods=["GET"]),
    ], exception_handlers=handlers, lifespan=lifespan)
    app.state.intake = intake
    app.add_middleware(AuditMiddleware)
    return app
