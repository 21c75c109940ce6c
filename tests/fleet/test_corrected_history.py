"""Corrected history (API.md §6): backdated starts and ends, 409 History Conflict, recorded_at /
end_recorded_at, and ``known_at`` beside ``as_of`` on the vehicle's list and the device's history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.fleet import Fleet
from tests.support.problems import assert_problem, pointers

pytestmark = pytest.mark.usefixtures("invariants")

ASSOCIATIONS = "/v2/vehicles/associations/devices"


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat().replace("+00:00", "Z")


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def start(client: httpx.AsyncClient, *items: dict[str, Any]) -> httpx.Response:
    return await client.post(ASSOCIATIONS, json={"data": list(items)})


async def end(client: httpx.AsyncClient, *items: dict[str, Any]) -> httpx.Response:
    return await client.request(
        "DELETE", ASSOCIATIONS, json={"data": [{"type": "device_association", **item} for item in items]}
    )


def item(vehicle: str, device: str, main: bool, started_at: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"vehicle_id": vehicle, "device_id": device, "is_main_device": main}
    if started_at is not None:
        body["started_at"] = started_at
    return body


async def vehicle_list(client: httpx.AsyncClient, vehicle: str, **params: str) -> list[str]:
    response = await client.get(f"/v2/vehicles/{vehicle}/associations/devices", params=params)
    assert response.status_code == 200, response.text
    return [entry["id"] for entry in response.json()["data"]]


async def device_list(client: httpx.AsyncClient, device: str, **params: str) -> list[dict[str, Any]]:
    response = await client.get(f"/v2/devices/{device}/associations", params=params)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


@pytest.fixture
async def yard(fleet: Fleet) -> dict[str, Any]:
    enterprise = (await fleet.enterprise())["id"]
    vehicles = [(await fleet.vehicle(enterprise))["id"] for _ in range(2)]
    devices = [(await fleet.device(enterprise))["id"] for _ in range(3)]
    return {"enterprise": enterprise, "vehicles": vehicles, "devices": devices}


class TestBackdatedStart:
    async def test_an_install_recorded_days_later(self, client: httpx.AsyncClient, yard: dict[str, Any]) -> None:
        (v, _), (d, *_) = yard["vehicles"], yard["devices"]
        monday = ago(days=2)
        before_recording = ago(seconds=1)
        response = await start(client, item(v, d, True, monday))
        assert response.status_code == 200, response.text
        [created] = response.json()["data"]
        attributes = created["attributes"]
        assert instant(attributes["created_at"]) == instant(monday)
        assert instant(attributes["recorded_at"]) > instant(before_recording)
        assert attributes["ended_at"] is None
        assert attributes["end_recorded_at"] is None
        # what was true on Tuesday, now that it is recorded ...
        assert await vehicle_list(client, v, as_of=ago(days=1)) == [created["id"]]
        # ... and what fleetreg showed on Tuesday: nothing yet
        assert await vehicle_list(client, v, known_at=ago(days=1)) == []
        assert await vehicle_list(client, v, as_of=ago(days=1), known_at=before_recording) == []
        assert await vehicle_list(client, v, as_of=ago(days=1), known_at=ago(seconds=0)) == [created["id"]]
        assert [entry["id"] for entry in await device_list(client, d, known_at=ago(seconds=0))] == [created["id"]]
        assert await device_list(client, d, known_at=before_recording) == []

    async def test_an_unbackdated_start_is_recorded_at_its_start(
        self, client: httpx.AsyncClient, yard: dict[str, Any]
    ) -> None:
        (v, _), (d, *_) = yard["vehicles"], yard["devices"]
        response = await start(client, item(v, d, True))
        [created] = response.json()["data"]
        assert created["attributes"]["recorded_at"] == created["attributes"]["created_at"]

    async def test_in_the_future_is_400(
        self, client: httpx.AsyncClient, yard: dict[str, Any], db: asyncpg.Connection
    ) -> None:
        (v, _), (d, *_) = yard["vehicles"], yard["devices"]
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        problem = assert_problem(await start(client, item(v, d, True, tomorrow)), 400, "Bad Request")
        assert pointers(problem) == ["/data/0/started_at"]
        assert await db.fetchval("SELECT count(*) FROM device_associations") == 0

    @pytest.mark.parametrize("value", ["yesterday", "2026-11-22", 1700000000, True, "2026-11-22T10:00:00"])
    async def test_not_rfc3339_is_400(self, client: httpx.AsyncClient, yard: dict[str, Any], value: Any) -> None:
        (v, _), (d, *_) = yard["vehicles"], yard["devices"]
        body = item(v, d, True) | {"started_at": value}
        problem = assert_problem(await start(client, body), 400, "Bad Request")
        assert pointers(problem) == ["/data/0/started_at"]

    async def test_overlapping_the_device_history_is_409(
        self, client: httpx.AsyncClient, yard: dict[str, Any], db: asyncpg.Connection
    ) -> None:
        (v1, v2), (d, m2, _) = yard["vehicles"], yard["devices"]
        [first] = (await start(client, item(v1, d, True, ago(hours=5)))).json()["data"]
        [first] = (await end(client, {"id": first["id"], "ended_at": ago(hours=3)})).json()["data"]
        response = await start(client, item(v2, m2, True, ago(hours=6)), item(v2, d, False, ago(hours=4)))
        problem = assert_problem(response, 409, "History Conflict")
        assert pointers(problem) == ["/data/1/started_at"]
        assert problem["conflicts"] == [
            {
                "association_id": first["id"],
                "vehicle_id": v1,
                "device_id": d,
                "created_at": first["attributes"]["created_at"],
                "ended_at": first["attributes"]["ended_at"],
            }
        ]
        assert await db.fetchval("SELECT count(*) FROM device_associations") == 1
        # after that end, the device was free
        response = await start(client, item(v2, m2, True, ago(hours=6)), item(v2, d, False, ago(hours=2)))
        assert response.status_code == 200, response.text

    async def test_a_second_main_in_the_past_is_409(self, client: httpx.AsyncClient, yard: dict[str, Any]) -> None:
        (v, _), (d1, d2, _) = yard["vehicles"], yard["devices"]
        [old] = (await start(client, item(v, d1, True, ago(hours=5)))).json()["data"]
        await end(client, {"id": old["id"], "ended_at": ago(hours=3)})
        problem = assert_problem(await start(client, item(v, d2, True, ago(hours=4))), 409, "History Conflict")
        assert [conflict["association_id"] for conflict in problem["conflicts"]] == [old["id"]]
        # after its end, another main is no conflict
        response = await start(client, item(v, d2, True, ago(hours=2)))
        assert response.status_code == 200, response.text

    async def test_a_start_before_the_vehicle_was_recorded_is_allowed(
        self, client: httpx.AsyncClient, yard: dict[str, Any]
    ) -> None:
        (v, _), (d, *_) = yard["vehicles"], yard["devices"]
        response = await start(client, item(v, d, True, "2020-01-01T00:00:00Z"))
        assert response.status_code == 200, response.text

    async def test_the_database_refuses_overlaps_whatever_the_service(
        self, client: httpx.AsyncClient, yard: dict[str, Any], db: asyncpg.Connection
    ) -> None:
        (v1, v2), (d, *_) = yard["vehicles"], yard["devices"]
        [first] = (await start(client, item(v1, d, True, ago(hours=5)))).json()["data"]
        await end(client, {"id": first["id"], "ended_at": ago(hours=3)})
        with pytest.raises(asyncpg.ExclusionViolationError) as raised:
            await db.execute(
                "INSERT INTO device_associations (id, enterprise_id, vehicle_id, device_id, is_main_device, created_at)"
                " VALUES ('X00000000000001', $1, $2, $3, true, now() - interval '4 hours')",
                yard["enterprise"],
                v2,
                d,
            )
        assert raised.value.constraint_name == "device_associations_device_overlap_excl"


class TestBackdatedEnd:
    async def test_a_removal_recorded_later(self, client: httpx.AsyncClient, yard: dict[str, Any]) -> None:
        (v, _), (d, *_) = yard["vehicles"], yard["devices"]
        [created] = (await start(client, item(v, d, True, ago(days=3)))).json()["data"]
        before_end_recorded = ago(seconds=0)
        wednesday = ago(days=1)
        response = await end(client, {"id": created["id"], "ended_at": wednesday})
        assert response.status_code == 200, response.text
        [ended] = response.json()["data"]
        assert instant(ended["attributes"]["ended_at"]) == instant(wednesday)
        assert instant(ended["attributes"]["end_recorded_at"]) >= instant(before_end_recorded)
        assert await vehicle_list(client, v, as_of=ago(hours=12)) == []
        assert await vehicle_list(client, v, as_of=ago(days=2)) == [created["id"]]
        # as fleetreg had it before the end was recorded: still active, no end shown
        [shown] = await device_list(client, d, known_at=before_end_recorded)
        assert shown["attributes"]["ended_at"] is None
        assert shown["attributes"]["end_recorded_at"] is None
        assert await vehicle_list(client, v, as_of=ago(hours=12), known_at=before_end_recorded) == [created["id"]]

    async def test_an_end_not_after_its_start_is_400(
        self, client: httpx.AsyncClient, yard: dict[str, Any], db: asyncpg.Connection
    ) -> None:
        (v, _), (d, *_) = yard["vehicles"], yard["devices"]
        started = ago(hours=2)
        [created] = (await start(client, item(v, d, True, started))).json()["data"]
        for ended_at in (started, ago(hours=3)):
            problem = assert_problem(await end(client, {"id": created["id"], "ended_at": ended_at}), 400, "Bad Request")
            assert pointers(problem) == ["/data/0/ended_at"]
        assert await db.fetchval("SELECT count(*) FROM device_associations WHERE ended_at IS NULL") == 1

    async def test_in_the_future_is_400(self, client: httpx.AsyncClient, yard: dict[str, Any]) -> None:
        (v, _), (d, *_) = yard["vehicles"], yard["devices"]
        [created] = (await start(client, item(v, d, True))).json()["data"]
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        problem = assert_problem(await end(client, {"id": created["id"], "ended_at": tomorrow}), 400, "Bad Request")
        assert pointers(problem) == ["/data/0/ended_at"]

    async def test_not_found_comes_before_a_bad_end(self, client: httpx.AsyncClient, yard: dict[str, Any]) -> None:
        (v, _), (d, *_) = yard["vehicles"], yard["devices"]
        [created] = (await start(client, item(v, d, True, ago(hours=1)))).json()["data"]
        response = await end(client, {"id": created["id"], "ended_at": ago(hours=2)}, {"id": "A00000000000404"})
        problem = assert_problem(response, 404, "Association Not Found")
        assert pointers(problem) == ["/data/1/id"]

    async def test_a_promoted_main_ends_after_its_promotion(
        self, client: httpx.AsyncClient, yard: dict[str, Any]
    ) -> None:
        (v, _), (d1, d2, _) = yard["vehicles"], yard["devices"]
        main, secondary = (
            await start(client, item(v, d1, True, ago(hours=5)), item(v, d2, False, ago(hours=4)))
        ).json()["data"]
        response = await client.patch(
            f"/v2/vehicles/{v}/associations/devices/{secondary['id']}",
            json={"data": {"attributes": {"is_main_device": True}}},
        )
        assert response.status_code == 200, response.text
        response = await end(client, {"id": main["id"]}, {"id": secondary["id"], "ended_at": ago(hours=3)})
        problem = assert_problem(response, 400, "Bad Request")
        assert pointers(problem) == ["/data/1/ended_at"]
        assert "main" in problem["errors"][0]["detail"]


class TestExistingRows:
    async def test_recorded_as_they_happened(self, client: httpx.AsyncClient, yard: dict[str, Any]) -> None:
        (v, _), (d, *_) = yard["vehicles"], yard["devices"]
        [created] = (await start(client, item(v, d, True))).json()["data"]
        [ended] = (await end(client, {"id": created["id"]})).json()["data"]
        assert ended["attributes"]["end_recorded_at"] == ended["attributes"]["ended_at"]
        assert ended["attributes"]["recorded_at"] == ended["attributes"]["created_at"]
