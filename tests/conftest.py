"""Fixtures of every test: one PostgreSQL per session, a clean database per test, apps and clients.

The server is the embedded one (or FLEETREG_TEST_DATABASE_URL's). It is migrated once into a template
database; every test gets its own copy of the template (CREATE DATABASE ... TEMPLATE), dropped after.

`make test` runs the suite in parallel (pytest-xdist, one worker per core). A session is then one
worker's: each worker starts its own embedded PostgreSQL under its own temporary directory, or, with
FLEETREG_TEST_DATABASE_URL, shares that server through a template database of its own (named after
its process id).

Apps and clients: ``app`` and ``client`` are the default app (the test's database, fleet auth off)
and a client of it; ``make_app(**changes)`` makes another app (its settings the default ones with
``changes``) and runs its lifespan until the test ends; ``make_client(app)`` opens a client of any app.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from argon2 import PasswordHasher

from fleetreg import migrate
from fleetreg.app import create_app
from fleetreg.auth import clients as auth_clients
from fleetreg.embedded import EmbeddedPostgres
from fleetreg.settings import Settings
from tests.support.app import App, MakeApp, MakeClient, asgi_client, new_api_client, running, use_token_clock
from tests.support.auth import EVERY_PARTNER_SCOPE, ApiClient, MakeApiClient
from tests.support.clock import FakeClock
from tests.support.database import TEST_SERVER_OPTIONS, admin_execute, database_url_for

# The browser fixtures (served_app, new_browser, page) of the tests that drive chromium.
pytest_plugins = ["tests.support.browser"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests (seconds each: servers started, processes killed) first, in their order, so that
    parallel workers do not end with one of them still running while the others have nothing left."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session", autouse=True)
def _isolated_environment() -> Iterator[None]:
    """A developer's FLEETREG_* variables must not change what the tests see."""
    saved = {
        key: os.environ.pop(key)
        for key in list(os.environ)
        if key.startswith("FLEETREG_") and key != "FLEETREG_TEST_DATABASE_URL"
    }
    yield
    os.environ.update(saved)


@pytest.fixture(scope="session", autouse=True)
def _cheap_secret_hashing() -> Iterator[None]:
    """Real argon2, with parameters that cost a millisecond instead of ~50 (tests create many clients)."""
    saved = auth_clients.HASHER
    auth_clients.HASHER = PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)
    yield
    auth_clients.HASHER = saved


# -- the database ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of the session's PostgreSQL server (its maintenance database)."""
    external = os.environ.get("FLEETREG_TEST_DATABASE_URL")
    if external:
        yield external
        return
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg"), server_options=TEST_SERVER_OPTIONS)
    url = server.start()
    yield url
    server.stop()


@pytest.fixture(scope="session")
def template_database(postgres_server: str) -> Iterator[str]:
    """A database migrated to head, cloned by every test."""
    name = f"fleetreg_template_{os.getpid()}"
    asyncio.run(admin_execute(postgres_server, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'))
    migrate.upgrade(database_url_for(postgres_server, name))
    yield name
    asyncio.run(admin_execute(postgres_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def database_url(postgres_server: str, template_database: str) -> AsyncIterator[str]:
    """A fresh database for this test, at the migration head."""
    name = f"fleetreg_test_{uuid.uuid4().hex[:12]}"
    await admin_execute(postgres_server, f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    yield database_url_for(postgres_server, name)
    await admin_execute(postgres_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def empty_database_url(postgres_server: str) -> AsyncIterator[str]:
    """A fresh database with no migrations applied."""
    name = f"fleetreg_empty_{uuid.uuid4().hex[:12]}"
    await admin_execute(postgres_server, f'CREATE DATABASE "{name}"')
    yield database_url_for(postgres_server, name)
    await admin_execute(postgres_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the test's database, to check the state a request left behind."""
    connection = await asyncpg.connect(database_url)
    try:
        yield connection
    finally:
        await connection.close()


# -- apps and clients -----------------------------------------------------------------------------


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The default app's settings: the test's database, a small pool, fleet auth off."""
    return Settings(database_url=database_url, data_dir=tmp_path / "data", db_pool_min=1, db_pool_max=5)


@pytest.fixture
async def make_app(settings: Settings) -> AsyncIterator[MakeApp]:
    """``await make_app(fleet_auth="required")``: an app with the default ``settings`` changed so (or
    ``make_app(Settings(...))`` for settings of its own), its lifespan running until the test ends."""
    async with contextlib.AsyncExitStack() as apps:

        async def make(own: Settings | None = None, /, **changes: Any) -> App:
            chosen = (own or settings).model_copy(update=changes) if changes else (own or settings)
            return await apps.enter_async_context(running(create_app(chosen)))

        yield make


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    """``await make_client(app, timeout=30)``: an HTTP client calling ``app`` in process, closed when
    the test ends (``options`` go to httpx.AsyncClient)."""
    async with contextlib.AsyncExitStack() as clients:

        async def make(app: App, **options: Any) -> httpx.AsyncClient:
            return await clients.enter_async_context(asgi_client(app, **options))

        yield make


@pytest.fixture
async def app(make_app: MakeApp) -> App:
    """The default app (``settings``), running."""
    return await make_app()


@pytest.fixture
async def client(make_client: MakeClient, app: App) -> httpx.AsyncClient:
    """An HTTP client of the default app."""
    return await make_client(app)


@pytest.fixture
def token_clock(app: App) -> FakeClock:
    """The default app's token service reads the time from this clock: it starts at the real time
    and moves only by ``token_clock.advance(seconds)`` (a token expires without sleeping)."""
    clock = FakeClock()
    use_token_clock(app, clock)
    return clock


@pytest.fixture
def make_api_client(app: App) -> MakeApiClient:
    """``await make_api_client(partner="acme", scope="connectors:read")``: a client of that partner
    (created when missing) and a valid token for it. ``partner=None`` with fleet scopes gives a
    fleet-only client; ``enterprise=ID`` binds it to an enterprise."""

    async def make(
        partner: str | None = "acme", scope: str = EVERY_PARTNER_SCOPE, enterprise: str | None = None
    ) -> ApiClient:
        return await new_api_client(app, partner=partner, scope=scope, enterprise=enterprise)

    return make
