"""The original write endpoints: POST, DELETE and PATCH of vehicle-device associations, each documented
error with its exact title, every offending item named, the order of checks, and the rows left."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.fleet import Fleet
from tests.support.problems import assert_problem, pointers

ASSOCIATIONS = "/v2/vehicles/associations/devices"
pytestmark = pytest.mark.usefixtures("invariants")


@dataclass
class Yard:
    """An enterprise with vehicles and devices, and another enterprise with one of each."""

    enterprise: str
    vehicles: list[str]
    devices: list[str]
    other_vehicle: str
    other_device: str


@pytest.fixture
async def yard(fleet: Fleet) -> Yard:
    enterprise = (await fleet.enterprise())["id"]
    other = (await fleet.enterprise())["id"]
    return Yard(
        enterprise,
        [(await fleet.vehicle(enterprise))["id"] for _ in range(3)],
        [(await fleet.device(enterprise))["id"] for _ in range(5)],
        (await fleet.vehicle(other))["id"],
        (await fleet.device(other))["id"],
    )


async def active(db: asyncpg.Connection) -> set[tuple[str, str, bool]]:
    rows = await db.fetch(
        "SELECT vehicle_id, device_id, is_main_device FROM device_associations WHERE ended_at IS NULL"
    )
    return {(row["vehicle_id"], row["device_id"], row["is_main_device"]) for row in rows}


async def count(db: asyncpg.Connection) -> int:
    return await db.fetchval("SELECT count(*) FROM device_associations")  # type: ignore[no-any-return]


class TestCreate:
    async def test_main_and_secondaries(self, fleet: Fleet, yard: Yard, db: asyncpg.Connection) -> None:
        v, d = yard.vehicles, yard.devices
        response = await fleet.associate_raw((v[0], d[0], True), (v[0], d[1], False), (v[1], d[2], True))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["meta"] == {}
        assert [item["type"] for item in body["data"]] == ["device_association"] * 3
        first = body["data"][0]
        assert set(first) == {"type", "id", "attributes"}
        assert first["attributes"] == {
            "vehicle_id": v[0],
            "device_id": d[0],
            "is_main_device": True,
            "created_at": first["attributes"]["created_at"],
            "ended_at": None,
        }
        assert await active(db) == {(v[0], d[0], True), (v[0], d[1], False), (v[1], d[2], True)}
        assert await db.fetchval("SELECT DISTINCT enterprise_id FROM device_associations") == yard.enterprise
        # a secondary for a vehicle that has its main
        await fleet.associate((v[0], d[3], False))

    async def test_body_is_validated(self, client: httpx.AsyncClient, yard: Yard) -> None:
        body = {
            "data": [
                {"vehicle_id": yard.vehicles[0], "device_id": yard.devices[0]},
                {"vehicle_id": "short", "device_id": yard.devices[1], "is_main_device": "true"},
                {"vehicle_id": yard.vehicles[0], "device_id": yard.devices[2], "is_main_device": 1, "extra": 1},
            ]
        }
        problem = assert_problem(await client.post(ASSOCIATIONS, json=body), 400, "Bad Request")
        assert sorted(pointers(problem)) == [
            "/data/0/is_main_device",
            "/data/1/is_main_device",
            "/data/1/vehicle_id",
            "/data/2/extra",
            "/data/2/is_main_device",
        ]

    @pytest.mark.parametrize("data", [[], {"vehicle_id": "V00000000000001"}, None])
    async def test_data_must_be_an_array_of_1_to_1000(self, client: httpx.AsyncClient, data: Any) -> None:
        problem = assert_problem(await client.post(ASSOCIATIONS, json={"data": data}), 400, "Bad Request")
        assert pointers(problem) == ["/data"]

    async def test_more_than_1000_items(self, client: httpx.AsyncClient) -> None:
        item = {"vehicle_id": "V00000000000001", "device_id": "D00000000000001", "is_main_device": False}
        problem = assert_problem(await client.post(ASSOCIATIONS, json={"data": [item] * 1001}), 400, "Bad Request")
        assert pointers(problem) == ["/data"]

    async def test_vehicle_not_found_lists_every_item(
        self, fleet: Fleet, client: httpx.AsyncClient, yard: Yard, db: asyncpg.Connection
    ) -> None:
        deleted = (await fleet.vehicle(yard.enterprise))["id"]
        await client.delete(f"/v2/vehicles/{deleted}")
        response = await fleet.associate_raw(
            (yard.vehicles[0], yard.devices[0], True),
            ("V00000000000404", yard.devices[1], True),
            (deleted, yard.devices[2], True),
        )
        problem = assert_problem(response, 404, "Vehicle Not Found")
        assert problem["type"] == "/problems/vehicle-not-found"
        assert problem["errors"] == [
            {"pointer": "/data/1/vehicle_id", "detail": "no vehicle V00000000000404"},
            {"pointer": "/data/2/vehicle_id", "detail": f"no vehicle {deleted}"},
        ]
        assert await count(db) == 0

    async def test_device_not_found(self, fleet: Fleet, yard: Yard, db: asyncpg.Connection) -> None:
        response = await fleet.associate_raw(
            (yard.vehicles[0], yard.devices[0], True), (yard.vehicles[0], "D00000000000404", False)
        )
        problem = assert_problem(response, 404, "Device Not Found")
        assert pointers(problem) == ["/data/1/device_id"]
        assert await count(db) == 0

    async def test_different_enterprises(self, fleet: Fleet, yard: Yard, db: asyncpg.Connection) -> None:
        response = await fleet.associate_raw(
            (yard.vehicles[0], yard.devices[0], True),
            (yard.vehicles[1], yard.other_device, True),
            (yard.other_vehicle, yard.devices[1], True),
        )
        problem = assert_problem(response, 400, "Vehicle And Device Are in Different Enterprises")
        assert pointers(problem) == ["/data/1", "/data/2"]
        assert await count(db) == 0

    async def test_device_on_another_vehicle(self, fleet: Fleet, yard: Yard, db: asyncpg.Connection) -> None:
        await fleet.associate((yard.vehicles[0], yard.devices[0], True))
        response = await fleet.associate_raw((yard.vehicles[1], yard.devices[0], True))
        problem = assert_problem(response, 400, "Device(s) Already Associated With Another Vehicle")
        assert problem["errors"] == [
            {
                "pointer": "/data/0/device_id",
                "detail": f"device {yard.devices[0]} is associated with vehicle {yard.vehicles[0]}",
            }
        ]
        assert await count(db) == 1

    async def test_device_already_on_this_vehicle(self, fleet: Fleet, yard: Yard) -> None:
        await fleet.associate((yard.vehicles[0], yard.devices[0], True))
        response = await fleet.associate_raw((yard.vehicles[0], yard.devices[0], False))
        problem = assert_problem(response, 400, "Device(s) Already Associated With Another Vehicle")
        assert "this vehicle already" in problem["errors"][0]["detail"]

    async def test_device_listed_twice(self, fleet: Fleet, yard: Yard, db: asyncpg.Connection) -> None:
        response = await fleet.associate_raw(
            (yard.vehicles[0], yard.devices[0], True),
            (yard.vehicles[1], yard.devices[1], True),
            (yard.vehicles[1], yard.devices[0], False),
            (yard.vehicles[2], yard.devices[0], True),
        )
        problem = assert_problem(response, 400, "Device(s) Already Associated With Another Vehicle")
        assert pointers(problem) == ["/data/2/device_id", "/data/3/device_id"]
        assert "first at /data/0/device_id" in problem["errors"][0]["detail"]
        assert await count(db) == 0

    async def test_vehicle_already_has_main(self, fleet: Fleet, yard: Yard, db: asyncpg.Connection) -> None:
        await fleet.associate((yard.vehicles[0], yard.devices[0], True))
        response = await fleet.associate_raw(
            (yard.vehicles[0], yard.devices[1], False), (yard.vehicles[0], yard.devices[2], True)
        )
        problem = assert_problem(response, 400, "Vehicle Already Has Main Device")
        assert pointers(problem) == ["/data/1/is_main_device"]
        assert await count(db) == 1

    async def test_two_mains_for_one_vehicle_in_one_request(
        self, fleet: Fleet, yard: Yard, db: asyncpg.Connection
    ) -> None:
        response = await fleet.associate_raw(
            (yard.vehicles[0], yard.devices[0], True),
            (yard.vehicles[1], yard.devices[1], True),
            (yard.vehicles[0], yard.devices[2], True),
        )
        problem = assert_problem(response, 400, "Vehicle Already Has Main Device")
        assert pointers(problem) == ["/data/2/is_main_device"]
        assert await count(db) == 0

    async def test_vehicle_left_without_main(self, fleet: Fleet, yard: Yard, db: asyncpg.Connection) -> None:
        response = await fleet.associate_raw(
            (yard.vehicles[0], yard.devices[0], False),
            (yard.vehicles[1], yard.devices[1], True),
            (yard.vehicles[0], yard.devices[2], False),
        )
        problem = assert_problem(response, 400, "One Vehicle-Device Association Must Be Main")
        assert pointers(problem) == ["/data/0/is_main_device", "/data/2/is_main_device"]
        assert await count(db) == 0

    async def test_order_of_checks(self, fleet: Fleet, client: httpx.AsyncClient, yard: Yard) -> None:
        await fleet.associate((yard.vehicles[2], yard.devices[4], True))
        v, d = yard.vehicles, yard.devices
        orphan = (v[0], d[0], False)  # must be main
        second_main = (v[2], d[1], True)  # already has main
        busy = (v[1], d[4], True)  # already associated
        mixed = (v[1], yard.other_device, True)  # different enterprises
        no_device = (v[1], "D00000000000404", True)
        no_vehicle = ("V00000000000404", d[2], True)
        expected = [
            (no_vehicle, "Vehicle Not Found"),
            (no_device, "Device Not Found"),
            (mixed, "Vehicle And Device Are in Different Enterprises"),
            (busy, "Device(s) Already Associated With Another Vehicle"),
            (second_main, "Vehicle Already Has Main Device"),
            (orphan, "One Vehicle-Device Association Must Be Main"),
        ]
        items = [orphan, second_main, busy, mixed, no_device, no_vehicle]
        for item, title in expected:
            response = await fleet.associate_raw(*items)
            problem = assert_problem(response, 404 if "Not Found" in title else 400, title)
            assert problem["errors"][0]["pointer"].startswith(f"/data/{items.index(item)}")
            items.remove(item)

    async def test_again_after_ending(self, fleet: Fleet, yard: Yard, db: asyncpg.Connection) -> None:
        [association] = await fleet.associate((yard.vehicles[0], yard.devices[0], True))
        assert (await fleet.end(association["id"])).status_code == 200
        await fleet.associate((yard.vehicles[1], yard.devices[0], True))
        assert await count(db) == 2

    async def test_a_thousand_items(
        self, fleet: Fleet, client: httpx.AsyncClient, yard: Yard, db: asyncpg.Connection
    ) -> None:
        vehicles = await client.post(
            "/v2/vehicles",
            json={"data": [{"attributes": fleet.vehicle_attributes(yard.enterprise)} for _ in range(500)]},
        )
        devices = await client.post(
            "/v2/devices",
            json={"data": [{"attributes": fleet.device_attributes(yard.enterprise)} for _ in range(1000)]},
        )
        vehicle_ids = [item["id"] for item in vehicles.json()["data"]]
        device_ids = [item["id"] for item in devices.json()["data"]]
        items = [(vehicle_ids[i // 2], device_ids[i], i % 2 == 0) for i in range(1000)]
        created = await fleet.associate(*items)
        assert [(a["attributes"]["vehicle_id"], a["attributes"]["device_id"]) for a in created] == [
            (v, d) for v, d, _ in items
        ]
        assert await count(db) == 1000


class TestEnd:
    async def test_end_a_secondary_keeps_the_row(self, fleet: Fleet, yard: Yard, db: asyncpg.Connection) -> None:
        _main, secondary = await fleet.associate(
            (yard.vehicles[0], yard.devices[0], True), (yard.vehicles[0], yard.devices[1], False)
        )
        response = await fleet.end(secondary["id"])
        assert response.status_code == 200, response.text
        [ended] = response.json()["data"]
        assert ended["id"] == secondary["id"]
        assert ended["attributes"]["ended_at"] >= ended["attributes"]["created_at"]
        assert response.json()["meta"] == {}
        assert await active(db) == {(yard.vehicles[0], yard.devices[0], True)}
        assert await count(db) == 2

    async def test_main_while_others_stay(self, fleet: Fleet, yard: Yard, db: asyncpg.Connection) -> None:
        main, _, _ = await fleet.associate(
            (yard.vehicles[0], yard.devices[0], True),
            (yard.vehicles[0], yard.devices[1], False),
            (yard.vehicles[0], yard.devices[2], False),
        )
        problem = assert_problem(await fleet.end(main["id"]), 400, "One Vehicle-Device Association Must Be Main")
        assert pointers(problem) == ["/data/0/id"]
        assert len(await active(db)) == 3

    async def test_main_with_all_the_others(self, fleet: Fleet, yard: Yard, db: asyncpg.Connection) -> None:
        created = await fleet.associate(
            (yard.vehicles[0], yard.devices[0], True), (yard.vehicles[0], yard.devices[1], False)
        )
        other = await fleet.associate((yard.vehicles[1], yard.devices[2], True))
        response = await fleet.end(created[1]["id"], created[0]["id"], other[0]["id"])
        assert response.status_code == 200, response.text
        assert [item["id"] for item in response.json()["data"]] == [created[1]["id"], created[0]["id"], other[0]["id"]]
        assert await active(db) == set()

    async def test_unknown_or_ended_lists_every_item_and_ends_nothing(
        self, fleet: Fleet, yard: Yard, db: asyncpg.Connection
    ) -> None:
        first, second = await fleet.associate(
            (yard.vehicles[0], yard.devices[0], True), (yard.vehicles[1], yard.devices[1], True)
        )
        await fleet.end(second["id"])
        problem = assert_problem(
            await fleet.end(first["id"], "A00000000000404", second["id"]), 404, "Association Not Found"
        )
        assert problem["errors"] == [
            {"pointer": "/data/1/id", "detail": "no association A00000000000404"},
            {"pointer": "/data/2/id", "detail": f"association {second['id']} has ended already"},
        ]
        assert await active(db) == {(yard.vehicles[0], yard.devices[0], True)}

    async def test_not_found_before_must_be_main(self, fleet: Fleet, yard: Yard) -> None:
        main, _ = await fleet.associate(
            (yard.vehicles[0], yard.devices[0], True), (yard.vehicles[0], yard.devices[1], False)
        )
        assert_problem(await fleet.end(main["id"], "A00000000000404"), 404, "Association Not Found")

    @pytest.mark.parametrize(
        ("item", "pointer"),
        [
            ({"type": "association", "id": "A00000000000001"}, "/data/0/type"),
            ({"id": "A00000000000001"}, "/data/0/type"),
            ({"type": "device_association", "id": "A1"}, "/data/0/id"),
            ({"type": "device_association"}, "/data/0/id"),
        ],
    )
    async def test_body_is_validated(self, client: httpx.AsyncClient, item: dict[str, str], pointer: str) -> None:
        response = await client.request("DELETE", ASSOCIATIONS, json={"data": [item]})
        assert pointers(assert_problem(response, 400, "Bad Request")) == [pointer]

    async def test_same_id_twice(self, fleet: Fleet, yard: Yard) -> None:
        [association] = await fleet.associate((yard.vehicles[0], yard.devices[0], True))
        problem = assert_problem(await fleet.end(association["id"], association["id"]), 400, "Bad Request")
        assert pointers(problem) == ["/data/1/id"]


class TestPatch:
    def path(self, vehicle_id: str, association_id: str) -> str:
        return f"/v2/vehicles/{vehicle_id}/associations/devices/{association_id}"

    async def test_make_a_secondary_main(
        self, fleet: Fleet, client: httpx.AsyncClient, yard: Yard, db: asyncpg.Connection
    ) -> None:
        _main, secondary = await fleet.associate(
            (yard.vehicles[0], yard.devices[0], True), (yard.vehicles[0], yard.devices[1], False)
        )
        response = await client.patch(
            self.path(yard.vehicles[0], secondary["id"]), json={"data": {"attributes": {"is_main_device": True}}}
        )
        assert response.status_code == 200, response.text
        assert response.json()["data"]["attributes"]["is_main_device"] is True
        assert response.json()["meta"] == {}
        assert await active(db) == {
            (yard.vehicles[0], yard.devices[0], False),
            (yard.vehicles[0], yard.devices[1], True),
        }
        assert await count(db) == 2  # the change is in place, not a new association

    async def test_true_on_the_main_and_false_on_a_secondary_change_nothing(
        self, fleet: Fleet, client: httpx.AsyncClient, yard: Yard
    ) -> None:
        main, secondary = await fleet.associate(
            (yard.vehicles[0], yard.devices[0], True), (yard.vehicles[0], yard.devices[1], False)
        )
        for association, value in ((main, True), (secondary, False)):
            response = await client.patch(
                self.path(yard.vehicles[0], association["id"]), json={"data": {"attributes": {"is_main_device": value}}}
            )
            assert response.json()["data"] == association
        for body in (
            {"data": {}},
            {"data": {"attributes": {}}},
            {"data": {"type": "device_association", "id": main["id"]}},
        ):
            response = await client.patch(self.path(yard.vehicles[0], main["id"]), json=body)
            assert response.json()["data"] == main

    async def test_false_on_the_main(
        self, fleet: Fleet, client: httpx.AsyncClient, yard: Yard, db: asyncpg.Connection
    ) -> None:
        main, _ = await fleet.associate(
            (yard.vehicles[0], yard.devices[0], True), (yard.vehicles[0], yard.devices[1], False)
        )
        response = await client.patch(
            self.path(yard.vehicles[0], main["id"]), json={"data": {"attributes": {"is_main_device": False}}}
        )
        problem = assert_problem(response, 400, "One Vehicle-Device Association Must Be Main")
        assert pointers(problem) == ["/data/attributes/is_main_device"]
        assert (yard.vehicles[0], yard.devices[0], True) in await active(db)
        [alone] = await fleet.associate((yard.vehicles[1], yard.devices[2], True))
        response = await client.patch(
            self.path(yard.vehicles[1], alone["id"]), json={"data": {"attributes": {"is_main_device": False}}}
        )
        assert_problem(response, 400, "One Vehicle-Device Association Must Be Main")

    async def test_not_an_active_association_of_that_vehicle(
        self, fleet: Fleet, client: httpx.AsyncClient, yard: Yard
    ) -> None:
        _main, secondary = await fleet.associate(
            (yard.vehicles[0], yard.devices[0], True), (yard.vehicles[0], yard.devices[1], False)
        )
        body = {"data": {"attributes": {"is_main_device": True}}}
        for vehicle_id, association_id in [
            (yard.vehicles[1], secondary["id"]),  # another vehicle's
            ("V00000000000404", secondary["id"]),  # no such vehicle
            (yard.vehicles[0], "A00000000000404"),  # no such association
        ]:
            assert_problem(
                await client.patch(self.path(vehicle_id, association_id), json=body), 404, "Association Not Found"
            )
        await fleet.end(secondary["id"])
        assert_problem(
            await client.patch(self.path(yard.vehicles[0], secondary["id"]), json=body), 404, "Association Not Found"
        )

    async def test_malformed(self, client: httpx.AsyncClient, yard: Yard) -> None:
        body = {"data": {"attributes": {"is_main_device": True}}}
        problem = assert_problem(
            await client.patch(self.path("short", "A00000000000001"), json=body), 400, "Bad Request"
        )
        assert problem["errors"][0]["parameter"] == "vehicle_id"
        problem = assert_problem(
            await client.patch(self.path(yard.vehicles[0], "x" * 16), json=body), 400, "Bad Request"
        )
        assert problem["errors"][0]["parameter"] == "association_id"
        for attributes in ({"is_main_device": None}, {"is_main_device": "true"}, {"main": True}):
            response = await client.patch(
                self.path(yard.vehicles[0], "A00000000000001"), json={"data": {"attributes": attributes}}
            )
            assert_problem(response, 400, "Bad Request")
        assert_problem(await client.patch(self.path(yard.vehicles[0], "A00000000000001"), json={}), 400, "Bad Request")
