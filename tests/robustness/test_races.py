"""Fifty clients racing through real HTTP against ``fleetreg serve --workers 2``: two processes, each
with its own pool, so nothing but the database orders the requests. Every answer is a documented
status, exactly one request wins where the contract says so, and the database is consistent after.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.database import create_client_in
from tests.support.fleet import Fleet
from tests.support.invariants import assert_invariants, assert_totals_exact
from tests.support.processes import Served, served

RACERS = 50
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(module_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Default pools (10 connections per worker): the racers beyond 20 wait for a connection, which
    must not turn into a 503 (the wait is shorter than FLEETREG_DB_TIMEOUT)."""
    with served(module_database, tmp_path_factory.mktemp("races"), workers=2) as running:
        yield running


@pytest.fixture
async def http(server: Served) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=RACERS, max_keepalive_connections=RACERS)
    async with httpx.AsyncClient(base_url=server.base, timeout=60, limits=limits) as client:
        yield client


NUMBERS = itertools.count(1)


@pytest.fixture
def fleet(http: httpx.AsyncClient) -> Fleet:
    """Numbers shared by the module's tests, which share a database: CNPJs and IMEIs stay unique."""
    helper = Fleet(http)
    helper._numbers = NUMBERS
    return helper


async def race(requests: list[Awaitable[httpx.Response]]) -> list[httpx.Response]:
    return list(await asyncio.gather(*requests))


def outcomes(responses: list[httpx.Response]) -> Counter[tuple[int, str]]:
    return Counter(
        (response.status_code, response.json().get("title", "") if response.status_code >= 400 else "")
        for response in responses
    )


async def test_fifty_devices_race_to_be_one_vehicles_main(fleet: Fleet, module_db: asyncpg.Connection) -> None:
    enterprise = (await fleet.enterprise())["id"]
    vehicle = (await fleet.vehicle(enterprise))["id"]
    devices = [(await fleet.device(enterprise))["id"] for _ in range(RACERS)]
    responses = await race([fleet.associate_raw((vehicle, device, True)) for device in devices])
    assert outcomes(responses) == {(200, ""): 1, (400, "Vehicle Already Has Main Device"): RACERS - 1}
    [winner] = [response.json()["data"][0] for response in responses if response.status_code == 200]
    rows = await module_db.fetch(
        "SELECT id, is_main_device, ended_at FROM device_associations WHERE vehicle_id = $1", vehicle
    )
    assert [tuple(row) for row in rows] == [(winner["id"], True, None)]
    await assert_invariants(module_db)


async def test_fifty_promotions_on_one_vehicle(
    fleet: Fleet, http: httpx.AsyncClient, module_db: asyncpg.Connection
) -> None:
    """Every secondary made main at once: each promotion is legal, so all succeed, one after the
    other; the vehicle ends with exactly one main (the last to commit)."""
    enterprise = (await fleet.enterprise())["id"]
    vehicle = (await fleet.vehicle(enterprise))["id"]
    devices = [(await fleet.device(enterprise))["id"] for _ in range(RACERS + 1)]
    created = await fleet.associate((vehicle, devices[0], True), *((vehicle, device, False) for device in devices[1:]))
    body = {"data": {"attributes": {"is_main_device": True}}}
    responses = await race(
        [http.patch(f"/v2/vehicles/{vehicle}/associations/devices/{item['id']}", json=body) for item in created[1:]]
    )
    assert outcomes(responses) == {(200, ""): RACERS}
    mains = await module_db.fetch(
        "SELECT id FROM device_associations WHERE vehicle_id = $1 AND ended_at IS NULL AND is_main_device", vehicle
    )
    assert len(mains) == 1
    assert mains[0]["id"] in {item["id"] for item in created[1:]}
    await assert_invariants(module_db)


async def test_fifty_vehicles_race_for_one_device(fleet: Fleet, module_db: asyncpg.Connection) -> None:
    enterprise = (await fleet.enterprise())["id"]
    vehicles = [(await fleet.vehicle(enterprise))["id"] for _ in range(RACERS)]
    device = (await fleet.device(enterprise))["id"]
    responses = await race([fleet.associate_raw((vehicle, device, True)) for vehicle in vehicles])
    assert outcomes(responses) == {(200, ""): 1, (400, "Device(s) Already Associated With Another Vehicle"): RACERS - 1}
    [winner] = [response.json()["data"][0] for response in responses if response.status_code == 200]
    rows = await module_db.fetch(
        "SELECT id, vehicle_id, ended_at FROM device_associations WHERE device_id = $1", device
    )
    assert [tuple(row) for row in rows] == [(winner["id"], winner["attributes"]["vehicle_id"], None)]
    await assert_invariants(module_db)


