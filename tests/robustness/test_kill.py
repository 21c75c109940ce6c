"""The server killed with SIGKILL in the middle of a 1000-item bulk write leaves all of it or none of
it in the database, with the counter tables exact; served again, the same request is answered
consistently (created when nothing was left, "already exists" when everything was).

Each round kills the server at another moment: as soon as the request's transaction is open in
PostgreSQL (seen in pg_stat_activity), or after a fixed delay (while the body is still read, while
it is checked, or around the commit).
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
import pytest

from fleetreg.fleet.formats import cnpj_check_digits, new_id
from tests.support.fleet import Fleet, luhn_complete
from tests.support.invariants import assert_invariants, assert_totals_exact
from tests.support.problems import assert_problem
from tests.support.processes import FLEETREG, Served, environment, served
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

ITEMS = 1000
IN_TRANSACTION = -1.0  # kill as soon as a transaction of the server is open (the checks to come)
AT_INSERT = -2.0  # kill once the transaction runs its INSERT (the checks done, the commit to come)
AT_UPDATE = -3.0  # likewise for an UPDATE
# Each round starts a server (seconds): few rounds, each at a moment of its own.
DEVICE_ROUNDS = [IN_TRANSACTION, AT_INSERT, 0.05, 0.15]
ASSOCIATION_ROUNDS = [IN_TRANSACTION, AT_INSERT, 0.1]


async def server_is_at(db: asyncpg.Connection, when: float) -> bool:
    return bool(
        await db.fetchval(
            r"""SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
               AND application_name = 'fleetreg' AND xact_start IS NOT NULL AND pid <> pg_backend_pid()
               AND ($1 OR (state = 'active' AND query ~* $2)))""",
            when == IN_TRANSACTION,
            r"\mupdate\s+device_associations\M" if when == AT_UPDATE else r"\minsert\s+into\M",
        )
    )


async def kill_during(
    server: Served, db: asyncpg.Connection, send: Callable[[httpx.AsyncClient], Any], when: float
) -> httpx.Response | None:
    """Send a request and SIGKILL the server (all its processes) ``when`` seconds later, or at the
    moment IN_TRANSACTION or AT_INSERT; the response when it came first."""
    async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
        request = asyncio.create_task(send(http))
        started = time.monotonic()
        if when < 0:
            while not request.done() and not await server_is_at(db, when):
                assert time.monotonic() - started < 30, "the moment to kill never came"
        else:
            await asyncio.sleep(when)
        server.kill()
        try:
            response: httpx.Response = await request
        except httpx.TransportError:
            return None
        return response


async def wait_for_server_backends_gone(db: asyncpg.Connection) -> None:
    """PostgreSQL ends the killed server's sessions (rolling back what they had open) once it notices."""

    async def gone() -> bool:
        return not await db.fetchval(
            """SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
               AND application_name = 'fleetreg' AND pid <> pg_backend_pid()"""
        )

    await wait_until(gone, "the killed server's sessions stay", timeout=30, interval=0.05)


async def test_kill_during_a_bulk_device_create(database_url: str, tmp_path: Path, db: asyncpg.Connection) -> None:
    data_dir = tmp_path / "data"
    outcomes = []
    pending: list[tuple[dict[str, Any], int]] = []  # (body, rows it left): re-sent to the next server
    for round_number, when in enumerate([*DEVICE_ROUNDS, None]):
        with served(database_url, data_dir) as server:
            async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
                for body, left in pending:
                    # the same ids again: created when the killed request left nothing, 409 otherwise
                    again = await http.post("/v2/devices", json=body)
                    assert again.status_code == (201 if left == 0 else 409), again.text
                    if left:
                        assert again.json()["title"] == "Id Already In Use"
                pending = []
                if when is None:
                    break
                fleet = Fleet(http)
                fleet._numbers = iter(range(round_number * 10_000 + 1, 10**9))
                enterprise = (await fleet.enterprise())["id"]
                body = {
                    "data": [{"id": new_id(), "attributes": fleet.device_attributes(enterprise)} for _ in range(ITEMS)]
                }

            response = await kill_during(
                server, db, lambda client, body=body: client.post("/v2/devices", json=body), when
            )
        await wait_for_server_backends_gone(db)
        left = await db.fetchval("SELECT count(*) FROM devices WHERE enterprise_id = $1", enterprise)
        assert left in (0, ITEMS), f"round {round_number} (kill at {when}): {left} of {ITEMS} devices"
        if response is not None:
            assert response.status_code == 201, response.text
            assert left == ITEMS
        await assert_totals_exact(db)
        outcomes.append((when, left, response is not None))
        pending.append((body, left))
    assert outcomes[0] == (IN_TRANSACTION, 0, False), f"a kill before the commit must leave nothing: {outcomes}"
    assert outcomes[1][0] == AT_INSERT
    assert not outcomes[1][2], f"the kill at the INSERT came too late: {outcomes}"


