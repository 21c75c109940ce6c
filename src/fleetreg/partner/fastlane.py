"""The seed's two connector reads, served without FastAPI's per-request machinery.

``GET /v2/customers/connectors`` and ``GET /v2/customers/connectors/{connector-id}`` are the hot
paths partners poll. FastAPI spends most of such a request matching routes and solving dependencies
(measured in bench/README.md); this lane answers the requests whose every parameter is plainly
valid with the router's own functions (``partner.router.connector_list``, ``service.get_connector``)
and the same authentication (``auth.dependencies.partner_caller``), so the answer is the same bytes.
Anything else - an unknown, repeated or malformed parameter, a name filter, another method - goes on
to the FastAPI routes, which say precisely what is wrong. ``fleetreg.app.FleetregApp`` asks it ahead
of Starlette's middleware stack. Request ids, metrics and the access log apply to its answers as to
every request.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any, cast
from urllib.parse import parse_qsl

from fastapi.routing import APIRoute
from starlette.datastructures import State
from starlette.types import Receive, Scope, Send

from fleetreg.auth.dependencies import partner_caller
from fleetreg.metrics import Metrics
from fleetreg.middleware import Headers, log_unhandled, observe, problem_response, request_id_for
from fleetreg.partner import service
from fleetreg.partner.router import CONNECTORS, connector_list, router
from fleetreg.partner.schemas import CONNECTOR_TYPES, LIMIT_DEFAULT, LIMIT_MAX
from fleetreg.problems import AppError, InternalError
from fleetreg.web import JSONBytes

_ITEM_PREFIX = CONNECTORS + "/"
_ITEM = _ITEM_PREFIX + "{connector_id}"
_PLAN = "fleetreg.fast_lane"  # the scope key under which takes() leaves what _answer is to do
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DIGITS = re.compile(r"[0-9]{1,18}")  # below int64's limit, so always a valid offset
_BOOLEANS = {"true": True, "false": False}
_JSON_CONTENT_TYPE = (b"content-type", JSONBytes.media_type.encode())
_BODY_HEADERS = (b"content-length", b"transfer-encoding")


class _NotPlain(Exception):
    """The request is not one the fast lane answers; FastAPI's route will."""


def _list_arguments(query_string: bytes) -> dict[str, Any]:
    """The list's parameters when each is given at most once (``type`` at most twice) in its plain
    spelling; ``_NotPlain`` otherwise."""
    arguments: dict[str, Any] = {
        "assigned": None,
        "customer_id": None,
        "limit": LIMIT_DEFAULT,
        "offset": 0,
        "connector_type": None,
    }
    seen: set[str] = set()
    # Decoded as Starlette decodes it, so that both lanes read the same parameters.
    for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if key in seen and key != "type":
            raise _NotPlain
        seen.add(key)
        if key == "customer_id" and _UUID.fullmatch(value):
            arguments["customer_id"] = uuid.UUID(value)
        elif key == "assigned" and value in _BOOLEANS:
            arguments["assigned"] = _BOOLEANS[value]
        elif key == "limit" and _DIGITS.fullmatch(value) and int(value) <= LIMIT_MAX:
            arguments["limit"] = int(value)
        elif key == "offset" and _DIGITS.fullmatch(value):
            arguments["offset"] = int(value)
        elif key == "type" and value in CONNECTOR_TYPES and value not in (arguments["connector_type"] or ()):
            arguments["connector_type"] = [*(arguments["connector_type"] or ()), value]
        else:
            raise _NotPlain
    return arguments


class ConnectorReadFastLane:
    """``takes(scope)`` decides (and notes how to answer), ``answer`` makes the response, ``serve``
    sends it as an ASGI app. Its answers carry a request id and are counted and logged
    (``middleware.observe``), and an unexpected error is logged and answered, as
    ``RequestContextMiddleware`` does for every other request."""

    def __init__(self, *, state: State, metrics: Metrics) -> None:
        self.state = state  # the app's: its lifespan puts the database and the auth state there
        self.metrics = metrics
        # The APIRoutes that would have served these requests: metrics and logs name their templates.
        self._routes = {
            route.path: route
            for route in router.routes
            if isinstance(route, APIRoute) and route.path in (CONNECTORS, _ITEM) and "GET" in (route.methods or ())
        }

    def takes(self, scope: Scope) -> bool:
        """True for a GET without a body, of the list or of one connector, whose every parameter is
        plainly valid (a body is left to the routes, which refuse one past the size limit)."""
        if scope["method"] != "GET":
            return False
        authorization = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = bytes(value).decode("latin-1")
            elif name in _BODY_HEADERS:
                return False
        path: str = scope["path"]
        try:
            if path == CONNECTORS:
                scope[_PLAN] = (CONNECTORS, _list_arguments(scope["query_string"]), authorization)
                return True
        except _NotPlain:
            return False
        if path.startswith(_ITEM_PREFIX) and _UUID.fullmatch(path, len(_ITEM_PREFIX)) and not scope["query_string"]:
            # Its canonical text (what str(UUID) gives), as the route's 404 message quotes it.
            scope[_PLAN] = (_ITEM, path[len(_ITEM_PREFIX) :].lower(), authorization)
            return True
        return False

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answers, as an ASGI app, a request ``takes`` took."""
        status, headers, body = await self.answer(scope)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def answer(self, scope: Scope) -> tuple[int, Headers, bytes]:
        """The response to a request ``takes`` took: status, headers (the request id among them) and
        body. Errors are answered, never raised; the request is counted and logged before it returns."""
        started = time.perf_counter()
        request_id = request_id_for(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        request_id_header = (b"x-request-id", request_id.encode())
        template, arguments, authorization = scope.pop(_PLAN)
        scope["route"] = self._routes[template]
        status = 500
        try:
            state = self.state
            try:
                principal = await partner_caller(state.auth, authorization, "connectors:read")
                partner_id = principal.partner_id
                assert partner_id is not None  # partner_caller admits only partner-bound clients
                if template == CONNECTORS:
                    response = await connector_list(state.db, partner_id, name=None, **arguments)
                    status, headers = response.status_code, response.raw_headers
                    body = cast(bytes, response.body)  # JSONBytes holds the bytes it was given
                else:
                    body = await service.get_connector(state.db, partner_id, arguments)
                    # The headers JSONBytes(body) would carry, without building a Response.
                    status, headers = 200, [(b"content-length", b"%d" % len(body)), _JSON_CONTENT_TYPE]
                return status, [*headers, request_id_header], body
            except AppError as error:
                status, headers, body = problem_response(error, scope, request_id_header)
                return status, headers, body
        except Exception:
            log_unhandled(scope, request_id)
            status, headers, body = problem_response(InternalError(), scope, request_id_header)
            return status, headers, body
        finally:
            observe(self.metrics, scope, request_id, status, started)
