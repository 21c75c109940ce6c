"""The feed's guarantee (docs/api.md §5): a consumer following next_cursor sees every event exactly once,
in sequence order, while many transactions commit concurrently and out of the order they began in.

Fifty writers each run transactions that hold their events open for a random while before
committing (so a later-started transaction often commits first), while a consumer pages through
the feed as fast as it can. Afterwards the consumer's sequence of events must be exactly the full
feed read once everything committed. A third of the transactions write their later events straight
into ``events`` (``events_sequence_now``, as an import does), the rest through ``pending_events``;
another third begin with a rename, whose event is sequenced at commit on its own (migration 0021)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import asyncpg
import httpx

from tests.support.partner import Partner

WRITERS = 50
TRANSACTIONS_PER_WRITER = 6


async def _writer(database_url: str, partner: Any, number: int, rng: random.Random) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        mine = None
        for transaction in range(TRANSACTIONS_PER_WRITER):
            async with connection.transaction():
                if mine is not None and transaction % 3 == 2:
                    # a change before any pending event: sequenced at commit on its own (migration 0021)
                    await connection.execute(
                        "UPDATE customers SET name = $2 WHERE id = $1", mine, f"w{number}-{transaction}"
                    )
                for item in range(rng.randint(1, 3)):
                    mine = await connection.fetchval(
                        "INSERT INTO customers (partner_id, name) VALUES ($1, $2) RETURNING id",
                        partner,
                        f"w{number}-{transaction}-{item}",
                    )
                    if item == 0 and transaction % 3 == 1:
                        # a third of them write the rest of their events once (migration 0019)
                        await connection.execute("SELECT events_sequence_now()")
                await asyncio.sleep(rng.random() * 0.03)
    finally:
        await connection.close()


async def test_a_paging_consumer_sees_every_event_once_in_order(
    client: httpx.AsyncClient, acme: Partner, database_url: str
) -> None:
    rng = random.Random(15)
    writers = asyncio.gather(
        *(_writer(database_url, acme.id, number, random.Random(rng.random())) for number in range(WRITERS))
    )
    seen: list[int] = []
    cursor = (await acme.get("/v2/events")).json()["next_cursor"]
    pages = 0

    async def page() -> bool:
        nonlocal cursor, pages
        body = (await acme.get("/v2/events", params={"after": cursor, "limit": 7})).json()
        seen.extend(event["sequence"] for event in body["data"])
        cursor, pages = body["next_cursor"], pages + 1
        return bool(body["has_more"])

    while not writers.done():
        await page()
    await writers
    while await page():
        pass
    await page()

    full: list[int] = []
    after = None
    while True:
        params: dict[str, Any] = {"limit": 1000} | ({"after": after} if after else {})
        body = (await acme.get("/v2/events", params=params)).json()
        full += [event["sequence"] for event in body["data"]]
        after = body["next_cursor"]
        if not body["has_more"]:
            break
    assert len(full) >= WRITERS * TRANSACTIONS_PER_WRITER
    assert seen == full
    assert pages > 20  # the consumer really read while the writers committed
