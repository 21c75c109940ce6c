"""Shared fixtures: one PostgreSQL per session, a clean database per test, the app and an HTTP client.

The server is the embedded one (or FLEETREG_TEST_DATABASE_URL's). It is migrated once into a template
database; every test gets its own copy of the template (CREATE DATABASE ... TEMPLATE), dropped after.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from fleetreg import migrate
from fleetreg.app import create_app
from fleetreg.embedded import EmbeddedPostgres
from fleetreg.settings import Settings

# Durability is irrelevant for throw-away test databases; speed is not.
TEST_SERVER_OPTIONS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
}


def database_url_for(server_url: str, database: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path="/" + database))


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
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
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
