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


def load_fleetreg(server_url: str, customers: int, connectors: int) -> tuple[str, dict[str, Any]]:
    """The fleetreg database with a big partner (the peer's shape) and a small one (for growth)."""
    url = database_url(server_url, "fleetreg")
    credentials_file = WORK / "credentials.json"
    if database_exists(server_url, "fleetreg") and credentials_file.exists():
        return url, json.loads(credentials_file.read_text())
    if database_exists(server_url, "fleetreg"):
        psql(server_url, "-c", "DROP DATABASE fleetreg WITH (FORCE)")
    psql(server_url, "-c", "CREATE DATABASE fleetreg")
    fleetreg_cli(url, "db", "upgrade")
    scope = "customers:read customers:write connectors:read connectors:write connectors:provision"
    credentials: dict[str, Any] = {}
    for partner, (n_customers, n_connectors) in {
        "big": (customers, connectors),
        "small": (max(1, customers // 100), max(1, connectors // 100)),
    }.items():
        credentials[partner] = json.loads(
            fleetreg_cli(url, "clients", "create", "--partner", partner, "--scope", scope, "--json").stdout
        )
        seed = {"big": 1, "small": 2}[partner]
        customers_csv, connectors_csv = data.partner_csvs(WORK / "csv" / partner, n_customers, n_connectors, seed)
        fleetreg_cli(url, "import", "customers", "--partner", partner, str(customers_csv))
        started = time.monotonic()
        fleetreg_cli(url, "import", "connectors", "--partner", partner, str(connectors_csv))
        credentials[partner]["import_seconds"] = round(time.monotonic() - started, 2)
        log(f"imported {n_connectors} connectors for {partner} in {credentials[partner]['import_seconds']} s")
    psql(url, "-c", "VACUUM ANALYZE")
    credentials_file.write_text(json.dumps(credentials))
    return url, credentials


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
        (WORK / "credentials.json").unlink(missing_ok=True)
    server_url = server.start()
    try:
        report = run(options, wrk, peer_dir, server_url)
    finally:
        server.stop()
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (RESULTS / f"{stamp}.json").write_text(json.dumps(report, indent=2))
    print(render(report))


def run(options: argparse.Namespace, wrk: str, peer_dir: Path, server_url: str) -> dict[str, Any]:
    peer_url = load_peer(server_url, peer_dir, options.customers, options.connectors)
    fleetreg_url, credentials = load_fleetreg(server_url, options.customers, options.connectors)
    peer_base, fleetreg_base = f"http://127.0.0.1:{PEER_PORT}", f"http://127.0.0.1:{FLEETREG_PORT}"

    peer_customer = sample(peer_url, "SELECT customer_id FROM connectors WHERE customer_id IS NOT NULL LIMIT 1")[0]
    peer_ids = sample(peer_url, "SELECT id FROM connectors TABLESAMPLE SYSTEM (1) LIMIT 1000")
    big = credentials["big"]["partner_id"]
    our_customer = sample(
        fleetreg_url,
        f"SELECT customer_id FROM connectors WHERE partner_id = '{big}' AND customer_id IS NOT NULL LIMIT 1",
    )[0]
    our_ids = sample(
        fleetreg_url, f"SELECT id FROM connectors TABLESAMPLE SYSTEM (1) WHERE partner_id = '{big}' LIMIT 1000"
    )

    report: dict[str, Any] = {
        "options": vars(options),
        "workloads": {},
        "imports": {partner: credentials[partner].get("import_seconds") for partner in ("big", "small")},
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
            env=fleetreg_env(fleetreg_url),
            up=f"{fleetreg_base}/healthz",
        ) as fleetreg_proc,
    ):
        auth = {"Authorization": f"Bearer {token_for(fleetreg_base, credentials['big'])}"}
        base_path = "/v2/customers/connectors"
        workloads = [
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
        for workload in workloads:
            measured = {"peer": Measured(), "fleetreg": Measured()}
            for round_number in range(options.rounds):
                order = [("peer", peer_base, workload.peer), ("fleetreg", fleetreg_base, workload.fleetreg)]
                if round_number % 2:
                    order.reverse()
                for side, base, script in order:
                    rps, p50, errors = run_wrk(
                        wrk, base, script, seconds=options.seconds, connections=options.connections
                    )
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
        worker = psutil.Process(fleetreg_proc.pid)
        report["fleetreg_rss_mib"] = round(worker.memory_info().rss / 2**20, 1)
    return report


def render(report: dict[str, Any]) -> str:
    lines = [
        "| workload | peer req/s (median) | fleetreg req/s (median) | ratio | target | met |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, row in report["workloads"].items():
        clean = row["errors"]["fleetreg"] == 0 and row["errors"]["peer"] == 0
        met = "yes" if row["ratio"] >= row["target"] and clean else ("NO (errors)" if not clean else "NO")
        lines.append(
            f"| {name} | {row['peer_median']:,.1f} | {row['fleetreg_median']:,.1f} | {row['ratio']:.2f} | "
            f">= {row['target']:g} | {met} |"
        )
    lines.append("")
    lines.append(f"fleetreg worker RSS after the run: {report.get('fleetreg_rss_mib')} MiB (target < 150)")
    lines.append(f"CLI import of the connectors: {report['imports']}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
