"""Races, run truly in parallel through the app (one pool connection per request): exactly one
request wins, the others get the documented 4xx, none a 500 or a deadlock, and the invariants hold
in the database afterwards."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from tests.support.app import App, MakeApp, MakeClient, database_of
from tests.support.fleet import Fleet
from tests.support.invariants import assert_invariants

RACERS = 20


@pytest.fixture
async def race_app(make_app: MakeApp) -> App:
    return await make_app(db_pool_min=RACERS, db_pool_max=25)


@pytest.fixture
async def racer(race_app: App, make_client: MakeClient) -> httpx.AsyncClient:
    return await make_client(race_app, timeout=30)


@pytest.fixture
def fleet(racer: httpx.AsyncClient) -> Fleet:
    return Fleet(racer)


async def race(requests: list[Awaitable[httpx.Response]]) -> list[httpx.Response]:
    return list(await asyncio.gather(*requests))


async def race_watched(app: App, requests: list[Awaitable[httpx.Response]]) -> tuple[list[httpx.Response], int]:
    """The responses, and the most pool connections that were in use at once while they ran."""
    busiest = 0
    done = asyncio.Event()

    async def watch() -> None:
        nonlocal busiest
        while not done.is_set():
            busiest = max(busiest, database_of(app).pool_usage()[1])
            await asyncio.sleep(0)

    watcher = asyncio.create_task(watch())
    try:
        return await race(requests), busiest
    finally:
        done.set()
        await watcher


def outcomes(responses: list[httpx.Response]) -> Counter[tuple[int, str]]:
    return Counter(
        (response.status_code, response.json().get("title", "") if response.status_code >= 400 else "")
        for response in responses
    )


async def enterprise_with(fleet: Fleet, vehicles: int, devices: int) -> tuple[list[str], list[str]]:
    enterprise = (await fleet.enterprise())["id"]
    vehicle_ids = [(await fleet.vehicle(enterprise))["id"] for _ in range(vehicles)]
    device_ids = [(await fleet.device(enterprise))["id"] for _ in range(devices)]
    return vehicle_ids, device_ids


async def test_twenty_race_for_one_vehicles_main(fleet: Fleet, race_app: App, db: asyncpg.Connection) -> None:
    [vehicle], devices = await enterprise_with(fleet, 1, RACERS)
    responses, busiest = await race_watched(
        race_app, [fleet.associate_raw((vehicle, device, True)) for device in devices]
    )
    assert busiest >= RACERS // 2, f"only {busiest} requests were in the database at once"
    assert outcomes(responses) == {(200, ""): 1, (400, "Vehicle Already Has Main Device"): RACERS - 1}
    [winner] = [response for response in responses if response.status_code == 200]
    rows = await db.fetch(
        "SELECT id, device_id, is_main_device FROM device_associations WHERE vehicle_id = $1", vehicle
    )
    assert [(row["id"], row["is_main_device"]) for row in rows] == [(winner.json()["data"][0]["id"], True)]
    await assert_invariants(db)


async def test_twenty_race_for_one_device(fleet: Fleet, race_app: App, db: asyncpg.Connection) -> None:
    vehicles, [device] = await enterprise_with(fleet, RACERS, 1)
    responses, busiest = await race_watched(
        race_app, [fleet.associate_raw((vehicle, device, True)) for vehicle in vehicles]
    )
    assert busiest >= RACERS // 2, f"only {busiest} requests were in the database at once"
    assert outcomes(responses) == {(200, ""): 1, (400, "Device(s) Already Associated With Another Vehicle"): RACERS - 1}
    assert await db.fetchval("SELECT count(*) FROM device_associations WHERE device_id = $1", device) == 1
    await assert_invariants(db)


async def test_overlapping_requests_in_opposite_orders_do_not_deadlock(fleet: Fleet, db: asyncpg.Connection) -> None:
    """Each request names two vehicles and two devices, half of them listed in reverse: the locks are
    taken in id order whatever the order of the body, so they queue instead of deadlocking."""
    vehicles, devices = await enterprise_with(fleet, 2, 2 * RACERS)
    requests = []
    for number in range(RACERS):
        items = [(vehicles[0], devices[2 * number], True), (vehicles[1], devices[2 * number + 1], True)]
        requests.append(fleet.associate_raw(*(items if number % 2 else reversed(items))))
    responses = await race(requests)
    assert outcomes(responses) == {(200, ""): 1, (400, "Vehicle Already Has Main Device"): RACERS - 1}
    await assert_invariants(db)


async def test_secondaries_racing_with_the_end_of_the_main(fleet: Fleet, db: asyncpg.Connection) -> None:
    """Ending a vehicle's only (main) association while secondaries arrive: whichever goes first,
    the other side gets 'One Vehicle-Device Association Must Be Main' and the vehicle keeps a main
    or has no association at all."""
    [vehicle], devices = await enterprise_with(fleet, 1, RACERS)
    [main] = await fleet.associate((vehicle, devices[0], True))
    requests = [fleet.associate_raw((vehicle, device, False)) for device in devices[1:]]
    requests.insert(RACERS // 2, fleet.end(main["id"]))
    responses = await race(requests)
    assert {response.status_code for response in responses} <= {200, 400}
    for response in responses:
        if response.status_code == 400:
            assert response.json()["title"] == "One Vehicle-Device Association Must Be Main"
    ended = responses[RACERS // 2].status_code == 200
    added = sum(response.status_code == 200 for response in responses) - int(ended)
    active = await db.fetchval(
        "SELECT count(*) FROM device_associations WHERE vehicle_id = $1 AND ended_at IS NULL", vehicle
    )
    if ended:
        # the end went first (a secondary before it would have kept it from ending): every secondary
        # then finds a vehicle without a main
        assert (added, active) == (0, 0)
    else:
        # some secondaries went first; the end then had to leave the main; the rest got in as well
        assert added == RACERS - 1
        assert active == RACERS
    await assert_invariants(db)


async def test_twenty_promote_different_secondaries(
    fleet: Fleet, racer: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    [vehicle], devices = await enterprise_with(fleet, 1, RACERS + 1)
    created = await fleet.associate((vehicle, devices[0], True), *((vehicle, device, False) for device in devices[1:]))
    body = {"data": {"attributes": {"is_main_device": True}}}
    responses = await race(
        [racer.patch(f"/v2/vehicles/{vehicle}/associations/devices/{item['id']}", json=body) for item in created[1:]]
    )
    assert outcomes(responses) == {(200, ""): RACERS}
    assert await db.fetchval("SELECT count(*) FROM device_associations WHERE is_main_device AND ended_at IS NULL") == 1
    await assert_invariants(db)


async def test_twenty_end_the_same_association(fleet: Fleet, db: asyncpg.Connection) -> None:
    [vehicle], [device] = await enterprise_with(fleet, 1, 1)
    [association] = await fleet.associate((vehicle, device, True))
    responses = await race([fleet.end(association["id"]) for _ in range(RACERS)])
    assert outcomes(responses) == {(200, ""): 1, (404, "Association Not Found"): RACERS - 1}
    await assert_invariants(db)


async def test_twenty_create_the_same_cnpj_and_imei(
    fleet: Fleet, racer: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    cnpj = fleet.cnpj()
    responses = await race(
        [
            racer.post("/v2/enterprises", json={"data": {"attributes": fleet.enterprise_attributes(cnpj=cnpj)}})
            for _ in range(RACERS)
        ]
    )
    assert outcomes(responses) == {(201, ""): 1, (409, "CNPJ Already Registered"): RACERS - 1}
    enterprise = next(response for response in responses if response.status_code == 201).json()["data"]["id"]
    imei = fleet.imei()
    responses = await race(
        [
            racer.post("/v2/devices", json={"data": {"attributes": fleet.device_attributes(enterprise, imei=imei)}})
            for _ in range(RACERS)
        ]
    )
    assert outcomes(responses) == {(201, ""): 1, (409, "IMEI Already Registered"): RACERS - 1}
    assert await db.fetchval("SELECT n FROM fleet_totals WHERE kind = 'devices'") == 1


async def test_twenty_chips_race_for_one_device(fleet: Fleet, racer: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    [_], [device] = await enterprise_with(fleet, 1, 1)
    chips = [(await fleet.chip())["id"] for _ in range(RACERS)]
    body = {"data": {"attributes": {"device_id": device}}}
    responses = await race([racer.patch(f"/v2/chips/{chip}", json=body) for chip in chips])
    assert outcomes(responses) == {(200, ""): 1, (409, "Device Already Has Chip"): RACERS - 1}
    assert await db.fetchval("SELECT count(*) FROM chips WHERE device_id = $1", device) == 1


async def test_deleting_a_vehicle_while_devices_are_associated(
    fleet: Fleet, racer: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    vehicles, devices = await enterprise_with(fleet, 1, RACERS)
    [vehicle] = vehicles
    requests = [fleet.associate_raw((vehicle, device, True)) for device in devices]
    requests.insert(RACERS // 2, racer.delete(f"/v2/vehicles/{vehicle}"))
    responses = await race(requests)
    deleted = responses[RACERS // 2].status_code == 204
    statuses = outcomes(responses)
    if deleted:
        # the delete went first: every association then finds no vehicle
        assert statuses == {(204, ""): 1, (404, "Vehicle Not Found"): RACERS}
    else:
        # an association went first: the delete finds it active, the others a main in place
        assert statuses == {
            (200, ""): 1,
            (409, "Vehicle In Use"): 1,
            (400, "Vehicle Already Has Main Device"): RACERS - 1,
        }
    assert not await db.fetchval(
        """SELECT EXISTS (SELECT 1 FROM device_associations a JOIN vehicles v ON v.id = a.vehicle_id
           WHERE a.ended_at IS NULL AND v.deleted_at IS NOT NULL)"""
    )
    await assert_invariants(db)


# -- backdated writes (API.md §6): the exclusion constraints decide, whatever the order -----------------


def hours_ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


async def backdate(fleet: Fleet, vehicle: str, device: str, main: bool, hours: float) -> httpx.Response:
    item = {"vehicle_id": vehicle, "device_id": device, "is_main_device": main, "started_at": hours_ago(hours)}
    return await fleet.client.post("/v2/vehicles/associations/devices", json={"data": [item]})


async def test_twenty_backdate_one_device_around_its_history(fleet: Fleet, db: asyncpg.Connection) -> None:
    """The device was on a vehicle from 10 h to 5 h ago; twenty put it on other vehicles at once, each
    from another instant: those starting before its end are History Conflicts, of the others exactly
    one wins and the rest find the device taken."""
    vehicles, [device] = await enterprise_with(fleet, RACERS + 1, 1)
    [first] = (await backdate(fleet, vehicles[0], device, True, 10)).json()["data"]
    ended = await fleet.client.request(
        "DELETE",
        "/v2/vehicles/associations/devices",
        json={"data": [{"type": "device_association", "id": first["id"], "ended_at": hours_ago(5)}]},
    )
    assert ended.status_code == 200, ended.text
    starts = [8 - 7 * number / RACERS for number in range(RACERS)]  # from 8 h ago to 1 h ago
    responses = await race(
        [backdate(fleet, vehicle, device, True, hours) for vehicle, hours in zip(vehicles[1:], starts, strict=True)]
    )
    counted = outcomes(responses)
    assert counted[(200, "")] == 1
    assert set(counted) <= {
        (200, ""),
        (409, "History Conflict"),
        (400, "Device(s) Already Associated With Another Vehicle"),
    }
    for response, hours in zip(responses, starts, strict=True):
        if hours > 5:
            assert response.status_code != 200, hours
    await assert_invariants(db)


async def test_a_backdated_end_racing_with_backdated_starts(fleet: Fleet, db: asyncpg.Connection) -> None:
    """The device's association is ended 6 h ago while others start it elsewhere 4 h ago: whichever
    commits first, the device is on one vehicle at most at every instant."""
    vehicles, [device] = await enterprise_with(fleet, RACERS, 1)
    [active] = (await backdate(fleet, vehicles[0], device, True, 10)).json()["data"]
    end = fleet.client.request(
        "DELETE",
        "/v2/vehicles/associations/devices",
        json={"data": [{"type": "device_association", "id": active["id"], "ended_at": hours_ago(6)}]},
    )
    requests = [backdate(fleet, vehicle, device, True, 4) for vehicle in vehicles[1:]]
    requests.insert(RACERS // 2, end)
    responses = await race(requests)
    assert responses[RACERS // 2].status_code == 200
    starts = responses[: RACERS // 2] + responses[RACERS // 2 + 1 :]
    assert set(outcomes(starts)) <= {(200, ""), (400, "Device(s) Already Associated With Another Vehicle")}
    assert sum(response.status_code == 200 for response in starts) <= 1
    await assert_invariants(db)
