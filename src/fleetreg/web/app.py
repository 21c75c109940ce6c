"""The ASGI application: every request goes through ``WebApp.__call__``, one path for every route.

In order: the request id; the limits (request line 8 KiB -> 414, headers 16 KiB -> 431, a declared
body over the limit -> 413, two Authorization headers -> 400); the route (404, 405 with ``Allow``,
``OPTIONS``, ``HEAD``); unknown or repeated query parameters (400) and a body that is not JSON (415);
the caller (401/403/429); the parameters' values (400); the body (400); the endpoint. Whatever it
answers, or whatever problem any step raises, leaves with the request id, CORS headers when the
origin is allowed, and one metrics observation and access log line. An exception that is not an
``AppError`` is a bug: logged with its traceback, answered 500.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fleetreg.metrics import Metrics
from fleetreg.problems import (
    AmbiguousAuthorization,
    AppError,
    BadRequest,
    HeadersTooLarge,
    InternalError,
    MethodNotAllowed,
    NotFound,
    UriTooLong,
)
from fleetreg.web import bodies, conditional
from fleetreg.web.asgi import Headers, Receive, Scope, Send
from fleetreg.web.request import ClientGone, Request, too_large
from fleetreg.web.responses import PROBLEM_JSON, AnyResponse, Response, StreamingResponse, dumps
from fleetreg.web.routing import PathEntry, Route, Router

access_log = logging.getLogger("fleetreg.access")
error_log = logging.getLogger("fleetreg.errors")

MAX_REQUEST_LINE = 8 * 1024
MAX_HEADER_BYTES = 16 * 1024
# Headers a browser may send cross-origin, and those its scripts may read (CORS).
_CORS_REQUEST_HEADERS = "Authorization, Content-Type, Idempotency-Key, If-Match, If-None-Match, X-Request-ID"
_CORS_EXPOSED = b"ETag, Location, Retry-After, X-Request-ID, Idempotent-Replayed, WWW-Authenticate"


@dataclass(frozen=True)
class WebConfig:
    max_body_bytes: int = 1024 * 1024
    cors_origins: frozenset[str] = frozenset()
    trusted_proxies: frozenset[str] = frozenset({"127.0.0.1", "::1"})


@dataclass
class State:
    """What the lifespan sets up for the endpoints (the database, auth, settings...)."""

    values: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "values":
            object.__setattr__(self, name, value)
        else:
            self.values[name] = value


Lifespan = Callable[["WebApp"], AbstractAsyncContextManager[None]]
# How a write request's endpoint runs (fleetreg.writes: one transaction, actor, idempotency key),
# and a read-only one's (fleetreg.reads: where its reads may go).
WriteRunner = Callable[[Request, Callable[[], Awaitable[AnyResponse]]], Awaitable[AnyResponse]]
ReadRunner = WriteRunner


class WebApp:
    def __init__(
        self,
        routes: Iterable[Route],
        *,
        config: WebConfig,
        metrics: Metrics,
        lifespan: Lifespan | None = None,
        openapi: Callable[[WebApp], dict[str, Any]] | None = None,
        write_runner: WriteRunner | None = None,
        read_runner: ReadRunner | None = None,
    ) -> None:
        self.routes = list(routes)
        self.router = Router(self.routes)
        self.config = config
        self.metrics = metrics
        self.state = State()
        self._lifespan = lifespan
        self._openapi_builder = openapi
        self._write_runner = write_runner
        self._read_runner = read_runner
        self._openapi: tuple[dict[str, Any], bytes] | None = None

    def include(self, routes: Iterable[Route]) -> None:
        """Serve ``routes`` too (tests add probes this way)."""
        self.routes.extend(routes)
        self.router = Router(self.routes)
        self._openapi = None

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document of the routes (made once)."""
        return self._openapi_document()[0]

    def openapi_json(self) -> bytes:
        return self._openapi_document()[1]

    def _openapi_document(self) -> tuple[dict[str, Any], bytes]:
        if self._openapi is None:
            document = self._openapi_builder(self) if self._openapi_builder is not None else {}
            self._openapi = (document, dumps(document))
        return self._openapi

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan_protocol(receive, send)

    # -- lifespan ------------------------------------------------------------------------------------

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The app set up as a server would set it up (its lifespan), for use in process (tests)."""
        if self._lifespan is None:
            yield
            return
        async with self._lifespan(self):
            yield

    async def _lifespan_protocol(self, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        context = self._lifespan(self) if self._lifespan is not None else None
        try:
            if context is not None:
                await context.__aenter__()
        except BaseException as error:
            error_log.exception("start-up failed")
            await send({"type": "lifespan.startup.failed", "message": str(error)})
            return
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        try:
            if context is not None:
                await context.__aexit__(None, None, None)
        except BaseException as error:
            error_log.exception("shutdown failed")
            await send({"type": "lifespan.shutdown.failed", "message": str(error)})
            return
        await send({"type": "lifespan.shutdown.complete"})

    # -- one request ---------------------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request = Request(scope, receive, self, request_id_for(scope), self.config.max_body_bytes)
        try:
            response: AnyResponse = await self._respond(request)
        except ClientGone:
            self._observe(request, 499, started)  # as nginx counts them: the client closed the request
            return
        except AppError as error:
            response = self._problem(request, error)
        except Exception:
            log_unhandled(request)
            response = self._problem(request, InternalError())
        status = response.status
        try:
            await self._send(request, response, send)
        except ClientGone:
            status = 499
        finally:
            self._observe(request, status, started)

    async def _respond(self, request: Request) -> AnyResponse:
        scope = request.scope
        size = 0
        authorizations = 0
        declared_length = -1
        chunked = False
        content_type: str | None = None
        for name, value in scope["headers"]:
            size += len(name) + len(value) + 4
            if b"\x00" in value:
                raise BadRequest(f"the header {bodies.clip(bytes(name).decode('latin-1'))} holds a NUL character")
            if name == b"authorization":
                authorizations += 1
            elif name == b"content-length":
                declared_length = _length(value)
            elif name == b"content-type":
                content_type = bytes(value).decode("latin-1")
            elif name == b"transfer-encoding":
                chunked = True
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
        if len(raw_path) + len(scope["query_string"]) > MAX_REQUEST_LINE:
            raise UriTooLong(f"the path and query string are longer than {MAX_REQUEST_LINE} bytes")
        if size > MAX_HEADER_BYTES:
            raise HeadersTooLarge(f"the header fields add up to more than {MAX_HEADER_BYTES} bytes")
        if declared_length > self.config.max_body_bytes:
            raise too_large(self.config.max_body_bytes)
        if declared_length < -1:
            raise BadRequest("Content-Length is not a number of bytes")

        path: str = scope["path"]
        match = self.router.match(path)
        if match is None:
            raise NotFound(f"no resource at {scope['method']} {bodies.clip(path)}")
        entry, raw_path_params = match
        request.template = entry.template
        method: str = scope["method"]
        route = entry.methods.get(method)
        if route is None:
            if method == "HEAD":
                route = entry.methods.get("GET")
            elif method == "OPTIONS":
                return self._options(request, entry)
            if route is None:
                raise MethodNotAllowed(
                    f"{bodies.clip(method)} is not allowed here; use {entry.allow}", headers={"Allow": entry.allow}
                )
        request.route = route
        request.path_params = raw_path_params
        if authorizations > 1 and not route.oauth_errors:
            raise AmbiguousAuthorization("the request carries two Authorization headers; send one")

        given, deep_pairs = _query_of(route, scope["query_string"])
        has_body = declared_length > 0 or chunked
        if route.body is not None and has_body:
            bodies.check_media_type(content_type)

        arguments: dict[str, Any] = {}
        if route.access is not None:
            request.caller = arguments["caller"] = await route.access.resolve(request)
        errors: list[dict[str, str]] = []
        names = route.arguments
        for name, param in route.path_params.items():
            try:
                arguments[names[name]] = param.parse([raw_path_params[name]])
            except ValueError as error:
                errors.append({"parameter": name, "detail": str(error)})
        for name, param in route.query.items():
            values = given.get(name)
            if values is None:
                arguments[names[name]] = param.default
                continue
            try:
                arguments[names[name]] = param.parse(values)
            except ValueError as error:
                errors.append({"parameter": name, "detail": str(error)})
        if errors:
            raise BadRequest.from_errors(errors)
        if route.deep is not None:
            arguments[route.deep.argument] = route.deep.parse(deep_pairs)
        if route.body is not None:
            arguments["body"] = bodies.validate(route.body, bodies.parse_json(await request.body()))
        elif chunked:
            await request.body()  # a body nobody reads still may not pass the limit
        if route.unit_of_work and self._write_runner is not None:
            return await self._write_runner(request, lambda: route.endpoint(request, **arguments))
        if route.read_only and self._read_runner is not None:
            response = await self._read_runner(request, lambda: route.endpoint(request, **arguments))
        else:
            response = await route.endpoint(request, **arguments)
        if route.conditional and isinstance(response, Response) and response.status == 200:
            return _not_modified(request, response)
        return response

    @staticmethod
    def _problem(request: Request, error: AppError) -> Response:
        """problem+json, or the route's own page for it (HTML for people)."""
        route = request.route
        if route is not None and route.error_page is not None:
            return route.error_page(request, error)
        return problem_response(error, request.path)

    def _options(self, request: Request, entry: PathEntry) -> Response:
        response = Response(b"", 204, media_type=None, headers=[(b"allow", entry.allow.encode())])
        origin = request.header(b"origin")
        if origin is not None and request.header(b"access-control-request-method") and self._cors_allows(origin):
            response.headers += [
                (b"access-control-allow-methods", entry.allow.encode()),
                (b"access-control-allow-headers", _CORS_REQUEST_HEADERS.encode()),
                (b"access-control-max-age", b"600"),
            ]
        return response

    def _cors_allows(self, origin: str) -> bool:
        origins = self.config.cors_origins
        return bool(origins) and (origin in origins or "*" in origins)

    async def _send(self, request: Request, response: AnyResponse, send: Send) -> None:
        headers: Headers = []
        if response.media_type is not None:
            headers.append((b"content-type", response.media_type))
        if isinstance(response, Response) and (response.body or response.status not in (204, 304)):
            headers.append((b"content-length", b"%d" % len(response.body)))
        headers += response.headers
        headers.append((b"x-request-id", request.request_id.encode()))
        if self.config.cors_origins:
            origin = request.header(b"origin")
            if origin is not None and self._cors_allows(origin):
                headers += [
                    (b"access-control-allow-origin", origin.encode("latin-1")),
                    (b"access-control-expose-headers", _CORS_EXPOSED),
                    (b"vary", b"Origin"),
                ]
        head = request.scope["method"] == "HEAD"
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        if isinstance(response, StreamingResponse):
            if head:
                await send({"type": "http.response.body", "body": b""})
                return
            await _stream(response.chunks, send)
            return
        await send({"type": "http.response.body", "body": b"" if head else response.body})

    def _observe(self, request: Request, status: int, started: float) -> None:
        duration = time.perf_counter() - started
        scope = request.scope
        route = request.template or "unmatched"  # the template, also for a 405 or an OPTIONS
        self.metrics.observe_request(scope["method"], route, status, duration)
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(
                "request",
                extra={
                    "request_id": request.request_id,
                    "method": scope["method"],
                    "path": bodies.clip(scope["path"]),
                    "route": route,
                    "status": status,
                    "duration_ms": round(duration * 1000, 3),
                    "client": self._client(request),
                },
            )

    def _client(self, request: Request) -> str | None:
        """host:port of the client, or the address a trusted proxy forwarded for."""
        client = request.scope.get("client")
        if not client:
            return None
        address = request.client_address()
        return f"{client[0]}:{client[1]}" if address == client[0] else address


