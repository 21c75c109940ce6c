"""The benchmark datasets: generated in PostgreSQL by the peer's own SQL, copied into fleetreg.

Per scale N (``--scale``), on each PostgreSQL setup:

- database ``peer_<tag>``: the peer's ``schema.sql`` (10,000·N customers, 1,000,000·N connectors, 60 %
  assigned, half physical, half virtual) and ``fleet-schema.sql`` (1,000·N enterprises, 200,000·N
  vehicles, 300,000·N devices each with a chip, 250,000·N active and 50,000·N ended associations),
  both generated with ``generate_series``; one peer process serves both APIs from it.
- database ``fleetreg_<tag>``: the same rows, exported from the peer's database as CSV (``COPY``)
  and loaded with ``fleetreg import`` (customers, connectors, enterprises, vehicles, devices, chips:
  the import is what a user runs, and the connectors' import is timed); the associations, which have
  no import, are copied by one ``INSERT ... SELECT`` with the schema's checks and triggers on.

Databases and CSV files stay under bench/.work (git-ignored): a later run reuses them; ``--reload``
drops them. A database is reused only when its loading finished (a marker written last).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetreg.embedded import binaries_dir

FLEETREG = [sys.executable, "-m", "fleetreg"]
PARTNER = "bench"
SCOPE = "customers:read customers:write connectors:read connectors:write connectors:provision"


def paired_ratio(treated: list[float], base: list[float]) -> float:
    """The median of treated over base, pair by pair: each pair ran back to back, while the machine's
    pace drifts between pairs by more than the few percent an overhead measures."""
    return statistics.median(t / b for t, b in zip(treated, base, strict=True))


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Scale:
    factor: float

    @property
    def customers(self) -> int:
        return max(10, round(10_000 * self.factor))

    @property
    def connectors(self) -> int:
        return round(1_000_000 * self.factor)

    @property
    def enterprises(self) -> int:
        return max(4, round(1_000 * self.factor))

    @property
    def vehicles(self) -> int:
        return round(200_000 * self.factor)

    @property
    def devices(self) -> int:
        return round(300_000 * self.factor)

    @property
    def tag(self) -> str:
        """A database-name suffix: the number of connectors."""
        return f"c{self.connectors}"

    def describe(self) -> str:
        return (
            f"{self.connectors:,} connectors, {self.customers:,} customers, {self.enterprises:,} enterprises, "
            f"{self.vehicles:,} vehicles, {self.devices:,} devices and chips, "
            f"{self.vehicles * 5 // 4:,} active associations"
        )


# -- psql ----------------------------------------------------------------------------------------------


def psql(url: str, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [str(binaries_dir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", *args, url],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"psql {' '.join(args)[:200]} failed: {result.stderr.strip()}")
    return result.stdout


def sample(url: str, query: str) -> list[str]:
    return [line for line in psql(url, "-tA", "-c", query).splitlines() if line]


def database_url(server_url: str, name: str) -> str:
    return server_url.replace("/postgres?", f"/{name}?")


def database_exists(server_url: str, name: str) -> bool:
    return bool(sample(server_url, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"))


def recreate_database(server_url: str, name: str) -> str:
    psql(server_url, "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    psql(server_url, "-c", f"CREATE DATABASE {name}")
    return database_url(server_url, name)


# -- fleetreg's CLI --------------------------------------------------------------------------------------


def fleetreg_env(url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLEETREG_")}
    env.update(FLEETREG_DATABASE_URL=url, FLEETREG_DATA_DIR=str(data_dir), FLEETREG_LOG_LEVEL="warning")
    # The first bulk of 1,000 after the timed import (which leaves the caches cold) took over the
    # default 5 s once and failed the run with a 503; what is measured is the warm requests after it.
    env.update(FLEETREG_DB_TIMEOUT="30")
    env.update(extra)
    return env


def fleetreg_cli(url: str, data_dir: Path, *args: str) -> str:
    result = subprocess.run([*FLEETREG, *args], env=fleetreg_env(url, data_dir), capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"fleetreg {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


# -- loading -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    scale: Scale
    peer_url: str
    fleetreg_url: str
    credentials: dict[str, Any]  # the bench client of partner "bench": client_id, client_secret, partner_id


EXPORTS = {
    "customers": "SELECT id, name FROM customers",
    "connectors": "SELECT id, name, type, hardware_version, software_version, pin, customer_id FROM connectors",
    "enterprises": "SELECT id, name, cnpj FROM enterprises",
    "vehicles": "SELECT id, enterprise_id, name, plate, NULL AS vin FROM vehicles",
    "devices": "SELECT id, enterprise_id, name, imei, code FROM devices",
    "chips": "SELECT id, serial, number, carrier, service_provider, batch, device_id FROM chips",
    "associations": "SELECT id, vehicle_id, device_id, is_main_device, created_at, ended_at FROM device_associations",
}

# The associations, with their enterprise (that of the vehicle), checks and triggers on; each recorded
# when it started and ended (the peer keeps no separate recording time).
COPY_ASSOCIATIONS = """
SELECT set_config('fleetreg.actor', '{"kind": "cli"}', false);
CREATE TEMP TABLE loading (id text, vehicle_id text, device_id text, is_main_device boolean,
                           created_at timestamptz, ended_at timestamptz);
