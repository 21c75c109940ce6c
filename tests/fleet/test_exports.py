"""`fleetreg export enterprises|vehicles|devices|chips`: CSV that imports into another database as the
same rows (ids kept), JSON lines, live rows only, memory flat on large tables."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import psutil
import pytest

from fleetreg.fleet import exports as fleet_exports
from tests.support.database import database_url_for
from tests.support.fleet import cnpj_of as cnpj
from tests.support.fleet import iccid_of as iccid
from tests.support.fleet import imei_of as imei
from tests.support.processes import FLEETREG, environment

FLEET_TYPES = ("enterprises", "vehicles", "devices", "chips")
COLUMNS = {
    "enterprises": "id, name, cnpj",
    "vehicles": "id, enterprise_id, name, plate, vin",
    "devices": "id, enterprise_id, name, imei, code",
    "chips": "id, serial, number, carrier, service_provider, batch, device_id",
}
AWKWARD_NAMES = ["Smith, Jones & Co", 'She said "hi"', "two\nlines", "São Paulo Frotas", " spaced ", "NULL", ""]


def fleet_id(prefix: str, number: int) -> str:
    return f"{prefix}{number:014d}"


def cli(database_url: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*FLEETREG, *args], env=environment(FLEETREG_DATABASE_URL=database_url), capture_output=True, timeout=300
    )


async def live_rows(db: asyncpg.Connection, table: str) -> list[tuple[Any, ...]]:
    live = "" if table == "chips" else "WHERE deleted_at IS NULL"
    return [tuple(row) for row in await db.fetch(f"SELECT {COLUMNS[table]} FROM {table} {live} ORDER BY id")]


@pytest.fixture
async def other_database_url(postgres_server: str, template_database: str) -> AsyncIterator[str]:
    """A second fresh database at the migration head, to import the exports into."""
    name = f"fleetreg_other_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
        yield database_url_for(postgres_server, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def fill(db: asyncpg.Connection) -> None:
    """Two live enterprises and a deleted one; vehicles and devices of both, a few deleted; chips on
    devices and loose ones; text that CSV must quote."""
    enterprises = [
        (fleet_id("E", n), name or f"Enterprise {n}", cnpj(n)) for n, name in enumerate(AWKWARD_NAMES[:2], start=1)
    ]
    await db.executemany("INSERT INTO enterprises (id, name, cnpj) VALUES ($1, $2, $3)", enterprises)
    await db.execute(
        "INSERT INTO enterprises (id, name, cnpj, deleted_at) VALUES ($1, 'Gone', $2, now())", fleet_id("E", 9), cnpj(9)
    )
    vehicles = [
        (
            fleet_id("V", n),
            enterprises[n % 2][0],
            AWKWARD_NAMES[n % len(AWKWARD_NAMES)] or f"vehicle {n}",
            f"ABC{n:04d}" if n % 3 else None,
            f"9BWZZZ377VT{n:06d}" if n % 2 else None,
            n % 7 == 0,
        )
        for n in range(1, 31)
    ]
    await db.executemany(
        "INSERT INTO vehicles (id, enterprise_id, name, plate, vin, deleted_at)"
        " VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 THEN now() END)",
        vehicles,
    )
    devices = [
        (
            fleet_id("D", n),
            enterprises[n % 2][0],
            f"device {n}",
            imei(n),
            AWKWARD_NAMES[n % len(AWKWARD_NAMES)] or "code",
            n % 11 == 0,
        )
        for n in range(1, 41)
    ]
    await db.executemany(
        "INSERT INTO devices (id, enterprise_id, name, imei, code, deleted_at)"
        " VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 THEN now() END)",
        devices,
    )
    # a deleted device's IMEI is free again: a live one may reuse it
    await db.execute(
        "INSERT INTO devices (id, enterprise_id, name, imei, code) VALUES ($1, $2, 'reuse', $3, 'c')",
        fleet_id("D", 99),
        enterprises[0][0],
        imei(11),
    )
    chips = [
        (
            fleet_id("C", n),
            iccid(n),
            f"+55119{n:08d}",
            "Carrier, Inc.",
            'Provider "P"',
            f"batch {n % 3}",
            fleet_id("D", n) if n % 2 and n % 11 else None,
        )
        for n in range(1, 26)
    ]
    await db.executemany(
        "INSERT INTO chips (id, serial, number, carrier, service_provider, batch, device_id)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        chips,
    )


async def test_csv_round_trip_into_a_fresh_database(
    database_url: str, other_database_url: str, db: asyncpg.Connection, tmp_path: Path
) -> None:
    await fill(db)
    before = {table: await live_rows(db, table) for table in FLEET_TYPES}
    assert all(before.values())
    totals_before = await db.fetch("SELECT kind, enterprise_id, n FROM fleet_totals WHERE n <> 0 ORDER BY 1, 2")

    for table in FLEET_TYPES:
        exported = cli(database_url, "export", table)
        assert exported.returncode == 0, exported.stderr
        assert (
            exported.stderr.decode()
            == f"exported {len(before[table])} {table if len(before[table]) != 1 else table.removesuffix('s')}\n"
        )
        header = exported.stdout.decode().split("\n", 1)[0]
        assert header == ",".join(getattr(fleet_exports, table.upper()).columns)
        (tmp_path / f"{table}.csv").write_bytes(exported.stdout)

    for table in FLEET_TYPES:  # in the order of their references
        imported = cli(other_database_url, "import", table, "--json", str(tmp_path / f"{table}.csv"))
        assert imported.returncode == 0, imported.stdout
        assert json.loads(imported.stdout)["imported"] == len(before[table])

    other = await asyncpg.connect(other_database_url)
    try:
        assert {table: await live_rows(other, table) for table in FLEET_TYPES} == before
        totals = await other.fetch("SELECT kind, enterprise_id, n FROM fleet_totals WHERE n <> 0 ORDER BY 1, 2")
        assert totals == totals_before
    finally:
        await other.close()


async def test_deleted_rows_are_not_exported(database_url: str, db: asyncpg.Connection) -> None:
    await fill(db)
    for table, prefix, deleted in (("enterprises", "E", 9), ("vehicles", "V", 7), ("devices", "D", 22)):
        exported = cli(database_url, "export", table).stdout.decode()
        assert fleet_id(prefix, deleted) not in exported
        assert fleet_id(prefix, 1) in exported


async def test_jsonl(database_url: str, db: asyncpg.Connection) -> None:
    await fill(db)
    for table in FLEET_TYPES:
        exported = cli(database_url, "export", table, "--format", "jsonl")
        assert exported.returncode == 0, exported.stderr
        lines = [json.loads(line) for line in exported.stdout.decode().splitlines()]
        columns = COLUMNS[table].split(", ")
        assert all(list(line) == columns for line in lines)
        assert sorted(tuple(line.values()) for line in lines) == await live_rows(db, table)
    exported = cli(database_url, "export", "vehicles", "--format", "jsonl")
    vehicles = [json.loads(line) for line in exported.stdout.splitlines()]
    assert any(vehicle["plate"] is None for vehicle in vehicles)
    assert any(vehicle["name"] == "two\nlines" for vehicle in vehicles)


def test_empty_tables_give_a_header_only(database_url: str) -> None:
    for table in FLEET_TYPES:
        exported = cli(database_url, "export", table)
        assert exported.returncode == 0
        assert exported.stdout.decode() == ",".join(COLUMNS[table].split(", ")) + "\n"
        assert exported.stderr.decode() == f"exported 0 {table}\n"


def test_a_fleet_export_takes_no_partner(database_url: str) -> None:
    result = cli(database_url, "export", "devices", "--partner", "acme")
    assert result.returncode == 2
    assert result.stderr.decode() == (
        "fleetreg: error: no such option: --partner (see fleetreg export devices --help)\n"
    )


def peak_rss(command: list[str], env: dict[str, str], stdout: Any) -> int:
    """Run ``command`` (it must succeed); the highest resident set size seen, in bytes."""
    process = subprocess.Popen(command, env=env, stdout=stdout, stderr=subprocess.PIPE)
    peak = 0
    watched = psutil.Process(process.pid)

    def watch() -> None:
        nonlocal peak
        while process.poll() is None:
            try:
                peak = max(peak, watched.memory_info().rss)
            except psutil.NoSuchProcess:
                return
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    _, stderr = process.communicate(timeout=600)
    watcher.join()
    assert process.returncode == 0, stderr
    return peak


@pytest.mark.slow
async def test_memory_stays_flat_on_100k_rows(
    database_url: str, other_database_url: str, db: asyncpg.Connection, tmp_path: Path
) -> None:
    """Export and import hold rows neither in Python nor in asyncpg: the peak RSS of 100,000 devices
    is within a few MB of that of 2,000 (a list of 100,000 rows would take tens of MB)."""
    enterprise = fleet_id("E", 1)
    await db.execute("INSERT INTO enterprises (id, name, cnpj) VALUES ($1, 'Big', $2)", enterprise, cnpj(1))

    async def add_devices(first: int, last: int) -> None:
        await db.copy_records_to_table(
            "devices",
            columns=["id", "enterprise_id", "name", "imei", "code"],
            records=(
                (fleet_id("D", n), enterprise, f"device number {n} of a large fleet", imei(n), f"code-{n:08d}")
                for n in range(first, last + 1)
            ),
        )

    peaks = {}
    for size, (first, last) in (("small", (1, 2_000)), ("large", (2_001, 100_000))):
        await add_devices(first, last)
        for file_format in ("csv", "jsonl"):
            with (tmp_path / f"{size}.{file_format}").open("wb") as out:
                peaks[f"export {file_format} {size}"] = peak_rss(
                    [*FLEETREG, "export", "devices", "--format", file_format],
                    environment(FLEETREG_DATABASE_URL=database_url),
                    out,
                )
    assert (tmp_path / "large.csv").read_bytes().count(b"\n") == 100_001

    other = await asyncpg.connect(other_database_url)
    try:
        await other.execute("INSERT INTO enterprises (id, name, cnpj) VALUES ($1, 'Big', $2)", enterprise, cnpj(1))
        for size in ("small", "large"):
            await other.execute("DELETE FROM devices")
            peaks[f"import {size}"] = peak_rss(
                [*FLEETREG, "import", "devices", "--json", str(tmp_path / f"{size}.csv")],
                environment(FLEETREG_DATABASE_URL=other_database_url),
                subprocess.DEVNULL,
            )
        assert await other.fetchval("SELECT count(*) FROM devices") == 100_000
    finally:
        await other.close()

    mb = 1024 * 1024
    for what in ("export csv", "export jsonl", "import"):
        growth = peaks[f"{what} large"] - peaks[f"{what} small"]
        small, large = peaks[f"{what} small"] // mb, peaks[f"{what} large"] // mb
        assert growth < 20 * mb, f"{what}: {small} MB for 2,000 rows, {large} MB for 100,000"
