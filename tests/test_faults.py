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
from fleetreg.embedded import EmbeddedPostgres
from tests.support.database import TEST_SERVER_OPTIONS, create_client_in
from tests.support.problems import PROBLEM
from tests.support.processes import FLEETREG, environment, free_port, wait_ready
from tests.support.waiting import wait_until

DB_TIMEOUT = 2.0
LOAD_WORKERS = 4


@pytest.mark.slow
async def test_database_stopped_and_started_under_load(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pg", server_options=TEST_SERVER_OPTIONS)
    url = server.start()
    migrate.upgrade(url)
    client = await create_client_in(url, scope="connectors:read")

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
            # Each request made when its turn comes: a coroutine made and never awaited (the token
            # request, when the readiness probe failed) would warn in whichever test runs next.
            for send in (lambda: http.get("/readyz"), lambda: http.post("/oauth/token", data=form)):
                started = time.monotonic()
                response = await send()
                answers.append(
                    (started, response.status_code, response.headers["content-type"], time.monotonic() - started)
                )
            await asyncio.sleep(0.02)

    def started_between(start: float, end: float) -> list[int]:
        return [status for when, status, _, _ in answers if start < when < end]

    def started_after(moment: float) -> list[int]:
        return started_between(moment, float("inf"))

    def recovered() -> bool:
        recent = started_after(time.monotonic() - 0.5)
        return bool(recent) and all(status == 200 for status in recent)

    try:
        wait_ready(base, process)
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            workers = [asyncio.create_task(load(http)) for _ in range(LOAD_WORKERS)]
            # Service before the fault: answers to every worker (first requests are slow on a busy machine).
            await wait_until(lambda: len(answers) >= 4 * LOAD_WORKERS, "no service before the fault", timeout=60)
            # The database's start and stop run in a thread: the load goes on, and the time each
            # request takes is measured by a loop that is never blocked.
            stopping_at = time.monotonic()
            assert await asyncio.to_thread(server.stop) is True
            down_at = time.monotonic()
            # Away until requests that started with it away (and long enough before its restart, which
            # they could race) have been answered, for every worker.
            await wait_until(
                lambda: len(started_between(down_at + 0.5, time.monotonic() - 0.2)) >= 2 * LOAD_WORKERS,
                "no answers while away",
                timeout=60,
            )
            up_at = time.monotonic()
            await asyncio.to_thread(server.start)
            back_at = time.monotonic()
            # Recovered: every request started in the last half second was answered 200.
            await wait_until(recovered, "no recovery after the database came back", timeout=10, interval=0.2)
            recovered_at = time.monotonic()
            # Service after: answers to requests started since, for every worker.
            await wait_until(
                lambda: len(started_after(recovered_at)) >= 2 * LOAD_WORKERS, "no service after", timeout=60
            )
            stop.set()
            await asyncio.gather(*workers)
    finally:
        stop.set()
        process.terminate()
        process.wait(timeout=30)
        server.stop()

    statuses = {status for _, status, _, _ in answers}
    assert statuses <= {200, 503}, f"unexpected statuses: {statuses}"
    # Requests answered before the database went away (a slow first one may still be in flight then).
    before = [status for when, status, _, took in answers if when + took < stopping_at]
    # Requests that start while the database is away (not those racing its restart, which may succeed).
    during = [(status, kind, took) for when, status, kind, took in answers if down_at + 0.5 < when < up_at - 0.2]
    after = started_after(recovered_at)
    assert before
    assert set(before) == {200}
    assert during
    assert {status for status, _, _ in during} == {503}
    assert all(kind == PROBLEM for _, kind, _ in during)
    assert max(took for _, _, took in during) < DB_TIMEOUT + 1, "no request may hang past the timeout"
    assert recovered_at - back_at < 5, "service must come back within seconds of the database"
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
            assert {kind for _, kind, _ in answers} == {PROBLEM}
            assert max(took for _, _, took in answers) < DB_TIMEOUT + 1.5

            async def ready() -> bool:
                return (await http.get("/readyz")).status_code == 200

            await wait_until(ready, "no recovery after the database thawed", timeout=10, interval=0.2)
    finally:
        for frozen in frozen_processes:
            frozen.resume()
        process.terminate()
        process.wait(timeout=30)
        server.stop()
