"""The test PostgreSQL: its server options, database URLs, and databases made from the template."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg

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
