"""Shared fixtures: one PostgreSQL per session, a clean database per test, the app and an HTTP client.

The server is the embedded one (or FLEETREG_TEST_DATABASE_URL's). It is migrated once into a template
database; every test gets its own copy of the template (CREATE DATABASE ... TEMPLATE), dropped after.

`make test` runs the suite in parallel (pytest-xdist, one worker per core). A session is then one
worker's: each worker starts its own embedded PostgreSQL under its own temporary directory, or, with
FLEETREG_TEST_DATABASE_URL, shares that server through a template database of its own (named after
its process id).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

# Helper modules that assert (they are not conftests, so pytest would not rewrite their asserts).
pytest.register_assert_rewrite("fleetreg_testing", "fleet_helpers", "partner_support")
from argon2 import PasswordHasher

from fleetreg import migrate
from fleetreg.app import create_app
from fleetreg.auth import clients as auth_clients
from fleetreg.auth.scopes import parse_scope
from fleetreg.embedded import EmbeddedPostgres
from fleetreg.settings import Settings
from fleetreg.web.app import WebApp
from fleetreg_testing import EVERY_PARTNER_SCOPE, TEST_SERVER_OPTIONS, ApiClient, MakeApiClient, database_url_for


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


async def _admin_execute(server_url: str, *statements: str) -> None:
    connection = await asyncpg.connect(server_url)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def template_database(postgres_server: str) -> Iterator[str]:
    """A database migrated to head, cloned by every test."""
    import asyncio

    name = f"fleetreg_template_{os.getpid()}"
    asyncio.run(_admin_execute(postgres_server, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'))
    migrate.upgrade(database_url_for(postgres_server, name))
    yield name
    asyncio.run(_admin_execute(postgres_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def database_url(postgres_server: str, template_database: str) -> AsyncIterator[str]:
    """A fresh database for this test, at the migration head."""
    name = f"fleetreg_test_{uuid.uuid4().hex[:12]}"
    await _admin_execute(postgres_server, f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    yield database_url_for(postgres_server, name)
    await _admin_execute(postgres_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def empty_database_url(postgres_server: str) -> AsyncIterator[str]:
    """A fresh database with no migrations applied."""
    name = f"fleetreg_empty_{uuid.uuid4().hex[:12]}"
    await _admin_execute(postgres_server, f'CREATE DATABASE "{name}"')
    yield database_url_for(postgres_server, name)
    await _admin_execute(postgres_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path / "data", db_pool_min=1, db_pool_max=5)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[WebApp]:
    application = create_app(settings)
    async with application.running():
        yield application


@pytest.fixture
async def client(app: WebApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fleetreg.test") as http:
        yield http


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the test's database, to check the state a request left behind."""
    connection = await asyncpg.connect(database_url)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture(scope="session", autouse=True)
def _cheap_secret_hashing() -> Iterator[None]:
    """Real argon2, with parameters that cost a millisecond instead of ~50 (tests create many clients)."""
    saved = auth_clients.HASHER
    auth_clients.HASHER = PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)
    yield
    auth_clients.HASHER = saved


@pytest.fixture
def make_api_client(app: WebApp) -> MakeApiClient:
    """``await make_api_client(partner="acme", scope="connectors:read")``: a client of that partner
    (created when missing) and a valid token for it. ``partner=None`` with fleet scopes gives a
    fleet-only client; ``enterprise=ID`` binds it to an enterprise."""

    async def make(
        partner: str | None = "acme", scope: str = EVERY_PARTNER_SCOPE, enterprise: str | None = None
    ) -> ApiClient:
        new = await auth_clients.create_client(
            app.state.db, scope=scope, partner_name=partner, enterprise_id=enterprise
        )
        token = app.state.auth.tokens.issue(new.client_id, parse_scope(new.scope), new.partner_id, new.enterprise_id)
        return ApiClient(new.client_id, new.client_secret, new.partner_id, new.enterprise_id, new.scope, token)

    return make
