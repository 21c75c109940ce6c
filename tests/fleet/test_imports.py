"""CSV imports of the fleet: ids kept, every bad row reported with its line, all rows or none."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from fleetreg.fleet.imports import CHIPS, DEVICES, ENTERPRISES, VEHICLES
from fleetreg.importer import ImportResult, ImportSpec, import_csv
from tests.support.fleet import cnpj_of as cnpj
from tests.support.fleet import iccid_of as iccid
from tests.support.fleet import imei_of as imei


def csv(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode())


async def load(db: asyncpg.Connection, spec: ImportSpec, text: str) -> ImportResult:
    return await import_csv(db, spec, csv(text))


def lines(result: ImportResult) -> dict[int, str]:
    return {error.line: error.reason for error in result.errors}


async def count(db: asyncpg.Connection, table: str) -> int:
    return await db.fetchval(f"SELECT count(*) FROM {table}")  # type: ignore[no-any-return]


ENTERPRISE_ID = "E00000000000001"


@pytest.fixture
async def enterprise(db: asyncpg.Connection) -> str:
    result = await load(db, ENTERPRISES, f"id,name,cnpj\n{ENTERPRISE_ID},Acme,{cnpj(1)}\n")
    assert result.ok, result.errors
    return ENTERPRISE_ID


class TestGoodFiles:
    async def test_enterprises_ids_kept_and_generated_cnpj_normalized(self, db: asyncpg.Connection) -> None:
        text = f"id,name,cnpj\nE00000000000001,Kept,{cnpj(1)}\n,Generated,12.abc.345/01de-35\n"
        result = await load(db, ENTERPRISES, text)
        assert result.ok, result.errors
        assert result.rows == 2
        rows = {row["name"]: row for row in await db.fetch("SELECT id, name, cnpj FROM enterprises")}
        assert rows["Kept"]["id"] == "E00000000000001"
        assert len(rows["Generated"]["id"]) == 15
        assert rows["Generated"]["id"].isalnum()
        assert rows["Generated"]["cnpj"] == "12ABC34501DE35"
        assert await db.fetchval("SELECT n FROM fleet_totals WHERE kind = 'enterprises'") == 2

    async def test_vehicles_devices_chips(self, db: asyncpg.Connection, enterprise: str) -> None:
        vehicles = "id,enterprise_id,name,plate,vin\n" + "".join(
            f"V{i:014d},{enterprise},Truck {i},{f'P{i}' if i % 2 else ''},{'9bwzzz377vt004251' if i == 1 else ''}\n"
            for i in range(5)
        )
        assert (await load(db, VEHICLES, vehicles)).ok
        devices = "id,enterprise_id,name,imei,code\n" + "".join(
            f"D{i:014d},{enterprise},Tracker {i},{imei(i)},T{i}\n" for i in range(5)
        )
        assert (await load(db, DEVICES, devices)).ok
        chips = "id,serial,number,carrier,service_provider,batch,device_id\n" + "".join(
            f"C{i:014d},{iccid(i)},+5511{i:09d},Vivo,Vivo IoT,B1,{f'D{i:014d}' if i < 3 else ''}\n" for i in range(5)
        )
        result = await load(db, CHIPS, chips)
        assert result.ok, result.errors
        vehicle = await db.fetchrow("SELECT * FROM vehicles WHERE id = 'V00000000000001'")
        assert (vehicle["plate"], vehicle["vin"]) == ("P1", "9BWZZZ377VT004251")
        assert await db.fetchval("SELECT plate FROM vehicles WHERE id = 'V00000000000000'") is None
        assert await db.fetchval("SELECT device_id FROM chips WHERE id = 'C00000000000002'") == "D00000000000002"
        assert await db.fetchval("SELECT device_id FROM chips WHERE id = 'C00000000000004'") is None
        totals = {(r["kind"], r["enterprise_id"]): r["n"] for r in await db.fetch("SELECT * FROM fleet_totals")}
        assert totals == {
            ("enterprises", ""): 1,
            ("vehicles", enterprise): 5,
            ("devices", enterprise): 5,
            ("chips", ""): 5,
        }

    async def test_optional_columns_may_be_left_out(self, db: asyncpg.Connection, enterprise: str) -> None:
        assert (await load(db, VEHICLES, f"enterprise_id,name\n{enterprise},Truck\n")).ok
        assert (await load(db, CHIPS, f"serial,number,carrier,service_provider,batch\n{iccid(1)},+551199,V,V,B\n")).ok


class TestBadRows:
    async def test_formats_checked_per_row_with_line_numbers(self, db: asyncpg.Connection) -> None:
        text = (
            f"id,name,cnpj\n,Good,{cnpj(1)}\n,Bad check digits,{cnpj(2)[:-1]}0\nshort,Bad id,{cnpj(3)}\n,,{cnpj(4)}\n"
        )
        result = await load(db, ENTERPRISES, text)
        assert not result.ok
        errors = lines(result)
        assert sorted(errors) == [3, 4, 5]
        assert "check digits" in errors[3]
        assert "id 'short'" in errors[4]
        assert "name is empty" in errors[5]
        assert await count(db, "enterprises") == 0

    async def test_imei_iccid_e164_vin(self, db: asyncpg.Connection, enterprise: str) -> None:
        bad_imei = imei(1)[:-1] + str((int(imei(1)[-1]) + 1) % 10)
        result = await load(
            db, DEVICES, f"enterprise_id,name,imei,code\n{enterprise},A,{bad_imei},X\n{enterprise},B,123,X\n"
        )
        assert lines(result).keys() == {2, 3}
        assert "Luhn" in lines(result)[2]
        assert "15 digits" in lines(result)[3]
        result = await load(
            db,
            CHIPS,
            "serial,number,carrier,service_provider,batch\n"
            f"{iccid(1)},5511999,V,V,B\n"
            f"{iccid(2)[:-1]}{(int(iccid(2)[-1]) + 1) % 10},+5511999,V,V,B\n",
        )
        assert "E.164" in lines(result)[2]
        assert "Luhn" in lines(result)[3]
        result = await load(db, VEHICLES, f"enterprise_id,name,vin\n{enterprise},A,9BWZZZ377VT00425I\n")
        assert "without I, O and Q" in lines(result)[2]
        assert await count(db, "devices") + await count(db, "chips") + await count(db, "vehicles") == 0

    async def test_duplicates_within_the_file(self, db: asyncpg.Connection, enterprise: str) -> None:
        text = (
            "id,enterprise_id,name,imei,code\n"
            f"D00000000000001,{enterprise},A,{imei(1)},X\n"
            f"D00000000000001,{enterprise},B,{imei(2)},X\n"
            f",{enterprise},C,{imei(1)},X\n"
        )
        result = await load(db, DEVICES, text)
        errors = lines(result)
        assert errors[3] == "id D00000000000001 appears again (first on line 2)"
        assert errors[4] == f"imei {imei(1)} appears again (first on line 2)"
        assert await count(db, "devices") == 0

    async def test_existing_ids_and_keys(self, db: asyncpg.Connection, enterprise: str) -> None:
        result = await load(db, ENTERPRISES, f"id,name,cnpj\n{enterprise},Again,{cnpj(5)}\n,Same CNPJ,{cnpj(1)}\n")
        assert lines(result) == {
            2: f"an enterprise with id {enterprise} exists already",
            3: f"a live enterprise has the CNPJ {cnpj(1)} already",
        }

    async def test_a_deleted_enterprise_frees_its_cnpj_but_not_its_id(
        self, db: asyncpg.Connection, enterprise: str
    ) -> None:
        await db.execute("UPDATE enterprises SET deleted_at = now() WHERE id = $1", enterprise)
        result = await load(db, ENTERPRISES, f"id,name,cnpj\n,New,{cnpj(1)}\n{enterprise},Old id,{cnpj(6)}\n")
        assert lines(result) == {3: f"an enterprise with id {enterprise} exists already"}
        assert (await load(db, ENTERPRISES, f"id,name,cnpj\n,New,{cnpj(1)}\n")).ok

    async def test_unknown_or_deleted_references(self, db: asyncpg.Connection, enterprise: str) -> None:
        await load(db, ENTERPRISES, f"id,name,cnpj\nE00000000000002,Gone,{cnpj(2)}\n")
        await db.execute("UPDATE enterprises SET deleted_at = now() WHERE id = 'E00000000000002'")
        text = f"enterprise_id,name\n{enterprise},ok\nE00000000000002,gone\nE00000000000009,unknown\n"
        result = await load(db, VEHICLES, text)
        assert lines(result) == {
            3: "enterprise_id E00000000000002 is not a live enterprise",
            4: "enterprise_id E00000000000009 is not a live enterprise",
        }
        assert await count(db, "vehicles") == 0

    async def test_chips_device_checks(self, db: asyncpg.Connection, enterprise: str) -> None:
        devices = f"id,enterprise_id,name,imei,code\nD00000000000001,{enterprise},A,{imei(1)},X\n"
        assert (await load(db, DEVICES, devices)).ok
        header = "serial,number,carrier,service_provider,batch,device_id\n"
        assert (await load(db, CHIPS, f"{header}{iccid(1)},+551199,V,V,B,D00000000000001\n")).ok
        result = await load(
            db,
            CHIPS,
            header
            + f"{iccid(1)},+551199,V,V,B,\n"
            + f"{iccid(2)},+551199,V,V,B,D00000000000001\n"
            + f"{iccid(3)},+551199,V,V,B,D00000000000009\n"
            + f"{iccid(4)},+551199,V,V,B,D00000000000009\n",
        )
        errors = lines(result)
        assert errors[2] == f"a chip has the serial {iccid(1)} already"
        assert errors[3].startswith("device D00000000000001 holds chip ")
        assert errors[4] == "device_id D00000000000009 is not a live device"
        assert {error.reason for error in result.errors if error.line == 5} == {
            "device_id D00000000000009 appears again (first on line 4)",
            "device_id D00000000000009 is not a live device",
        }
        assert await count(db, "chips") == 1


def run_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLEETREG_")}
    env["FLEETREG_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "fleetreg", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.slow
async def test_the_four_commands(database_url: str, db: asyncpg.Connection, tmp_path: Path) -> None:
    files = {
        "enterprises": f"id,name,cnpj\n{ENTERPRISE_ID},Acme,{cnpj(1)}\n",
        "vehicles": f"id,enterprise_id,name,plate,vin\nV00000000000001,{ENTERPRISE_ID},Truck,P1,\n",
        "devices": f"id,enterprise_id,name,imei,code\nD00000000000001,{ENTERPRISE_ID},Tracker,{imei(1)},T1\n",
        "chips": f"id,serial,number,carrier,service_provider,batch,device_id\n"
        f"C00000000000001,{iccid(1)},+5511999,Vivo,Vivo IoT,B1,D00000000000001\n",
    }
    for entity, text in files.items():
        path = tmp_path / f"{entity}.csv"
        path.write_text(text)
        result = run_cli(database_url, "import", entity, str(path), "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["imported"] == 1
    bad = tmp_path / "bad.csv"
    bad.write_text(f"id,enterprise_id,name,imei,code\n,{ENTERPRISE_ID},Tracker,{imei(1)},T1\n,,x,1,y\n")
    result = run_cli(database_url, "import", "devices", str(bad))
    assert result.returncode == 1
    assert f"{bad}:3: enterprise_id is empty" in result.stderr
    assert "nothing was imported" in result.stderr
    assert await count(db, "devices") == 1
