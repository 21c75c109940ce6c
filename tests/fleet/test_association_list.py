"""GET /v2/vehicles/{vehicle_id}/associations/devices: every parameter, in the bracket notation and
as JSON, every operator on every field, combinations, bad values, and one statement per request."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from fleetreg.fleet.associations.parameters import FILTER_FIELDS
from tests.support.app import App, database_of
from tests.support.fleet import Fleet
from tests.support.problems import assert_problem

Params = list[tuple[str, str]]


@dataclass
class Row:
    """What one association of the scene looks like through the filterable fields."""

    association_id: str
    fields: dict[str, str | None]


@dataclass
class Scene:
    vehicle: str
    enterprise: str
    rows: list[Row]
    """In the default order: main first, then by creation."""

    def ids(self, *indexes: int) -> list[str]:
        return [self.rows[index].association_id for index in indexes]


CHIPS = [
    # (serial suffix, number, carrier, service_provider, batch) or None: no chip
    ("101", "+5511900000002", "Vivo", "Vivo IoT", "Lot_A"),
    ("202", "+5511900000001", "claro", "Claro Empresas", "LOT-B"),
    None,
    ("303", "+5511900000001", "TIM", "TIM 100%", "lot_c"),
]
DEVICES = [("Alpha_1", "AL-100"), ("beta", "BE-200%"), ("Gamma", "GA_300"), ("delta%", "DE-400")]


@pytest.fixture
async def scene(fleet: Fleet, client: httpx.AsyncClient) -> Scene:
    """A vehicle with four devices: the second one main, the third without a chip."""
    enterprise = await fleet.enterprise(name="Acme Transportes_SA", cnpj="12.ABC.345/01DE-35")
    vehicle = await fleet.vehicle(enterprise["id"])
    response = await client.post(
        "/v2/devices",
        json={"data": [{"attributes": fleet.device_attributes(enterprise["id"], name=n, code=c)} for n, c in DEVICES]},
    )
    devices = response.json()["data"]
    wanted = [
        {
            "attributes": fleet.chip_attributes(
                device["id"], number=c[1], carrier=c[2], service_provider=c[3], batch=c[4]
            )
        }
        for device, c in zip(devices, CHIPS, strict=True)
        if c is not None
    ]
    made = iter((await client.post("/v2/chips", json={"data": wanted})).json()["data"])
    chips: list[dict[str, Any] | None] = [None if c is None else next(made) for c in CHIPS]
    created = await fleet.associate(
        (vehicle["id"], devices[1]["id"], True),
        (vehicle["id"], devices[0]["id"], False),
        (vehicle["id"], devices[2]["id"], False),
        (vehicle["id"], devices[3]["id"], False),
    )
    # another vehicle's association must never show
    other_vehicle = await fleet.vehicle(enterprise["id"])
    other_device = await fleet.device(enterprise["id"], name="Alpha_1 twin")
    await fleet.associate((other_vehicle["id"], other_device["id"], True))
    rows = []
    for association, index in zip(created, [1, 0, 2, 3], strict=True):
        device, chip = devices[index], chips[index]
        chip_attributes = chip["attributes"] if chip else {}
        rows.append(
            Row(
                association["id"],
                {
                    **{
                        f"chips.{name}": chip_attributes.get(name)
                        for name in ("serial", "number", "carrier", "service_provider", "batch")
                    },
                    "device.name": device["attributes"]["name"],
                    "device.imei": device["attributes"]["imei"],
                    "device.code": device["attributes"]["code"],
                    "enterprise.name": enterprise["attributes"]["name"],
                    "enterprise.cnpj": enterprise["attributes"]["cnpj"],
                },
            )
        )
    return Scene(vehicle["id"], enterprise["id"], rows)


async def listed(client: httpx.AsyncClient, scene: Scene, params: Params | None = None) -> dict[str, Any]:
    response = await client.get(f"/v2/vehicles/{scene.vehicle}/associations/devices", params=params or [])
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def listed_ids(client: httpx.AsyncClient, scene: Scene, params: Params | None = None) -> list[str]:
    return [item["id"] for item in (await listed(client, scene, params))["data"]]


async def refused(client: httpx.AsyncClient, params: Params) -> list[dict[str, str]]:
    """The errors of a request refused for its parameters (checked before the vehicle is looked up,
    so that no vehicle is needed)."""
    response = await client.get("/v2/vehicles/V00000000000404/associations/devices", params=params)
    errors: list[dict[str, str]] = assert_problem(response, 400, "Bad Request")["errors"]
    return errors


def expected(scene: Scene, field: str, op: str, value: str) -> list[str]:
    """What the contract says the filter keeps, computed in Python."""
    kept = []
    for row in scene.rows:
        actual = row.fields[field]
        if op == "eq":
            keep = actual == value
        elif op == "neq":
            keep = actual != value
        elif actual is None:
            keep = False
        elif op == "ilk":
            keep = value.lower() in actual.lower()
        elif op == "sw":
            keep = actual.lower().startswith(value.lower())
        else:
            keep = actual.lower().endswith(value.lower())
        if keep:
            kept.append(row.association_id)
    return kept


def swapcase_middle(text: str) -> str:
    return text[1:-1].swapcase() if len(text) > 2 else text.swapcase()


class TestDefaults:
    async def test_items_envelope_and_default_order(self, client: httpx.AsyncClient, scene: Scene) -> None:
        body = await listed(client, scene)
        assert body["meta"] == {"page": 0, "limit": 25}
        assert [item["id"] for item in body["data"]] == scene.ids(0, 1, 2, 3)
        first = body["data"][0]
        assert set(first) == {"type", "id", "attributes"}
        assert first["type"] == "device_association"
        attributes = first["attributes"]
        assert attributes["is_main_device"] is True
        assert attributes["vehicle_id"] == scene.vehicle
        assert attributes["ended_at"] is None
        assert attributes["chip"] == {
            "serial": scene.rows[0].fields["chips.serial"],
            "number": "+5511900000001",
            "carrier": "claro",
            "service_provider": "Claro Empresas",
            "batch": "LOT-B",
        }
        assert body["data"][2]["attributes"]["chip"] is None

    async def test_unknown_deleted_and_malformed_vehicle(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        assert_problem(await client.get("/v2/vehicles/V00000000000404/associations/devices"), 404, "Vehicle Not Found")
        enterprise = await fleet.enterprise()
        vehicle = await fleet.vehicle(enterprise["id"])
        await client.delete(f"/v2/vehicles/{vehicle['id']}")
        assert_problem(await client.get(f"/v2/vehicles/{vehicle['id']}/associations/devices"), 404, "Vehicle Not Found")
        problem = assert_problem(await client.get("/v2/vehicles/V0/associations/devices"), 400, "Bad Request")
        assert problem["errors"][0]["parameter"] == "vehicle_id"

    async def test_a_vehicle_without_associations(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        enterprise = await fleet.enterprise()
        vehicle = await fleet.vehicle(enterprise["id"])
        response = await client.get(f"/v2/vehicles/{vehicle['id']}/associations/devices", params={"count": "true"})
        assert response.json() == {"data": [], "meta": {"page": 0, "limit": 25, "count": 0}}

    async def test_one_statement_per_request(
        self, client: httpx.AsyncClient, app: App, scene: Scene, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        db = database_of(app)
        calls: list[str] = []
        original_fetch, original_connection, original_read = db.fetch, db.connection, db._read
        connections: list[None] = []  # checkouts from the pool, by connection() or by a read

        # Only this request's ways count: in process it runs in the test's task, and the app's
        # background tasks (webhook deliveries, event pruning) read the database in tasks of their own.
        request_task = asyncio.current_task()

        def ours() -> bool:
            return asyncio.current_task() is request_task

        async def counted(query: str, *args: Any) -> Any:
            if ours():
                calls.append(query)
            return await original_fetch(query, *args)

        def counted_connection() -> Any:
            if ours():
                connections.append(None)
            return original_connection()

        async def counted_read(*args: Any) -> Any:
            if ours():
                connections.append(None)
            return await original_read(*args)

        originals = {name: getattr(db, name) for name in ("fetchrow", "fetchval", "write")}

        def forbidden(name: str) -> Any:
            def refuse(*args: Any, **kwargs: Any) -> Any:
                if ours():
                    raise AssertionError("a second way to the database")
                return originals[name](*args, **kwargs)

            return refuse

        monkeypatch.setattr(db, "fetch", counted)
        monkeypatch.setattr(db, "connection", counted_connection)
        monkeypatch.setattr(db, "_read", counted_read)
        for name in ("fetchrow", "fetchval", "write"):
            monkeypatch.setattr(db, name, forbidden(name))
        params = [
            ("count", "true"),
            ("filters[device.name][ilk]", "a"),
            ("includes[device][]", "name"),
            ("includes[enterprise][]", "cnpj"),
            ("sort[number]", "-1"),
            ("search", "a"),
        ]
        await listed(client, scene, params)
        assert len(calls) == len(connections) == 1
        await client.get("/v2/vehicles/V00000000000404/associations/devices")
        assert len(calls) == len(connections) == 2


CHOSEN_CHIP_FIELDS: list[Params] = [
    [("attributes[]", "serial"), ("attributes[]", "batch")],
    [("attributes[0]", "serial"), ("attributes[1]", "batch")],
    [("attributes", "serial"), ("attributes", "batch")],
    [("attributes", "serial,batch")],
    [("attributes", '["serial","batch"]')],
    [("attributes", '"serial"'), ("attributes[]", "batch")],
    [("attributes", "serial,batch,serial")],
]


class TestAttributes:
    async def test_chosen_chip_fields_in_every_notation(self, client: httpx.AsyncClient, scene: Scene) -> None:
        for params in CHOSEN_CHIP_FIELDS:
            data = (await listed(client, scene, params))["data"]
            assert data[0]["attributes"]["chip"] == {"serial": scene.rows[0].fields["chips.serial"], "batch": "LOT-B"}
            assert data[2]["attributes"]["chip"] is None

    async def test_absent_or_null_is_all(self, client: httpx.AsyncClient, scene: Scene) -> None:
        for params in ([], [("attributes", "null")]):
            chip = (await listed(client, scene, params))["data"][0]["attributes"]["chip"]
            assert set(chip) == {"serial", "number", "carrier", "service_provider", "batch"}

    async def test_empty_json_array_is_none(self, client: httpx.AsyncClient, scene: Scene) -> None:
        data = (await listed(client, scene, [("attributes", "[]")]))["data"]
        assert data[0]["attributes"]["chip"] == {}
        assert data[2]["attributes"]["chip"] is None

    @pytest.mark.parametrize(
        ("params", "parameter"),
        [
            ([("attributes[]", "name")], "attributes[]"),
            ([("attributes", "serial,")], "attributes"),
            ([("attributes", "")], "attributes"),
            ([("attributes", "[1]")], "attributes"),
            ([("attributes", "[bad")], "attributes"),
            ([("attributes[serial]", "1")], "attributes[serial]"),
            ([("attributes", "null"), ("attributes[]", "serial")], "attributes"),
        ],
    )
    async def test_bad_values(self, client: httpx.AsyncClient, params: Params, parameter: str) -> None:
        errors = await refused(client, params)
        assert errors[0]["parameter"] == parameter


CHOSEN_INCLUDES: list[Params] = [
    [("includes[device][]", "name"), ("includes[device][]", "code"), ("includes[enterprise][]", "cnpj")],
    [("includes[device][0]", "name"), ("includes[device][1]", "code"), ("includes[enterprise][0]", "cnpj")],
    [("includes[device]", "name,code"), ("includes[enterprise]", "cnpj")],
    [("includes[device]", '["name","code"]'), ("includes[enterprise]", "cnpj")],
    [("includes", '{"device": ["name", "code"], "enterprise": ["cnpj"]}')],
    [("includes", '{"device": ["name", "code"]}'), ("includes[enterprise][]", "cnpj")],
]


class TestIncludes:
    async def test_chosen_fields_in_every_notation(self, client: httpx.AsyncClient, scene: Scene) -> None:
        for params in CHOSEN_INCLUDES:
            first = (await listed(client, scene, params))["data"][0]
            assert first["device"] == {"name": "beta", "code": "BE-200%"}, params
            assert first["enterprise"] == {"cnpj": "12ABC34501DE35"}, params

    async def test_every_field_and_only_what_is_asked(self, client: httpx.AsyncClient, scene: Scene) -> None:
        data = (await listed(client, scene, [("includes[device][]", f) for f in ("name", "imei", "code")]))["data"]
        assert data[1]["device"] == {
            "name": "Alpha_1",
            "imei": scene.rows[1].fields["device.imei"],
            "code": "AL-100",
        }
        assert "enterprise" not in data[1]
        data = (await listed(client, scene, [("includes[enterprise]", "name,cnpj")]))["data"]
        assert data[3]["enterprise"] == {"name": "Acme Transportes_SA", "cnpj": "12ABC34501DE35"}
        assert "device" not in data[3]

    @pytest.mark.parametrize(
        ("params", "parameter"),
        [
            ([("includes[vehicle][]", "name")], "includes[vehicle][]"),
            ([("includes[device][]", "cnpj")], "includes[device][]"),
            ([("includes[enterprise][]", "imei")], "includes[enterprise][]"),
            ([("includes[device][name]", "x")], "includes[device][name]"),
            ([("includes", '["device"]')], "includes"),
            ([("includes", "device")], "includes"),
            ([("includes", '{"device": [1]}')], "includes"),
            ([("includes[device", "name")], "includes[device"),
        ],
    )
    async def test_bad_values(self, client: httpx.AsyncClient, params: Params, parameter: str) -> None:
        errors = await refused(client, params)
        assert errors[0]["parameter"] == parameter


def filter_value(scene: Scene, field: str, op: str) -> str:
    """A value for ``op`` on ``field`` that keeps some rows but not all (where the data allows)."""
    source = scene.rows[1].fields[field] or ""  # Alpha_1's, which has a chip
    if op in ("eq", "neq"):
        return source
    if op == "ilk":
        return swapcase_middle(source)
    if op == "sw":
        return source[:4].swapcase()
    return source[-3:].swapcase()


class TestFilters:
    @pytest.mark.parametrize("field", FILTER_FIELDS)
    async def test_every_operator_on_every_field_in_both_forms(
        self, client: httpx.AsyncClient, scene: Scene, field: str
    ) -> None:
        for op in ("eq", "neq", "ilk", "sw", "ew"):
            value = filter_value(scene, field, op)
            want = expected(scene, field, op, value)
            bracket = await listed_ids(client, scene, [(f"filters[{field}][{op}]", value)])
            assert bracket == want, (field, op, value)
            as_json = await listed_ids(client, scene, [("filters", json.dumps({field: {op: value}}))])
            assert as_json == want, (field, op, value)

    async def test_eq_and_neq_are_exact(self, client: httpx.AsyncClient, scene: Scene) -> None:
        assert await listed_ids(client, scene, [("filters[device.name][eq]", "alpha_1")]) == []
        assert await listed_ids(client, scene, [("filters[device.name][eq]", "Alpha_1")]) == scene.ids(1)
        assert await listed_ids(client, scene, [("filters[device.name][neq]", "alpha_1")]) == scene.ids(0, 1, 2, 3)

    async def test_neq_keeps_associations_without_a_chip(self, client: httpx.AsyncClient, scene: Scene) -> None:
        assert await listed_ids(client, scene, [("filters[chips.carrier][neq]", "TIM")]) == scene.ids(0, 1, 2)
        assert await listed_ids(client, scene, [("filters[chips.carrier][ilk]", "i")]) == scene.ids(1, 3)

    async def test_percent_and_underscore_are_literal(self, client: httpx.AsyncClient, scene: Scene) -> None:
        assert await listed_ids(client, scene, [("filters[device.name][ilk]", "%")]) == scene.ids(3)
        assert await listed_ids(client, scene, [("filters[device.name][ilk]", "_")]) == scene.ids(1)
        assert await listed_ids(client, scene, [("filters[device.code][ew]", "0%")]) == scene.ids(0)
        assert await listed_ids(client, scene, [("filters[device.code][sw]", "ga_")]) == scene.ids(2)
        assert await listed_ids(client, scene, [("filters[chips.batch][ilk]", "t_")]) == scene.ids(1, 3)
        assert await listed_ids(client, scene, [("filters[device.name][ilk]", "\\")]) == []

    async def test_combined_with_and(self, client: httpx.AsyncClient, scene: Scene) -> None:
        params = [("filters[chips.number][eq]", "+5511900000001"), ("filters[device.name][sw]", "DEL")]
        assert await listed_ids(client, scene, params) == scene.ids(3)
        params = [("filters[chips.number][eq]", "+5511900000001"), ("filters[device.name][neq]", "beta")]
        assert await listed_ids(client, scene, params) == scene.ids(3)
        as_json = {"chips.number": {"eq": "+5511900000001", "neq": "x"}, "device.code": {"ilk": "e-"}}
        assert await listed_ids(client, scene, [("filters", json.dumps(as_json))]) == scene.ids(0, 3)
        mixed = [
            ("filters", json.dumps({"chips.number": {"eq": "+5511900000001"}})),
            ("filters[device.code][sw]", "be"),
        ]
        assert await listed_ids(client, scene, mixed) == scene.ids(0)

    async def test_nested_field_names(self, client: httpx.AsyncClient, scene: Scene) -> None:
        assert await listed_ids(client, scene, [("filters[device][name][eq]", "beta")]) == scene.ids(0)
        nested = {"chips": {"carrier": {"eq": "TIM"}}}
        assert await listed_ids(client, scene, [("filters", json.dumps(nested))]) == scene.ids(3)

    async def test_cnpj_in_any_form(self, client: httpx.AsyncClient, scene: Scene) -> None:
        everything = scene.ids(0, 1, 2, 3)
        assert await listed_ids(client, scene, [("filters[enterprise.cnpj][eq]", "12.abc.345/01de-35")]) == everything
        assert await listed_ids(client, scene, [("filters[enterprise.cnpj][sw]", "12.ABC")]) == everything
        assert await listed_ids(client, scene, [("filters[enterprise.cnpj][neq]", "12ABC34501DE35")]) == []

    @pytest.mark.parametrize(
        ("params", "parameter"),
        [
            ([("filters[device.color][eq]", "x")], "filters[device.color][eq]"),
            ([("filters[vehicle.name][eq]", "x")], "filters[vehicle.name][eq]"),
            ([("filters[device.name][like]", "x")], "filters[device.name][like]"),
            ([("filters[device.name][EQ]", "x")], "filters[device.name][EQ]"),
            ([("filters[device.name]", "x")], "filters[device.name]"),
            ([("filters[device.name][eq]", "x" * 201)], "filters[device.name][eq]"),
            ([("filters[device.name][eq]", "a"), ("filters[device.name][eq]", "b")], "filters[device.name][eq]"),
            ([("filters", '{"device.name": {"eq": 1}}')], "filters"),
            ([("filters", '{"device.name": "x"}')], "filters"),
            ([("filters", "device.name=x")], "filters"),
            ([("filters", "[]")], "filters"),
            ([("filter[device.name][eq]", "x")], "filter[device.name][eq]"),
        ],
    )
    async def test_bad_values(self, client: httpx.AsyncClient, params: Params, parameter: str) -> None:
        errors = await refused(client, params)
        assert errors[0]["parameter"] == parameter

    async def test_every_fault_is_named(self, client: httpx.AsyncClient) -> None:
        errors = await refused(
            client, [("filters[x][eq]", "1"), ("sort[name]", "1"), ("includes[y][]", "z"), ("colour", "red")]
        )
        assert {error["parameter"] for error in errors} == {"colour"}  # unknown parameters come first
        errors = await refused(client, [("filters[x][eq]", "1"), ("sort[name]", "1"), ("includes[y][]", "z")])
        assert {error["parameter"] for error in errors} == {"filters[x][eq]", "sort[name]", "includes[y][]"}


SEARCHES = [
    ("ALPHA", [1]),  # device name
    ("be-2", [0]),  # device code
    ("vivo iot", [1]),  # chip service provider
    ("lot", [0, 1, 3]),  # chip batch
    ("900000001", [0, 3]),  # chip number
    ("transportes", [0, 1, 2, 3]),  # enterprise name
    ("abc345", [0, 1, 2, 3]),  # enterprise cnpj
    ("%", [0, 3]),  # literal: BE-200%, TIM 100%, delta%
    ("s_s", [0, 1, 2, 3]),  # literal underscore: Transportes_SA
    ("nowhere", []),
]


class TestSearch:
    async def test_contains_anywhere(self, client: httpx.AsyncClient, scene: Scene) -> None:
        for search, rows in SEARCHES:
            assert await listed_ids(client, scene, [("search", search)]) == scene.ids(*rows), search

    async def test_imei_and_serial(self, client: httpx.AsyncClient, scene: Scene) -> None:
        assert await listed_ids(client, scene, [("search", scene.rows[2].fields["device.imei"] or "")]) == scene.ids(2)
        assert await listed_ids(client, scene, [("search", scene.rows[3].fields["chips.serial"] or "")]) == scene.ids(3)

    async def test_with_filters(self, client: httpx.AsyncClient, scene: Scene) -> None:
        params = [("search", "lot"), ("filters[chips.number][eq]", "+5511900000001")]
        assert await listed_ids(client, scene, params) == scene.ids(0, 3)

    async def test_at_most_100_characters(self, client: httpx.AsyncClient, scene: Scene) -> None:
        assert await listed_ids(client, scene, [("search", "x" * 100)]) == []
        assert (await refused(client, [("search", "x" * 101)]))[0]["parameter"] == "search"


class TestSort:
    async def test_by_number_then_serial(self, client: httpx.AsyncClient, scene: Scene) -> None:
        # numbers: row0 ...01, row1 ...02, row2 none, row3 ...01; serials ascend with creation: row1 < row0 < row3
        assert await listed_ids(client, scene, [("sort[number]", "1")]) == scene.ids(0, 3, 1, 2)
        assert await listed_ids(client, scene, [("sort[number]", "1"), ("sort[serial]", "-1")]) == scene.ids(3, 0, 1, 2)
        assert await listed_ids(client, scene, [("sort[number]", "-1")]) == scene.ids(1, 0, 3, 2)
        assert await listed_ids(client, scene, [("sort[serial]", "1")]) == scene.ids(1, 0, 3, 2)
        assert await listed_ids(client, scene, [("sort[serial]", "-1")]) == scene.ids(3, 0, 1, 2)

    async def test_the_given_order_matters(self, client: httpx.AsyncClient, scene: Scene) -> None:
        by_serial_first = [("sort[serial]", "-1"), ("sort[number]", "1")]
        assert await listed_ids(client, scene, by_serial_first) == scene.ids(3, 0, 1, 2)
        as_json = [("sort", '{"number": 1, "serial": -1}')]
        assert await listed_ids(client, scene, as_json) == scene.ids(3, 0, 1, 2)
        as_json = [("sort", '{"number": "-1"}')]
        assert await listed_ids(client, scene, as_json) == scene.ids(1, 0, 3, 2)

    @pytest.mark.parametrize(
        ("params", "parameter"),
        [
            ([("sort[number]", "2")], "sort[number]"),
            ([("sort[number]", "asc")], "sort[number]"),
            ([("sort[name]", "1")], "sort[name]"),
            ([("sort[number]", "1"), ("sort[number]", "-1")], "sort[number]"),
            ([("sort", "number")], "sort"),
            ([("sort", '{"number": true}')], "sort"),
            ([("sort[number][]", "1")], "sort[number][]"),
        ],
    )
    async def test_bad_values(self, client: httpx.AsyncClient, params: Params, parameter: str) -> None:
        errors = await refused(client, params)
        assert errors[0]["parameter"] == parameter


class TestPaging:
    async def test_limit_page_count(self, client: httpx.AsyncClient, scene: Scene) -> None:
        body = await listed(client, scene, [("limit", "3"), ("page", "1"), ("count", "true")])
        assert [item["id"] for item in body["data"]] == scene.ids(3)
        assert body["meta"] == {"page": 1, "limit": 3, "count": 4}
        body = await listed(client, scene, [("limit", "3"), ("page", "5"), ("count", "true")])
        assert body == {"data": [], "meta": {"page": 5, "limit": 3, "count": 4}}
        body = await listed(client, scene, [("count", "true"), ("filters[chips.carrier][ilk]", "i"), ("limit", "1")])
        assert body["meta"] == {"page": 0, "limit": 1, "count": 2}
        body = await listed(client, scene, [("count", "false")])
        assert body["meta"] == {"page": 0, "limit": 25}

    @pytest.mark.parametrize(
        ("parameter", "value"),
        [("limit", "0"), ("limit", "101"), ("page", "-1"), ("page", "x"), ("count", "yes"), ("as_of", "yesterday")],
    )
    async def test_bad_values(self, client: httpx.AsyncClient, parameter: str, value: str) -> None:
        errors = await refused(client, [(parameter, value)])
        assert errors[0]["parameter"] == parameter

    async def test_unknown_and_repeated(self, client: httpx.AsyncClient) -> None:
        assert await refused(client, [("colour", "red")]) == [{"parameter": "colour", "detail": "unknown parameter"}]
        assert await refused(client, [("limit", "1"), ("limit", "2")]) == [
            {"parameter": "limit", "detail": "given more than once"}
        ]
