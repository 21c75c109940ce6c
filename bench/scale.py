"""Scale-out measurements on this machine (docs/scaling.md): ``python -m bench.scale <what>``.

- ``reads``: requests per second of the partner's reads (a list page, a get) by one instance on
  PostgreSQL directly (asyncpg's statement cache on, then off), one instance through PgBouncer 1.18
  in transaction mode (cache off: unnamed statements), and two instances through PgBouncer with a
  streaming replica serving their reads. wrk, 16 connections per instance.
- ``ratelimit``: what the shared rate limit costs per request: the same get with the limit off, in
  PostgreSQL, and in Redis (a redis-server started here).

The primary, the replica and PgBouncer are those of the tests (tests/support/cluster.py: the
embedded PostgreSQL's binaries, durability off: these are read measurements).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
from tests.support.cluster import Cluster, cluster
from tests.support.processes import environment, wait_ready
from tests.support.redis_server import redis_server

from fleetreg.auth import clients as auth_clients
from fleetreg.db import Database

BASE_PORT = 18500
CONNECTORS = 10_000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def wrk(url: str, token: str, seconds: int, connections: int = 16) -> float:
    """wrk's requests per second for GET ``url``; fails on any non-2xx answer."""
    result = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-H", f"Authorization: Bearer {token}", url],
        capture_output=True,
        text=True,
        check=True,
    )
    if "Non-2xx" in result.stdout:
        raise SystemExit(f"errors during the run:\n{result.stdout}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    assert match, result.stdout
    return float(match.group(1))


@contextlib.contextmanager
def serve(port: int, data_dir: Path, **settings: str) -> Iterator[str]:
    env = environment(
        FLEETREG_DATA_DIR=str(data_dir),
        FLEETREG_LOG_LEVEL="warning",
        **{f"FLEETREG_{name.upper()}": value for name, value in settings.items()},
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "fleetreg", "serve", "--port", str(port), "--no-migrate"],
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def load(built: Cluster) -> tuple[str, str, str]:
    """A partner with CONNECTORS connectors; (client id, secret, one connector's id)."""

    async def run() -> tuple[str, str, str]:
        db = Database(built.primary_url, min_size=1, max_size=1)
        await db.open()
        try:
            client = await auth_clients.create_client(
                db, scope="connectors:read connectors:write", partner_name="bench", enterprise_id=None
            )
        finally:
            await db.close()
        connection = await asyncpg.connect(built.primary_url)
        try:
            await connection.execute(
                "INSERT INTO connectors (partner_id, name, type, hardware_version, software_version) "
                "SELECT $1, 'connector ' || n, 'virtual', '1', '2' FROM generate_series(1, $2) n",
                client.partner_id,
                CONNECTORS,
            )
            connector_id = await connection.fetchval(
                "SELECT id FROM connectors WHERE partner_id = $1 LIMIT 1", client.partner_id
            )
            await connection.execute("VACUUM ANALYZE")
        finally:
            await connection.close()
        return client.client_id, client.client_secret, str(connector_id)

    return asyncio.run(run())


def token(base: str, client_id: str, secret: str) -> str:
    response = httpx.post(
        base + "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def measure_reads(seconds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="fleetreg-scale-") as work:
        directory = Path(work)
        with cluster(directory) as built:
            client_id, secret, connector_id = load(built)
            built.wait_replica_caught_up()
            data_dir = directory / "data"
            paths = {"list": "/v2/customers/connectors?limit=10", "get": f"/v2/customers/connectors/{connector_id}"}
            single = {
                "one instance, PostgreSQL directly, statement cache on": {"database_url": built.primary_url},
                "one instance, PostgreSQL directly, statement cache off": {
                    "database_url": built.primary_url,
                    "db_statement_cache": "0",
                },
                "one instance, PgBouncer 1.18 (transaction mode, cache off)": {
                    "database_url": built.pooled_url,
                    "direct_database_url": built.primary_url,
                },
            }
            for name, settings in single.items():
                with serve(BASE_PORT, data_dir, **settings) as base:
                    bearer = token(base, client_id, secret)
                    for kind, path in paths.items():
                        wrk(base + path, bearer, 2)  # warm up
                        print(f"{name}: {kind} {wrk(base + path, bearer, seconds):.0f} requests/s", flush=True)
            pair = {
                "database_url": built.pooled_url,
                "direct_database_url": built.primary_url,
                "read_database_url": built.replica_url,
            }
            with serve(BASE_PORT + 1, data_dir, **pair) as first, serve(BASE_PORT + 2, data_dir, **pair) as second:
                bearers = [token(base, client_id, secret) for base in (first, second)]
                for kind, path in paths.items():
                    for base, bearer in zip((first, second), bearers, strict=True):
                        wrk(base + path, bearer, 2)
                    with contextlib.ExitStack():
                        runs = [
                            subprocess.Popen(
                                [sys.executable, "-c", _WRK_ONE, base + path, bearer, str(seconds)],
                                stdout=subprocess.PIPE,
                                text=True,
                            )
                            for base, bearer in zip((first, second), bearers, strict=True)
                        ]
                        total = sum(float(run.communicate()[0]) for run in runs)
                    print(f"two instances via PgBouncer + a replica: {kind} {total:.0f} requests/s", flush=True)
                metrics = httpx.get(first + "/metrics").text
                reads = re.findall(r'^fleetreg_db_reads_total\{database="(\w+)"\} (\S+)$', metrics, re.M)
                print(f"  reads of the first instance by database: {dict(reads)}", flush=True)


_WRK_ONE = "import sys; from bench.scale import wrk; print(wrk(sys.argv[1], sys.argv[2], int(sys.argv[3])))"


def measure_rate_limit(seconds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="fleetreg-scale-") as work:
        directory = Path(work)
        with cluster(directory) as built, redis_server(directory, BASE_PORT + 50) as redis_url:
            client_id, secret, connector_id = load(built)
            path = f"/v2/customers/connectors/{connector_id}"
            variants = {
                "rate limit off": {},
                "rate limit in PostgreSQL": {"rate_limit": "1000000"},
                "rate limit in Redis": {"rate_limit": "1000000", "rate_limit_url": redis_url},
            }
            figures = {}
            for name, settings in variants.items():
                with serve(BASE_PORT, directory / "data", database_url=built.primary_url, **settings) as base:
                    bearer = token(base, client_id, secret)
                    wrk(base + path, bearer, 2)
                    figures[name] = wrk(base + path, bearer, seconds)
                    print(f"{name}: {figures[name]:.0f} requests/s", flush=True)
            off = figures["rate limit off"]
            for name, rps in figures.items():
                if name != "rate limit off":
                    print(f"  {name}: {1e6 / rps - 1e6 / off:+.0f} µs per request", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["reads", "ratelimit"])
    parser.add_argument("--seconds", type=int, default=8)
    options = parser.parse_args()
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "")
    if options.what == "reads":
        measure_reads(options.seconds)
    else:
        measure_rate_limit(options.seconds)


if __name__ == "__main__":
    main()
