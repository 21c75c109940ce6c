"""A client retrying with its Idempotency-Key after the server was SIGKILLed mid-request makes
exactly one write, whenever the kill came (docs/safe-writes.md).

This is the failure that made idempotency keys necessary: a 1000-item bulk create with
server-generated ids, committed just before the server died, so its client never got the answer;
without a key the retry created all 1000 again. Each round kills the served process at another
moment: once its transaction is open, at its INSERT, right after its commit (the rows visible, the
answer not sent yet), and after fixed delays. The retry goes to a new server with the same key and
body: a replay of the committed answer, or the first run when nothing was committed. Never both.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.robustness.test_kill import AT_INSERT, IN_TRANSACTION, ITEMS, server_is_at, wait_for_server_backends_gone
from tests.support.fleet import Fleet
from tests.support.invariants import assert_totals_exact
from tests.support.processes import served

pytestmark = pytest.mark.slow

COMMITTED = -4.0  # kill as soon as the request's rows are visible to another session
ROUNDS = [IN_TRANSACTION, AT_INSERT, COMMITTED, COMMITTED, 0.1, 0.3]


async def _rows_of(db: asyncpg.Connection, enterprise: str) -> int:
    return int(await db.fetchval("SELECT count(*) FROM devices WHERE enterprise_id = $1", enterprise))


async def _kill_at(
    server: Any, db: asyncpg.Connection, request: asyncio.Task[httpx.Response], when: float, enterprise: str
) -> None:
    started = time.monotonic()
    if when == COMMITTED:
        while not request.done() and await _rows_of(db, enterprise) < ITEMS:
            assert time.monotonic() - started < 60, "the commit never came"
    elif when < 0:
        while not request.done() and not await server_is_at(db, when):
            assert time.monotonic() - started < 60, "the moment to kill never came"
    else:
        await asyncio.sleep(when)
    server.kill()


async def test_a_retry_with_the_same_key_after_a_kill_writes_once(
    database_url: str, tmp_path: Path, db: asyncpg.Connection
) -> None:
    data_dir = tmp_path / "data"
    outcomes: list[tuple[float, int, bool, bool]] = []
    for round_number, when in enumerate(ROUNDS):
        key = f"bulk-devices-round-{round_number}"
        with served(database_url, data_dir) as server:
            async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
                fleet = Fleet(http)
                fleet._numbers = iter(range(round_number * 10_000 + 1, 10**9))
                enterprise = (await fleet.enterprise())["id"]
                # No ids in the body: the server makes them, so only the key can tell a retry.
                body = {"data": [{"attributes": fleet.device_attributes(enterprise)} for _ in range(ITEMS)]}
                request = asyncio.create_task(http.post("/v2/devices", json=body, headers={"Idempotency-Key": key}))
                await _kill_at(server, db, request, when, enterprise)
                try:
                    first: httpx.Response | None = await request
                except httpx.TransportError:
                    first = None
        await wait_for_server_backends_gone(db)
        left = await _rows_of(db, enterprise)
        assert left in (0, ITEMS), f"round {round_number} (kill at {when}): {left} of {ITEMS} devices"

        with served(database_url, data_dir) as server:
            async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
                retry = await http.post("/v2/devices", json=body, headers={"Idempotency-Key": key})
        assert retry.status_code == 201, retry.text
        replayed = retry.headers.get("Idempotent-Replayed") == "true"
        assert replayed == (left == ITEMS), f"round {round_number}: {left} rows before the retry, replayed={replayed}"
        assert await _rows_of(db, enterprise) == ITEMS, f"round {round_number}: the retry wrote again"
        stored = {row["id"] for row in await db.fetch("SELECT id FROM devices WHERE enterprise_id = $1", enterprise)}
        assert {item["id"] for item in retry.json()["data"]} == stored
        if first is not None:
            assert first.status_code == 201
            assert first.json() == retry.json()
        await assert_totals_exact(db)
        outcomes.append((when, left, first is not None, replayed))

    kills_before_commit = [o for o in outcomes if o[0] in (IN_TRANSACTION, AT_INSERT)]
    assert all(left == 0 and not replayed for _, left, _, replayed in kills_before_commit), outcomes
    assert any(when == COMMITTED and left == ITEMS and replayed for when, left, _, replayed in outcomes), (
        f"no round killed the server between its commit and its answer: {outcomes}"
    )
