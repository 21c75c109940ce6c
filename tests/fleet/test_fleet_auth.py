"""FLEETREG_FLEET_AUTH=required: every fleet endpoint wants a bearer token with fleet:read or
fleet:write, and a client bound to an enterprise sees that enterprise only (the rest is 404)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from fleetreg.fleet.associations.routes import routes as association_routes
from fleetreg.fleet.router import routes as fleet_routes
from tests.support.app import App, new_api_client, routes_of
from tests.support.fleet import Fleet
from tests.support.problems import assert_problem

READ_WRITE = "fleet:read fleet:write"


async def token(app: App, scope: str, enterprise: str | None = None) -> dict[str, str]:
    """The headers of a new fleet client's token (bound to ``enterprise`` when given)."""
    return (await new_api_client(app, partner=None, scope=scope, enterprise=enterprise)).headers


@dataclass
class Tenants:
    """Two enterprises, each with a vehicle, two devices (one with a chip), an association; plus an
    unassigned chip. ``admin`` is an unbound client's fleet helper, ``mine`` one bound to ``a``."""

    admin: Fleet
    mine: Fleet
    a: dict[str, Any]
    b: dict[str, Any]
    stock_chip: str


async def populate(fleet: Fleet) -> dict[str, Any]:
    enterprise = (await fleet.enterprise())["id"]
    vehicle = (await fleet.vehicle(enterprise))["id"]
    device, spare = (await fleet.device(enterprise))["id"], (await fleet.device(enterprise))["id"]
    chip = (await fleet.chip(device))["id"]
    [association] = await fleet.associate((vehicle, device, True))
    return {
        "enterprise": enterprise,
        "vehicle": vehicle,
        "device": device,
        "spare": spare,
        "chip": chip,
        "association": association["id"],
    }


@pytest.fixture
async def tenants(auth_app: App, auth_client: httpx.AsyncClient) -> Tenants:
    admin = Fleet(auth_client, await token(auth_app, READ_WRITE))
    a, b = await populate(admin), await populate(admin)
    stock = (await admin.chip())["id"]
    mine = Fleet(auth_client, await token(auth_app, READ_WRITE, a["enterprise"]))
    return Tenants(admin, mine, a, b, stock)


