"""Migrations: the whole chain goes up, down and up again, leaving the same schema."""

from __future__ import annotations

import asyncpg

from fleetreg import migrate

SCHEMA = """
SELECT table_name || '.' || column_name || ':' || data_type
FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1
"""
INDEXES = "SELECT indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"
FUNCTIONS = "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY 1"


async def snapshot(url: str) -> tuple[list[str], list[str], list[str]]:
    connection = await asyncpg.connect(url)
    try:
        return (
            [row[0] for row in await connection.fetch(SCHEMA)],
            [row[0] for row in await connection.fetch(INDEXES)],
            [row[0] for row in await connection.fetch(FUNCTIONS)],
        )
    finally:
        await connection.close()


async def test_round_trip(empty_database_url: str) -> None:
    assert migrate.current_revision(empty_database_url) is None

    migrate.upgrade(empty_database_url)
    assert migrate.current_revision(empty_database_url) == migrate.head_revision()
    first = await snapshot(empty_database_url)

    migrate.downgrade(empty_database_url, "base")
    assert migrate.current_revision(empty_database_url) is None
    columns, indexes, functions = await snapshot(empty_database_url)
    assert [c for c in columns if not c.startswith("alembic_version.")] == []
    assert [i for i in indexes if not i.startswith("alembic_version")] == []
    assert functions == []

    migrate.upgrade(empty_database_url)
    assert await snapshot(empty_database_url) == first


async def test_upgrade_is_idempotent(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    before = await snapshot(empty_database_url)
    migrate.upgrade(empty_database_url)
    assert await snapshot(empty_database_url) == before


def test_the_head_read_from_the_files_is_alembics() -> None:
    """``migrate.head_revision`` reads the migration files as text (the CLI then needs no Alembic)."""
    from alembic.script import ScriptDirectory

    assert migrate.head_revision() == ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
