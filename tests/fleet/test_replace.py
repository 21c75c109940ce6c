"""Replacing a device (API.md §6): one transaction ends the association and starts one for the new
device on the same vehicle, with the same is_main_device; ``move_chip`` moves the old device's chip.
And the association's ETag: PATCH answers with it and honours If-Match."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.fleet import Fleet
from tests.support.problems import assert_problem

pytestmark = pytest.mark.usefixtures("invariants")


def replace_path(vehicle: str, association: str) -> str:
    return f"/v2/vehicles/{vehicle}/associations/devices/{association}/replace"


async def replace(client: httpx.AsyncClient, vehicle: str, association: str, **data: Any) -> httpx.Response:
    return await client.post(replace_path(vehicle, association), json={"data": data})


@pytest.fixture
async def fitted(fleet: Fleet) -> dict[str, Any]:
    """A vehicle with a main device (holding a chip) and a secondary, and two spare devices."""
    enterprise = (await fleet.enterprise())["id"]
    vehicle = (await fleet.vehicle(enterprise))["id"]
    old, secondary, spare, other = [(await fleet.device(enterprise))["id"] for _ in range(4)]
    chip = (await fleet.chip(old))["id"]
    main, second = await fleet.associate((vehicle, old, True), (vehicle, secondary, False))
    return {
        "enterprise": enterprise,
        "vehicle": vehicle,
        "old": old,
        "spare": spare,
        "other": other,
        "chip": chip,
        "main": main,
        "second": second,
    }


async def state(db: asyncpg.Connection, vehicle: str) -> list[tuple[str, bool, bool]]:
    rows = await db.fetch(
        "SELECT device_id, is_main_device, ended_at IS NULL AS active FROM device_associations "
        "WHERE vehicle_id = $1 ORDER BY device_id, created_at",
        vehicle,
    )
    return [(row["device_id"], row["is_main_device"], row["active"]) for row in rows]


class TestReplace:
    async def test_the_main_device_replaced(
        self, client: httpx.AsyncClient, fitted: dict[str, Any], db: asyncpg.Connection
    ) -> None:
        response = await replace(client, fitted["vehicle"], fitted["main"]["id"], device_id=fitted["spare"])
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["meta"] == {}
        ended, started = body["data"]["ended"], body["data"]["started"]
        assert ended["id"] == fitted["main"]["id"]
        assert ended["attributes"]["ended_at"] is not None
        assert started["type"] == "device_association"
        assert started["attributes"]["device_id"] == fitted["spare"]
        assert started["attributes"]["vehicle_id"] == fitted["vehicle"]
        assert started["attributes"]["is_main_device"] is True
        assert started["attributes"]["created_at"] == ended["attributes"]["ended_at"]  # no gap, no overlap
        listed = (await client.get(f"/v2/vehicles/{fitted['vehicle']}/associations/devices")).json()["data"]
        assert [item["id"] for item in listed] == [started["id"], fitted["second"]["id"]]
        # the chip stays where it was without move_chip
        assert await db.fetchval("SELECT device_id FROM chips WHERE id = $1", fitted["chip"]) == fitted["old"]

    async def test_a_secondary_stays_secondary(self, client: httpx.AsyncClient, fitted: dict[str, Any]) -> None:
        response = await replace(client, fitted["vehicle"], fitted["second"]["id"], device_id=fitted["spare"])
        assert response.status_code == 200, response.text
        assert response.json()["data"]["started"]["attributes"]["is_main_device"] is False

    async def test_move_chip(self, client: httpx.AsyncClient, fitted: dict[str, Any], db: asyncpg.Connection) -> None:
        response = await replace(
            client, fitted["vehicle"], fitted["main"]["id"], device_id=fitted["spare"], move_chip=True
        )
        assert response.status_code == 200, response.text
        assert await db.fetchval("SELECT device_id FROM chips WHERE id = $1", fitted["chip"]) == fitted["spare"]
        listed = (await client.get(f"/v2/vehicles/{fitted['vehicle']}/associations/devices")).json()["data"]
        assert listed[0]["attributes"]["chip"] is not None

    async def test_move_chip_without_a_chip_moves_nothing(
        self, client: httpx.AsyncClient, fitted: dict[str, Any]
    ) -> None:
        response = await replace(
            client, fitted["vehicle"], fitted["second"]["id"], device_id=fitted["spare"], move_chip=True
        )
        assert response.status_code == 200, response.text

    async def test_the_new_device_holds_a_chip(
        self, client: httpx.AsyncClient, fleet: Fleet, fitted: dict[str, Any], db: asyncpg.Connection
    ) -> None:
        await fleet.chip(fitted["spare"])
        before = await state(db, fitted["vehicle"])
        response = await replace(
            client, fitted["vehicle"], fitted["main"]["id"], device_id=fitted["spare"], move_chip=True
        )
        assert_problem(response, 409, "Device Already Holds A Chip")
        assert await state(db, fitted["vehicle"]) == before
        # without moving the chip it is no problem
        response = await replace(client, fitted["vehicle"], fitted["main"]["id"], device_id=fitted["spare"])
        assert response.status_code == 200, response.text

    async def test_errors_in_order(
        self, client: httpx.AsyncClient, fleet: Fleet, fitted: dict[str, Any], db: asyncpg.Connection
    ) -> None:
        vehicle, main = fitted["vehicle"], fitted["main"]["id"]
        before = await state(db, vehicle)
        elsewhere = (await fleet.enterprise())["id"]
        foreign = (await fleet.device(elsewhere))["id"]
        other_vehicle = (await fleet.vehicle(fitted["enterprise"]))["id"]
        await fleet.associate((other_vehicle, fitted["other"], True))
        taken = "Device(s) Already Associated With Another Vehicle"
        cases = [
            (replace(client, vehicle, "A00000000000404", device_id=fitted["spare"]), 404, "Association Not Found"),
            (replace(client, other_vehicle, main, device_id=fitted["spare"]), 404, "Association Not Found"),
            (replace(client, vehicle, main, device_id="D00000000000404"), 404, "Device Not Found"),
            (replace(client, vehicle, main, device_id=foreign), 400, "Vehicle And Device Are in Different Enterprises"),
            (replace(client, vehicle, main, device_id=fitted["other"]), 400, taken),
            (replace(client, vehicle, main, device_id=fitted["old"]), 400, taken),
        ]  # fmt: skip
        for call, status, title in cases:
            assert_problem(await call, status, title)
        assert await state(db, vehicle) == before

    async def test_an_ended_association_is_not_found(self, client: httpx.AsyncClient, fitted: dict[str, Any]) -> None:
        assert (await replace(client, fitted["vehicle"], fitted["second"]["id"], device_id=fitted["spare"])).is_success
        response = await replace(client, fitted["vehicle"], fitted["second"]["id"], device_id=fitted["other"])
        assert_problem(response, 404, "Association Not Found")

    @pytest.mark.parametrize(
        "data",
        [{}, {"device_id": "x"}, {"device_id": "D00000000000001", "move_chip": "yes"}, {"device_id": None}],
    )
    async def test_malformed_bodies(self, client: httpx.AsyncClient, fitted: dict[str, Any], data: Any) -> None:
        response = await client.post(replace_path(fitted["vehicle"], fitted["main"]["id"]), json={"data": data})
        assert_problem(response, 400, "Bad Request")

    async def test_unknown_member(self, client: httpx.AsyncClient, fitted: dict[str, Any]) -> None:
        response = await replace(
            client, fitted["vehicle"], fitted["main"]["id"], device_id=fitted["spare"], started_at="2026-01-01T00:00Z"
        )
        assert_problem(response, 400, "Bad Request")


class TestAssociationETag:
    async def test_patch_answers_with_the_etag_and_honours_if_match(
        self, client: httpx.AsyncClient, fitted: dict[str, Any]
    ) -> None:
        path = f"/v2/vehicles/{fitted['vehicle']}/associations/devices/{fitted['second']['id']}"
        unchanged = await client.patch(path, json={"data": {"attributes": {}}})
        assert unchanged.status_code == 200
        etag = unchanged.headers["etag"]
        assert etag.startswith('"')
        assert etag.endswith('"')
        promote = {"data": {"attributes": {"is_main_device": True}}}
        stale = await client.patch(path, json=promote, headers={"If-Match": '"1"'})
        problem = assert_problem(stale, 412, "Precondition Failed")
        assert problem["etag"] == etag
        promoted = await client.patch(path, json=promote, headers={"If-Match": etag})
        assert promoted.status_code == 200, promoted.text
        assert promoted.headers["etag"] != etag
        # the answer's ETag is the current one
        again = await client.patch(
            path, json={"data": {"attributes": {}}}, headers={"If-Match": promoted.headers["etag"]}
        )
        assert again.status_code == 200
        assert again.headers["etag"] == promoted.headers["etag"]

    async def test_if_match_on_an_unknown_association_is_404(
        self, client: httpx.AsyncClient, fitted: dict[str, Any]
    ) -> None:
        path = f"/v2/vehicles/{fitted['vehicle']}/associations/devices/A00000000000404"
        response = await client.patch(path, json={"data": {"attributes": {}}}, headers={"If-Match": "*"})
        assert_problem(response, 404, "Association Not Found")


class TestReplacementEvent:
    async def test_one_association_replaced(self, client: httpx.AsyncClient, fitted: dict[str, Any]) -> None:
        response = await replace(client, fitted["vehicle"], fitted["main"]["id"], device_id=fitted["spare"])
        started = response.json()["data"]["started"]

        async def events(subject: str) -> list[dict[str, Any]]:
            answer = await client.get("/v2/events", params={"subject_id": subject, "type": "association.*"})
            assert answer.status_code == 200, answer.text
            data: list[dict[str, Any]] = answer.json()["data"]
            return data

        [event] = await events(started["id"])
        assert event["type"] == "association.replaced"
        assert event["subject"] == {"type": "device_association", "id": started["id"]}
        assert event["data"]["after"] == started
        assert event["data"]["before"] == fitted["main"]  # the ended one as it was
        # its end is not a second event
        assert [item["type"] for item in await events(fitted["main"]["id"])] == ["association.started"]
