"""The test PostgreSQL: its server options, database URLs, and databases made from the template."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from fleetreg.auth import clients as auth_clients
from fleetreg.auth.clients import NewClient
from fleetreg.db import Database

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


async def admin_execute(server_url: str, *statements: str) -> None:
    """Run ``statements`` on the server's maintenance database (CREATE/DROP DATABASE)."""
    connection = await asyncpg.connect(server_url)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.contextmanager
def fresh_database(server_url: str, template: str, prefix: str = "fleetreg_robust") -> Iterator[str]:
    """A database of its own, copied from the migrated template, dropped on exit (for fixtures
    wider than one test, which cannot use the function-scoped ``database_url``)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    asyncio.run(admin_execute(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield database_url_for(server_url, name)
    finally:
        asyncio.run(admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.asynccontextmanager
async def opened(database_url: str, **options: Any) -> AsyncIterator[Database]:
    """A ``Database`` of these pool options, open for the block and closed after it."""
    database = Database(database_url, **options)
    await database.open()
    try:
        yield database
    finally:
        await database.close()


async def create_client_in(
    database_url: str, *, scope: str, partner: str | None = "acme", enterprise: str | None = None
) -> NewClient:
    """An OAuth client created straight in the database at ``database_url``, as ``fleetreg clients
    create`` does (for a server running in another process; ``new_api_client`` for an app in this one)."""
    async with opened(database_url, min_size=1, max_size=1, timeout=10) as database:
        return await auth_clients.create_client(database, scope=scope, partner_name=partner, enterprise_id=enterprise)