async def test_kill_during_a_bulk_association_create(database_url: str, tmp_path: Path, db: asyncpg.Connection) -> None:
    """1000 devices onto one vehicle (one main, 999 secondaries) in one request."""
    data_dir = tmp_path / "data"
    outcomes = []
    pending: list[tuple[dict[str, Any], int]] = []
    for round_number, when in enumerate([*ASSOCIATION_ROUNDS, None]):
        with served(database_url, data_dir) as server:
            async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
                for body, left in pending:
                    again = await http.post("/v2/vehicles/associations/devices", json=body)
                    if left == 0:
                        assert again.status_code == 200, again.text
                    else:
                        assert again.status_code == 400, again.text
                        assert again.json()["title"] == "Device(s) Already Associated With Another Vehicle"
                pending = []
                if when is None:
                    break
                fleet = Fleet(http)
                fleet._numbers = iter(range(round_number * 10_000 + 1, 10**9))
                enterprise = (await fleet.enterprise())["id"]
                vehicle = (await fleet.vehicle(enterprise))["id"]
                devices = await http.post(
                    "/v2/devices",
                    json={"data": [{"attributes": fleet.device_attributes(enterprise)} for _ in range(ITEMS)]},
                )
                assert devices.status_code == 201, devices.text
                body = {
                    "data": [
                        {"vehicle_id": vehicle, "device_id": device["id"], "is_main_device": number == 0}
                        for number, device in enumerate(devices.json()["data"])
                    ]
                }

            def send(client: httpx.AsyncClient, body: dict[str, Any] = body) -> Any:
                return client.post("/v2/vehicles/associations/devices", json=body)

            response = await kill_during(server, db, send, when)
        await wait_for_server_backends_gone(db)
        left = await db.fetchval("SELECT count(*) FROM device_associations WHERE vehicle_id = $1", vehicle)
        assert left in (0, ITEMS), f"round {round_number} (kill at {when}): {left} of {ITEMS} associations"
        if response is not None:
            assert response.status_code == 200, response.text
            assert left == ITEMS
        await assert_invariants(db)
        await assert_totals_exact(db)
        outcomes.append((when, left, response is not None))
        pending.append((body, left))
    assert outcomes[0] == (IN_TRANSACTION, 0, False), f"a kill before the commit must leave nothing: {outcomes}"
    assert outcomes[1][0] == AT_INSERT
    assert not outcomes[1][2], f"the kill at the INSERT came too late: {outcomes}"


