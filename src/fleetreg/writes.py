"""How a write request runs: the unit of work around its endpoint (``WebApp`` calls ``run_write``
for every POST, PUT, PATCH and DELETE of the API).

One transaction (``Database.transaction``) holds everything the endpoint writes and reads, with the
request's actor (who, and the request id) recorded for the schema's triggers; it commits before the
answer leaves. With an ``Idempotency-Key``, the key is claimed and the answer stored in that same
transaction (``fleetreg.idempotency``: the claim with its ``BEGIN``, the answer with its ``COMMIT``,
a large one just before);
a problem answer (4xx) is stored too, once the endpoint's transaction is rolled back, in a
transaction of its own that claims the key again (no savepoint on the way of every write: it cost a
round trip), and a 5xx is never kept. A serialization failure or
deadlock runs the whole endpoint again in a new transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fleetreg import idempotency
from fleetreg.db import Actor, Database, is_retryable, retrying
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


class _Refused(Exception):
    """The endpoint's 4xx, carried out of its transaction (which it rolls back) to be stored."""

    def __init__(self, error: AppError) -> None:
        self.error = error


async def _with_key(
    db: Database, actor: Actor, request: Request, endpoint: Endpoint, caller: str, key: str, fingerprint: bytes
) -> AnyResponse:
    async def run() -> AnyResponse:
        try:
            return await endpoint()
        except AppError as error:
            if error.status >= 500 or is_retryable(error):
                raise  # not kept: the retry runs the request again
            raise _Refused(error) from error

    try:
        return await _answered_once(db, actor, caller, key, fingerprint, run)
    except _Refused as refused:
        error = refused.error

    async def refusal() -> AnyResponse:
        return problem_response(error, request.path)

    # The key was free once that transaction ended: another request with it may have run since.
    return await _answered_once(db, actor, caller, key, fingerprint, refusal)


async def _answered_once(
    db: Database, actor: Actor, caller: str, key: str, fingerprint: bytes, respond: Endpoint
) -> AnyResponse:
    """In one transaction: ``respond()``'s answer, stored under the key unless a 5xx; or, when an
    answer is stored already, that answer (422 if it was for another request)."""
    at_commit: list[str] = []
    try:
        with idempotency.claim_errors(key):
            opening = idempotency.claim_at_opening(caller, key)
            async with db.transaction(actor, opening=opening, at_commit=at_commit) as connection:
                response = await respond()
                if isinstance(response, Response) and response.status < 500:
                    await idempotency.store_answer(
                        connection,
                        at_commit,
                        caller,
                        key,
                        fingerprint,
                        response.status,
                        _kept_headers(response),
                        response.body,
                    )
                return response
    except idempotency.Answered:
        pass
    async with db.connection() as connection:
        stored = await idempotency.stored_answer(connection, caller, key, fingerprint)
    if stored is not None:
        return _replay(stored)
    # Expired meanwhile: the key is free again.
    return await _answered_once(db, actor, caller, key, fingerprint, respond)


def _replay(stored: idempotency.StoredAnswer) -> Response:
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in stored.headers]
    return Response(stored.body, stored.status, media_type=None, headers=[*headers, REPLAYED])


def _kept_headers(response: Response) -> list[Any]:
    """The headers a replay repeats: all but those made afresh per answer."""
    headers = [["content-type", response.media_type.decode("latin-1")]] if response.media_type else []
    headers += [
        [name.decode("latin-1"), value.decode("latin-1")]
        for name, value in response.headers
        if name not in (b"content-length", b"x-request-id")
    ]
    return headers
