"""fleetreg beyond one instance, on this machine (docs/scaling.md): a primary and a streaming replica
made from the embedded PostgreSQL's binaries, PgBouncer 1.18 in transaction mode in front of the
primary, and two ``fleetreg serve`` instances sharing the signing keys, each with the pooler as its
database, the primary as its direct database and the replica for its read-only routes.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from fleetreg.auth import clients as auth_clients
from fleetreg.db import Database
from tests.support.auth import EVERY_PARTNER_SCOPE
from tests.support.cluster import Cluster, cluster
from tests.support.database import create_client_in
from tests.support.fleet import Fleet
from tests.support.partner import CONNECTORS, CUSTOMERS, insert_connectors
from tests.support.processes import Served, served
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

READ_AFTER_WRITE = 1.0
MAX_LAG = 4.0


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Served, Served, Path]]:
    directory = tmp_path_factory.mktemp("cluster")
    with cluster(directory) as built:
        settings = {
            "direct_database_url": built.primary_url,
            "read_database_url": built.replica_url,
            "read_after_write_seconds": str(READ_AFTER_WRITE),
            "replica_max_lag_seconds": str(MAX_LAG),
            "db_pool_max": "8",
        }
        data_dir = directory / "shared"  # the signing keys, shared by both instances
        log = directory / "second.log"
        # The second instance has a misspelt setting, which it names in a warning.
        with (
            served(built.pooled_url, data_dir, **settings) as first,
            served(built.pooled_url, data_dir, output=log, replica_max_lag_second="9", **settings) as second,
        ):
            yield built, first, second, log


@pytest.fixture
def cluster_nodes(nodes: tuple[Cluster, Served, Served, Path]) -> Cluster:
    built = nodes[0]
    built.on_replica("SELECT pg_wal_replay_resume()")
    return built


@pytest.fixture
async def instances(nodes: tuple[Cluster, Served, Served, Path]) -> AsyncIterator[list[httpx.AsyncClient]]:
    async with (
        httpx.AsyncClient(base_url=nodes[1].base, timeout=20) as a,
        httpx.AsyncClient(base_url=nodes[2].base, timeout=20) as b,
    ):
        yield [a, b]


async def partner_token(cluster_nodes: Cluster, http: httpx.AsyncClient) -> tuple[dict[str, str], Any]:
    client = await create_client_in(cluster_nodes.primary_url, scope=EVERY_PARTNER_SCOPE, partner=uuid.uuid4().hex)
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client.client_id, "client_secret": client.client_secret},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}, client


async def reads_by_database(http: httpx.AsyncClient) -> dict[str, float]:
    text = (await http.get("/metrics")).text
    return {
        name: float(value)
        for name, value in re.findall(r'^fleetreg_db_reads_total\{database="(\w+)"\} (\S+)$', text, re.M)
    }


async def test_the_partner_scenario_through_pgbouncer_and_two_instances(
    cluster_nodes: Cluster, instances: list[httpx.AsyncClient]
) -> None:
    a, b = instances
    headers, _ = await partner_token(cluster_nodes, a)
    customer = await b.post(CUSTOMERS, json={"name": "Acme"}, headers=headers)
    assert customer.status_code == 201, customer.text
    created = []
    for number, http in zip(range(6), itertools.cycle(instances), strict=False):
        response = await http.post(
            CONNECTORS,
            json={"name": f"c{number}", "type": "virtual", "hardware_version": "1", "software_version": "2"},
            headers=headers,
        )
        assert response.status_code == 201, response.text
        created.append(response.json()["id"])
    # Each write on one instance, the next read on the other: the client reads its own writes there.
    assigned = await a.put(f"{CONNECTORS}/{created[0]}", json={"customer_id": customer.json()["id"]}, headers=headers)
    assert assigned.status_code == 200, assigned.text
    seen = await b.get(f"{CONNECTORS}/{created[0]}", headers=headers)
    assert seen.status_code == 200
    assert seen.json()["customer_id"] == customer.json()["id"]
    deleted = await b.delete(f"{CONNECTORS}/{created[1]}", headers=headers)
    assert deleted.status_code == 204, deleted.text
    assert (await a.get(f"{CONNECTORS}/{created[1]}", headers=headers)).status_code == 404

    # Eight clients reading at once on both instances, through PgBouncer's few server connections
    # (1.18, no prepared statements): every answer is right (asyncpg's cache off: unnamed statements).
    async def reader(http: httpx.AsyncClient) -> list[tuple[int, int]]:
        answers = []
        for _ in range(15):
            listed = await http.get(CONNECTORS, params={"limit": 3}, headers=headers)
            answers.append((listed.status_code, listed.json().get("total", -1) if listed.status_code == 200 else -1))
        return answers

    results = await asyncio.gather(*(reader(instances[number % 2]) for number in range(8)))
    assert {answer for answers in results for answer in answers} == {(200, 5)}


async def test_the_fleet_scenario_through_pgbouncer_and_two_instances(
    cluster_nodes: Cluster, instances: list[httpx.AsyncClient]
) -> None:
    a, b = instances
    fleet_a, fleet_b = Fleet(a), Fleet(b)
    fleet_b._numbers = itertools.count(10_000 + int(uuid.uuid4().int % 1_000_000) * 10)
    fleet_a._numbers = itertools.count(20_000_000 + int(uuid.uuid4().int % 1_000_000) * 10)
    enterprise = await fleet_a.enterprise()
    vehicle = await fleet_b.vehicle(enterprise["id"])
    device = await fleet_a.device(enterprise["id"])
    chip = await fleet_b.chip(device["id"])
    associations = await fleet_a.associate((vehicle["id"], device["id"], True))
    listed = await b.get(f"/v2/vehicles/{vehicle['id']}/associations/devices")
    assert listed.status_code == 200, listed.text
    assert [item["id"] for item in listed.json()["data"]] == [associations[0]["id"]]
    got = await b.get(f"/v2/chips/{chip['id']}")
    assert got.status_code == 200
    assert got.json()["data"]["attributes"]["device_id"] == device["id"]
    ended = await fleet_b.end(associations[0]["id"])
    assert ended.status_code in (200, 204), ended.text


async def test_reads_hit_the_replica(cluster_nodes: Cluster, instances: list[httpx.AsyncClient]) -> None:
    """A row written on the primary while the replica's replay is paused is not in the answers: the
    replica served them (and /metrics counts the replica's reads)."""
    a, _b = instances
    headers, client = await partner_token(cluster_nodes, a)
    await asyncio.sleep(READ_AFTER_WRITE + 0.2)
    cluster_nodes.on_primary("SELECT txid_current()")  # a commit just before the pause: the lag starts at ~0
    cluster_nodes.wait_replica_caught_up()
    cluster_nodes.on_replica("SELECT pg_wal_replay_pause()")
    connection = await asyncpg.connect(cluster_nodes.primary_url)
    try:
        await insert_connectors(connection, client.partner_id, ["unseen"])
    finally:
        await connection.close()
    before = [await reads_by_database(http) for http in instances]
    for http in instances:
        listed = await http.get(CONNECTORS, headers=headers)
        assert listed.status_code == 200, listed.text
        assert listed.json()["total"] == 0, "the replica answered"
    after = [await reads_by_database(http) for http in instances]
    for old, new in zip(before, after, strict=True):
        assert new.get("replica0", 0) > old.get("replica0", 0)
    cluster_nodes.on_replica("SELECT pg_wal_replay_resume()")
    await wait_until(lambda: _total(a, headers, 1), "the replica did not catch up")


async def _total(http: httpx.AsyncClient, headers: dict[str, str], expected: int) -> bool:
    listed = await http.get(CONNECTORS, headers=headers)
    return listed.status_code == 200 and listed.json()["total"] == expected


async def test_a_client_reads_its_own_writes_while_the_replica_lags(
    cluster_nodes: Cluster, instances: list[httpx.AsyncClient]
) -> None:
    a, _b = instances
    headers, _ = await partner_token(cluster_nodes, a)
    cluster_nodes.on_replica("SELECT pg_wal_replay_pause()")
    ids = []
    for number in range(3):
        response = await instances[number % 2].post(
            CONNECTORS,
            json={"name": f"lag{number}", "type": "virtual", "hardware_version": "1", "software_version": "2"},
            headers=headers,
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
        # On both instances, at once and for a while after the window: the replica has none of these.
        loop = asyncio.get_running_loop()
        until = loop.time() + (READ_AFTER_WRITE + 0.7 if number == 2 else 0.2)
        while loop.time() < until:
            for http in instances:
                listed = await http.get(CONNECTORS, headers=headers)
                assert listed.status_code == 200, listed.text
                assert listed.json()["total"] == number + 1, "a write of the client's own is missing"
                got = await http.get(f"{CONNECTORS}/{ids[-1]}", headers=headers)
                assert got.status_code == 200, got.text
            await asyncio.sleep(0.05)
    lag_lines = [
        line for line in (await a.get("/metrics")).text.splitlines() if line.startswith("fleetreg_db_replica_lag")
    ]
    assert lag_lines
    assert float(lag_lines[0].split()[-1]) > 0


async def test_a_replica_stopped_and_started_again_costs_no_client_an_error(
    cluster_nodes: Cluster, instances: list[httpx.AsyncClient]
) -> None:
    a, _b = instances
    headers, _ = await partner_token(cluster_nodes, a)
    await asyncio.sleep(READ_AFTER_WRITE + 0.2)
    statuses: list[int] = []
    stop = asyncio.Event()

    async def reader(http: httpx.AsyncClient) -> None:
        while not stop.is_set():
            statuses.append((await http.get(CONNECTORS, headers=headers)).status_code)

    readers = [asyncio.create_task(reader(instances[number % 2])) for number in range(4)]
    try:
        await asyncio.sleep(0.3)
        await asyncio.to_thread(cluster_nodes.stop_replica)
        await asyncio.sleep(1.0)
        await asyncio.to_thread(cluster_nodes.start_replica)
        before = [await reads_by_database(http) for http in instances]

        async def replica_serves_again() -> bool:
            now = [await reads_by_database(http) for http in instances]
            return all(n.get("replica0", 0) > o.get("replica0", 0) for o, n in zip(before, now, strict=True))

        await wait_until(replica_serves_again, "the replica did not take reads again", timeout=20, interval=0.2)
    finally:
        stop.set()
        await asyncio.gather(*readers)
    assert len(statuses) > 20
    assert set(statuses) == {200}


async def test_a_revoked_client_is_refused_by_both_instances(
    cluster_nodes: Cluster, instances: list[httpx.AsyncClient]
) -> None:
    headers, client = await partner_token(cluster_nodes, instances[0])
    for http in instances:
        assert (await http.get(CONNECTORS, headers=headers)).status_code == 200
    database = Database(cluster_nodes.primary_url, min_size=1, max_size=1)
    await database.open()
    try:
        assert await auth_clients.revoke_client(database, client.client_id)
    finally:
        await database.close()
    for http in instances:

        async def refused(http: httpx.AsyncClient = http) -> bool:
            return (await http.get(CONNECTORS, headers=headers)).status_code == 401

        await wait_until(refused, "the revoked client was still served", timeout=5)


def test_serve_names_an_unknown_setting(nodes: tuple[Cluster, Served, Served, Path]) -> None:
    assert "FLEETREG_REPLICA_MAX_LAG_SECOND" in nodes[3].read_text()


def test_readyz_needs_only_the_primary(nodes: tuple[Cluster, Served, Served, Path]) -> None:
    built, first, _, _ = nodes
    built.stop_replica()
    try:
        assert httpx.get(first.base + "/readyz", timeout=10).status_code == 200
    finally:
        built.start_replica()