def _not_modified(request: Request, response: Response) -> Response:
    """304 when the request's If-None-Match matches the answer's ETag, else the answer."""
    wanted = request.header_values(b"if-none-match")
    current = response.header("ETag")
    if wanted and current is not None and any(conditional.none_match(value, current) for value in wanted):
        kept = [(name, value) for name, value in response.headers if name in (b"etag", b"cache-control", b"vary")]
        return Response(b"", 304, media_type=None, headers=kept)
    return response


async def _stream(chunks: AsyncIterator[bytes], send: Send) -> None:
    try:
        async for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except OSError:
        raise ClientGone from None
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()
    await send({"type": "http.response.body", "body": b""})


def _query_of(route: Route, query_string: bytes) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    """The route's parameters as given (name -> values) and its deep-object pairs; 400 for an unknown
    parameter or a single-valued one given twice."""
    given: dict[str, list[str]] = {}
    deep_pairs: list[tuple[str, str]] = []
    if not query_string:
        return given, deep_pairs
    errors: list[dict[str, str]] = []
    declared = route.query
    deep = route.deep
    # Decoded as browsers and Starlette encode it: %-escapes as UTF-8 (errors replaced), + as space.
    for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        param = declared.get(key)
        if param is not None:
            values = given.setdefault(key, [])
            if values and not param.repeatable:
                error = {"parameter": key, "detail": "given more than once"}
                if error not in errors:
                    errors.append(error)
            values.append(value)
        elif deep is not None and deep.owns(key):
            deep_pairs.append((key, value))
        else:
            error = {"parameter": bodies.clip(key), "detail": "unknown parameter"}
            if error not in errors:
                errors.append(error)
    if errors:
        raise BadRequest.from_errors(errors)
    return given, deep_pairs


def _length(value: bytes) -> int:
    """A Content-Length value: -2 when it is not a number."""
    return int(value) if value.isdigit() else -2


def problem_response(error: AppError, instance: str | None) -> Response:
    headers: Headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in error.headers.items()]
    return Response(
        error.body(bodies.clip(instance) if instance else None), error.status, media_type=PROBLEM_JSON, headers=headers
    )


def log_unhandled(request: Request) -> None:
    """The traceback of the exception being handled, with the request it broke."""
    error_log.exception(
        "unhandled error",
        extra={"request_id": request.request_id, "method": request.method, "path": bodies.clip(request.path)},
    )


# Generated ids: a random prefix per process and a counter, unique across workers and restarts
# without a system call per request (uuid4 reads the kernel's random source every time).
_ID_PREFIX = secrets.token_hex(8)
_id_counter = itertools.count(1)


# A client's X-Request-ID is echoed only when it is short and plain (it goes into the logs).
_CLIENT_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:@/+=-]{1,128}")


def request_id_for(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            if _CLIENT_REQUEST_ID.fullmatch(value):
                return bytes(value).decode()
            break
    return f"{_ID_PREFIX}{next(_id_counter):016x}"