async def test_kill_during_a_bulk_end(database_url: str, tmp_path: Path, db: asyncpg.Connection) -> None:
    """Ending 1000 associations at once (DELETE): all end or none, their vehicle keeps its main
    until then."""
    data_dir = tmp_path / "data"
    with served(database_url, data_dir) as server:
        async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
            fleet = Fleet(http)
            enterprise = (await fleet.enterprise())["id"]
            vehicle = (await fleet.vehicle(enterprise))["id"]
            devices = await http.post(
                "/v2/devices",
                json={"data": [{"attributes": fleet.device_attributes(enterprise)} for _ in range(ITEMS)]},
            )
            created = await fleet.associate(
                *((vehicle, device["id"], number == 0) for number, device in enumerate(devices.json()["data"]))
            )
        body = {"data": [{"type": "device_association", "id": association["id"]} for association in created]}

        def send(client: httpx.AsyncClient) -> Any:
            return client.request("DELETE", "/v2/vehicles/associations/devices", json=body)

        response = await kill_during(server, db, send, AT_UPDATE)
    assert response is None
    await wait_for_server_backends_gone(db)
    active = await db.fetchval(
        "SELECT count(*) FROM device_associations WHERE vehicle_id = $1 AND ended_at IS NULL", vehicle
    )
    assert active == ITEMS
    await assert_invariants(db)
    with served(database_url, data_dir) as server:
        async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
            again = await send(http)
            assert again.status_code == 200, again.text
    assert await db.fetchval("SELECT count(*) FROM device_associations WHERE ended_at IS NULL") == 0
    await assert_invariants(db)


async def test_database_session_killed_during_a_bulk_create(
    database_url: str, tmp_path: Path, db: asyncpg.Connection
) -> None:
    """The server's database session terminated (pg_terminate_backend) while it inserts 1000
    devices: the client gets a 503 problem, nothing is written, and the next requests succeed (the
    pool replaces the dead connection)."""
    with served(database_url, tmp_path / "data") as server:
        async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
            fleet = Fleet(http)
            enterprise = (await fleet.enterprise())["id"]
            for _ in range(3):
                body = {"data": [{"attributes": fleet.device_attributes(enterprise)} for _ in range(ITEMS)]}
                request = asyncio.create_task(http.post("/v2/devices", json=body))
                started = time.monotonic()
                while not request.done() and not await server_is_at(db, AT_INSERT):
                    assert time.monotonic() - started < 30, "the INSERT never came"
                await db.execute(
                    """SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()
                       AND application_name = 'fleetreg' AND xact_start IS NOT NULL AND pid <> pg_backend_pid()"""
                )
                response = await request
                assert_problem(response, 503, "Service Unavailable")
                assert await db.fetchval("SELECT count(*) FROM devices WHERE enterprise_id = $1", enterprise) == 0
                await assert_totals_exact(db)
            statuses = [(await http.post("/v2/devices", json=body)).status_code]
            statuses += [(await http.get("/readyz")).status_code for _ in range(5)]
            assert statuses == [201, 200, 200, 200, 200, 200]
            assert await db.fetchval("SELECT count(*) FROM devices WHERE enterprise_id = $1", enterprise) == ITEMS
            await assert_totals_exact(db)


async def test_sigterm_during_a_bulk_create_finishes_it(
    database_url: str, tmp_path: Path, db: asyncpg.Connection
) -> None:
    """A graceful stop (SIGTERM to the supervisor of two workers) while 1000 devices are inserted:
    the request in flight completes and is answered, then the server exits cleanly."""
    with served(database_url, tmp_path / "data", workers=2) as server:
        async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
            fleet = Fleet(http)
            enterprise = (await fleet.enterprise())["id"]
            body = {"data": [{"attributes": fleet.device_attributes(enterprise)} for _ in range(ITEMS)]}
            request = asyncio.create_task(http.post("/v2/devices", json=body))
            started = time.monotonic()
            while not request.done() and not await server_is_at(db, AT_INSERT):
                assert time.monotonic() - started < 30, "the INSERT never came"
            server.process.terminate()
            response = await request
        assert response.status_code == 201, response.text
        assert await asyncio.to_thread(server.process.wait, 30) == 0
    assert await db.fetchval("SELECT count(*) FROM devices WHERE enterprise_id = $1", enterprise) == ITEMS
    await assert_totals_exact(db)


