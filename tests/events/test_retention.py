"""Retention (docs/api.md §5): events older than FLEETREG_EVENT_RETENTION_DAYS are removed in batches;
a cursor from before them is 410 Cursor Expired; 0 keeps everything."""

from __future__ import annotations

import asyncpg

from fleetreg.events.retention import prune
from tests.support.app import App, database_of
from tests.support.partner import Partner
from tests.support.problems import assert_problem


async def test_old_events_go_and_their_cursors_expire(app: App, acme: Partner, db: asyncpg.Connection) -> None:
    for number in range(5):
        await acme.customer(f"c{number}")
    sequences = [row[0] for row in await db.fetch("SELECT sequence FROM events ORDER BY sequence")]
    await db.execute("UPDATE events SET occurred_at = now() - interval '91 days' WHERE sequence <= $1", sequences[2])
    assert await prune(database_of(app), 0) == 0
    assert await prune(database_of(app), 90) == 1
    kept = [row[0] for row in await db.fetch("SELECT sequence FROM events ORDER BY sequence")]
    assert kept == sequences[3:]
    assert_problem(await acme.get("/v2/events", params={"after": str(sequences[0])}), 410, "Cursor Expired")
    page = (await acme.get("/v2/events", params={"after": str(sequences[2])})).json()
    assert [event["sequence"] for event in page["data"]] == sequences[3:]
    oldest = (await acme.get("/v2/events")).json()
    assert [event["sequence"] for event in oldest["data"]] == sequences[3:]


async def test_writes_go_on_while_pruning(app: App, acme: Partner, db: asyncpg.Connection) -> None:
    await acme.customer("old")
    await db.execute("UPDATE events SET occurred_at = now() - interval '100 days'")
    other = await asyncpg.connect(str(database_of(app).url))
    try:
        transaction = other.transaction()
        await transaction.start()
        await other.execute("SELECT pg_advisory_xact_lock(7306916436585427718)")  # another process prunes
        assert await prune(database_of(app), 90) == 0  # this one skips its turn instead of waiting
        await acme.customer("new")  # and writes never wait for a pruner
        await transaction.rollback()
    finally:
        await other.close()
    assert await prune(database_of(app), 90) == 1
    assert await db.fetchval("SELECT count(*) FROM events") == 1
