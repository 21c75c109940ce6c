"""How a write request runs: the unit of work around its endpoint (``WebApp`` calls ``run_write``
for every POST, PUT, PATCH and DELETE of the API).

One transaction (``Database.transaction``) holds everything the endpoint writes and reads, with the
request's actor (who, and the request id) recorded for the schema's triggers; it commits before the
answer leaves. With an ``Idempotency-Key``, the key is claimed and the answer stored in that same
transaction (``fleetreg.idempotency``); a problem answer (4xx) is stored too, after the endpoint's
writes are rolled back to a savepoint, and a 5xx is never kept. A serialization failure or deadlock
runs the whole endpoint again in a new transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fleetreg import idempotency
from fleetreg.db import Actor, Database, retrying
from fleetreg.problems import AppError
from fleetreg.web import Request, Response
from fleetreg.web.app import problem_response
from fleetreg.web.responses import AnyResponse

Endpoint = Callable[[], Awaitable[AnyResponse]]

REPLAYED = (b"idempotent-replayed", b"true")


def actor_of(request: Request) -> Actor:
    """The actor of a request: the console's operator, its client when it has a token, else
    anonymous (an open fleet API)."""
    operator_id = getattr(request.caller, "operator_id", None)
    if operator_id is not None:
        return Actor("operator", operator_id=operator_id, request_id=request.request_id)
    client_id = getattr(request.caller, "client_id", None)
    if client_id is not None:
        return Actor("client", client_id=client_id, request_id=request.request_id)
    return Actor("anonymous", request_id=request.request_id)


async def run_write(request: Request, endpoint: Endpoint) -> AnyResponse:
    db: Database = request.state.db
    actor = actor_of(request)
    key = idempotency.parse_key(request.header_values(b"idempotency-key"))
    if key is None:
        return await retrying(lambda: _in_transaction(db, actor, endpoint))
    caller = actor.client_id or "anonymous"
    target = request.scope.get("raw_path") or request.path.encode("utf-8", "surrogateescape")
    if request.scope["query_string"]:
        target += b"?" + request.scope["query_string"]
    fingerprint = idempotency.fingerprint(request.method, target, await request.body())
    return await retrying(lambda: _with_key(db, actor, request, endpoint, caller, key, fingerprint))


async def _in_transaction(db: Database, actor: Actor, endpoint: Endpoint) -> AnyResponse:
    async with db.transaction(actor):
        return await endpoint()


async def _with_key(
    db: Database, actor: Actor, request: Request, endpoint: Endpoint, caller: str, key: str, fingerprint: bytes
) -> AnyResponse:
    async with db.transaction(actor) as connection:
        stored = await idempotency.claim(connection, caller, key, fingerprint)
        if stored is not None:
            headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in stored.headers]
            return Response(stored.body, stored.status, media_type=None, headers=[*headers, REPLAYED])
        await connection.execute("SAVEPOINT before_the_request")
        try:
            response = await endpoint()
        except AppError as error:
            if error.status >= 500:
                raise  # not kept: the retry runs the request again
            await connection.execute("ROLLBACK TO SAVEPOINT before_the_request")
            response = problem_response(error, request.path)
        if not isinstance(response, Response) or response.status >= 500:
            return response
        await idempotency.store(
            connection, caller, key, fingerprint, response.status, _kept_headers(response), response.body
        )
        return response


def _kept_headers(response: Response) -> list[Any]:
    """The headers a replay repeats: all but those made afresh per answer."""
    headers = [["content-type", response.media_type.decode("latin-1")]] if response.media_type else []
    headers += [
        [name.decode("latin-1"), value.decode("latin-1")]
        for name, value in response.headers
        if name not in (b"content-length", b"x-request-id")
    ]
    return headers
