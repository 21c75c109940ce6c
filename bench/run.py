"""Side-by-side benchmark of fleetreg and the Fastify peer (``make bench``; see bench/README.md).

One embedded PostgreSQL server holds both datasets (database ``peer``: the peer's schema.sql;
database ``fleetreg``: the same distribution loaded with ``fleetreg import``). Each server runs as
one process. wrk drives them in alternation, round after round, and the report gives per workload
the median requests per second of both and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench import data
from fleetreg.embedded import EmbeddedPostgres, binaries_dir

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / ".work"  # data, peer install, CSVs (git-ignored)
RESULTS = BENCH / "results"
PEER_SOURCE = (ROOT.parent / "shared" / "bench" / "peer-fastify").resolve()
FLEETREG = [sys.executable, "-m", "fleetreg"]
FLEETREG_PORT = 8100
PEER_PORT = 3100
# A benchmark server: enough shared buffers for both datasets; durability stays on (fsync).
SERVER_OPTIONS = {"shared_buffers": "1GB", "max_connections": "200", "work_mem": "16MB"}


@dataclass
class Workload:
    name: str
    target: float  # the least ratio fleetreg/peer that meets the target
    peer: str  # a wrk Lua script body or a path
    fleetreg: str
    aim: float | None = None


@dataclass
class Measured:
    rps: list[float] = field(default_factory=list)
    p50_ms: list[float] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# -- tools -------------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    log("installing wrk from Debian")
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, capture_output=True)
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "update"], check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or sys.exit("wrk could not be installed")


def ensure_peer() -> Path:
    """The peer's files copied to a writable place and its packages installed (once)."""
    target = WORK / "peer"
    if not (target / "node_modules" / "fastify").exists():
        if not PEER_SOURCE.exists():
            sys.exit(f"the peer is not at {PEER_SOURCE}")
        target.mkdir(parents=True, exist_ok=True)
        for name in ("server.js", "package.json", "package-lock.json", "schema.sql"):
            shutil.copy(PEER_SOURCE / name, target / name)
        log("npm ci for the peer")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=target, check=True, capture_output=True)
    return target


# -- database ----------------------------------------------------------------------------------------


