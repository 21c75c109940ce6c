"""Every write operation of the API makes its events (docs/api.md §5), and the CLI's write commands too.

The operations are read from /openapi.json: a write operation added without a scenario here fails
``test_every_write_operation_has_a_scenario``, so no new route can forget its events (the triggers
of migration 0006 make them whatever the route does; this proves it for each)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.app import App, openapi_of
from tests.support.fleet import Fleet
from tests.support.partner import CONNECTORS, Partner
from tests.test_importer import run_cli

EVENTS = "/v2/events"
# Writes that change no resource of the feed: they make no event.
WITHOUT_EVENTS = {"issue_token"}


class Writes:
    """What a scenario needs: the partner, the fleet, and ``mark()`` just before the write under test."""

    def __init__(self, http: httpx.AsyncClient, acme: Partner) -> None:
        self.http, self.acme, self.fleet = http, acme, Fleet(http)
        self.cursors: tuple[str, str] | None = None

    async def mark(self) -> None:
        partner = (await self.acme.get(EVENTS)).json()["next_cursor"]
        fleet = (await self.http.get(EVENTS)).json()["next_cursor"]
        self.cursors = (partner, fleet)

    async def events_since_mark(self) -> list[dict[str, Any]]:
        assert self.cursors is not None, "the scenario calls mark() before its write"
        partner = (await self.acme.get(EVENTS, params={"after": self.cursors[0], "limit": 1000})).json()["data"]
        fleet = (await self.http.get(EVENTS, params={"after": self.cursors[1], "limit": 1000})).json()["data"]
        return sorted(partner + fleet, key=lambda event: event["sequence"])

    async def vehicle_with_devices(self, count: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        enterprise = await self.fleet.enterprise()
        vehicle = await self.fleet.vehicle(enterprise["id"])
        return vehicle, [await self.fleet.device(enterprise["id"]) for _ in range(count)]


def ok(response: httpx.Response) -> None:
    assert response.status_code < 300, response.text


Scenario = Callable[[Writes], Awaitable[list[str]]]


async def create_connector(w: Writes) -> list[str]:
    await w.mark()
    ok(
        await w.acme.post(
            CONNECTORS, json={"name": "R", "type": "virtual", "hardware_version": "1", "software_version": "1"}
        )
    )
    return ["connector.created"]


async def assign_connector(w: Writes) -> list[str]:
    customer, connector = await w.acme.customer(), await w.acme.connector("R")
    await w.mark()
    await w.acme.assign(connector["id"], customer["id"])
    return ["connector.assigned"]


async def delete_connector(w: Writes) -> list[str]:
    connector = await w.acme.connector("R")
    await w.mark()
    ok(await w.acme.delete(f"{CONNECTORS}/{connector['id']}"))
    return ["connector.deleted"]


async def create_customer(w: Writes) -> list[str]:
    await w.mark()
    await w.acme.customer()
    return ["customer.created"]


async def rename_customer(w: Writes) -> list[str]:
    customer = await w.acme.customer()
    await w.mark()
    ok(await w.acme.put(f"/v2/customers/{customer['id']}", json={"name": "Renamed"}))
    return ["customer.updated"]


async def delete_customer(w: Writes) -> list[str]:
    customer = await w.acme.customer()
    await w.mark()
    ok(await w.acme.delete(f"/v2/customers/{customer['id']}"))
    return ["customer.deleted"]


def entity_scenarios(kind: str, path: str) -> dict[str, Scenario]:
    async def make(w: Writes) -> dict[str, Any]:
        if kind == "enterprise":
            return await w.fleet.enterprise()
        if kind == "chip":
            return await w.fleet.chip()
        enterprise = await w.fleet.enterprise()
        return await (w.fleet.vehicle if kind == "vehicle" else w.fleet.device)(enterprise["id"])

    async def create(w: Writes) -> list[str]:
        first = await make(w)  # the enterprise a vehicle or device needs
        attributes = {
            key: value for key, value in first["attributes"].items() if key not in ("created_at", "updated_at")
        }
        for unique in ("cnpj", "imei", "serial"):
            if unique in attributes:
                attributes[unique] = getattr(w.fleet, {"serial": "iccid"}.get(unique, unique))()
        await w.mark()
        ok(
            await w.http.post(
                path, json={"data": [{"attributes": attributes}, {"attributes": {**attributes, **_other(w, kind)}}]}
            )
        )
        return [f"{kind}.created"] * 2

    async def update(w: Writes) -> list[str]:
        resource = await make(w)
        await w.mark()
        member = "batch" if kind == "chip" else "name"
        ok(await w.http.patch(f"{path}/{resource['id']}", json={"data": {"attributes": {member: "Changed"}}}))
        return [f"{kind}.updated"]

    async def delete(w: Writes) -> list[str]:
        resource = await make(w)
        await w.mark()
        ok(await w.http.delete(f"{path}/{resource['id']}"))
        return [f"{kind}.deleted"]

    plural = path.rsplit("/", 1)[1]
    return {f"create_{plural}": create, f"update_{kind}": update, f"delete_{kind}": delete}


def _other(w: Writes, kind: str) -> dict[str, Any]:
    """Fresh unique members for the second item of a bulk create."""
    return {
        "enterprise": {"cnpj": w.fleet.cnpj()},
        "device": {"imei": w.fleet.imei()},
        "chip": {"serial": w.fleet.iccid()},
    }.get(kind, {})


async def create_associations(w: Writes) -> list[str]:
    vehicle, devices = await w.vehicle_with_devices(2)
    await w.mark()
    await w.fleet.associate((vehicle["id"], devices[0]["id"], True), (vehicle["id"], devices[1]["id"], False))
    return ["association.started"] * 2


async def end_associations(w: Writes) -> list[str]:
    vehicle, devices = await w.vehicle_with_devices(1)
    [association] = await w.fleet.associate((vehicle["id"], devices[0]["id"], True))
    await w.mark()
    ok(await w.fleet.end(association["id"]))
    return ["association.ended"]


async def update_association(w: Writes) -> list[str]:
    vehicle, devices = await w.vehicle_with_devices(2)
    _main, other = await w.fleet.associate(
        (vehicle["id"], devices[0]["id"], True), (vehicle["id"], devices[1]["id"], False)
    )
    await w.mark()
    url = f"/v2/vehicles/{vehicle['id']}/associations/devices/{other['id']}"
    ok(await w.http.patch(url, json={"data": {"attributes": {"is_main_device": True}}}))
    return ["association.main_changed"] * 2


async def replace_association_device(w: Writes) -> list[str]:
    vehicle, devices = await w.vehicle_with_devices(2)
    [association] = await w.fleet.associate((vehicle["id"], devices[0]["id"], True))
    await w.mark()
    url = f"/v2/vehicles/{vehicle['id']}/associations/devices/{association['id']}/replace"
    ok(await w.http.post(url, json={"data": {"device_id": devices[1]["id"]}}))
    return ["association.replaced"]  # one event: not an ended and a started beside it


SCENARIOS: dict[str, Scenario] = {
    "create_connector": create_connector,
    "assign_connector": assign_connector,
    "delete_connector": delete_connector,
    "create_customer": create_customer,
    "rename_customer": rename_customer,
    "delete_customer": delete_customer,
    **entity_scenarios("enterprise", "/v2/enterprises"),
    **entity_scenarios("vehicle", "/v2/vehicles"),
    **entity_scenarios("device", "/v2/devices"),
    **entity_scenarios("chip", "/v2/chips"),
    "create_associations": create_associations,
    "end_associations": end_associations,
    "update_association": update_association,
    "replace_association_device": replace_association_device,
}


def test_every_write_operation_has_a_scenario(app: App) -> None:
    document = openapi_of(app)
    writes = {
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in ("post", "put", "patch", "delete")
    }
    assert writes - WITHOUT_EVENTS - {
        name for name in writes if name.endswith(("_webhook", "_webhooks")) or "webhook" in name
    } == set(SCENARIOS)


@pytest.mark.parametrize("operation", sorted(SCENARIOS))
async def test_the_write_makes_its_events(client: httpx.AsyncClient, acme: Partner, operation: str) -> None:
    writes = Writes(client, acme)
    expected = await SCENARIOS[operation](writes)
    events = await writes.events_since_mark()
    assert [event["type"] for event in events] == expected
    assert all(event["actor"].get("request_id") for event in events)


class TestCommandLine:
    async def test_an_import_makes_one_event_per_row_with_the_cli_as_actor(
        self, database_url: str, acme: Partner, tmp_path: Path, db: asyncpg.Connection
    ) -> None:
        file = tmp_path / "customers.csv"
        file.write_text("name\n" + "".join(f"customer {number}\n" for number in range(20)))
        result = run_cli(database_url, "import", "customers", "--partner", "acme", str(file))
        assert result.returncode == 0, result.stderr
        rows = await db.fetch("SELECT type, actor::text FROM events ORDER BY sequence")
        assert [row["type"] for row in rows] == ["customer.created"] * 20
        assert {row["actor"] for row in rows} == {'{"kind":"cli"}'}

    async def test_a_refused_import_makes_none(
        self, database_url: str, acme: Partner, tmp_path: Path, db: asyncpg.Connection
    ) -> None:
        file = tmp_path / "connectors.csv"
        file.write_text("name,type,hardware_version,software_version\nok,virtual,1,1\nno,weird,1,1\n")
        assert run_cli(database_url, "import", "connectors", "--partner", "acme", str(file)).returncode == 1
        assert await db.fetchval("SELECT count(*) FROM events") == 0

    async def test_the_demo_makes_the_events_of_its_data(self, database_url: str, db: asyncpg.Connection) -> None:
        result = run_cli(database_url, "demo")
        assert result.returncode == 0, result.stderr
        counts = dict(
            await db.fetch(
                "SELECT subject_type, count(*) FROM events"
                " WHERE type LIKE '%.created' OR type = 'association.started' GROUP BY 1"
            )
        )
        for table, subject in [
            ("customers", "customer"),
            ("connectors", "connector"),
            ("enterprises", "enterprise"),
            ("vehicles", "vehicle"),
            ("devices", "device"),
            ("chips", "chip"),
            ("device_associations", "device_association"),
        ]:
            assert counts[subject] == await db.fetchval(f"SELECT count(*) FROM {table}"), subject

    async def test_a_change_in_sql_is_an_event_too(self, db: asyncpg.Connection, acme: Partner) -> None:
        await db.execute("INSERT INTO customers (partner_id, name) VALUES ($1, 'psql')", acme.id)
        row = await db.fetchrow("SELECT type, actor::text, partner_id FROM events")
        assert (row["type"], row["actor"], row["partner_id"]) == ("customer.created", '{"kind":"cli"}', acme.id)

    async def test_a_live_row_purged_in_sql_is_deleted(self, db: asyncpg.Connection) -> None:
        """A DELETE of softly deleted kinds (an operator's purge) works, and a live row's is its
        ``.deleted`` event; a row deleted softly before had its event then."""
        await db.execute("INSERT INTO enterprises (id, name, cnpj) VALUES ('PurgeMe00000001', 'P', '11222333000181')")
        await db.execute(
            "INSERT INTO vehicles (id, enterprise_id, name) VALUES ('PurgeVehicle001', 'PurgeMe00000001', 'V')"
        )
        await db.execute(
            "INSERT INTO vehicles (id, enterprise_id, name) VALUES ('PurgeVehicle002', 'PurgeMe00000001', 'W')"
        )
        await db.execute("UPDATE vehicles SET deleted_at = now() WHERE id = 'PurgeVehicle002'")
        await db.execute("DELETE FROM vehicles")
        await db.execute("DELETE FROM enterprises")
        rows = await db.fetch(
            "SELECT type, subject_id, enterprise_id, before->>'id' AS id FROM events"
            " WHERE type LIKE '%.deleted' ORDER BY sequence"
        )
        assert [tuple(row) for row in rows] == [
            ("vehicle.deleted", "PurgeVehicle002", "PurgeMe00000001", "PurgeVehicle002"),
            ("vehicle.deleted", "PurgeVehicle001", "PurgeMe00000001", "PurgeVehicle001"),
            ("enterprise.deleted", "PurgeMe00000001", "PurgeMe00000001", "PurgeMe00000001"),
        ]

    async def test_a_rolled_back_transaction_makes_none(self, db: asyncpg.Connection, acme: Partner) -> None:
        transaction = db.transaction()
        await transaction.start()
        await db.execute("INSERT INTO customers (partner_id, name) VALUES ($1, 'gone')", acme.id)
        await transaction.rollback()
        assert await db.fetchval("SELECT count(*) FROM events") == 0
        assert await db.fetchval("SELECT count(*) FROM pending_events") == 0
