"""Enterprises, vehicles, devices and chips: create (one or many, all or none), get, list, patch,
delete, with every documented error and the rows left behind."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.fleet import Fleet
from tests.support.problems import assert_problem, pointers

ID = re.compile(r"[A-Za-z0-9]{15}")


async def count(db: asyncpg.Connection, table: str) -> int:
    return await db.fetchval(f"SELECT count(*) FROM {table}")  # type: ignore[no-any-return]


async def totals(db: asyncpg.Connection) -> dict[tuple[str, str], int]:
    return {(r["kind"], r["enterprise_id"]): r["n"] for r in await db.fetch("SELECT * FROM fleet_totals WHERE n <> 0")}


class TestCreate:
    async def test_one_enterprise(self, client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
        response = await client.post(
            "/v2/enterprises", json={"data": {"attributes": {"name": "Acme", "cnpj": "12.abc.345/01de-35"}}}
        )
        assert response.status_code == 201, response.text
        body = response.json()
        resource = body["data"]
        assert body["meta"] == {}
        assert resource["type"] == "enterprise"
        assert ID.fullmatch(resource["id"])
        assert resource["attributes"]["name"] == "Acme"
        assert resource["attributes"]["cnpj"] == "12ABC34501DE35"
        assert resource["attributes"]["created_at"].endswith("Z")
        assert response.headers["location"] == f"/v2/enterprises/{resource['id']}"
        assert await db.fetchval("SELECT cnpj FROM enterprises WHERE id = $1", resource["id"]) == "12ABC34501DE35"

    async def test_many_with_given_ids_in_order(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        enterprise = await fleet.enterprise()
        items = [
            {"type": "vehicle", "id": f"V{i:014d}", "attributes": fleet.vehicle_attributes(enterprise["id"])}
            for i in range(3)
        ]
        items.append({"attributes": fleet.vehicle_attributes(enterprise["id"], plate="ABC1D23")})
        response = await client.post("/v2/vehicles", json={"data": items})
        assert response.status_code == 201, response.text
        data = response.json()["data"]
        assert [item["id"] for item in data[:3]] == ["V00000000000000", "V00000000000001", "V00000000000002"]
        assert ID.fullmatch(data[3]["id"])
        assert data[3]["attributes"]["plate"] == "ABC1D23"
        assert data[0]["attributes"] == {
            **items[0]["attributes"],
            "plate": None,
            "vin": None,
            "created_at": data[0]["attributes"]["created_at"],
            "updated_at": data[0]["attributes"]["updated_at"],
        }
        assert "location" not in response.headers

    async def test_generated_ids_differ(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        response = await client.post(
            "/v2/enterprises", json={"data": [{"attributes": fleet.enterprise_attributes()} for _ in range(50)]}
        )
        ids = {item["id"] for item in response.json()["data"]}
        assert len(ids) == 50

    @pytest.mark.parametrize("size", [0, 1001])
    async def test_array_size_limits(self, client: httpx.AsyncClient, fleet: Fleet, size: int) -> None:
        items = [{"attributes": {"name": f"E{i}", "cnpj": "11222333000181"}} for i in range(size)]
        body = assert_problem(await client.post("/v2/enterprises", json={"data": items}), 400, "Bad Request")
        assert pointers(body) == ["/data"]

    async def test_data_must_be_an_object_or_array(self, client: httpx.AsyncClient) -> None:
        body = assert_problem(await client.post("/v2/enterprises", json={"data": "x"}), 400, "Bad Request")
        assert body["errors"] == [{"pointer": "/data", "detail": "must be an object or an array of 1 to 1000 objects"}]

    async def test_every_invalid_member_named_by_pointer(
        self, client: httpx.AsyncClient, fleet: Fleet, db: asyncpg.Connection
    ) -> None:
        enterprise = await fleet.enterprise()
        items = [
            {"attributes": fleet.device_attributes(enterprise["id"])},
            {"id": "too-short", "attributes": fleet.device_attributes(enterprise["id"], imei="490154203237519")},
            {
                "type": "vehicle",
                "attributes": {"enterprise_id": enterprise["id"], "name": "", "code": "x", "colour": 1},
            },
        ]
        body = assert_problem(await client.post("/v2/devices", json={"data": items}), 400, "Bad Request")
        assert sorted(pointers(body)) == [
            "/data/1/attributes/imei",
            "/data/1/id",
            "/data/2/attributes/colour",
            "/data/2/attributes/imei",
            "/data/2/attributes/name",
            "/data/2/type",
        ]
        assert await count(db, "devices") == 0

    @pytest.mark.parametrize(
        ("path", "member", "value", "message"),
        [
            ("/v2/enterprises", "cnpj", "11.222.333/0001-82", "check digits"),
            ("/v2/enterprises", "cnpj", "11 222 333 0001 81", "14 characters"),
            ("/v2/enterprises", "cnpj", "1122233300018A", "14 characters"),
            ("/v2/vehicles", "vin", "9BWZZZ377VT00425O", "without I, O"),
            ("/v2/vehicles", "vin", "9BWZZZ377VT00425", "17"),
            ("/v2/vehicles", "plate", "", "empty"),
            ("/v2/devices", "imei", "49015420323751", "15 digits"),
            ("/v2/devices", "imei", "490154203237519", "Luhn"),
            ("/v2/devices", "code", "x" * 101, "100"),
            ("/v2/chips", "serial", "895501000000000001", "19 or 20"),
            ("/v2/chips", "serial", "8955010000000000001", "Luhn"),
            ("/v2/chips", "number", "5511987654321", "E.164"),
            ("/v2/chips", "number", "+0511987654321", "E.164"),
            ("/v2/chips", "device_id", "x", "15 ASCII"),
        ],
    )
    async def test_formats(
        self, client: httpx.AsyncClient, fleet: Fleet, path: str, member: str, value: str, message: str
    ) -> None:
        enterprise = await fleet.enterprise()
        attributes = {
            "/v2/enterprises": fleet.enterprise_attributes,
            "/v2/vehicles": lambda: fleet.vehicle_attributes(enterprise["id"]),
            "/v2/devices": lambda: fleet.device_attributes(enterprise["id"]),
            "/v2/chips": fleet.chip_attributes,
        }[path]()
        attributes[member] = value
        body = assert_problem(await client.post(path, json={"data": {"attributes": attributes}}), 400, "Bad Request")
        assert body["errors"][0]["pointer"] == f"/data/attributes/{member}"
        assert message in body["errors"][0]["detail"]

    async def test_numeric_and_alphanumeric_cnpj_in_any_form(self, client: httpx.AsyncClient) -> None:
        for given, stored in [
            ("11222333000181", "11222333000181"),
            ("11.222.333/0001-81", "11222333000181"),
            ("12ABC34501DE35", "12ABC34501DE35"),
            ("12abc34501de35", "12ABC34501DE35"),
        ]:
            await client.post("/v2/enterprises", json={"data": {"attributes": {"name": "x", "cnpj": given}}})
            response = await client.get("/v2/enterprises", params={"search": stored})
            assert [item["attributes"]["cnpj"] for item in response.json()["data"]] == [stored]

    async def test_vin_is_stored_upper_case(self, fleet: Fleet) -> None:
        enterprise = await fleet.enterprise()
        vehicle = await fleet.vehicle(enterprise["id"], vin="9bwzzz377vt004251")
        assert vehicle["attributes"]["vin"] == "9BWZZZ377VT004251"

    async def test_existing_id_is_409(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        enterprise = await fleet.enterprise("E00000000000001")
        response = await client.post(
            "/v2/enterprises",
            json={
                "data": [
                    {"attributes": fleet.enterprise_attributes()},
                    {"id": enterprise["id"], "attributes": fleet.enterprise_attributes()},
                ]
            },
        )
        body = assert_problem(response, 409, "Id Already In Use")
        assert body["errors"] == [
            {"pointer": "/data/1/id", "detail": "an enterprise with the id E00000000000001 exists already"}
        ]

    async def test_id_twice_in_one_request_is_409(
        self, client: httpx.AsyncClient, fleet: Fleet, db: asyncpg.Connection
    ) -> None:
        items = [{"id": "E00000000000001", "attributes": fleet.enterprise_attributes()} for _ in range(3)]
        body = assert_problem(await client.post("/v2/enterprises", json={"data": items}), 409, "Id Already In Use")
        assert pointers(body) == ["/data/1/id", "/data/2/id"]
        assert "first at /data/0" in body["errors"][0]["detail"]
        assert await count(db, "enterprises") == 0

    async def test_the_id_of_a_deleted_resource_stays_taken(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        enterprise = await fleet.enterprise()
        vehicle = await fleet.vehicle(enterprise["id"])
        assert (await client.delete(f"/v2/vehicles/{vehicle['id']}")).status_code == 204
        response = await client.post(
            "/v2/vehicles",
            json={"data": {"id": vehicle["id"], "attributes": fleet.vehicle_attributes(enterprise["id"])}},
        )
        assert_problem(response, 409, "Id Already In Use")

    async def test_cnpj_taken(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        await fleet.enterprise(cnpj="11222333000181")
        response = await client.post(
            "/v2/enterprises", json={"data": {"attributes": {"name": "Copy", "cnpj": "11.222.333/0001-81"}}}
        )
        body = assert_problem(response, 409, "CNPJ Already Registered")
        assert body["errors"] == [
            {"pointer": "/data/attributes/cnpj", "detail": "another enterprise has the CNPJ 11222333000181"}
        ]

    async def test_cnpj_twice_in_one_request(self, client: httpx.AsyncClient) -> None:
        items = [
            {"attributes": {"name": "A", "cnpj": "11222333000181"}},
            {"attributes": {"name": "B", "cnpj": "11.222.333/0001-81"}},
        ]
        body = assert_problem(
            await client.post("/v2/enterprises", json={"data": items}), 409, "CNPJ Already Registered"
        )
        assert pointers(body) == ["/data/1/attributes/cnpj"]

    async def test_cnpj_of_a_deleted_enterprise_is_free(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        enterprise = await fleet.enterprise(cnpj="11222333000181")
        assert (await client.delete(f"/v2/enterprises/{enterprise['id']}")).status_code == 204
        await fleet.enterprise(cnpj="11222333000181")

    async def test_imei_taken(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        enterprise = await fleet.enterprise()
        device = await fleet.device(enterprise["id"])
        response = await client.post(
            "/v2/devices",
            json={"data": {"attributes": fleet.device_attributes(enterprise["id"], imei=device["attributes"]["imei"])}},
        )
        assert_problem(response, 409, "IMEI Already Registered")

    async def test_serial_taken(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        chip = await fleet.chip()
        response = await client.post(
            "/v2/chips", json={"data": {"attributes": fleet.chip_attributes(serial=chip["attributes"]["serial"])}}
        )
        assert_problem(response, 409, "ICCID Already Registered")

    async def test_unknown_or_deleted_enterprise_is_404(
        self, client: httpx.AsyncClient, fleet: Fleet, db: asyncpg.Connection
    ) -> None:
        gone = await fleet.enterprise()
        await client.delete(f"/v2/enterprises/{gone['id']}")
        live = await fleet.enterprise()
        items = [
            {"attributes": fleet.vehicle_attributes(live["id"])},
            {"attributes": fleet.vehicle_attributes("E00000000000404")},
            {"attributes": fleet.vehicle_attributes(gone["id"])},
        ]
        body = assert_problem(await client.post("/v2/vehicles", json={"data": items}), 404, "Enterprise Not Found")
        assert pointers(body) == ["/data/1/attributes/enterprise_id", "/data/2/attributes/enterprise_id"]
        assert await count(db, "vehicles") == 0

    async def test_404_comes_before_409(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        enterprise = await fleet.enterprise()
        vehicle = await fleet.vehicle(enterprise["id"])
        items = [
            {"id": vehicle["id"], "attributes": fleet.vehicle_attributes(enterprise["id"])},
            {"attributes": fleet.vehicle_attributes("E00000000000404")},
        ]
        assert_problem(await client.post("/v2/vehicles", json={"data": items}), 404, "Enterprise Not Found")

    async def test_chip_installed_on_create(
        self, client: httpx.AsyncClient, fleet: Fleet, db: asyncpg.Connection
    ) -> None:
        enterprise = await fleet.enterprise()
        device = await fleet.device(enterprise["id"])
        chip = await fleet.chip(device["id"])
        assert chip["attributes"]["device_id"] == device["id"]
        response = await client.post("/v2/chips", json={"data": {"attributes": fleet.chip_attributes(device["id"])}})
        body = assert_problem(response, 409, "Device Already Has Chip")
        assert pointers(body) == ["/data/attributes/device_id"]
        response = await client.post(
            "/v2/chips", json={"data": {"attributes": fleet.chip_attributes("D00000000000404")}}
        )
        assert_problem(response, 404, "Device Not Found")
        assert await count(db, "chips") == 1

    async def test_two_chips_for_one_device_in_one_request(
        self, client: httpx.AsyncClient, fleet: Fleet, db: asyncpg.Connection
    ) -> None:
        enterprise = await fleet.enterprise()
        device = await fleet.device(enterprise["id"])
        items = [{"attributes": fleet.chip_attributes(device["id"])} for _ in range(2)]
        body = assert_problem(await client.post("/v2/chips", json={"data": items}), 409, "Device Already Has Chip")
        assert pointers(body) == ["/data/1/attributes/device_id"]
        assert await count(db, "chips") == 0

    async def test_all_or_nothing_when_the_last_item_conflicts(
        self, client: httpx.AsyncClient, fleet: Fleet, db: asyncpg.Connection
    ) -> None:
        enterprise = await fleet.enterprise()
        taken = await fleet.device(enterprise["id"])
        items: list[dict[str, Any]] = [{"attributes": fleet.device_attributes(enterprise["id"])} for _ in range(999)]
        items.append({"attributes": fleet.device_attributes(enterprise["id"], imei=taken["attributes"]["imei"])})
        body = assert_problem(await client.post("/v2/devices", json={"data": items}), 409, "IMEI Already Registered")
        assert pointers(body) == ["/data/999/attributes/imei"]
        assert await count(db, "devices") == 1
        assert await totals(db) == {("enterprises", ""): 1, ("devices", enterprise["id"]): 1}

    async def test_a_thousand_at_once(self, client: httpx.AsyncClient, fleet: Fleet, db: asyncpg.Connection) -> None:
        items = [{"attributes": fleet.chip_attributes()} for _ in range(1000)]
        response = await client.post("/v2/chips", json={"data": items})
        assert response.status_code == 201, response.text
        assert len(response.json()["data"]) == 1000
        assert await totals(db) == {("chips", ""): 1000}


class TestGet:
    @pytest.mark.parametrize(
        ("path", "title"),
        [
            ("/v2/enterprises", "Enterprise Not Found"),
            ("/v2/vehicles", "Vehicle Not Found"),
            ("/v2/devices", "Device Not Found"),
            ("/v2/chips", "Chip Not Found"),
        ],
    )
    async def test_unknown_is_404_and_malformed_is_400(self, client: httpx.AsyncClient, path: str, title: str) -> None:
        assert_problem(await client.get(f"{path}/abcdefghijklmno"), 404, title)
        for malformed in ("abc", "abcdefghijklmnop", "abcdefghijklmn-"):
            body = assert_problem(await client.get(f"{path}/{malformed}"), 400, "Bad Request")
            assert body["errors"][0]["parameter"].endswith("_id")
        assert_problem(await client.patch(f"{path}/abc", json={"data": {}}), 400, "Bad Request")
        assert_problem(await client.delete(f"{path}/abc"), 400, "Bad Request")

    async def test_each_kind(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        enterprise = await fleet.enterprise()
        vehicle = await fleet.vehicle(enterprise["id"])
        device = await fleet.device(enterprise["id"])
        chip = await fleet.chip(device["id"])
        for path, resource in [
            ("/v2/enterprises", enterprise),
            ("/v2/vehicles", vehicle),
            ("/v2/devices", device),
            ("/v2/chips", chip),
        ]:
            response = await client.get(f"{path}/{resource['id']}")
            assert response.status_code == 200
            assert response.json() == {"data": resource, "meta": {}}

    async def test_deleted_is_404(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        enterprise = await fleet.enterprise()
        device = await fleet.device(enterprise["id"])
        await client.delete(f"/v2/devices/{device['id']}")
        assert_problem(await client.get(f"/v2/devices/{device['id']}"), 404, "Device Not Found")
        assert_problem(await client.patch(f"/v2/devices/{device['id']}", json={"data": {}}), 404, "Device Not Found")
        assert_problem(await client.delete(f"/v2/devices/{device['id']}"), 404, "Device Not Found")


class TestList:
    async def test_defaults_envelope_and_order(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        created = [await fleet.enterprise() for _ in range(30)]
        response = await client.get("/v2/enterprises")
        assert response.status_code == 200
        body = response.json()
        assert body["meta"] == {"page": 0, "limit": 25}
        assert [item["id"] for item in body["data"]] == [item["id"] for item in created[:25]]
        second = (await client.get("/v2/enterprises", params={"page": 1, "count": "true"})).json()
        assert [item["id"] for item in second["data"]] == [item["id"] for item in created[25:]]
        assert second["meta"] == {"page": 1, "limit": 25, "count": 30}

    async def test_limit_page_count(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        for _ in range(5):
            await fleet.chip()
        body = (await client.get("/v2/chips", params={"limit": 2, "page": 2, "count": "true"})).json()
        assert len(body["data"]) == 1
        assert body["meta"] == {"page": 2, "limit": 2, "count": 5}
        body = (await client.get("/v2/chips", params={"limit": 2, "page": 9, "count": "true"})).json()
        assert body == {"data": [], "meta": {"page": 9, "limit": 2, "count": 5}}
        body = (await client.get("/v2/chips", params={"limit": 100, "page": 2**63 - 1})).json()
        assert body["data"] == []
        assert_problem(await client.get("/v2/chips", params={"page": 2**63}), 400, "Bad Request")
        body = (await client.get("/v2/chips", params={"count": "false"})).json()
        assert "count" not in body["meta"]

    @pytest.mark.parametrize(
        ("parameter", "value"),
        [
            ("limit", "0"),
            ("limit", "101"),
            ("limit", "ten"),
            ("page", "-1"),
            ("count", "yes"),
            ("count", "1"),
            ("search", "x" * 101),
            ("enterprise_id", "short"),
        ],
    )
    async def test_bad_parameters(self, client: httpx.AsyncClient, parameter: str, value: str) -> None:
        body = assert_problem(await client.get("/v2/vehicles", params={parameter: value}), 400, "Bad Request")
        assert body["errors"][0]["parameter"] == parameter

    async def test_unknown_and_repeated_parameters(self, client: httpx.AsyncClient) -> None:
        body = assert_problem(await client.get("/v2/enterprises?enterprise_id=E00000000000001"), 400, "Bad Request")
        assert body["errors"] == [{"parameter": "enterprise_id", "detail": "unknown parameter"}]
        body = assert_problem(await client.get("/v2/devices?limit=1&limit=2"), 400, "Bad Request")
        assert body["errors"] == [{"parameter": "limit", "detail": "given more than once"}]

    async def test_search_is_case_insensitive_contains_and_literal(
        self, client: httpx.AsyncClient, fleet: Fleet
    ) -> None:
        enterprise = await fleet.enterprise()
        await fleet.vehicle(enterprise["id"], name="Big_Truck 100%")
        await fleet.vehicle(enterprise["id"], name="BigXTruck 1000")
        await fleet.vehicle(enterprise["id"], name="Van", plate="ABC1D23")
        await fleet.vehicle(enterprise["id"], name="Car", vin="9BWZZZ377VT004251")

        async def names(search: str) -> list[str]:
            response = await client.get("/v2/vehicles", params={"search": search, "count": "true"})
            body = response.json()
            assert body["meta"]["count"] == len(body["data"])
            return [item["attributes"]["name"] for item in body["data"]]

        assert await names("big_truck") == ["Big_Truck 100%"]
        assert await names("00%") == ["Big_Truck 100%"]
        assert await names("bigxtruck") == ["BigXTruck 1000"]
        assert await names("abc1d") == ["Van"]
        assert await names("vt0042") == ["Car"]
        assert await names("truck") == ["Big_Truck 100%", "BigXTruck 1000"]
        assert await names("nothing") == []

    async def test_search_in_each_kind(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        enterprise = await fleet.enterprise(name="Acme Logistics", cnpj="11222333000181")
        device = await fleet.device(enterprise["id"], code="ZX-81")
        chip = await fleet.chip(device["id"], carrier="Claro", batch="LOT-7")
        for path, search, expected in [
            ("/v2/enterprises", "LOGISTICS", enterprise["id"]),
            ("/v2/enterprises", "333000", enterprise["id"]),
            ("/v2/devices", "zx-8", device["id"]),
            ("/v2/devices", device["attributes"]["imei"][3:9], device["id"]),
            ("/v2/chips", "claro", chip["id"]),
            ("/v2/chips", "lot-7", chip["id"]),
            ("/v2/chips", chip["attributes"]["serial"][5:12], chip["id"]),
        ]:
            data = (await client.get(path, params={"search": search})).json()["data"]
            assert [item["id"] for item in data] == [expected], (path, search)

    async def test_enterprise_filter_and_exact_counts(
        self, client: httpx.AsyncClient, fleet: Fleet, db: asyncpg.Connection
    ) -> None:
        one, two = await fleet.enterprise(), await fleet.enterprise()
        ones = [await fleet.device(one["id"]) for _ in range(3)]
        twos = [await fleet.device(two["id"]) for _ in range(2)]
        await client.delete(f"/v2/devices/{ones[0]['id']}")
        body = (await client.get("/v2/devices", params={"enterprise_id": one["id"], "count": "true"})).json()
        assert [item["id"] for item in body["data"]] == [item["id"] for item in ones[1:]]
        assert body["meta"]["count"] == 2
        body = (await client.get("/v2/devices", params={"count": "true"})).json()
        assert body["meta"]["count"] == 4
        assert [item["id"] for item in body["data"]] == [item["id"] for item in ones[1:] + twos]
        body = (await client.get("/v2/devices", params={"enterprise_id": "E00000000000404", "count": "true"})).json()
        assert body == {"data": [], "meta": {"page": 0, "limit": 25, "count": 0}}
        assert await totals(db) == {("enterprises", ""): 2, ("devices", one["id"]): 2, ("devices", two["id"]): 2}


class TestPatch:
    async def test_change_and_normalize(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        enterprise = await fleet.enterprise()
        response = await client.patch(
            f"/v2/enterprises/{enterprise['id']}",
            json={
                "data": {
                    "type": "enterprise",
                    "id": enterprise["id"],
                    "attributes": {"name": "New", "cnpj": "12.abc.345/01de-35"},
                }
            },
        )
        assert response.status_code == 200, response.text
        attributes = response.json()["data"]["attributes"]
        assert (attributes["name"], attributes["cnpj"]) == ("New", "12ABC34501DE35")
        assert attributes["updated_at"] > attributes["created_at"]

    async def test_nothing_to_change(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        enterprise = await fleet.enterprise()
        vehicle = await fleet.vehicle(enterprise["id"])
        for body in (
            {"data": {}},
            {"data": {"attributes": {}}},
            {"data": {"attributes": {"name": vehicle["attributes"]["name"]}}},
        ):
            response = await client.patch(f"/v2/vehicles/{vehicle['id']}", json=body)
            assert response.json() == {"data": vehicle, "meta": {}}

    async def test_nullable_and_required_members(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        enterprise = await fleet.enterprise()
        vehicle = await fleet.vehicle(enterprise["id"], plate="ABC1D23", vin="9BWZZZ377VT004251")
        response = await client.patch(
            f"/v2/vehicles/{vehicle['id']}", json={"data": {"attributes": {"plate": None, "vin": None}}}
        )
        assert response.status_code == 200
        assert (response.json()["data"]["attributes"]["plate"], response.json()["data"]["attributes"]["vin"]) == (
            None,
            None,
        )
        response = await client.patch(
            f"/v2/vehicles/{vehicle['id']}", json={"data": {"attributes": {"name": None, "enterprise_id": None}}}
        )
        body = assert_problem(response, 400, "Bad Request")
        assert body["errors"] == [
            {"pointer": "/data/attributes/enterprise_id", "detail": "may not be null"},
            {"pointer": "/data/attributes/name", "detail": "may not be null"},
        ]

    async def test_id_and_type_must_match(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        enterprise = await fleet.enterprise()
        body = assert_problem(
            await client.patch(f"/v2/enterprises/{enterprise['id']}", json={"data": {"id": "E00000000000404"}}),
            400,
            "Bad Request",
        )
        assert pointers(body) == ["/data/id"]
        body = assert_problem(
            await client.patch(f"/v2/enterprises/{enterprise['id']}", json={"data": {"type": "vehicle"}}),
            400,
            "Bad Request",
        )
        assert pointers(body) == ["/data/type"]
        body = assert_problem(
            await client.patch(
                f"/v2/enterprises/{enterprise['id']}", json={"data": {"attributes": {"created_at": "x"}}}
            ),
            400,
            "Bad Request",
        )
        assert pointers(body) == ["/data/attributes/created_at"]

    async def test_key_taken(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        enterprise = await fleet.enterprise()
        other = await fleet.enterprise()
        response = await client.patch(
            f"/v2/enterprises/{enterprise['id']}", json={"data": {"attributes": {"cnpj": other["attributes"]["cnpj"]}}}
        )
        body = assert_problem(response, 409, "CNPJ Already Registered")
        assert pointers(body) == ["/data/attributes/cnpj"]
        d1, d2 = await fleet.device(enterprise["id"]), await fleet.device(enterprise["id"])
        response = await client.patch(
            f"/v2/devices/{d1['id']}", json={"data": {"attributes": {"imei": d2["attributes"]["imei"]}}}
        )
        assert_problem(response, 409, "IMEI Already Registered")
        c1, c2 = await fleet.chip(), await fleet.chip()
        response = await client.patch(
            f"/v2/chips/{c1['id']}", json={"data": {"attributes": {"serial": c2["attributes"]["serial"]}}}
        )
        assert_problem(response, 409, "ICCID Already Registered")

    async def test_move_to_another_enterprise(
        self, client: httpx.AsyncClient, fleet: Fleet, db: asyncpg.Connection
    ) -> None:
        one, two = await fleet.enterprise(), await fleet.enterprise()
        vehicle = await fleet.vehicle(one["id"])
        device = await fleet.device(one["id"])
        response = await client.patch(
            f"/v2/vehicles/{vehicle['id']}", json={"data": {"attributes": {"enterprise_id": two["id"]}}}
        )
        assert response.json()["data"]["attributes"]["enterprise_id"] == two["id"]
        response = await client.patch(
            f"/v2/vehicles/{vehicle['id']}", json={"data": {"attributes": {"enterprise_id": "E00000000000404"}}}
        )
        assert_problem(response, 404, "Enterprise Not Found")
        assert await totals(db) == {("enterprises", ""): 2, ("vehicles", two["id"]): 1, ("devices", one["id"]): 1}
        other_vehicle = await fleet.vehicle(one["id"])
        [association] = await fleet.associate((other_vehicle["id"], device["id"], True))
        await fleet.end(association["id"])
        response = await client.patch(
            f"/v2/devices/{device['id']}", json={"data": {"attributes": {"enterprise_id": two["id"]}}}
        )
        body = assert_problem(response, 409, "Device In Use")
        assert pointers(body) == ["/data/attributes/enterprise_id"]
        response = await client.patch(
            f"/v2/vehicles/{other_vehicle['id']}", json={"data": {"attributes": {"enterprise_id": two["id"]}}}
        )
        assert_problem(response, 409, "Vehicle In Use")

    async def test_install_move_and_remove_a_chip(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        enterprise = await fleet.enterprise()
        d1, d2 = await fleet.device(enterprise["id"]), await fleet.device(enterprise["id"])
        chip = await fleet.chip()
        other = await fleet.chip(d2["id"])

        async def install(device_id: str | None) -> httpx.Response:
            return await client.patch(
                f"/v2/chips/{chip['id']}", json={"data": {"attributes": {"device_id": device_id}}}
            )

        assert (await install(d1["id"])).json()["data"]["attributes"]["device_id"] == d1["id"]
        assert_problem(await install(d2["id"]), 409, "Device Already Has Chip")
        assert_problem(await install("D00000000000404"), 404, "Device Not Found")
        await client.patch(f"/v2/chips/{other['id']}", json={"data": {"attributes": {"device_id": None}}})
        assert (await install(d2["id"])).json()["data"]["attributes"]["device_id"] == d2["id"]
        assert (await install(None)).json()["data"]["attributes"]["device_id"] is None

    async def test_a_deleted_device_takes_no_chip(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        enterprise = await fleet.enterprise()
        device = await fleet.device(enterprise["id"])
        chip = await fleet.chip()
        await client.delete(f"/v2/devices/{device['id']}")
        response = await client.patch(
            f"/v2/chips/{chip['id']}", json={"data": {"attributes": {"device_id": device["id"]}}}
        )
        assert_problem(response, 404, "Device Not Found")


class TestDelete:
    async def test_enterprise_in_use(self, client: httpx.AsyncClient, fleet: Fleet, db: asyncpg.Connection) -> None:
        enterprise = await fleet.enterprise()
        vehicle = await fleet.vehicle(enterprise["id"])
        device = await fleet.device(enterprise["id"])
        body = assert_problem(await client.delete(f"/v2/enterprises/{enterprise['id']}"), 409, "Enterprise In Use")
        assert "vehicles and devices" in body["detail"]
        await client.delete(f"/v2/vehicles/{vehicle['id']}")
        assert_problem(await client.delete(f"/v2/enterprises/{enterprise['id']}"), 409, "Enterprise In Use")
        await client.delete(f"/v2/devices/{device['id']}")
        response = await client.delete(f"/v2/enterprises/{enterprise['id']}")
        assert response.status_code == 204
        assert response.content == b""
        assert_problem(await client.get(f"/v2/enterprises/{enterprise['id']}"), 404, "Enterprise Not Found")
        assert await db.fetchval("SELECT deleted_at IS NOT NULL FROM enterprises WHERE id = $1", enterprise["id"])
        assert await totals(db) == {}

    async def test_vehicle_with_active_association(
        self, client: httpx.AsyncClient, fleet: Fleet, db: asyncpg.Connection
    ) -> None:
        enterprise = await fleet.enterprise()
        vehicle = await fleet.vehicle(enterprise["id"])
        device = await fleet.device(enterprise["id"])
        [association] = await fleet.associate((vehicle["id"], device["id"], True))
        assert_problem(await client.delete(f"/v2/vehicles/{vehicle['id']}"), 409, "Vehicle In Use")
        assert (await fleet.end(association["id"])).status_code == 200
        assert (await client.delete(f"/v2/vehicles/{vehicle['id']}")).status_code == 204
        history = (await client.get(f"/v2/devices/{device['id']}/associations")).json()["data"]
        assert [item["attributes"]["vehicle_id"] for item in history] == [vehicle["id"]]
        assert await count(db, "device_associations") == 1

    async def test_device_with_association_or_chip(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        enterprise = await fleet.enterprise()
        vehicle = await fleet.vehicle(enterprise["id"])
        device = await fleet.device(enterprise["id"])
        chip = await fleet.chip(device["id"])
        [association] = await fleet.associate((vehicle["id"], device["id"], True))
        body = assert_problem(await client.delete(f"/v2/devices/{device['id']}"), 409, "Device In Use")
        assert vehicle["id"] in body["detail"]
        assert chip["id"] in body["detail"]
        await fleet.end(association["id"])
        assert_problem(await client.delete(f"/v2/devices/{device['id']}"), 409, "Device In Use")
        await client.patch(f"/v2/chips/{chip['id']}", json={"data": {"attributes": {"device_id": None}}})
        assert (await client.delete(f"/v2/devices/{device['id']}")).status_code == 204

    async def test_chip_is_deleted_for_real_even_installed(
        self, client: httpx.AsyncClient, fleet: Fleet, db: asyncpg.Connection
    ) -> None:
        enterprise = await fleet.enterprise()
        device = await fleet.device(enterprise["id"])
        chip = await fleet.chip(device["id"])
        assert (await client.delete(f"/v2/chips/{chip['id']}")).status_code == 204
        assert await count(db, "chips") == 0
        assert_problem(await client.delete(f"/v2/chips/{chip['id']}"), 404, "Chip Not Found")
        await fleet.chip(device["id"], resource_id=chip["id"], serial=chip["attributes"]["serial"])