\\copy loading FROM '{file}' WITH (FORMAT csv, HEADER true)
INSERT INTO device_associations (id, enterprise_id, vehicle_id, device_id, is_main_device, created_at, ended_at,
                                 recorded_at, end_recorded_at)
SELECT l.id, v.enterprise_id, l.vehicle_id, l.device_id, l.is_main_device, l.created_at, l.ended_at,
       l.created_at, l.ended_at
FROM loading l JOIN vehicles v ON v.id = l.vehicle_id ORDER BY l.vehicle_id, l.created_at;
"""


def load(server_url: str, work: Path, peer_dir: Path, scale: Scale) -> Loaded:
    """Both databases of ``scale`` on one server, loaded unless a finished load is there."""
    peer_url = load_peer(server_url, peer_dir, scale)
    csv_dir = work / "csv" / scale.tag
    fleetreg_name = f"fleetreg_{scale.tag}"
    credentials_file = work / f"credentials-{scale.tag}.json"
    data_dir = work / "fleetreg-data"
    if database_exists(server_url, fleetreg_name) and credentials_file.exists():
        url = database_url(server_url, fleetreg_name)
        fleetreg_cli(url, data_dir, "db", "upgrade")  # kept from an earlier run: this version's schema
        return Loaded(scale, peer_url, url, json.loads(credentials_file.read_text()))
    export_csvs(peer_url, csv_dir)
    url = recreate_database(server_url, fleetreg_name)
    started = time.monotonic()
    credentials = prepare_fleetreg(url, data_dir)
    credentials["import_connectors_seconds"] = import_partner(url, data_dir, csv_dir)
    for kind in ("enterprises", "vehicles", "devices", "chips"):
        fleetreg_cli(url, data_dir, "import", kind, str(csv_dir / f"{kind}.csv"))
    association_started = time.monotonic()
    psql(url, stdin=COPY_ASSOCIATIONS.replace("{file}", str(csv_dir / "associations.csv")))
    log(f"copied the associations into {fleetreg_name} in {time.monotonic() - association_started:.1f} s")
    psql(url, "-c", "VACUUM ANALYZE")
    log(f"loaded {fleetreg_name} in {time.monotonic() - started:.1f} s")
    credentials_file.write_text(json.dumps(credentials))
    return Loaded(scale, peer_url, url, credentials)


def load_peer(server_url: str, peer_dir: Path, scale: Scale) -> str:
    name = f"peer_{scale.tag}"
    url = database_url(server_url, name)
    if database_exists(server_url, name) and sample(url, "SELECT to_regclass('bench_loaded') IS NOT NULL") == ["t"]:
        return url
    recreate_database(server_url, name)
    started = time.monotonic()
    psql(url, "-v", f"customers={scale.customers}", "-v", f"connectors={scale.connectors}",
         "-f", str(peer_dir / "schema.sql"))  # fmt: skip
    psql(url, "-v", f"enterprises={scale.enterprises}", "-v", f"vehicles={scale.vehicles}",
         "-v", f"devices={scale.devices}", "-f", str(peer_dir / "fleet-schema.sql"))  # fmt: skip
    psql(url, "-c", "CREATE TABLE bench_loaded ()")
    log(f"generated {name} ({scale.describe()}) in {time.monotonic() - started:.1f} s")
    return url


def export_csvs(peer_url: str, csv_dir: Path) -> None:
    csv_dir.mkdir(parents=True, exist_ok=True)
    for name, query in EXPORTS.items():
        psql(peer_url, "-c", f"\\copy ({query}) TO '{csv_dir / f'{name}.csv'}' WITH (FORMAT csv, HEADER true)")


def prepare_fleetreg(url: str, data_dir: Path) -> dict[str, Any]:
    fleetreg_cli(url, data_dir, "db", "upgrade")
    created = fleetreg_cli(
        url, data_dir, "clients", "create", "--partner", PARTNER, "--create-partner", "--scope", SCOPE, "--json"
    )
    credentials: dict[str, Any] = json.loads(created)
    return credentials


def import_partner(url: str, data_dir: Path, csv_dir: Path) -> float:
    """``fleetreg import customers``, then ``connectors``: the seconds the connectors took."""
    fleetreg_cli(url, data_dir, "import", "customers", "--partner", PARTNER, str(csv_dir / "customers.csv"))
    started = time.monotonic()
    fleetreg_cli(url, data_dir, "import", "connectors", "--partner", PARTNER, str(csv_dir / "connectors.csv"))
    return round(time.monotonic() - started, 2)


def time_import(server_url: str, work: Path, scale: Scale) -> float:
    """The import target, measured on every run: the connectors into a new database, dropped after."""
    scratch = f"fleetreg_import_{scale.tag}"
    url = recreate_database(server_url, scratch)
    try:
        prepare_fleetreg(url, work / "fleetreg-data")
        return import_partner(url, work / "fleetreg-data", work / "csv" / scale.tag)
    finally:
        psql(server_url, "-c", f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")
