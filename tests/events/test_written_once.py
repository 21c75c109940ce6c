"""Events written once (migration 0019): after ``events_sequence_now()`` a transaction's inserts
write their events straight into ``events`` with their sequence numbers, and the feed's guarantee
holds as before: commit order, nothing visible before its commit, nothing of a rolled-back
transaction. The import writes its events this way."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from tests.support.partner import Partner

EVENTS = "/v2/events"
ADD_CUSTOMER = "INSERT INTO customers (partner_id, name) VALUES ($1, $2)"


async def customer_events(acme: Partner) -> list[tuple[int, str, dict[str, Any]]]:
    body = (await acme.get(EVENTS, params={"limit": 1000, "type": "customer.created"})).json()
    return [(event["sequence"], event["data"]["after"]["name"], event["actor"]) for event in body["data"]]


async def test_events_before_and_after_the_call_stay_in_the_order_they_were_made(
    acme: Partner, db: asyncpg.Connection
) -> None:
    async with db.transaction():
        await db.execute("SELECT set_config('fleetreg.actor', $1, true)", '{"kind": "operator", "operator_id": "op"}')
        await db.execute(ADD_CUSTOMER, acme.id, "pending")
        await db.execute("SELECT events_sequence_now()")
        assert await db.fetchval("SELECT count(*) FROM pending_events") == 0  # moved by the call
        await db.execute(ADD_CUSTOMER, acme.id, "once 1")
        await db.execute(ADD_CUSTOMER, acme.id, "once 2")
        assert await db.fetchval("SELECT count(*) FROM pending_events") == 0
    events = await customer_events(acme)
    assert [name for _, name, _ in events] == ["pending", "once 1", "once 2"]
    sequences = [sequence for sequence, _, _ in events]
    assert sequences == sorted(set(sequences))
    assert all(actor == {"kind": "operator", "operator_id": "op"} for _, _, actor in events)


async def test_a_concurrent_commit_waits_for_it_and_comes_after_it(
    acme: Partner, db: asyncpg.Connection, database_url: str
) -> None:
    other = await asyncpg.connect(database_url)
    try:
        await db.execute("BEGIN")
        await db.execute("SELECT events_sequence_now()")
        await db.execute(ADD_CUSTOMER, acme.id, "first")

        async def later_write() -> None:
            await other.execute(ADD_CUSTOMER, acme.id, "second")  # began later, commits at once

        writer = asyncio.create_task(later_write())
        await asyncio.sleep(0.5)
        assert not writer.done()  # its commit step waits for the lock
        assert await customer_events(acme) == []  # nothing visible before the commit
        await db.execute("COMMIT")
        await asyncio.wait_for(writer, 10)
    finally:
        await other.close()
    assert [name for _, name, _ in await customer_events(acme)] == ["first", "second"]


async def test_a_rolled_back_transaction_leaves_no_event(acme: Partner, db: asyncpg.Connection) -> None:
    await db.execute("BEGIN")
    await db.execute("SELECT events_sequence_now()")
    await db.execute(ADD_CUSTOMER, acme.id, "rolled back")
    await db.execute("ROLLBACK")
    await db.execute(ADD_CUSTOMER, acme.id, "kept")
    assert [name for _, name, _ in await customer_events(acme)] == ["kept"]


async def test_its_commit_notifies_the_followers_with_its_last_sequence(
    acme: Partner, db: asyncpg.Connection, database_url: str
) -> None:
    heard: list[str] = []
    listener = await asyncpg.connect(database_url)
    try:
        await listener.add_listener("fleetreg_events", lambda *notification: heard.append(notification[-1]))
        await db.execute("SELECT events_follow('test', 60)")
        async with db.transaction():
            await db.execute("SELECT events_sequence_now()")
            await db.execute(ADD_CUSTOMER, acme.id, "a")
            await db.execute(ADD_CUSTOMER, acme.id, "b")
        await listener.execute("SELECT 1")  # the notification arrives before this answer
        await asyncio.sleep(0)
    finally:
        await listener.close()
    assert heard == [str(max(sequence for sequence, _, _ in await customer_events(acme)))]


async def test_after_the_call_a_change_other_than_an_insert_is_refused(acme: Partner, db: asyncpg.Connection) -> None:
    # its event would be sequenced at the commit, after events made later than it
    await db.execute(ADD_CUSTOMER, acme.id, "old name")
    await db.execute("BEGIN")
    await db.execute("SELECT events_sequence_now()")
    with pytest.raises(asyncpg.RaiseError, match="may only insert"):
        await db.execute("UPDATE customers SET name = 'new name' WHERE partner_id = $1", acme.id)
    await db.execute("ROLLBACK")
    assert [name for _, name, _ in await customer_events(acme)] == ["old name"]
