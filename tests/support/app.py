"""The one place the tests know the app's internals: how its lifespan runs, how an HTTP client
reaches it in process, and what it keeps in ``app.state`` (its database, its token service, its
revoked clients). The web framework is the app's business: when it changes, this module changes,
not the tests.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
from fastapi import FastAPI

from fleetreg.auth.revocations import RevokedClients
from fleetreg.auth.tokens import TokenService
from fleetreg.db import Database

App = FastAPI  # what fleetreg.app.create_app returns
BASE_URL = "http://fleetreg.test"

MakeApp = Callable[..., Awaitable[App]]  # the make_app fixture
MakeClient = Callable[..., Awaitable[httpx.AsyncClient]]  # the make_client fixture


@contextlib.asynccontextmanager
async def running(app: App) -> AsyncIterator[App]:
    """The app with its lifespan run: its pool open on entry, closed on exit."""
    async with app.router.lifespan_context(app):
        yield app


def asgi_client(app: App, **options: Any) -> httpx.AsyncClient:
    """An HTTP client that calls ``app`` in process (real HTTP semantics, no socket); use it as an
    async context manager. ``options`` go to httpx.AsyncClient (``timeout=30``)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL, **options)


def database_of(app: App) -> Database:
    """The running app's database (its pool)."""
    db: Database = app.state.db
    return db


def tokens_of(app: App) -> TokenService:
    """The running app's token service (its keys, ``issue``)."""
    tokens: TokenService = app.state.auth.tokens
    return tokens


def use_token_clock(app: App, clock: Callable[[], float]) -> None:
    """The running app's token service takes the time from ``clock`` from now on."""
    tokens_of(app).clock = clock


def revoked_of(app: App) -> RevokedClients:
    """The client ids the running app knows are revoked (``client_id in revoked_of(app)``)."""
    revoked: RevokedClients = app.state.auth.revoked
    return revoked


def head_revision_of(app: App) -> str:
    """The migration the app expects the database at."""
    revision: str = app.state.head_revision
    return revision