def psql(url: str, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [str(binaries_dir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", *args, url],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def database_url(server_url: str, name: str) -> str:
    return server_url.replace("/postgres?", f"/{name}?")


def database_exists(server_url: str, name: str) -> bool:
    return psql(server_url, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'").strip() == "1"


def load_peer(server_url: str, peer_dir: Path, customers: int, connectors: int) -> str:
    url = database_url(server_url, "peer")
    if not database_exists(server_url, "peer"):
        psql(server_url, "-c", "CREATE DATABASE peer")
        log(f"loading the peer's dataset ({connectors} connectors)")
        psql(url, "-v", f"customers={customers}", "-v", f"connectors={connectors}", "-f", str(peer_dir / "schema.sql"))
    return url


def fleetreg_env(url: str, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLEETREG_")}
    env.update(FLEETREG_DATABASE_URL=url, FLEETREG_DATA_DIR=str(WORK / "fleetreg-data"), FLEETREG_LOG_LEVEL="warning")
    env.update(extra)
    return env


def fleetreg_cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*FLEETREG, *args], env=fleetreg_env(url), capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"fleetreg {' '.join(args)} failed:\n{result.stderr}")
    return result


@dataclass(frozen=True)
class Size:
    """One fleetreg database of the growth comparison."""

    database: str
    customers: int
    connectors: int
    enterprises: int
    vehicles: int
    devices: int


def sizes(options: argparse.Namespace) -> dict[str, Size]:
    """ "big" is the issue's dataset (the peer's shape and the fleet), "small" a hundredth of it."""
    big = Size("fleetreg", options.customers, options.connectors, 1000, 200_000, 300_000)
    return {
        "big": big,
        "small": Size(
            "fleetreg_small",
            max(1, big.customers // 100),
            max(1, big.connectors // 100),
            10,
            big.vehicles // 100,
            big.devices // 100,
        ),
    }


def load_fleetreg(server_url: str, name: str, size: Size) -> tuple[str, dict[str, Any]]:
    """A fleetreg database with one partner of ``size`` and a fleet, loaded by ``fleetreg import``
    (associations are created through the API once a server runs: ``load_associations``)."""
    url = database_url(server_url, size.database)
    credentials_file = WORK / f"credentials-{name}.json"
    if database_exists(server_url, size.database) and credentials_file.exists():
        fleetreg_cli(url, "db", "upgrade")  # kept from an earlier run: brought to this version's schema
        return url, json.loads(credentials_file.read_text())
    if database_exists(server_url, size.database):
        psql(server_url, "-c", f"DROP DATABASE {size.database} WITH (FORCE)")
    psql(server_url, "-c", f"CREATE DATABASE {size.database}")
    fleetreg_cli(url, "db", "upgrade")
    scope = "customers:read customers:write connectors:read connectors:write connectors:provision"
    credentials: dict[str, Any] = json.loads(
        fleetreg_cli(url, "clients", "create", "--partner", name, "--scope", scope, "--json").stdout
    )
    credentials["import_seconds"] = import_partner(url, name, size)
    fleet = data.fleet_csvs(WORK / "csv" / f"fleet-{name}", size.enterprises, size.vehicles, size.devices)
    for kind in ("enterprises", "vehicles", "devices", "chips"):
        fleetreg_cli(url, "import", kind, str(fleet[kind]))
    log(f"imported the {name} fleet: {size.enterprises} enterprises, {size.vehicles} vehicles, {size.devices} devices")
    psql(url, "-c", "VACUUM ANALYZE")
    credentials_file.write_text(json.dumps(credentials))
    return url, credentials


def import_partner(url: str, name: str, size: Size) -> float:
    """``fleetreg import`` of the partner's customers, then of its connectors: the seconds the
    connectors took."""
    customers_csv, connectors_csv = data.partner_csvs(
        WORK / "csv" / name, size.customers, size.connectors, {"big": 1, "small": 2}[name]
    )
    fleetreg_cli(url, "import", "customers", "--partner", name, str(customers_csv))
    started = time.monotonic()
    fleetreg_cli(url, "import", "connectors", "--partner", name, str(connectors_csv))
    seconds = round(time.monotonic() - started, 2)
    log(f"imported {size.connectors} connectors for partner {name} in {seconds} s")
    return seconds


def time_import(server_url: str, size: Size) -> float:
    """The import target, measured on every run (the loaded databases are kept between runs): the
    big dataset's connectors into a new database, dropped afterwards."""
    scratch = f"{size.database}_import"
    psql(server_url, "-c", f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")
    psql(server_url, "-c", f"CREATE DATABASE {scratch}")
    url = database_url(server_url, scratch)
    try:
        fleetreg_cli(url, "db", "upgrade")
        fleetreg_cli(url, "clients", "create", "--partner", "big", "--scope", "connectors:read")
        return import_partner(url, "big", size)
    finally:
        psql(server_url, "-c", f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")


ASSOCIATIONS = "/v2/vehicles/associations/devices"


def load_associations(base: str, url: str, size: Size) -> list[float]:
    """Associations through the API, 1000 per request, as the issue's dataset asks: every vehicle gets
    its device as main; the first quarter of those end (history); then the first quarter of the
    vehicles get another main and the second quarter a secondary, 250,000 active at 1:1. Returns the
    seconds each 1000-item create took (empty when they exist already)."""
    if int(sample(url, "SELECT count(*) FROM device_associations")[0]) > 0:
        return []
    v, quarter = size.vehicles, size.vehicles // 4
    timings: list[float] = []
    first: list[str] = []

    def create(items: list[tuple[int, int, bool]]) -> list[dict[str, Any]]:
        body = {
            "data": [
                {
                    "vehicle_id": data.fleet_id("V", vehicle),
                    "device_id": data.fleet_id("D", device),
                    "is_main_device": main,
                }
                for vehicle, device, main in items
            ]
        }
        started = time.perf_counter()
        response = httpx.post(base + ASSOCIATIONS, json=body, timeout=60)
        timings.append(time.perf_counter() - started)
        if response.status_code != 200:
            sys.exit(f"association create failed: {response.status_code} {response.text[:500]}")
        created: list[dict[str, Any]] = response.json()["data"]
        return created

    def chunks(items: list[tuple[int, int, bool]]) -> Iterator[list[tuple[int, int, bool]]]:
        for at in range(0, len(items), 1000):
            yield items[at : at + 1000]

    for chunk in chunks([(n, n, True) for n in range(v)]):
        created = create(chunk)
        first.extend(item["id"] for item in created if int(item["attributes"]["vehicle_id"][1:]) < quarter)
    for at in range(0, len(first), 1000):
        ended = [{"type": "device_association", "id": ident} for ident in first[at : at + 1000]]
        response = httpx.request("DELETE", base + ASSOCIATIONS, json={"data": ended}, timeout=60)
        if response.status_code != 200:
            sys.exit(f"association end failed: {response.status_code} {response.text[:500]}")
    # Devices v.. take the first quarter's mains; the first quarter's freed devices go, as
    # secondaries, to the second quarter (device n and vehicle n + quarter share an enterprise when
    # quarter is a multiple of the enterprise count).
    for chunk in chunks([(n, v + n, True) for n in range(quarter)]):
        create(chunk)
    for chunk in chunks([(quarter + n, n, False) for n in range(quarter)]):
        create(chunk)
    psql(url, "-c", "VACUUM ANALYZE")
    return timings


# -- servers -----------------------------------------------------------------------------------------


def wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    sys.exit(f"{url} did not come up")


@contextmanager
def process(
    command: list[str], *, env: dict[str, str], cwd: Path | None = None, up: str
) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until_up(up)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def token_for(base: str, credentials: dict[str, Any]) -> str:
    response = httpx.post(
        f"{base}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(credentials["client_id"], credentials["client_secret"]),
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


# -- wrk ---------------------------------------------------------------------------------------------


def lua_paths(paths: list[str], headers: dict[str, str]) -> str:
    """A wrk script that sends the paths in turn (each wrk connection starts at another one)."""
    quoted = ",".join(json.dumps(path) for path in paths)
    header_lines = "".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in headers.items())
    return f"""
local paths = {{{quoted}}}
{header_lines}
local i = math.random(#paths)
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def run_wrk(wrk: str, base: str, script: str, *, seconds: int, connections: int) -> tuple[float, float, int]:
    path = WORK / "wrk.lua"
    path.write_text(script)
    result = subprocess.run(
        [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "60s", "--latency", "-s", str(path), base],
        capture_output=True,
        text=True,
        check=True,
    )
    out = result.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, p50, errors + (int(non2xx.group(1)) if non2xx else 0)


def _ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


# -- the run -----------------------------------------------------------------------------------------


def sample(url: str, query: str) -> list[str]:
    return [line for line in psql(url, "-tA", "-c", query).splitlines() if line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--growth-connections", type=int, default=8, help="wrk connections for the p50 comparisons")
    parser.add_argument("--connectors", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--reload", action="store_true", help="rebuild the datasets")
    options = parser.parse_args()

    wrk = ensure_wrk()
    peer_dir = ensure_peer()
    server = EmbeddedPostgres(WORK / "postgres", server_options=SERVER_OPTIONS)
    if options.reload:
        if server.is_running():  # join it, so that leaving stops it (its other holders are gone)
            server.start()
            server.stop()
        shutil.rmtree(WORK / "postgres", ignore_errors=True)
        for credentials in WORK.glob("credentials*.json"):
            credentials.unlink()
    server_url = server.start()
    try:
        report = run(options, wrk, peer_dir, server_url)
    finally:
        server.stop()
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (RESULTS / f"{stamp}.json").write_text(json.dumps(report, indent=2))
    print(render(report))


def ratio_workloads(peer_url: str, fleetreg_url: str, partner_id: str, token: str) -> list[Workload]:
    """The issue's side-by-side workloads: the same requests to the peer and to fleetreg."""
    peer_customer = sample(peer_url, "SELECT customer_id FROM connectors WHERE customer_id IS NOT NULL LIMIT 1")[0]
    peer_ids = sample(peer_url, "SELECT id FROM connectors TABLESAMPLE SYSTEM (1) LIMIT 1000")
    our_customer = sample(
        fleetreg_url,
        f"SELECT customer_id FROM connectors WHERE partner_id = '{partner_id}' AND customer_id IS NOT NULL LIMIT 1",
    )[0]
    our_ids = sample(
        fleetreg_url, f"SELECT id FROM connectors TABLESAMPLE SYSTEM (1) WHERE partner_id = '{partner_id}' LIMIT 1000"
    )
    auth = {"Authorization": f"Bearer {token}"}
    base_path = "/v2/customers/connectors"
    return [
        Workload(
            "list by customer_id",
            0.8,
            lua_paths([f"{base_path}?customer_id={peer_customer}"], {}),
            lua_paths([f"{base_path}?customer_id={our_customer}"], auth),
            aim=1.0,
        ),
        Workload(
            "get by id",
            0.8,
            lua_paths([f"{base_path}/{i}" for i in peer_ids], {}),
            lua_paths([f"{base_path}/{i}" for i in our_ids], auth),
            aim=1.0,
        ),
        Workload("list, no filter", 50, lua_paths([base_path], {}), lua_paths([base_path], auth)),
        Workload(
            "list assigned=true&type=virtual",
            50,
            lua_paths([f"{base_path}?assigned=true&type=virtual"], {}),
            lua_paths([f"{base_path}?assigned=true&type=virtual"], auth),
        ),
    ]


# Reported, not a target: an offset is rows PostgreSQL reads and skips, so the last page of a
# million costs a million index entries (the contract pages by offset; bench/README.md).
DEEP_OFFSET = "connectors, last page (offset = total - 25), informational"

# The vehicle association list, filtered (a chip and a device field), with includes and count=true.
ASSOCIATION_QUERY = (
    "filters[chips.carrier][ilk]=i&filters[device.name][sw]=Tracker&includes[device][]=imei"
    "&includes[enterprise][]=name&count=true"
)


def growth_paths(url: str, partner_id: str) -> dict[str, list[str]]:
    """Per list endpoint, the requests whose p50 is compared between the small and the big database."""
    customers = sample(url, f"SELECT id FROM customers WHERE partner_id = '{partner_id}' ORDER BY id LIMIT 50")
    vehicles = sample(
        url,
        "SELECT vehicle_id FROM device_associations WHERE ended_at IS NULL GROUP BY vehicle_id "
        "ORDER BY md5(vehicle_id) LIMIT 200",
    )
    return {
        "connectors, no filter": ["/v2/customers/connectors"],
        "connectors by customer_id": [f"/v2/customers/connectors?customer_id={c}" for c in customers],
        "connectors assigned=true&type=virtual": ["/v2/customers/connectors?assigned=true&type=virtual"],
        DEEP_OFFSET: [],  # filled in by run(): the offset differs
        "customers": ["/v2/customers"],
        "vehicle associations, filters + includes + count=true": [
            f"/v2/vehicles/{v}/associations/devices?{ASSOCIATION_QUERY}" for v in vehicles
        ],
    }


def measure(
    wrk: str, base: str, script: str, options: argparse.Namespace, connections: int
) -> tuple[float, float, int]:
    return run_wrk(wrk, base, script, seconds=options.seconds, connections=connections)


def run(options: argparse.Namespace, wrk: str, peer_dir: Path, server_url: str) -> dict[str, Any]:
    peer_url = load_peer(server_url, peer_dir, options.customers, options.connectors)
    loaded = {name: load_fleetreg(server_url, name, size) for name, size in sizes(options).items()}
    peer_base = f"http://127.0.0.1:{PEER_PORT}"
    bases = {"big": f"http://127.0.0.1:{FLEETREG_PORT}", "small": f"http://127.0.0.1:{FLEETREG_PORT + 1}"}
    report: dict[str, Any] = {
        "options": vars(options),
        "workloads": {},
        "growth": {},
        # The import into a new database, before any server runs; the figures of the loads are kept
        # for the record (they are from the run that built the databases).
        "imports": {"big": time_import(server_url, sizes(options)["big"])},
        "imports_when_loaded": {name: credentials.get("import_seconds") for name, (_, credentials) in loaded.items()},
    }
    with (
        process(
            ["node", "server.js"],
            env={**os.environ, "DATABASE_URL": peer_url, "PORT": str(PEER_PORT)},
            cwd=peer_dir,
            up=f"{peer_base}/v2/customers/connectors?limit=0",
        ),
        process(
            [*FLEETREG, "serve", "--port", str(FLEETREG_PORT), "--workers", "1", "--no-migrate"],
            env=fleetreg_env(loaded["big"][0]),
            up=f"{bases['big']}/healthz",
        ) as fleetreg_proc,
        process(
            [*FLEETREG, "serve", "--port", str(FLEETREG_PORT + 1), "--workers", "1", "--no-migrate"],
            env=fleetreg_env(loaded["small"][0], FLEETREG_DATA_DIR=str(WORK / "fleetreg-data-small")),
            up=f"{bases['small']}/healthz",
        ),
    ):
        for name, size in sizes(options).items():
            timings = load_associations(bases[name], loaded[name][0], size)
            if name == "big" and timings:
                report["bulk_create_1000_ms"] = {
                    "median": round(statistics.median(timings) * 1000, 1),
                    "p90": round(sorted(timings)[int(len(timings) * 0.9)] * 1000, 1),
                    "requests": len(timings),
                }
                log(f"bulk association create, 1000 items: median {report['bulk_create_1000_ms']['median']} ms")
        if "bulk_create_1000_ms" not in report:
            report["bulk_create_1000_ms"] = bulk_create_again(bases["big"], loaded["big"][0])

        tokens = {name: token_for(bases[name], credentials) for name, (_, credentials) in loaded.items()}
        big_url, big_credentials = loaded["big"]
        for workload in ratio_workloads(peer_url, big_url, big_credentials["partner_id"], tokens["big"]):
            measured = {"peer": Measured(), "fleetreg": Measured()}
            for round_number in range(options.rounds):
                order = [("peer", peer_base, workload.peer), ("fleetreg", bases["big"], workload.fleetreg)]
                if round_number % 2:
                    order.reverse()
                for side, base, script in order:
                    rps, p50, errors = measure(wrk, base, script, options, options.connections)
                    measured[side].rps.append(rps)
                    measured[side].p50_ms.append(p50)
                    measured[side].errors.append(errors)
                    log(
                        f"{workload.name:<36} {side:<8} round {round_number + 1}: "
                        f"{rps:10.1f} req/s  p50 {p50:8.2f} ms  errors {errors}"
                    )
            peer_median = statistics.median(measured["peer"].rps)
            ours_median = statistics.median(measured["fleetreg"].rps)
            report["workloads"][workload.name] = {
                "peer_rps": measured["peer"].rps,
                "fleetreg_rps": measured["fleetreg"].rps,
                "peer_median": peer_median,
                "fleetreg_median": ours_median,
                "ratio": ours_median / peer_median,
                "target": workload.target,
                "aim": workload.aim,
                "errors": {side: sum(m.errors) for side, m in measured.items()},
            }

        # Growth: the same requests against the small and the big database, alternating, p50 of each.
        paths = {name: growth_paths(url, credentials["partner_id"]) for name, (url, credentials) in loaded.items()}
        for name, (url, credentials) in loaded.items():
            total = int(
                sample(url, f"SELECT count(*) FROM connectors WHERE partner_id = '{credentials['partner_id']}'")[0]
            )
            paths[name][DEEP_OFFSET] = [f"/v2/customers/connectors?offset={max(0, total - 25)}"]
        for endpoint in paths["big"]:
            p50s: dict[str, list[float]] = {"small": [], "big": []}
            errors = 0
            for round_number in range(options.rounds):
                for name in ("small", "big") if round_number % 2 == 0 else ("big", "small"):
                    script = lua_paths(paths[name][endpoint], {"Authorization": f"Bearer {tokens[name]}"})
                    _, p50, failed = measure(wrk, bases[name], script, options, options.growth_connections)
                    p50s[name].append(p50)
                    errors += failed
                    log(f"growth {endpoint:<52} {name:<5} round {round_number + 1}: p50 {p50:8.2f} ms")
            small, big = statistics.median(p50s["small"]), statistics.median(p50s["big"])
            report["growth"][endpoint] = {
                "small_p50_ms": small,
                "big_p50_ms": big,
                "ratio": big / small,
                "errors": errors,
            }

        worker = psutil.Process(fleetreg_proc.pid)
        report["fleetreg_rss_mib"] = round(worker.memory_info().rss / 2**20, 1)
        report["rows"] = {
            name: {
                table: int(sample(url, f"SELECT count(*) FROM {table}")[0])
                for table in ("connectors", "customers", "vehicles", "devices", "chips", "device_associations")
            }
            for name, (url, _) in loaded.items()
        }
    return report


def bulk_create_again(base: str, url: str) -> dict[str, Any]:
    """On a loaded database: 1000 free devices onto vehicles as secondaries, then ended again, 5 times."""
    timings = []
    free = sample(
        url,
        "SELECT d.id || ' ' || v.id FROM devices d JOIN vehicles v ON v.enterprise_id = d.enterprise_id "
        "AND v.id = (SELECT vehicle_id FROM device_associations a WHERE a.ended_at IS NULL AND a.is_main_device "
        "AND a.vehicle_id IN (SELECT id FROM vehicles WHERE enterprise_id = d.enterprise_id LIMIT 1)) "
        "WHERE NOT EXISTS (SELECT 1 FROM device_associations a WHERE a.device_id = d.id AND a.ended_at IS NULL) "
        "LIMIT 1000",
    )
    items = [{"device_id": pair.split()[0], "vehicle_id": pair.split()[1], "is_main_device": False} for pair in free]
    for _ in range(5):
        started = time.perf_counter()
        response = httpx.post(base + ASSOCIATIONS, json={"data": items}, timeout=60)
        timings.append(time.perf_counter() - started)
        response.raise_for_status()
        ended = [{"type": "device_association", "id": item["id"]} for item in response.json()["data"]]
        httpx.request("DELETE", base + ASSOCIATIONS, json={"data": ended}, timeout=60).raise_for_status()
    return {"median": round(statistics.median(timings) * 1000, 1), "requests": len(timings), "items": len(items)}


GROWTH_LIMIT = 1.5  # p50 at the big database over p50 at the small one
BULK_CREATE_LIMIT_MS = 250
IMPORT_LIMIT_S = 30
RSS_LIMIT_MIB = 150


def render(report: dict[str, Any]) -> str:
    unmet: list[str] = []
    lines = [
        "| workload | peer req/s (median) | fleetreg req/s (median) | ratio | target | met |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, row in report["workloads"].items():
        clean = row["errors"]["fleetreg"] == 0 and row["errors"]["peer"] == 0
        met = row["ratio"] >= row["target"] and row["errors"]["fleetreg"] == 0
        aim = f" (aim {row['aim']:g})" if row.get("aim") else ""
        verdict = "yes" if met else "NO"
        if not clean:
            verdict += f" (errors: peer {row['errors']['peer']}, fleetreg {row['errors']['fleetreg']})"
        if not met:
            unmet.append(name)
        lines.append(
            f"| {name} | {row['peer_median']:,.1f} | {row['fleetreg_median']:,.1f} | {row['ratio']:.2f} | "
            f">= {row['target']:g}{aim} | {verdict} |"
        )
    rows = report.get("rows", {})
    lines += [
        "",
        f"Growth: p50 (ms) of each list at the small database ({rows.get('small', {})}) and the big one "
        f"({rows.get('big', {})}).",
        "",
        "| list | p50 small | p50 big | big/small | target | met |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, row in report["growth"].items():
        met = row["ratio"] <= GROWTH_LIMIT and row["errors"] == 0
        if name == DEEP_OFFSET:
            verdict = "(no target)"
        else:
            verdict = ("yes" if met else "NO") + ("" if not row["errors"] else " (errors)")
            if not met:
                unmet.append(f"growth of {name}")
        target = "-" if name == DEEP_OFFSET else f"<= {GROWTH_LIMIT:g}"
        lines.append(
            f"| {name} | {row['small_p50_ms']:.2f} | {row['big_p50_ms']:.2f} | {row['ratio']:.2f} | "
            f"{target} | {verdict} |"
        )
    bulk = report["bulk_create_1000_ms"]
    imports = report["imports"]
    rss = report.get("fleetreg_rss_mib")
    checks = [
        (
            f"bulk association create of 1000 items: median {bulk['median']} ms over {bulk['requests']} requests",
            bulk["median"] < BULK_CREATE_LIMIT_MS,
            f"< {BULK_CREATE_LIMIT_MS} ms",
        ),
        (
            f"CLI import of 1,000,000 connectors: {imports.get('big')} s",
            imports.get("big") is not None and imports["big"] < IMPORT_LIMIT_S,
            f"< {IMPORT_LIMIT_S} s",
        ),
        (
            f"fleetreg worker RSS after the run: {rss} MiB",
            rss is not None and rss < RSS_LIMIT_MIB,
            f"< {RSS_LIMIT_MIB} MiB",
        ),
    ]
    lines.append("")
    for text, met, target in checks:
        lines.append(f"- {text} (target {target}): {'met' if met else 'NOT MET'}")
        if not met:
            unmet.append(text)
    lines.append("")
    lines.append("EVERY TARGET MET" if not unmet else "NOT MET: " + "; ".join(unmet))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
