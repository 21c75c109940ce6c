"""History: ending keeps the association; ``as_of`` answers "which vehicle was this device on at T"
and "which devices were on this vehicle at T"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.fleet import Fleet
from tests.support.problems import assert_problem

pytestmark = pytest.mark.usefixtures("invariants")


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def between(earlier: str, later: str) -> str:
    start = instant(earlier)
    return rfc3339(start + (instant(later) - start) / 2)


@dataclass
class Story:
    """Device D on vehicle V1 (main), ended; then on V2 (main), still active. V1 got device E meanwhile."""

    device: str
    v1: str
    v2: str
    first: dict[str, Any]
    second: dict[str, Any]
    other: dict[str, Any]


@pytest.fixture
async def story(fleet: Fleet) -> Story:
    enterprise = (await fleet.enterprise())["id"]
    v1, v2 = (await fleet.vehicle(enterprise))["id"], (await fleet.vehicle(enterprise))["id"]
    device, other_device = (await fleet.device(enterprise))["id"], (await fleet.device(enterprise))["id"]
    [first] = await fleet.associate((v1, device, True))
    ended = await fleet.end(first["id"])
    assert ended.status_code == 200
    first = ended.json()["data"][0]
    [second] = await fleet.associate((v2, device, True))
    [other] = await fleet.associate((v1, other_device, True))
    return Story(device, v1, v2, first, second, other)


async def history(client: httpx.AsyncClient, device: str, params: dict[str, str] | None = None) -> dict[str, Any]:
    response = await client.get(f"/v2/devices/{device}/associations", params=params or {})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class TestDeviceHistory:
    async def test_newest_first_ended_ones_included(self, client: httpx.AsyncClient, story: Story) -> None:
        body = await history(client, story.device)
        assert body["data"] == [story.second, story.first]
        assert body["meta"] == {"page": 0, "limit": 25}
        assert story.first["attributes"]["ended_at"] is not None
        assert story.second["attributes"]["created_at"] > story.first["attributes"]["ended_at"]

    async def test_which_vehicle_at_an_instant(self, client: httpx.AsyncClient, story: Story) -> None:
        during_first = between(story.first["attributes"]["created_at"], story.first["attributes"]["ended_at"])
        gap = between(story.first["attributes"]["ended_at"], story.second["attributes"]["created_at"])
        before = rfc3339(instant(story.first["attributes"]["created_at"]) - timedelta(seconds=1))
        later = rfc3339(datetime.now().astimezone() + timedelta(days=1))

        async def vehicles_at(moment: str) -> list[str]:
            data = (await history(client, story.device, {"as_of": moment}))["data"]
            return [item["attributes"]["vehicle_id"] for item in data]

        assert await vehicles_at(during_first) == [story.v1]
        assert await vehicles_at(story.first["attributes"]["created_at"]) == [story.v1]  # from its start ...
        assert await vehicles_at(story.first["attributes"]["ended_at"]) == []  # ... to its end, excluded
        assert await vehicles_at(gap) == []
        assert await vehicles_at(story.second["attributes"]["created_at"]) == [story.v2]
        assert await vehicles_at(later) == [story.v2]
        assert await vehicles_at(before) == []

    async def test_limit_page_count(self, client: httpx.AsyncClient, story: Story) -> None:
        body = await history(client, story.device, {"limit": "1", "page": "1", "count": "true"})
        assert body == {"data": [story.first], "meta": {"page": 1, "limit": 1, "count": 2}}
        body = await history(client, story.device, {"page": "3", "count": "true"})
        assert body == {"data": [], "meta": {"page": 3, "limit": 25, "count": 2}}

    async def test_unknown_deleted_or_malformed_device(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        assert_problem(await client.get("/v2/devices/D00000000000404/associations"), 404, "Device Not Found")
        enterprise = await fleet.enterprise()
        device = await fleet.device(enterprise["id"])
        assert (await history(client, device["id"]))["data"] == []
        await client.delete(f"/v2/devices/{device['id']}")
        assert_problem(await client.get(f"/v2/devices/{device['id']}/associations"), 404, "Device Not Found")
        problem = assert_problem(await client.get("/v2/devices/D0/associations"), 400, "Bad Request")
        assert problem["errors"][0]["parameter"] == "device_id"

    @pytest.mark.parametrize(
        "moment",
        [
            "2026-11-22T10:00:00Z",
            "2026-11-22t10:00:00z",
            "2026-11-22T10:00:00.123456789+02:00",
            "2026-11-22 10:00:00-03:00",
        ],
    )
    async def test_rfc3339_forms(self, client: httpx.AsyncClient, story: Story, moment: str) -> None:
        await history(client, story.device, {"as_of": moment})

    @pytest.mark.parametrize(
        "moment",
        ["2026-11-22", "2026-11-22T10:00:00", "1700000000", "2026-13-22T10:00:00Z", "now", "2026-11-22T25:00:00Z"],
    )
    async def test_not_rfc3339(self, client: httpx.AsyncClient, story: Story, moment: str) -> None:
        response = await client.get(f"/v2/devices/{story.device}/associations", params={"as_of": moment})
        assert assert_problem(response, 400, "Bad Request")["errors"][0]["parameter"] == "as_of"


class TestVehicleAsOf:
    async def test_associations_active_at_an_instant(self, client: httpx.AsyncClient, story: Story) -> None:
        path = f"/v2/vehicles/{story.v1}/associations/devices"
        during_first = between(story.first["attributes"]["created_at"], story.first["attributes"]["ended_at"])
        data = (await client.get(path, params={"as_of": during_first})).json()["data"]
        assert [item["id"] for item in data] == [story.first["id"]]
        assert data[0]["attributes"]["ended_at"] == story.first["attributes"]["ended_at"]
        data = (await client.get(path)).json()["data"]
        assert [item["id"] for item in data] == [story.other["id"]]
        gap = between(story.first["attributes"]["ended_at"], story.second["attributes"]["created_at"])
        data = (await client.get(path, params={"as_of": gap, "count": "true"})).json()
        assert data == {"data": [], "meta": {"page": 0, "limit": 25, "count": 0}}

    async def test_a_main_change_is_in_place(
        self, client: httpx.AsyncClient, fleet: Fleet, db: asyncpg.Connection
    ) -> None:
        enterprise = (await fleet.enterprise())["id"]
        vehicle = (await fleet.vehicle(enterprise))["id"]
        d1, d2 = (await fleet.device(enterprise))["id"], (await fleet.device(enterprise))["id"]
        main, secondary = await fleet.associate((vehicle, d1, True), (vehicle, d2, False))
        await client.patch(
            f"/v2/vehicles/{vehicle}/associations/devices/{secondary['id']}",
            json={"data": {"attributes": {"is_main_device": True}}},
        )
        assert await db.fetchval("SELECT count(*) FROM device_associations") == 2
        data = (await client.get(f"/v2/vehicles/{vehicle}/associations/devices")).json()["data"]
        assert [(item["id"], item["attributes"]["is_main_device"]) for item in data] == [
            (secondary["id"], True),
            (main["id"], False),
        ]


async def test_rows_are_never_erased(client: httpx.AsyncClient, story: Story, db: asyncpg.Connection) -> None:
    rows = await db.fetch("SELECT id, ended_at FROM device_associations ORDER BY created_at")
    assert [row["id"] for row in rows] == [story.first["id"], story.second["id"], story.other["id"]]
    assert rows[0]["ended_at"] is not None
