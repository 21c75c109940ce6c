"""A flood of ``POST /oauth/token`` with unknown client ids against ``fleetreg serve`` (one worker,
argon2 with its real parameters: 64 MiB and ~50 ms per verification) leaves the worker's memory
where it was, and a good client still gets its tokens meanwhile (issue 14 item 5).

Each flooding request comes "from" another address through the trusted proxy (X-Forwarded-For from
127.0.0.1), so that the per-address limit does not stop the flood early: what bounds memory here is
the hashing gate (at most one verification per core at once), not the limits.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

import httpx
import psutil
import pytest

from fleetreg.auth import clients as auth_clients
from fleetreg.db import Database
from tests.support.processes import served

pytestmark = pytest.mark.slow

MiB = 1024 * 1024
FLOOD = 64  # concurrent requests, as in the issue
ROUNDS = 3
GOOD_REQUESTS = 10


def _worker(supervisor: psutil.Process) -> psutil.Process:
    [worker] = [
        child
        for child in supervisor.children()
        if any(connection.status == psutil.CONN_LISTEN for connection in child.net_connections())
    ]
    return worker


async def _sample_rss(process: psutil.Process, stop: asyncio.Event, peaks: list[int]) -> None:
    while not stop.is_set():
        peaks.append(process.memory_info().rss)
        await asyncio.sleep(0.02)


async def test_a_flood_of_unknown_client_ids_keeps_memory_flat_and_lets_a_good_client_in(
    database_url: str, tmp_path: Path
) -> None:
    db = Database(database_url, min_size=1, max_size=2)
    await db.open()
    try:
        good = await auth_clients.create_client(db, scope="connectors:read", partner_name="acme", enterprise_id=None)
    finally:
        await db.close()
    with served(database_url, tmp_path / "data") as server:
        worker = _worker(psutil.Process(server.process.pid))
        async with httpx.AsyncClient(base_url=server.base, timeout=120) as http:

            async def unknown(n: int) -> int:
                response = await http.post(
                    "/oauth/token",
                    data={"grant_type": "client_credentials"},
                    auth=(f"cl_flood{n}", "wrong"),
                    headers={"X-Forwarded-For": f"198.51.{n // 250}.{n % 250 + 1}"},
                )
                return response.status_code

            async def good_token() -> float:
                started = time.perf_counter()
                response = await http.post(
                    "/oauth/token", data={"grant_type": "client_credentials"}, auth=(good.client_id, good.client_secret)
                )
                assert response.status_code == 200, response.text
                return time.perf_counter() - started

            # Warm up: the dummy hash is made, the argon2 threads and their arenas exist.
            assert {await unknown(n) for n in range(4)} == {401}
            quiet = statistics.median([await good_token() for _ in range(GOOD_REQUESTS)])
            before = worker.memory_info().rss

            statuses: dict[int, int] = {}
            good_latencies: list[float] = []
            peaks: list[int] = []
            stop = asyncio.Event()
            sampler = asyncio.create_task(_sample_rss(worker, stop, peaks))
            for round_number in range(ROUNDS):
                flood = [
                    asyncio.create_task(unknown(1000 * (round_number + 1) + n)) for n in range(FLOOD)
                ]  # fmt: skip
                good_latencies += [await good_token() for _ in range(GOOD_REQUESTS)]
                for status in await asyncio.gather(*flood):
                    statuses[status] = statuses.get(status, 0) + 1
            stop.set()
            await sampler
            await asyncio.sleep(0.5)
            after = worker.memory_info().rss

    growth, peak_growth = (after - before) / MiB, (max(peaks) - before) / MiB
    flooded = statistics.median(good_latencies)
    print(
        f"token flood ({ROUNDS} x {FLOOD} unknown ids): RSS {before / MiB:.0f} -> {after / MiB:.0f} MiB "
        f"(peak +{peak_growth:.0f} MiB); good client's token p50 {quiet * 1000:.0f} ms quiet, "
        f"{flooded * 1000:.0f} ms under the flood; answers {statuses}"
    )
    assert set(statuses) <= {401, 429}, statuses
    assert growth < 8, f"the worker grew by {growth:.1f} MiB"
    # at most one argon2 verification (64 MiB) per core at once, whatever the number of requests
    assert peak_growth < psutil.cpu_count() * 64 + 16, f"the worker peaked {peak_growth:.0f} MiB higher"
    # it waits for the verifications already running (one per core), not for the flood behind them
    assert flooded < 4 * quiet + 1, f"a good client waited {flooded:.1f} s (p50) for its token, {quiet:.1f} s quiet"
