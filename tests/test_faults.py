"""Faults a deployment meets: the database going away and coming back, under load."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import httpx
import psutil
import pytest

from fleetreg import migrate
from fleetreg.auth import clients as auth_clients
from fleetreg.db import Database
from fleetreg.embedded import EmbeddedPostgres
from tests.support.database import TEST_SERVER_OPTIONS
from tests.support.processes import FLEETREG, environment, free_port, wait_ready

DB_TIMEOUT = 2.0


@pytest.mark.slow
async def test_database_stopped_and_started_under_load(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pg", server_options=TEST_SERVER_OPTIONS)
    url = server.start()
    migrate.upgrade(url)
    db = Database(url, min_size=1, max_size=2)
    await db.open()
    client = await auth_clients.create_client(db, scope="connectors:read", partner_name="acme", enterprise_id=None)
    await db.close()

    port = free_port()
    process = subprocess.Popen(
        [*FLEETREG, "serve", "--port", str(port)],
        env=environment(FLEETREG_DATABASE_URL=url, FLEETREG_DB_TIMEOUT=str(DB_TIMEOUT), FLEETREG_LOG_LEVEL="warning"),
    )
    base = f"http://127.0.0.1:{port}"
    answers: list[tuple[float, int, str, float]] = []  # (when, status, content type, seconds taken)
    stop = asyncio.Event()

    async def load(http: httpx.AsyncClient) -> None:
        form = {
            "grant_type": "client_credentials",
            "client_id": client.client_id,
            "client_secret": client.client_secret,
        }
        while not stop.is_set():
            for request in (http.get("/readyz"), http.post("/oauth/token", data=form)):
                started = time.monotonic()
                response = await request
                answers.append(
                    (started, response.status_code, response.headers["content-type"], time.monotonic() - started)
                )
            await asyncio.sleep(0.02)

    try:
        wait_ready(base, process)
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            workers = [asyncio.create_task(load(http)) for _ in range(4)]
            # A second of service once it answers (first requests are slow on a busy machine).
            while len(answers) < 8:
                await asyncio.sleep(0.05)
            await asyncio.sleep(1)
            down_at = time.monotonic()
            assert server.stop() is True
            await asyncio.sleep(3)
            up_at = time.monotonic()
            server.start()
            deadline = up_at + 10
            while time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                recent = [status for when, status, _, _ in answers if when > time.monotonic() - 0.5]
                if recent and all(status == 200 for status in recent):
                    break
            recovered_at = time.monotonic()
            await asyncio.sleep(0.5)
            stop.set()
            await asyncio.gather(*workers)
    finally:
        process.terminate()
        process.wait(timeout=30)
        server.stop()

    statuses = {status for _, status, _, _ in answers}
    assert statuses <= {200, 503}, f"unexpected statuses: {statuses}"
    # Requests answered before the database went away (a slow first one may still be in flight then).
    before = [status for when, status, _, took in answers if when + took < down_at]
    # Requests that start while the database is away (not those racing its restart, which may succeed).
    during = [(status, kind, took) for when, status, kind, took in answers if down_at + 0.5 < when < up_at - 0.2]
    after = [status for when, status, _, _ in answers if when > recovered_at]
    assert before
    assert set(before) == {200}
    assert during
    assert {status for status, _, _ in during} == {503}
    assert all(kind == "application/problem+json" for _, kind, _ in during)
    assert max(took for _, _, took in during) < DB_TIMEOUT + 1, "no request may hang past the timeout"
    assert recovered_at - up_at < 5, "service must come back within seconds of the database"
    assert after
    assert set(after) == {200}


@pytest.mark.slow
async def test_frozen_database_gives_503_within_the_timeout_and_recovers(tmp_path: Path) -> None:
    """A database that stops answering without closing anything (SIGSTOP on its processes)."""
    server = EmbeddedPostgres(tmp_path / "pg", server_options=TEST_SERVER_OPTIONS)
    url = server.start()
    migrate.upgrade(url)
    port = free_port()
    process = subprocess.Popen(
        [*FLEETREG, "serve", "--port", str(port)],
        env=environment(FLEETREG_DATABASE_URL=url, FLEETREG_DB_TIMEOUT=str(DB_TIMEOUT), FLEETREG_LOG_LEVEL="warning"),
    )
    base = f"http://127.0.0.1:{port}"
    frozen_processes: list[psutil.Process] = []
    try:
        wait_ready(base, process)
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            assert (await http.get("/readyz")).status_code == 200
            postmaster = psutil.Process(server._postmaster_pid() or 0)
            frozen_processes = [postmaster, *postmaster.children(recursive=True)]
            for frozen in frozen_processes:
                frozen.suspend()
            answers = []
            for _ in range(3):
                started = time.monotonic()
                response = await http.get("/readyz")
                answers.append((response.status_code, response.headers["content-type"], time.monotonic() - started))
            for frozen in frozen_processes:
                frozen.resume()
            frozen_processes = []
            assert {status for status, _, _ in answers} == {503}
            assert {kind for _, kind, _ in answers} == {"application/problem+json"}
            assert max(took for _, _, took in answers) < DB_TIMEOUT + 1.5
            deadline = time.monotonic() + 10
            while (await http.get("/readyz")).status_code != 200:
                assert time.monotonic() < deadline, "no recovery after the database thawed"
                await asyncio.sleep(0.2)
    finally:
        for frozen in frozen_processes:
            frozen.resume()
        process.terminate()
        process.wait(timeout=30)
        server.stop()