class TestTokens:
    async def test_every_fleet_endpoint_wants_a_token(self, auth_client: httpx.AsyncClient, auth_app: App) -> None:
        declared = [*routes_of(fleet_routes), *routes_of(association_routes)]
        operations = [(route.path, method) for route in declared for method in route.methods]
        assert len(operations) == 25
        for path, method in operations:
            concrete = path.replace("{enterprise_id}", "E00000000000001").replace("{vehicle_id}", "V00000000000001")
            concrete = concrete.replace("{device_id}", "D00000000000001").replace("{chip_id}", "C00000000000001")
            concrete = concrete.replace("{association_id}", "A00000000000001")
            response = await auth_client.request(method, concrete, json={"data": []} if method != "GET" else None)
            problem = assert_problem(response, 401, "Unauthorized")
            assert response.headers["www-authenticate"].startswith("Bearer"), (method, path, problem)

    async def test_scopes(self, auth_client: httpx.AsyncClient, auth_app: App) -> None:
        reader = await token(auth_app, "fleet:read")
        assert (await auth_client.get("/v2/vehicles", headers=reader)).status_code == 200
        response = await auth_client.post("/v2/enterprises", json={"data": {"attributes": {}}}, headers=reader)
        assert_problem(response, 403, "Forbidden")
        assert 'scope="fleet:write"' in response.headers["www-authenticate"]
        writer = await token(auth_app, "fleet:write")
        assert_problem(await auth_client.get("/v2/vehicles", headers=writer), 403, "Forbidden")
        partner_only = await token(auth_app, "fleet:write") | {"Authorization": "Bearer not-a-jwt"}
        assert_problem(await auth_client.get("/v2/vehicles", headers=partner_only), 401, "Unauthorized")

    async def test_off_by_default(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/v2/enterprises")).status_code == 200


class TestBoundClient:
    async def test_sees_its_enterprise_only(self, tenants: Tenants) -> None:
        client, headers, a, b = tenants.mine.client, tenants.mine.headers, tenants.a, tenants.b

        async def ids(path: str) -> list[str]:
            response = await client.get(path + ("&" if "?" in path else "?") + "count=true", headers=headers)
            body = response.json()
            assert body["meta"]["count"] == len(body["data"])
            return [item["id"] for item in body["data"]]

        assert await ids("/v2/enterprises") == [a["enterprise"]]
        assert await ids("/v2/vehicles") == [a["vehicle"]]
        assert await ids("/v2/devices") == [a["device"], a["spare"]]
        assert await ids("/v2/chips") == [a["chip"]]
        assert await ids(f"/v2/vehicles?enterprise_id={b['enterprise']}") == []
        assert await ids(f"/v2/vehicles/{a['vehicle']}/associations/devices") == [a["association"]]
        assert await ids(f"/v2/devices/{a['device']}/associations") == [a["association"]]
        for path, title in [
            (f"/v2/enterprises/{b['enterprise']}", "Enterprise Not Found"),
            (f"/v2/vehicles/{b['vehicle']}", "Vehicle Not Found"),
            (f"/v2/devices/{b['device']}", "Device Not Found"),
            (f"/v2/chips/{b['chip']}", "Chip Not Found"),
            (f"/v2/chips/{tenants.stock_chip}", "Chip Not Found"),
            (f"/v2/vehicles/{b['vehicle']}/associations/devices", "Vehicle Not Found"),
            (f"/v2/devices/{b['device']}/associations", "Device Not Found"),
        ]:
            assert_problem(await client.get(path, headers=headers), 404, title)

    async def test_cannot_touch_another_enterprise(self, tenants: Tenants) -> None:
        mine, a, b = tenants.mine, tenants.a, tenants.b
        client, headers = mine.client, mine.headers
        for method, path, title in [
            ("PATCH", f"/v2/enterprises/{b['enterprise']}", "Enterprise Not Found"),
            ("DELETE", f"/v2/vehicles/{b['vehicle']}", "Vehicle Not Found"),
            ("PATCH", f"/v2/devices/{b['spare']}", "Device Not Found"),
            ("DELETE", f"/v2/chips/{b['chip']}", "Chip Not Found"),
            ("PATCH", f"/v2/vehicles/{b['vehicle']}/associations/devices/{b['association']}", "Association Not Found"),
        ]:
            body = {"data": {}} if method == "PATCH" else None
            assert_problem(await client.request(method, path, json=body, headers=headers), 404, title)
        assert_problem(await mine.end(b["association"]), 404, "Association Not Found")
        response = await mine.associate_raw((b["vehicle"], a["spare"], False))
        assert_problem(response, 404, "Vehicle Not Found")
        response = await mine.associate_raw((a["vehicle"], b["spare"], False))
        assert_problem(response, 404, "Device Not Found")
        response = await client.post(
            "/v2/vehicles", json={"data": {"attributes": mine.vehicle_attributes(b["enterprise"])}}, headers=headers
        )
        assert_problem(response, 404, "Enterprise Not Found")
        response = await client.patch(
            f"/v2/vehicles/{a['vehicle']}",
            json={"data": {"attributes": {"enterprise_id": b["enterprise"]}}},
            headers=headers,
        )
        assert_problem(response, 404, "Enterprise Not Found")
        response = await client.patch(
            f"/v2/chips/{a['chip']}", json={"data": {"attributes": {"device_id": b["spare"]}}}, headers=headers
        )
        assert_problem(response, 404, "Device Not Found")
        response = await client.patch(
            f"/v2/chips/{tenants.stock_chip}", json={"data": {"attributes": {"device_id": a["spare"]}}}, headers=headers
        )
        assert_problem(response, 404, "Chip Not Found")

    async def test_works_within_its_enterprise(self, tenants: Tenants) -> None:
        mine, a = tenants.mine, tenants.a
        client, headers = mine.client, mine.headers
        vehicle = await mine.vehicle(a["enterprise"])
        [association] = await mine.associate((vehicle["id"], a["spare"], True))
        assert (await mine.end(association["id"])).status_code == 200
        response = await client.patch(
            f"/v2/enterprises/{a['enterprise']}", json={"data": {"attributes": {"name": "Mine"}}}, headers=headers
        )
        assert response.status_code == 200
        chip = await mine.chip(a["spare"])
        response = await client.patch(
            f"/v2/chips/{chip['id']}", json={"data": {"attributes": {"device_id": None}}}, headers=headers
        )
        assert response.json()["data"]["attributes"]["device_id"] is None
        # out of its devices, the chip is back in the operator's stock: no longer the client's to see
        assert_problem(await client.get(f"/v2/chips/{chip['id']}", headers=headers), 404, "Chip Not Found")
        assert (
            await tenants.admin.client.get(f"/v2/chips/{chip['id']}", headers=tenants.admin.headers)
        ).status_code == 200

    async def test_creates_no_enterprise_and_no_loose_chip(self, tenants: Tenants) -> None:
        mine = tenants.mine
        response = await mine.client.post(
            "/v2/enterprises", json={"data": {"attributes": mine.enterprise_attributes()}}, headers=mine.headers
        )
        assert_problem(response, 403, "Forbidden")
        response = await mine.client.post(
            "/v2/chips", json={"data": [{"attributes": mine.chip_attributes()}]}, headers=mine.headers
        )
        problem = assert_problem(response, 400, "Bad Request")
        assert problem["errors"][0]["pointer"] == "/data/0/attributes/device_id"

    async def test_the_unbound_client_sees_everything(self, tenants: Tenants) -> None:
        admin = tenants.admin
        data = (await admin.client.get("/v2/chips", headers=admin.headers)).json()["data"]
        assert {item["id"] for item in data} == {tenants.a["chip"], tenants.b["chip"], tenants.stock_chip}
