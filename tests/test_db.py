"""The pool and the write helper: transactions, retries, error translation, clean connections."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from fleetreg.db import CONSTRAINT_ERRORS, Database
from fleetreg.problems import BadRequest, Conflict, ServiceUnavailable


class NameTaken(Conflict):
    """A partner name is used already (only for this test of the translation)."""

    slug = "test-partner-name-taken"
    title = "Test Partner Name Taken"


@pytest.fixture
async def database(database_url: str) -> Database:
    db = Database(database_url, min_size=1, max_size=1)
    await db.open()
    yield db
    await db.close()


async def test_an_unfinished_transaction_is_not_handed_on(database: Database) -> None:
    async with database.connection() as connection:
        await connection.execute("BEGIN")
        await connection.execute("INSERT INTO partners (name) VALUES ('left open')")
    # the pool has one connection: the next user gets the same one, clean
    async with database.connection() as connection:
        assert not connection.is_in_transaction()
        assert await connection.fetchval("SELECT count(*) FROM partners") == 0


async def test_write_commits_before_returning(database: Database, db: asyncpg.Connection) -> None:
    await database.write(lambda c: c.execute("INSERT INTO partners (name) VALUES ('a')"))
    assert await db.fetchval("SELECT count(*) FROM partners") == 1


async def test_write_rolls_back_on_error(database: Database, db: asyncpg.Connection) -> None:
    async def work(connection: asyncpg.Connection) -> None:
        await connection.execute("INSERT INTO partners (name) VALUES ('a')")
        raise BadRequest("no")

    with pytest.raises(BadRequest):
        await database.write(work)
    assert await db.fetchval("SELECT count(*) FROM partners") == 0


async def test_constraint_violation_is_translated(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CONSTRAINT_ERRORS, "partners_name_key", lambda error: NameTaken("taken"))
    await database.write(lambda c: c.execute("INSERT INTO partners (name) VALUES ('a')"))
    with pytest.raises(NameTaken):
        await database.write(lambda c: c.execute("INSERT INTO partners (name) VALUES ('a')"))
    with pytest.raises(BadRequest):  # an unregistered check constraint: a generic 400
        await database.write(lambda c: c.execute("INSERT INTO partners (name) VALUES ('')"))


async def test_deadlock_is_retried(database_url: str, db: asyncpg.Connection) -> None:
    await db.execute("INSERT INTO partners (name) VALUES ('a'), ('b')")
    first, second = Database(database_url, max_size=2), Database(database_url, max_size=2)
    await first.open()
    await second.open()
    attempts = {"first": 0, "second": 0}
    both_locked = asyncio.Barrier(2)

    def crossing(name: str, order: tuple[str, str]):  # type: ignore[no-untyped-def]
        async def work(connection: asyncpg.Connection) -> None:
            attempts[name] += 1
            await connection.execute("UPDATE partners SET name = name WHERE name = $1", order[0])
            if attempts[name] == 1:
                await both_locked.wait()
            await connection.execute("UPDATE partners SET name = name WHERE name = $1", order[1])

        return work

    try:
        await asyncio.gather(first.write(crossing("first", ("a", "b"))), second.write(crossing("second", ("b", "a"))))
    finally:
        await first.close()
        await second.close()
    assert attempts["first"] + attempts["second"] == 3, "one of the two lost the deadlock and ran again"


async def test_unreachable_database_is_service_unavailable(tmp_path: object) -> None:
    db = Database(f"postgresql://postgres@/postgres?host={tmp_path}", timeout=1)
    await db.open()
    with pytest.raises(ServiceUnavailable):
        await db.fetchval("SELECT 1")
    await db.close()
