"""A customer's or connector's update or delete makes its event at commit (migration 0021), unless the
transaction has pending events already; either way the events keep the order of the changes and
read the same."""

from __future__ import annotations

from typing import Any

import asyncpg

from tests.support.partner import Partner

EVENTS = "/v2/events"
ADD_CUSTOMER = "INSERT INTO customers (partner_id, name) VALUES ($1, $2) RETURNING id"
RENAME = "UPDATE customers SET name = $2 WHERE id = $1"
CONNECTOR = {"name": "c-1", "type": "virtual", "hardware_version": "1", "software_version": "1"}


async def feed(acme: Partner, *types: str) -> list[dict[str, Any]]:
    response = await acme.get(EVENTS, params={"limit": 1000, "type": list(types)})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def names(events: list[dict[str, Any]]) -> list[str]:
    return [event["data"]["after"]["name"] if event["data"]["after"] else "deleted" for event in events]


async def test_a_lone_change_leaves_nothing_pending(acme: Partner, db: asyncpg.Connection) -> None:
    customer = await db.fetchval(ADD_CUSTOMER, acme.id, "before")
    async with db.transaction():
        await db.execute(RENAME, customer, "after")
        # sequenced at commit straight into events: no pending row, no commit mark
        assert await db.fetchval("SELECT count(*) FROM pending_events") == 0
        assert await db.fetchval("SELECT count(*) FROM event_commit_marks") == 0
        assert await feed(acme, "customer.updated") == []  # nothing before the commit
    [event] = await feed(acme, "customer.updated")
    assert event["data"]["before"]["name"] == "before"
    assert event["data"]["after"]["name"] == "after"


async def test_changes_before_and_after_pending_events_keep_their_order(acme: Partner, db: asyncpg.Connection) -> None:
    first = await db.fetchval(ADD_CUSTOMER, acme.id, "a0")
    second = await db.fetchval(ADD_CUSTOMER, acme.id, "b0")
    async with db.transaction():
        await db.execute(RENAME, first, "a1")  # no pending event yet: at commit, first in the queue
        await db.fetchval(ADD_CUSTOMER, acme.id, "new")  # pending; queues the commit step
        await db.execute(RENAME, second, "b1")  # pending now, after "new"
        await db.fetchval(ADD_CUSTOMER, acme.id, "newer")  # after "b1", though moved with "new"
        await db.execute(RENAME, first, "a2")
        await db.execute("DELETE FROM customers WHERE id = $1", second)
    made = (await feed(acme, "customer.*"))[2:]  # after the two creations
    assert [(event["type"], names([event])[0]) for event in made] == [
        ("customer.updated", "a1"),
        ("customer.created", "new"),
        ("customer.updated", "b1"),
        ("customer.created", "newer"),
        ("customer.updated", "a2"),
        ("customer.deleted", "deleted"),
    ]
    sequences = [event["sequence"] for event in made]
    assert sequences == sorted(set(sequences))
    assert made[4]["data"]["before"]["name"] == "a1"  # each change's own versions of the row


async def test_a_connector_change_reads_the_same_by_either_path(acme: Partner, db: asyncpg.Connection) -> None:
    customer = (await acme.post("/v2/customers", json={"name": "holder"})).json()["id"]
    connector = (await acme.post("/v2/customers/connectors", json=CONNECTOR)).json()["id"]
    assert (await acme.put(f"/v2/customers/connectors/{connector}", json={"customer_id": customer})).status_code == 200
    assert (await acme.put(f"/v2/customers/connectors/{connector}", json={"customer_id": None})).status_code == 200
    async with db.transaction():
        await db.execute("SELECT set_config('fleetreg.actor', $1, true)", '{"kind": "cli"}')
        await db.fetchval(ADD_CUSTOMER, acme.id, "makes the rest pending")
        await db.execute("UPDATE connectors SET customer_id = $2 WHERE id = $1", connector, customer)
    by_api, unassigned, by_pending = await feed(acme, "connector.assigned", "connector.unassigned")
    assert (by_api["type"], unassigned["type"], by_pending["type"]) == (
        "connector.assigned",
        "connector.unassigned",
        "connector.assigned",
    )

    def content(event: dict[str, Any]) -> tuple[Any, ...]:
        return event["tenant"], event["subject"], event["data"]

    assert content(by_api) == content(by_pending)
    assert (by_api["actor"]["kind"], by_pending["actor"]) == ("client", {"kind": "cli"})


async def test_a_change_that_shows_nothing_new_makes_no_event(acme: Partner, db: asyncpg.Connection) -> None:
    customer = await db.fetchval(ADD_CUSTOMER, acme.id, "same")
    await db.execute(RENAME, customer, "same")
    assert await feed(acme, "customer.updated") == []


async def test_a_change_rolled_back_to_a_savepoint_leaves_no_event(acme: Partner, db: asyncpg.Connection) -> None:
    customer = await db.fetchval(ADD_CUSTOMER, acme.id, "kept")
    async with db.transaction():
        savepoint = db.transaction()
        await savepoint.start()
        await db.execute(RENAME, customer, "undone")
        await savepoint.rollback()
        await db.execute(RENAME, customer, "kept too")
    assert names(await feed(acme, "customer.updated")) == ["kept too"]
