"""Alembic, driven from code: ``fleetreg db upgrade``, ``serve`` at start-up, /readyz and the tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, pool

SCRIPT_LOCATION = Path(__file__).parent / "migrations"
# Seconds to wait for the database to accept a connection: a hung server must not hang the CLI.
CONNECT_TIMEOUT = 10


def sqlalchemy_url(database_url: str) -> str:
    """Our libpq-style URL as SQLAlchemy's psycopg URL (migrations run synchronously)."""
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix) :]
    raise ValueError("the database URL must start with postgresql://")


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["database_url"] = database_url
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def engine_for(database_url: str) -> Engine:
    return create_engine(
        sqlalchemy_url(database_url), poolclass=pool.NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT}
    )


def current_revision(database_url: str) -> str | None:
    engine = engine_for(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