@pytest.mark.parametrize("moment", ["COPY", "INSERT"])
async def test_kill_during_a_csv_import(tmp_path: Path, database_url: str, db: asyncpg.Connection, moment: str) -> None:
    """``fleetreg import devices`` killed while it copies the file into its staging table, or while
    it moves the rows into ``devices``: nothing is imported, the totals are exact, the tables are
    not left locked, and the same import run again imports every row."""
    enterprise = "E" + "0" * 13 + "1"
    cnpj = "123456780001" + cnpj_check_digits("123456780001")
    await db.execute("INSERT INTO enterprises (id, name, cnpj) VALUES ($1, 'Importer', $2)", enterprise, cnpj)
    rows = 5_000
    csv_file = tmp_path / "devices.csv"
    with csv_file.open("w") as out:
        out.write("id,enterprise_id,name,imei,code\n")
        for number in range(rows):
            out.write(f"D{number:014d},{enterprise},Tracker {number},{luhn_complete(f'86{number:012d}')},C{number}\n")
    command = [*FLEETREG, "import", "devices", str(csv_file), "--json"]
    env = environment(FLEETREG_DATABASE_URL=database_url, FLEETREG_LOG_LEVEL="warning")
    pattern = r"\mcopy\M" if moment == "COPY" else r"\minsert\s+into\s+devices\M"
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        started = time.monotonic()
        while not await db.fetchval(
            """SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
               AND state = 'active' AND query ~* $1 AND pid <> pg_backend_pid())""",
            pattern,
        ):
            assert process.poll() is None, "the import ended before the moment to kill it"
            assert time.monotonic() - started < 60, f"no {moment} seen"
        process.kill()
    finally:
        process.kill()
        process.wait(timeout=30)

    async def session_gone() -> bool:
        return not await db.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )

    await wait_until(session_gone, "the killed import's session stays", timeout=30, interval=0.05)
    assert await db.fetchval("SELECT count(*) FROM devices") == 0
    await assert_totals_exact(db)
    done = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert await db.fetchval("SELECT count(*) FROM devices WHERE enterprise_id = $1", enterprise) == rows
    await assert_totals_exact(db)


async def test_one_worker_killed_during_a_bulk_create(
    database_url: str, tmp_path: Path, db: asyncpg.Connection
) -> None:
    """SIGKILL of the worker (of two) that runs a 1000-item create, inside its transaction: nothing
    is written, the other worker keeps answering, and the supervisor starts a new worker."""
    with served(database_url, tmp_path / "data", workers=2) as server:
        supervisor = psutil.Process(server.process.pid)
        async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
            fleet = Fleet(http)
            enterprise = (await fleet.enterprise())["id"]
            body = {"data": [{"attributes": fleet.device_attributes(enterprise)} for _ in range(ITEMS)]}
        async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
            # Open the connection first (the POST reuses it) and find the worker holding it, so that
            # the kill follows the moment the transaction opens (on a busy machine, looking for the
            # worker after that moment could let the request commit first).
            assert (await http.get("/readyz")).status_code == 200
            [ours] = our_ports_to(server)
            # the worker holding our connection: the one whose socket's peer is our end of it
            [worker] = [
                w for w in workers_of(supervisor) if any(c.raddr and c.raddr.port == ours for c in w.net_connections())
            ]
            request = asyncio.create_task(http.post("/v2/devices", json=body))
            started = time.monotonic()
            while not request.done() and not await server_is_at(db, IN_TRANSACTION):
                assert time.monotonic() - started < 30, "no transaction seen"
            worker.kill()
            assert our_ports_to(server) == [ours], "the request went on another connection"
            with pytest.raises(httpx.TransportError):
                await request

        async def transaction_gone() -> bool:
            return not await server_is_at(db, IN_TRANSACTION)

        await wait_until(transaction_gone, "the killed worker's transaction stays open", timeout=30, interval=0.05)
        assert await db.fetchval("SELECT count(*) FROM devices WHERE enterprise_id = $1", enterprise) == 0
        await assert_totals_exact(db)
        async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
            assert (await http.get("/readyz")).status_code == 200
            await wait_until(
                lambda: len([w for w in workers_of(supervisor) if w.pid != worker.pid]) >= 2,
                "the supervisor did not replace the worker",
                timeout=30,
                interval=0.2,
            )
            again = await http.post("/v2/devices", json=body)
            assert again.status_code == 201, again.text
        assert await db.fetchval("SELECT count(*) FROM devices WHERE enterprise_id = $1", enterprise) == ITEMS
        await assert_totals_exact(db)


