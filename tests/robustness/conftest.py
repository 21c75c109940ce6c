"""Fixtures of the robustness tests: a database shared by a module's tests, for modules that serve
one ``fleetreg serve`` to all their tests (starting a server costs seconds)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from tests.support.database import fresh_database


@pytest.fixture(scope="module")
def module_database(postgres_server: str, template_database: str) -> Iterator[str]:
    """One database for the module's tests (each works on rows of its own), copied from the template."""
    with fresh_database(postgres_server, template_database) as url:
        yield url


@pytest.fixture
async def module_db(module_database: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to ``module_database``, to check the state requests left behind."""
    connection = await asyncpg.connect(module_database)
    try:
        yield connection
    finally:
        await connection.close()
