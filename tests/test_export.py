"""`fleetreg export`: CSV that imports again unchanged, JSON lines, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import asyncpg

CUSTOMERS = 'name\n"Smith, Jones & Co"\n"She said ""hi"""\n"two\nlines"\nSão Paulo Frotas\n'


def run_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLEETREG_")}
    env["FLEETREG_DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "-m", "fleetreg", *args], env=env, capture_output=True, timeout=120)


async def rows(db: asyncpg.Connection, table: str) -> list[tuple[object, ...]]:
    columns = {
        "customers": "id, partner_id, name",
        "connectors": "id, partner_id, customer_id, name, type, hardware_version, software_version, pin",
    }[table]
    return [tuple(row) for row in await db.fetch(f"SELECT {columns} FROM {table} ORDER BY id")]


async def test_csv_round_trip(database_url: str, db: asyncpg.Connection, tmp_path: Path) -> None:
    await db.execute("INSERT INTO partners (name) VALUES ('acme')")
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    assert (
        run_cli(database_url, "import", "customers", "--partner", "acme", str(tmp_path / "customers.csv")).returncode
        == 0
    )
    customer_ids = [row[0] for row in await db.fetch("SELECT id FROM customers ORDER BY name")]
    connectors = "name,type,hardware_version,software_version,pin,customer_id\n" + "".join(
        f'"c,{i}",{"physical" if i % 2 else "virtual"},hw {i},sw {i},{f"{i:05d}" if i % 3 else ""},'
        f"{customer_ids[i % 4] if i % 5 else ''}\n"
        for i in range(40)
    )
    (tmp_path / "connectors.csv").write_text(connectors)
    imported = run_cli(database_url, "import", "connectors", "--partner", "acme", str(tmp_path / "connectors.csv"))
    assert imported.returncode == 0, imported.stderr
    before = {table: await rows(db, table) for table in ("customers", "connectors")}
    totals_before = await db.fetch("SELECT * FROM connector_totals ORDER BY 1, 2, 3")

    for table in ("customers", "connectors"):
        exported = run_cli(database_url, "export", table, "--partner", "acme")
        assert exported.returncode == 0, exported.stderr
        assert (
            exported.stderr.decode()
            .strip()
            .endswith(f"exported {len(before[table])} {table if len(before[table]) != 1 else table.removesuffix('s')}")
        )
        (tmp_path / f"{table}.out.csv").write_bytes(exported.stdout)
    header = (tmp_path / "connectors.out.csv").read_text().splitlines()[0]
    assert header == "id,name,type,hardware_version,software_version,pin,customer_id"

    await db.execute("DELETE FROM connectors")
    await db.execute("DELETE FROM customers")
    for table in ("customers", "connectors"):
        again = run_cli(database_url, "import", table, "--partner", "acme", str(tmp_path / f"{table}.out.csv"))
        assert again.returncode == 0, again.stderr
    assert {table: await rows(db, table) for table in ("customers", "connectors")} == before
    assert await db.fetch("SELECT * FROM connector_totals ORDER BY 1, 2, 3") == totals_before


async def test_jsonl(database_url: str, db: asyncpg.Connection) -> None:
    partner = await db.fetchval("INSERT INTO partners (name) VALUES ('acme') RETURNING id")
    await db.execute(
        "INSERT INTO customers (partner_id, name) SELECT $1, 'customer ' || g FROM generate_series(1, 25) g", partner
    )
    exported = run_cli(database_url, "export", "customers", "--partner", "acme", "--format", "jsonl")
    assert exported.returncode == 0
    lines = [json.loads(line) for line in exported.stdout.decode().splitlines()]
    assert len(lines) == 25
    assert set(lines[0]) == {"id", "name"}
    assert sorted(line["name"] for line in lines) == sorted(f"customer {g}" for g in range(1, 26))


def test_unknown_partner_is_one_line(database_url: str) -> None:
    result = run_cli(database_url, "export", "customers", "--partner", "nobody")
    assert result.returncode == 1
    assert result.stderr.decode() == "fleetreg: error: no partner named 'nobody'\n"
    assert result.stdout == b""
