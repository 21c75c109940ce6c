"""The one place the tests know the app's internals: how its lifespan runs, how an HTTP client
reaches it in process, what it keeps in ``app.state`` (its database, its token service, its revoked
clients), and how its routes are listed. The web layer is the app's business: when it changes, this
module (and ``tests.support.probes``) changes, not the tests.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from fleetreg.auth import clients as auth_clients
from fleetreg.auth.keys import SigningKey
from fleetreg.auth.revocations import RevokedClients
from fleetreg.auth.scopes import parse_scope
from fleetreg.auth.tokens import TokenService
from fleetreg.db import Database
from fleetreg.web import Route as WebRoute
from fleetreg.web import Routes
from fleetreg.web.app import WebApp
from tests.support.auth import EVERY_PARTNER_SCOPE, ApiClient

App = WebApp  # what fleetreg.app.create_app returns
Router = Routes  # what a module declares its routes in (``routes``)
BASE_URL = "http://fleetreg.test"

MakeApp = Callable[..., Awaitable[App]]  # the make_app fixture
MakeClient = Callable[..., Awaitable[httpx.AsyncClient]]  # the make_client fixture


# -- running it -----------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def running(app: App) -> AsyncIterator[App]:
    """The app with its lifespan run: its pool open on entry, closed on exit."""
    async with app.running():
        yield app


def asgi_client(app: App, **options: Any) -> httpx.AsyncClient:
    """An HTTP client that calls ``app`` in process (real HTTP semantics, no socket); use it as an
    async context manager. ``options`` go to httpx.AsyncClient (``timeout=30``)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL, **options)


def include_router(app: App, router: Router) -> None:
    """Serve ``router``'s routes (a test's probe routes) from ``app`` too."""
    app.include(router.routes)


# -- what a running app holds ---------------------------------------------------------------------


def database_of(app: App) -> Database:
    """The running app's database (its pool)."""
    db: Database = app.state.db
    return db


def tokens_of(app: App) -> TokenService:
    """The running app's token service (its keys, ``issue``)."""
    tokens: TokenService = app.state.auth.tokens
    return tokens


def signing_key_of(app: App) -> SigningKey:
    """The key the running app signs its tokens with (``.kid``, ``.private_key``)."""
    return tokens_of(app).keys.signing


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


async def new_api_client(
    app: App, *, partner: str | None = "acme", scope: str = EVERY_PARTNER_SCOPE, enterprise: str | None = None
) -> ApiClient:
    """A client created as ``fleetreg clients create`` would (its partner created when missing), with
    a token the running app signed for it."""
    new = await auth_clients.create_client(
        database_of(app), scope=scope, partner_name=partner, enterprise_id=enterprise
    )
    token = tokens_of(app).issue(new.client_id, parse_scope(new.scope), new.partner_id, new.enterprise_id)
    return ApiClient(new.client_id, new.client_secret, new.partner_id, new.enterprise_id, new.scope, token)


# -- its description ------------------------------------------------------------------------------


def openapi_of(app: App) -> dict[str, Any]:
    """The app's OpenAPI document, as /openapi.json serves it (no lifespan needed)."""
    document: dict[str, Any] = app.openapi()
    return document


@dataclass(frozen=True)
class Route:
    """One route as the tests look at it, whatever the framework."""

    path: str  # the template, as the contract writes it: {connector-id}
    methods: tuple[str, ...]  # sorted, upper case
    path_parameters: tuple[str, ...]
    body_model: Any  # the model of its JSON body, None when it takes none


def _route(route: WebRoute) -> Route:
    return Route(
        path=route.path, methods=(route.method,), path_parameters=tuple(route.path_params), body_model=route.body
    )


def documented_routes(app: App) -> list[Route]:
    """Every route of the app that /openapi.json documents (one per method)."""
    return [_route(route) for route in app.routes if route.include_in_schema]


def routes_of(router: Router) -> list[Route]:
    """The routes a module declares (``fleetreg.fleet.router.routes``), one per method."""
    return [_route(route) for route in router.routes]