async def test_deletes_racing_with_associations(
    fleet: Fleet, http: httpx.AsyncClient, module_db: asyncpg.Connection
) -> None:
    """Half the racers associate devices with a vehicle, the other half delete those devices and
    the vehicle: never an active association of a deleted row, never a 500."""
    enterprise = (await fleet.enterprise())["id"]
    vehicle = (await fleet.vehicle(enterprise))["id"]
    devices = [(await fleet.device(enterprise))["id"] for _ in range(RACERS // 2)]
    requests: list[Awaitable[httpx.Response]] = []
    for number, device in enumerate(devices):
        requests.append(fleet.associate_raw((vehicle, device, number == 0)))
        requests.append(http.delete(f"/v2/devices/{device}" if number else f"/v2/vehicles/{vehicle}"))
    responses = await race(requests)
    allowed = {
        (200, ""),
        (204, ""),
        (400, "One Vehicle-Device Association Must Be Main"),
        (404, "Vehicle Not Found"),
        (404, "Device Not Found"),
        (409, "Vehicle In Use"),
        (409, "Device In Use"),
    }
    assert set(outcomes(responses)) <= allowed, outcomes(responses)
    orphans = await module_db.fetchval(
        """SELECT count(*) FROM device_associations a JOIN vehicles v ON v.id = a.vehicle_id
           JOIN devices d ON d.id = a.device_id
           WHERE a.ended_at IS NULL AND (v.deleted_at IS NOT NULL OR d.deleted_at IS NOT NULL)"""
    )
    assert orphans == 0
    await assert_invariants(module_db)
    await assert_totals_exact(module_db)


async def test_enterprise_delete_racing_with_creates_in_it(
    fleet: Fleet, http: httpx.AsyncClient, module_db: asyncpg.Connection
) -> None:
    """Vehicles and devices created in an enterprise while it is deleted: the delete either goes
    first (every create then finds no enterprise) or finds members (409); never a live row in a
    deleted enterprise, and the totals stay exact."""
    enterprise = (await fleet.enterprise())["id"]
    requests: list[Awaitable[httpx.Response]] = []
    for number in range(RACERS - 1):
        path, attributes = (
            ("/v2/vehicles", fleet.vehicle_attributes(enterprise))
            if number % 2
            else ("/v2/devices", fleet.device_attributes(enterprise))
        )
        requests.append(http.post(path, json={"data": {"attributes": attributes}}))
    requests.insert(RACERS // 2, http.delete(f"/v2/enterprises/{enterprise}"))
    responses = await race(requests)
    deleted = responses[RACERS // 2].status_code == 204
    results = outcomes(responses)
    if deleted:
        assert set(results) <= {(201, ""), (204, ""), (404, "Enterprise Not Found")}, results
        assert results[(201, "")] == 0, "created before the delete, so the delete must have failed"
    else:
        assert results == {(201, ""): RACERS - 1, (409, "Enterprise In Use"): 1}, results
    stranded = await module_db.fetchval(
        """SELECT count(*) FROM (SELECT enterprise_id FROM vehicles WHERE deleted_at IS NULL
                                 UNION ALL SELECT enterprise_id FROM devices WHERE deleted_at IS NULL) AS live
           JOIN enterprises e ON e.id = live.enterprise_id WHERE e.deleted_at IS NOT NULL"""
    )
    assert stranded == 0
    await assert_totals_exact(module_db)


async def test_chips_racing_into_a_device_being_deleted(
    fleet: Fleet, http: httpx.AsyncClient, module_db: asyncpg.Connection
) -> None:
    """Forty-nine chips installed into one device while it is deleted: at most one gets in, and
    then the delete is refused; a deleted device never holds a chip."""
    enterprise = (await fleet.enterprise())["id"]
    device = (await fleet.device(enterprise))["id"]
    chips = [(await fleet.chip())["id"] for _ in range(RACERS - 1)]
    body = {"data": {"attributes": {"device_id": device}}}
    requests: list[Awaitable[httpx.Response]] = [http.patch(f"/v2/chips/{chip}", json=body) for chip in chips]
    requests.insert(RACERS // 2, http.delete(f"/v2/devices/{device}"))
    responses = await race(requests)
    results = outcomes(responses)
    if responses[RACERS // 2].status_code == 204:
        assert results == {(204, ""): 1, (404, "Device Not Found"): RACERS - 1}, results
        assert await module_db.fetchval("SELECT count(*) FROM chips WHERE device_id = $1", device) == 0
    else:
        assert results == {
            (200, ""): 1,
            (409, "Device In Use"): 1,
            (409, "Device Already Has Chip"): RACERS - 2,
        }, results
        assert await module_db.fetchval("SELECT count(*) FROM chips WHERE device_id = $1", device) == 1
    await assert_totals_exact(module_db)


async def test_fifty_random_association_writes_at_once(
    fleet: Fleet, http: httpx.AsyncClient, module_db: asyncpg.Connection
) -> None:
    """Rounds of fifty random writes at once over four vehicles and sixteen devices (associate,
    end, promote, delete, in bodies listing several vehicles in any order): each answer is one of
    the operation's documented problems (never a 500, a 503, or a generic conflict left by a
    deadlock), and the invariants hold after each round."""
    rng = random.Random(20261123)
    enterprise = (await fleet.enterprise())["id"]
    vehicles = [(await fleet.vehicle(enterprise))["id"] for _ in range(4)]
    devices = [(await fleet.device(enterprise))["id"] for _ in range(16)]
    documented = {
        "associate": {
            (200, ""),
            (404, "Vehicle Not Found"),
            (404, "Device Not Found"),
            (400, "Device(s) Already Associated With Another Vehicle"),
            (400, "Vehicle Already Has Main Device"),
            (400, "One Vehicle-Device Association Must Be Main"),
        },
        "end": {(200, ""), (404, "Association Not Found"), (400, "One Vehicle-Device Association Must Be Main")},
        "promote": {(200, ""), (404, "Association Not Found")},
        "delete": {(204, ""), (404, "Device Not Found"), (409, "Device In Use")},
    }
    for _ in range(3):
        active = await module_db.fetch(
            "SELECT id, vehicle_id FROM device_associations WHERE ended_at IS NULL AND vehicle_id = ANY($1::text[])",
            vehicles,
        )
        requests: list[tuple[str, Awaitable[httpx.Response]]] = []
        for _ in range(RACERS):
            kind = rng.choice(["associate", "associate", "end", "promote", "delete"] if active else ["associate"])
            if kind == "associate":
                items = [
                    (rng.choice(vehicles), device, rng.random() < 0.5)
                    for device in rng.sample(devices, rng.randint(1, 3))
                ]
                requests.append((kind, fleet.associate_raw(*items)))
            elif kind == "end":
                ids = list({row["id"] for row in rng.sample(active, min(len(active), rng.randint(1, 3)))})
                requests.append((kind, fleet.end(*ids)))
            elif kind == "promote":
                row = rng.choice(active)
                path = f"/v2/vehicles/{row['vehicle_id']}/associations/devices/{row['id']}"
                requests.append((kind, http.patch(path, json={"data": {"attributes": {"is_main_device": True}}})))
            else:
                requests.append((kind, http.delete(f"/v2/devices/{rng.choice(devices)}")))
        responses = await race([request for _, request in requests])
        for (kind, _), response in zip(requests, responses, strict=True):
            outcome = (response.status_code, response.json().get("title", "") if response.status_code >= 400 else "")
            assert outcome in documented[kind], (kind, response.text)
        await assert_invariants(module_db)
    await assert_totals_exact(module_db)


# -- the partner API ---------------------------------------------------------------------------------


@pytest.fixture
async def partner_headers(module_database: str, http: httpx.AsyncClient) -> dict[str, str]:
    """A token of a client of a new partner with every partner scope, from POST /oauth/token."""
    scope = "customers:read customers:write connectors:read connectors:write connectors:provision"
    client = await create_client_in(module_database, scope=scope, partner=f"partner {uuid.uuid4().hex}")
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client.client_id, "client_secret": client.client_secret},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def connector_body(name: str, **members: Any) -> dict[str, Any]:
    return {"name": name, "type": "physical", "hardware_version": "1.0", "software_version": "2.0", **members}


async def test_fifty_assign_one_connector_to_different_customers(
    http: httpx.AsyncClient, partner_headers: dict[str, str], module_db: asyncpg.Connection
) -> None:
    """Assigning is not exclusive (the last assignment holds): all fifty succeed, one after the
    other, and the connector ends with exactly one of those customers, counted once."""
    customers = []
    for number in range(RACERS):
        response = await http.post("/v2/customers", json={"name": f"Customer {number}"}, headers=partner_headers)
        assert response.status_code == 201, response.text
        customers.append(response.json()["id"])
    response = await http.post("/v2/customers/connectors", json=connector_body("R1"), headers=partner_headers)
    assert response.status_code == 201, response.text
    connector = response.json()["id"]
    responses = await race(
        [
            http.put(f"/v2/customers/connectors/{connector}", json={"customer_id": customer}, headers=partner_headers)
            for customer in customers
        ]
    )
    assert outcomes(responses) == {(200, ""): RACERS}
    assert sorted(response.json()["customer_id"] for response in responses) == sorted(customers)
    final = await module_db.fetchval("SELECT customer_id::text FROM connectors WHERE id = $1::uuid", connector)
    assert final in customers
    listed = await http.get("/v2/customers/connectors", params={"customer_id": final}, headers=partner_headers)
    assert listed.json()["total"] == 1
    assert (
        await module_db.fetchval(
            "SELECT sum(n) FROM customer_connector_totals WHERE customer_id = ANY($1::uuid[])", customers
        )
        == 1
    )
    await assert_totals_exact(module_db)


async def test_assignments_racing_with_customer_deletes(
    http: httpx.AsyncClient, partner_headers: dict[str, str], module_db: asyncpg.Connection
) -> None:
    """Twenty-five assignments of one connector, each to a customer that another racer deletes:
    each pair ends either with the assignment (and the delete refused) or the delete (and the
    assignment refused), and never with a connector assigned to a deleted customer."""
    pairs = RACERS // 2
    customers = []
    for number in range(pairs):
        response = await http.post("/v2/customers", json={"name": f"Customer {number}"}, headers=partner_headers)
        customers.append(response.json()["id"])
    connectors = []
    for number in range(pairs):
        response = await http.post(
            "/v2/customers/connectors", json=connector_body(f"R{number}"), headers=partner_headers
        )
        connectors.append(response.json()["id"])
    requests: list[Awaitable[httpx.Response]] = []
    for connector, customer in zip(connectors, customers, strict=True):
        requests.append(
            http.put(f"/v2/customers/connectors/{connector}", json={"customer_id": customer}, headers=partner_headers)
        )
        requests.append(http.delete(f"/v2/customers/{customer}", headers=partner_headers))
    responses = await race(requests)
    allowed = {(200, ""), (204, ""), (409, "Customer Has Connectors"), (422, "Unknown Customer")}
    assert set(outcomes(responses)) <= allowed, outcomes(responses)
    for number in range(pairs):
        assigned, deleted = responses[2 * number], responses[2 * number + 1]
        assert (assigned.status_code, deleted.status_code) in {(200, 409), (422, 204)}
    dangling = await module_db.fetchval(
        "SELECT count(*) FROM connectors c WHERE customer_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM customers u WHERE u.id = c.customer_id)"
    )
    assert dangling == 0
    await assert_totals_exact(module_db)


async def test_fifty_provision_connectors_with_one_name(
    http: httpx.AsyncClient, partner_headers: dict[str, str], module_db: asyncpg.Connection
) -> None:
    responses = await race(
        [
            http.post(
                "/v2/customers/connectors", json=connector_body("Same", pin=f"{number:05d}"), headers=partner_headers
            )
            for number in range(RACERS)
        ]
    )
    assert outcomes(responses) == {(201, ""): 1, (409, "Connector Name Taken"): RACERS - 1}
    [winner] = [response.json() for response in responses if response.status_code == 201]
    rows = await module_db.fetch(
        """SELECT id::text, pin FROM connectors
           WHERE name = 'Same' AND partner_id = (SELECT partner_id FROM connectors WHERE id = $1::uuid)""",
        winner["id"],
    )
    assert [tuple(row) for row in rows] == [(winner["id"], winner["pin"])]
    await assert_totals_exact(module_db)


def hours_ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


async def backdated(http: httpx.AsyncClient, vehicle: str, device: str, main: bool, hours: float) -> httpx.Response:
    item = {"vehicle_id": vehicle, "device_id": device, "is_main_device": main, "started_at": hours_ago(hours)}
    return await http.post("/v2/vehicles/associations/devices", json={"data": [item]})


async def test_fifty_backdated_mains_race_around_a_vehicles_history(
    fleet: Fleet, http: httpx.AsyncClient, module_db: asyncpg.Connection
) -> None:
    """The vehicle's main device was on it from 10 h to 5 h ago; fifty devices race to have been its
    main from instants between 8 h and 1 h ago, across two server processes: at most one main at
    every instant (the exclusion constraint), exactly one winner, each loser a documented 4xx."""
    enterprise = (await fleet.enterprise())["id"]
    vehicle = (await fleet.vehicle(enterprise))["id"]
    devices = [(await fleet.device(enterprise))["id"] for _ in range(RACERS + 1)]
    [old] = (await backdated(http, vehicle, devices[0], True, 10)).json()["data"]
    body = {"data": [{"type": "device_association", "id": old["id"], "ended_at": hours_ago(5)}]}
    assert (await http.request("DELETE", "/v2/vehicles/associations/devices", json=body)).status_code == 200
    starts = [8 - 7 * number / RACERS for number in range(RACERS)]
    responses = await race(
        [backdated(http, vehicle, device, True, hours) for device, hours in zip(devices[1:], starts, strict=True)]
    )
    counted = outcomes(responses)
    assert counted[(200, "")] == 1
    assert set(counted) <= {(200, ""), (409, "History Conflict"), (400, "Vehicle Already Has Main Device")}
    [winner] = [hours for response, hours in zip(responses, starts, strict=True) if response.status_code == 200]
    assert winner < 5
    await assert_invariants(module_db)