def our_ports_to(server: Served) -> list[int]:
    """The local ports of this process's connections to ``server``."""
    return [c.laddr.port for c in psutil.Process().net_connections() if c.raddr and c.raddr.port == server.port]


def workers_of(supervisor: psutil.Process) -> list[psutil.Process]:
    """Granian's worker processes: the supervisor's children that listen on the server's socket."""
    workers = []
    for child in supervisor.children():
        with contextlib.suppress(psutil.NoSuchProcess):
            if (
                child.is_running()
                and child.status() != psutil.STATUS_ZOMBIE
                and any(c.status == psutil.CONN_LISTEN for c in child.net_connections())
            ):
                workers.append(child)
    return workers


# Where the kill of the retried bulk create falls: at its transaction's start, at its INSERT, and
# at growing delays after the INSERT (around the commit, and after it, before the answer is sent).
RETRY_ROUNDS = [(IN_TRANSACTION, 0.0), (AT_INSERT, 0.0), *((AT_INSERT, delay) for delay in (0.03, 0.1, 0.2, 0.35, 0.6))]


async def test_worker_killed_mid_bulk_create_and_retried_with_its_key(
    database_url: str, tmp_path: Path, db: asyncpg.Connection
) -> None:
    """Issue 16: a worker SIGKILLed during a 1000-item create whose ids the server generates, then
    the client's retry with the same Idempotency-Key: exactly one write every round, whether the
    kill came before the commit (the retry creates them) or after it (the retry gets the answer)."""
    rounds = []
    for number, (moment, delay) in enumerate(RETRY_ROUNDS):
        # A server per round: Granian gives up on a worker that dies again soon after it was started.
        with served(database_url, tmp_path / "data", workers=2) as server:
            supervisor = psutil.Process(server.process.pid)
            async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
                await wait_until(
                    lambda up=supervisor: len(workers_of(up)) >= 2, "the workers are not up", timeout=30, interval=0.2
                )
                fleet = Fleet(http)
                fleet._numbers = iter(range(number * 10_000 + 1, 10**9))
                enterprise = (await fleet.enterprise())["id"]
                body = {"data": [{"attributes": fleet.device_attributes(enterprise)} for _ in range(ITEMS)]}
                headers = {"Idempotency-Key": f"bulk-{number}-{new_id()}"}
                assert (await http.get("/readyz")).status_code == 200
                [ours] = our_ports_to(server)
                [worker] = [
                    w
                    for w in workers_of(supervisor)
                    if any(c.raddr and c.raddr.port == ours for c in w.net_connections())
                ]
                request = asyncio.create_task(http.post("/v2/devices", json=body, headers=headers))
                started = time.monotonic()
                while not request.done() and not await server_is_at(db, moment):
                    assert time.monotonic() - started < 30, "the moment to kill never came"
                await asyncio.sleep(delay)
                worker.kill()
                try:
                    answered = (await request).status_code
                except httpx.TransportError:
                    answered = None

            async def transaction_gone() -> bool:
                return not await server_is_at(db, IN_TRANSACTION)

            await wait_until(transaction_gone, "the killed worker's transaction stays open", timeout=30, interval=0.05)
            left = await db.fetchval("SELECT count(*) FROM devices WHERE enterprise_id = $1", enterprise)
            assert left in (0, ITEMS), f"round {number}: {left} of {ITEMS}"
            async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
                again = await http.post("/v2/devices", json=body, headers=headers)
            assert again.status_code == 201, again.text
            assert (again.headers.get("idempotent-replayed") == "true") == (left == ITEMS), (number, left)
            rows = await db.fetch("SELECT id FROM devices WHERE enterprise_id = $1", enterprise)
            assert len(rows) == ITEMS, f"round {number}: {len(rows)} devices after the retry"
            assert {row["id"] for row in rows} == {item["id"] for item in again.json()["data"]}
            await assert_totals_exact(db)
            rounds.append((moment, delay, answered, "committed" if left else "nothing"))
    print(f"kill-retry rounds (moment, delay s, status seen by the client, left by the kill): {rounds}")
    assert rounds[0][3] == "nothing", rounds
