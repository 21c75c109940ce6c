"""SIGKILL of the embedded PostgreSQL's postmaster while ``fleetreg serve`` takes writes: every answer
is 2xx or 503 (never a 500, never a dropped connection), ``serve`` starts the database again (crash
recovery) and /readyz is 200 again within seconds, and every write acknowledged with a 201 is in the
database afterwards."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from fleetreg.embedded import EmbeddedPostgres
from tests.support.fleet import Fleet
from tests.support.processes import FLEETREG, environment, free_port, wait_ready

pytestmark = pytest.mark.slow

WRITERS = 8
WRITE_SECONDS_AFTER_THE_KILL = 6.0
BACK_WITHIN_SECONDS = 15.0  # measured here: about 1-2 s (see the report line the test prints)


async def _write_until(
    http: httpx.AsyncClient,
    fleet: Fleet,
    stop: asyncio.Event,
    statuses: collections.Counter[int],
    acknowledged: list[str],
) -> None:
    while not stop.is_set():
        response = await http.post("/v2/enterprises", json={"data": {"attributes": fleet.enterprise_attributes()}})
        statuses[response.status_code] += 1
        if response.status_code == 201:
            acknowledged.append(response.json()["data"]["id"])
        elif response.status_code == 503:
            await asyncio.sleep(0.02)


async def test_the_postmaster_killed_under_writes(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    port = free_port()
    process = subprocess.Popen(
        [*FLEETREG, "serve", "--port", str(port), "--workers", "2"],
        env=environment(FLEETREG_DATA_DIR=str(data_dir), FLEETREG_LOG_LEVEL="warning", FLEETREG_DB_TIMEOUT="2"),
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    embedded = EmbeddedPostgres(data_dir / "postgres")
    try:
        wait_ready(base, process)
        statuses: collections.Counter[int] = collections.Counter()
        acknowledged: list[str] = []
        stop = asyncio.Event()
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            fleet = Fleet(http)
            writers = [
                asyncio.create_task(_write_until(http, fleet, stop, statuses, acknowledged)) for _ in range(WRITERS)
            ]
            while statuses[201] < 50:  # writes are going through
                assert not any(w.done() for w in writers), [w.exception() for w in writers if w.done()]
                await asyncio.sleep(0.05)
            postmaster = embedded._postmaster_pid()
            assert postmaster is not None
            os.kill(postmaster, signal.SIGKILL)
            killed_at = time.monotonic()
            acknowledged_before_the_kill = len(acknowledged)

            back_after = None
            noticed = False  # a backend of the killed postmaster may answer until it notices its death
            while time.monotonic() - killed_at < BACK_WITHIN_SECONDS:
                ready = await http.get("/readyz")
                if ready.status_code == 200 and embedded._postmaster_pid() not in (None, postmaster):
                    back_after = time.monotonic() - killed_at
                    break
                assert ready.status_code == 503 or not noticed, ready.text
                noticed = noticed or ready.status_code == 503
                await asyncio.sleep(0.05)
            assert back_after is not None, f"/readyz not 200 within {BACK_WITHIN_SECONDS} s of the kill"
            await asyncio.sleep(max(0.0, WRITE_SECONDS_AFTER_THE_KILL - (time.monotonic() - killed_at)))
            stop.set()
            await asyncio.gather(*writers)  # a transport error (a dropped connection) fails the test here
        print(f"postmaster SIGKILL: serving again after {back_after:.2f} s; answers {dict(statuses)}")

        assert set(statuses) <= {201, 503}, f"answers other than 201 and 503: {dict(statuses)}"
        assert statuses[503] > 0, "the kill was not noticed by any request"
        assert len(acknowledged) > acknowledged_before_the_kill, "no write succeeded after the restart"
        connection = await asyncpg.connect(embedded.url())
        try:
            stored = {row["id"] for row in await connection.fetch("SELECT id FROM enterprises")}
        finally:
            await connection.close()
        missing = set(acknowledged) - stored
        assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged writes are gone"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            assert process.wait(timeout=60) == 0
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
        assert not embedded.is_running(), "serve stopped without stopping the restarted database"
