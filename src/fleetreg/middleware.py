"""The outermost layer of every HTTP request: request id, body size limit, the catch-all for
unexpected errors, metrics and the access log line. Pure ASGI, so it costs little per request."""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fleetreg.metrics import Metrics
from fleetreg.problems import PROBLEM_JSON, AppError, InternalError, PayloadTooLarge

access_log = logging.getLogger("fleetreg.access")
error_log = logging.getLogger("fleetreg.errors")

# A client's X-Request-ID is echoed only when it is short and plain (it goes into the logs).
_CLIENT_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:@/+=-]{1,128}$")


def request_id_of(scope: Scope) -> str:
    return str(scope.get("state", {}).get("request_id", ""))


# Peers whose X-Forwarded-For names the client (a reverse proxy on this machine, by default), as
# uvicorn's proxy headers did: Granian passes the header on untouched. Set by RequestContextMiddleware
# from FLEETREG_TRUSTED_PROXIES; one app per process.
_trusted_proxies: frozenset[str] = frozenset({"127.0.0.1"})


class RequestContextMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        metrics: Metrics,
        trusted_proxies: frozenset[str] = _trusted_proxies,
    ) -> None:
        global _trusted_proxies  # the access log of the fast lane reads it too
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics
        _trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()
        request_id = request_id_for(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        request_id_header = (b"x-request-id", request_id.encode())
        status = 500
        response_started = False
        answered_413 = False
        client_gone = False  # the client closed the connection before sending its whole request
        received = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if answered_413:
                return  # the app's own answer comes too late; the 413 has been sent
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), request_id_header]
            await send(message)

        async def send_problem(error: AppError) -> None:
            nonlocal status, response_started
            status, response_started = error.status, True
            await send_problem_to(send, error, scope, request_id_header)

        async def receive_limited() -> Message:
            nonlocal received, answered_413, client_gone
            if answered_413:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.disconnect":
                # before any answer: the request never came whole (after one, a streaming response
                # may merely be learning that a satisfied client has closed the connection)
                client_gone = client_gone or not response_started
            elif message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    if not response_started:
                        await send_problem(_too_large(self.max_body_bytes))
                    answered_413 = True
                    return {"type": "http.disconnect"}
            return message

        try:
            declared = _content_length(scope)
            if declared is not None and declared > self.max_body_bytes:
                await send_problem(_too_large(self.max_body_bytes))
            else:
                await self.app(scope, receive_limited, send_with_id)
        except Exception:
            if answered_413:
                return  # the app gave up on the body we cut off; the client has its 413
            if client_gone:
                return  # the app gave up on a body that never came whole: no one to answer, no bug
            log_unhandled(scope, request_id)
            if response_started:
                raise
            await send_problem(InternalError())
        finally:
            if client_gone:
                status = 499  # as nginx counts them: "client closed request", whatever the app made of it
            observe(self.metrics, scope, request_id, status, started)


def observe(metrics: Metrics, scope: Scope, request_id: str, status: int, started: float) -> None:
    """The request's metrics and its access log line."""
    duration = time.perf_counter() - started
    route = _route_template(scope)
    metrics.observe_request(scope["method"], route, status, duration)
    if access_log.isEnabledFor(logging.INFO):
        access_log.info(
            "request",
            extra={
                "request_id": request_id,
                "method": scope["method"],
                "path": scope["path"],
                "route": route,
                "status": status,
                "duration_ms": round(duration * 1000, 3),
                "client": _client(scope),
            },
        )


def log_unhandled(scope: Scope, request_id: str) -> None:
    """The traceback of the exception being handled, with the request it broke."""
    error_log.exception(
        "unhandled error", extra={"request_id": request_id, "method": scope["method"], "path": scope["path"]}
    )


Headers = list[tuple[bytes, bytes]]


def problem_response(
    error: AppError, scope: Scope, request_id_header: tuple[bytes, bytes]
) -> tuple[int, Headers, bytes]:
    """``error`` as a problem+json response carrying the request id: status, headers, body."""
    body = error.body(scope.get("path"))
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        request_id_header,
        *((k.lower().encode(), v.encode()) for k, v in error.headers.items()),
    ]
    if isinstance(error, PayloadTooLarge):
        headers.append((b"connection", b"close"))
    return error.status, headers, body


async def send_problem_to(send: Send, error: AppError, scope: Scope, request_id_header: tuple[bytes, bytes]) -> None:
    """``error`` as a whole problem+json response, carrying the request id."""
    status, headers, body = problem_response(error, scope, request_id_header)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is larger than {limit} bytes")


# Generated ids: a random prefix per process and a counter, unique across workers and restarts
# without a system call per request (uuid4 reads the kernel's random source every time).
_ID_PREFIX = secrets.token_hex(8)
_id_counter = itertools.count(1)


def request_id_for(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            if _CLIENT_REQUEST_ID.match(value):
                return bytes(value).decode()
            break
    return f"{_ID_PREFIX}{next(_id_counter):016x}"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _route_template(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


def client_host(scope: Scope) -> str | None:
    """The client's address: the peer's, or, when the peer is a trusted proxy, the last address its
    X-Forwarded-For names that is not itself a trusted proxy (the one the nearest proxy saw)."""
    client = scope.get("client")
    peer = client[0] if client else None
    if peer not in _trusted_proxies:
        return peer
    forwarded = [bytes(value).decode("latin-1") for name, value in scope["headers"] if name == b"x-forwarded-for"]
    hops = [hop.strip() for hop in ",".join(forwarded).split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop not in _trusted_proxies:
            return hop
    return hops[0] if hops else peer


def _client(scope: Scope) -> str | None:
    client = scope.get("client")
    host = client_host(scope)
    if host is None:
        return None
    # A forwarded client's port is unknown: 0, as uvicorn's proxy headers gave it.
    return f"{host}:{client[1]}" if client and host == client[0] else f"{host}:0"
