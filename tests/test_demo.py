"""`fleetreg demo`: the demo data set loaded through the services, idempotent, reset, JSON for scripts."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from fleetreg import demo
from fleetreg.auth.scopes import ALL_SCOPES
from fleetreg.db import Database
from tests.support.database import opened
from tests.support.processes import FLEETREG, environment

JSON_KEYS = {"partner", "client_id", "client_secret"}


def run_demo(database_url: str | None, *args: str, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"FLEETREG_DATABASE_URL": database_url} if database_url else {}
    if data_dir is not None:
        env["FLEETREG_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [*FLEETREG, "demo", *args], env=environment(**env), capture_output=True, text=True, timeout=120
    )


def last_json_line(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    value: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return value


async def demo_state(db: asyncpg.Connection) -> dict[str, Any]:
    """What the API would show of the demo, counted from the tables."""
    row = await db.fetchrow(
        """
        WITH p AS (SELECT id FROM partners WHERE name = 'demo-partner'),
             e AS (SELECT id FROM enterprises WHERE deleted_at IS NULL),
             a AS (SELECT ended_at FROM device_associations WHERE enterprise_id IN (SELECT id FROM e))
        SELECT
            (SELECT count(*) FROM customers WHERE partner_id = (SELECT id FROM p)) AS customers,
            (SELECT count(*) FROM connectors WHERE partner_id = (SELECT id FROM p)) AS connectors,
            (SELECT count(*) FROM connectors WHERE partner_id = (SELECT id FROM p) AND customer_id IS NOT NULL)
                AS assigned,
            (SELECT count(*) FROM e) AS enterprises,
            (SELECT count(*) FROM vehicles WHERE deleted_at IS NULL) AS vehicles,
            (SELECT count(*) FROM devices WHERE deleted_at IS NULL) AS devices,
            (SELECT count(*) FROM chips) AS chips,
            (SELECT count(*) FROM chips WHERE device_id IS NOT NULL) AS installed_chips,
            (SELECT count(*) FROM a WHERE ended_at IS NULL) AS active,
            (SELECT count(*) FROM a WHERE ended_at IS NOT NULL) AS ended,
            (SELECT count(*) FROM oauth_clients WHERE partner_id = (SELECT id FROM p) AND revoked_at IS NULL)
                AS live_clients
        """
    )
    return dict(row)


LOADED = {
    "customers": 3,
    "connectors": 8,
    "assigned": 4,
    "enterprises": 2,
    "vehicles": 5,
    "devices": 8,
    "chips": 7,
    "installed_chips": 6,
    "active": 6,
    "ended": 3,
    "live_clients": 1,
}


async def assert_totals_exact(db: asyncpg.Connection) -> None:
    """The counter tables the lists read agree with the rows: the demo went through the triggers."""
    connectors = await db.fetch(
        "SELECT partner_id, type, customer_id IS NOT NULL AS assigned, count(*) AS n FROM connectors GROUP BY 1, 2, 3"
    )
    totals = await db.fetch("SELECT partner_id, type, assigned, n FROM connector_totals WHERE n <> 0")
    assert {tuple(r) for r in connectors} == {tuple(r) for r in totals}
    customers = await db.fetch("SELECT partner_id, count(*) AS n FROM customers GROUP BY 1")
    assert {tuple(r) for r in customers} == {
        tuple(r) for r in await db.fetch("SELECT partner_id, n FROM customer_totals WHERE n <> 0")
    }
    live = await db.fetch(
        """
        SELECT 'enterprises' AS kind, '' AS enterprise_id, count(*) AS n FROM enterprises WHERE deleted_at IS NULL
        UNION ALL SELECT 'chips', '', count(*) FROM chips
        UNION ALL SELECT 'vehicles', enterprise_id, count(*) FROM vehicles WHERE deleted_at IS NULL GROUP BY 2
        UNION ALL SELECT 'devices', enterprise_id, count(*) FROM devices WHERE deleted_at IS NULL GROUP BY 2
        """
    )
    fleet = await db.fetch("SELECT kind, enterprise_id, n FROM fleet_totals WHERE n <> 0")
    assert {tuple(r) for r in live if r["n"]} == {tuple(r) for r in fleet}


async def assert_one_main_per_vehicle(db: asyncpg.Connection) -> None:
    mains = await db.fetch(
        """
        SELECT vehicle_id, count(*) FILTER (WHERE is_main_device) AS mains
        FROM device_associations WHERE ended_at IS NULL GROUP BY vehicle_id
        """
    )
    assert mains
    assert all(row["mains"] == 1 for row in mains)


async def token(http: httpx.AsyncClient, credentials: dict[str, Any]) -> httpx.Response:
    return await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(credentials["client_id"], credentials["client_secret"]),
    )


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """The service's own access to the test's database, as the command uses it."""
    async with opened(database_url, min_size=1, max_size=4, timeout=30) as pool:
        yield pool


class TestLoad:
    async def test_loads_the_data_set_and_a_working_client(
        self, database: Database, db: asyncpg.Connection, client: httpx.AsyncClient
    ) -> None:
        result = await demo.load(database)
        assert result.created > 0
        assert result.summary["active_associations"] == 6
        assert await demo_state(db) == LOADED
        await assert_totals_exact(db)
        await assert_one_main_per_vehicle(db)
        enterprises = await db.fetch("SELECT name, cnpj FROM enterprises ORDER BY name")
        assert [(row["name"], row["cnpj"]) for row in enterprises] == [
            ("Logística Ipê S.A.", "12ABC34501DE35"),
            ("Transportes Aurora Ltda", "11222333000181"),
        ]

        granted = await token(client, result.as_json())
        assert granted.status_code == 200, granted.text
        assert set(granted.json()["scope"].split()) == set(ALL_SCOPES)
        headers = {"Authorization": f"Bearer {granted.json()['access_token']}"}
        connectors = await client.get("/v2/customers/connectors", params={"assigned": "false"}, headers=headers)
        assert connectors.status_code == 200
        assert connectors.json()["total"] == 4
        assert [c["name"] for c in connectors.json()["result"]] == ["DEMO-1005", "DEMO-1006", "DEMO-1007", "DEMO-1008"]

    async def test_history_of_a_device(self, database: Database, client: httpx.AsyncClient) -> None:
        await demo.load(database)
        (a4,) = (await client.get("/v2/devices", params={"search": "Tracker A4"})).json()["data"]
        (truck_1,) = (await client.get("/v2/vehicles", params={"search": "Truck 01"})).json()["data"]
        (truck_2,) = (await client.get("/v2/vehicles", params={"search": "Truck 02"})).json()["data"]
        history = (await client.get(f"/v2/devices/{a4['id']}/associations")).json()["data"]
        assert [(h["attributes"]["vehicle_id"], h["attributes"]["ended_at"] is None) for h in history] == [
            (truck_2["id"], True),
            (truck_1["id"], False),
        ]


class TestIdempotent:
    async def test_twice_adds_nothing_and_rotates_the_client(
        self, database: Database, db: asyncpg.Connection, client: httpx.AsyncClient
    ) -> None:
        first = await demo.load(database)
        ids_before = await db.fetch("SELECT id FROM vehicles UNION ALL SELECT id FROM devices ORDER BY 1")
        # A change made since (plain SQL runs the same triggers as the API) is kept by a second run.
        await db.execute("UPDATE connectors SET customer_id = NULL WHERE name = 'DEMO-1001'")

        second = await demo.load(database)
        assert second.created == 0
        assert second.revoked_clients == 1
        assert await demo_state(db) == LOADED | {"assigned": 3}
        assert await db.fetch("SELECT id FROM vehicles UNION ALL SELECT id FROM devices ORDER BY 1") == ids_before
        await assert_totals_exact(db)

        refused = await token(client, first.as_json())
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_client"
        assert (await token(client, second.as_json())).status_code == 200

    async def test_partly_loaded_data_is_completed(self, database: Database, db: asyncpg.Connection) -> None:
        await demo.load(database)
        await db.execute("DELETE FROM chips WHERE device_id IS NULL")
        await db.execute("DELETE FROM connectors WHERE name = 'DEMO-1008'")
        assert (await demo.load(database)).created == 2
        assert await demo_state(db) == LOADED
        await assert_totals_exact(db)

    async def test_two_runs_at_once_load_once(self, database: Database, db: asyncpg.Connection) -> None:
        async def run() -> demo.DemoResult:
            async with demo.exclusive(database):
                return await demo.load(database)

        first, second = await asyncio.gather(run(), run())
        assert sorted([first.created, second.created])[0] == 0
        assert await demo_state(db) == LOADED
        await assert_totals_exact(db)


class TestReset:
    async def test_reset_starts_over_with_new_rows_and_keeps_history(
        self, database: Database, db: asyncpg.Connection, client: httpx.AsyncClient
    ) -> None:
        first = await demo.load(database)
        old_vehicles = [row["id"] for row in await db.fetch("SELECT id FROM vehicles")]
        await db.execute("UPDATE connectors SET customer_id = NULL WHERE name = 'DEMO-1001'")

        assert await demo.reset(database) > 0
        assert await demo_state(db) == LOADED | {
            "customers": 0,
            "connectors": 0,
            "assigned": 0,
            "enterprises": 0,
            "vehicles": 0,
            "devices": 0,
            "chips": 0,
            "installed_chips": 0,
            "active": 0,
            "ended": 0,
            "live_clients": 0,
        }
        await assert_totals_exact(db)
        await demo.load(database)
        assert await demo_state(db) == LOADED, "assignments are as loaded again"
        await assert_totals_exact(db)
        await assert_one_main_per_vehicle(db)

        live_vehicles = {row["id"] for row in await db.fetch("SELECT id FROM vehicles WHERE deleted_at IS NULL")}
        assert live_vehicles.isdisjoint(old_vehicles), "ids of deleted rows are never reused"
        # History is never erased: the old associations stay, all ended, with their deleted vehicles.
        old = await db.fetch(
            "SELECT ended_at FROM device_associations WHERE vehicle_id = ANY($1::text[])", old_vehicles
        )
        assert len(old) == 9
        assert all(row["ended_at"] is not None for row in old)
        assert (await client.get(f"/v2/vehicles/{old_vehicles[0]}")).status_code == 404
        assert (await token(client, first.as_json())).status_code == 401

    async def test_reset_of_an_empty_database_changes_nothing(self, database: Database, db: asyncpg.Connection) -> None:
        assert await demo.reset(database) == 0
        assert await demo.is_empty(database)


class TestIsEmpty:
    async def test_any_data_counts(self, database: Database, db: asyncpg.Connection) -> None:
        assert await demo.is_empty(database)
        await db.execute("INSERT INTO partners (name) VALUES ('acme')")
        assert not await demo.is_empty(database)


@pytest.mark.slow
class TestCommand:
    def test_output_json_and_options(self, database_url: str) -> None:
        first = run_demo(database_url)
        assert first.returncode == 0, first.stderr
        assert "Demo data loaded" in first.stdout
        lines = first.stdout.splitlines()
        client_id = next(line.split()[1] for line in lines if line.strip().startswith("client_id:"))
        secret = next(line.split()[1] for line in lines if line.strip().startswith("client_secret:"))
        assert client_id.startswith("cl_")
        assert f"CLIENT_ID={client_id} CLIENT_SECRET={secret}" in first.stdout

        again = last_json_line(run_demo(database_url, "--json"))
        assert set(again) == JSON_KEYS
        assert again["partner"] == demo.PARTNER
        assert again["client_id"] != client_id

        skipped = run_demo(database_url, "--if-empty", "--json")
        assert last_json_line(skipped) == dict.fromkeys(JSON_KEYS)
        assert "holds data already" in skipped.stderr

        reset = run_demo(database_url, "--reset")
        assert reset.returncode == 0, reset.stderr
        assert "Demo data removed" in reset.stdout
        assert "Demo data loaded" in reset.stdout

        usage = run_demo(database_url, "--if-empty", "--reset")
        assert usage.returncode == 2
        assert usage.stderr == "fleetreg: error: --reset and --if-empty exclude each other\n"


@pytest.mark.slow
def test_embedded_database(tmp_path: Path) -> None:
    """As `make run` does it: a fresh data directory, the embedded server started and stopped."""
    data_dir = tmp_path / "var"
    credentials = last_json_line(run_demo(None, "--if-empty", "--json", data_dir=data_dir))
    assert credentials["partner"] == demo.PARTNER
    again = run_demo(None, "--if-empty", data_dir=data_dir)
    assert again.returncode == 0, again.stderr
    assert "holds data already" in again.stdout
    assert "already loaded, nothing added" in run_demo(None, data_dir=data_dir).stdout


def test_data_set_is_valid() -> None:
    """The keys are valid as the API checks them, and unique."""
    from fleetreg.fleet import formats

    imeis = [device.imei for enterprise in demo.ENTERPRISES for device in enterprise.devices]
    serials = [chip.serial for chip in demo._all_chips()]
    assert all(formats.check_imei(imei) == imei for imei in imeis)
    assert all(formats.check_iccid(serial) == serial for serial in serials)
    assert all(formats.normalize_cnpj(e.cnpj) == e.cnpj for e in demo.ENTERPRISES)
    assert len(set(imeis)) == len(imeis)
    assert len(set(serials)) == len(serials)
