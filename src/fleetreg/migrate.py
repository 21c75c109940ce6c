"""Alembic, driven from code: ``fleetreg db upgrade``, ``serve`` at start-up, /readyz and the tests.

Alembic and SQLAlchemy are imported by the functions that run migrations, not by this module: a CLI
command on a current schema learns that with one asyncpg query and ``head_revision`` (a read of the
migration files), without their second of imports.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Engine

SCRIPT_LOCATION = Path(__file__).parent / "migrations"

_REVISION = re.compile(r'^revision = "([^"]+)"$', re.MULTILINE)
_DOWN_REVISION = re.compile(r'^down_revision = (?:"([^"]+)"|None)$', re.MULTILINE)


def sqlalchemy_url(database_url: str) -> str:
    """Our libpq-style URL as SQLAlchemy's psycopg URL (migrations run synchronously)."""
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix) :]
    raise ValueError("the database URL must start with postgresql://")


def alembic_config(database_url: str | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["database_url"] = database_url
    return config


@functools.cache
def head_revision() -> str:
    """The newest migration: the one no other migration names as its ``down_revision`` (the files
    are read as text; tests/test_migrations.py checks that Alembic finds the same head)."""
    revisions, parents = set(), set()
    for path in (SCRIPT_LOCATION / "versions").glob("[0-9]*.py"):
        text = path.read_text()
        revision, down = _REVISION.search(text), _DOWN_REVISION.search(text)
        if revision is None or down is None:
            raise RuntimeError(f"{path.name} names no revision or down_revision")
        revisions.add(revision.group(1))
        if down.group(1):
            parents.add(down.group(1))
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def upgrade(database_url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(database_url), revision)


def engine_for(database_url: str) -> Engine:
    from sqlalchemy import create_engine, pool

    from fleetreg.db import CONNECT_TIMEOUT

    return create_engine(
        sqlalchemy_url(database_url), poolclass=pool.NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT}
    )


def current_revision(database_url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = engine_for(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


async def schema_revision(database_url: str) -> str | None:
    """The database's migration (None before the first), read with one asyncpg query: no
    SQLAlchemy import for a CLI command on a current schema."""
    import asyncpg

    from fleetreg.db import CURRENT_REVISION, connected

    async with connected(database_url) as connection:
        try:
            revision: str | None = await connection.fetchval(CURRENT_REVISION)
        except asyncpg.UndefinedTableError:
            return None
    return revision
