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
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from tests.support.cluster import Cluster, cluster
from tests.support.processes import environment, wait_ready
from tests.support.redis_server import redis_server

from fleetreg.auth import clients as auth_clients
from fleetreg.db import Database
from fleetreg.embedded import binaries_dir

BASE_PORT = 18500
WORK = Path(__file__).resolve().parent / ".work" / "scale"  # git-ignored
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


# A benchmark server as bench/run.py's: durability on.
IMPORT_SERVER_OPTIONS = {"shared_buffers": "1GB", "max_connections": "100", "work_mem": "16MB", "max_wal_size": "8GB"}
IMPORT_CONNECTORS = """
COPY (SELECT md5('connector' || n)::uuid AS id, 'connector ' || n AS name,
             CASE WHEN n % 2 = 0 THEN 'physical' ELSE 'virtual' END AS type,
             'hw' || n % 7 AS hardware_version, 'sw' || n % 13 AS software_version,
             CASE WHEN n % 3 = 0 THEN lpad((n % 100000)::text, 5, '0') END AS pin,
             CASE WHEN n % 5 < 3 THEN md5('customer' || n % {customers})::uuid END AS customer_id
      FROM generate_series(1, {connectors}) AS n) TO STDOUT WITH (FORMAT csv, HEADER true)
"""
IMPORT_CUSTOMERS = """
COPY (SELECT md5('customer' || n)::uuid AS id, 'customer ' || n AS name FROM generate_series(0, {customers} - 1) AS n)
TO STDOUT WITH (FORMAT csv, HEADER true)
"""


def measure_import(rows: int, work: Path) -> None:
    """``fleetreg import connectors`` of ``rows`` rows (and rows/100 customers first) into a fresh
    database of a server with durability on; the seconds it took."""
    from fleetreg.embedded import EmbeddedPostgres

    customers = max(1, rows // 100)
    work.mkdir(parents=True, exist_ok=True)
    server = EmbeddedPostgres(work / "postgres", server_options=IMPORT_SERVER_OPTIONS)
    server_url = server.start()
    try:
        name = f"import_{rows}"
        psql = [str(binaries_dir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        subprocess.run([*psql, server_url, "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=True)
        subprocess.run([*psql, server_url, "-c", f"CREATE DATABASE {name}"], check=True)
        url = server_url.replace("/postgres?", f"/{name}?", 1)
        env = environment(FLEETREG_DATABASE_URL=url, FLEETREG_DATA_DIR=str(work / "data"))
        fleetreg = [sys.executable, "-m", "fleetreg"]
        subprocess.run([*fleetreg, "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run(
            [*fleetreg, "clients", "create", "--partner", "bench", "--create-partner", "--scope", "connectors:read"],
            env=env,
            check=True,
            capture_output=True,
        )
        files = {"customers": IMPORT_CUSTOMERS, "connectors": IMPORT_CONNECTORS}
        for kind, query in files.items():
            path = work / f"{kind}-{rows}.csv"
            if not path.exists():
                with path.open("wb") as out:
                    sql = query.format(customers=customers, connectors=rows)
                    subprocess.run([*psql, url, "-c", " ".join(sql.split())], stdout=out, check=True)
        for kind in files:
            started = time.perf_counter()
            command = [*fleetreg, "import", kind, "--partner", "bench", "--json", str(work / f"{kind}-{rows}.csv")]
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
            _, status, usage = os.wait4(process.pid, 0)
            assert status == 0, f"{kind}: exit status {status}"
            count = rows if kind == "connectors" else customers
            print(
                f"fleetreg import {kind}: {count} rows in {time.perf_counter() - started:.1f} s "
                f"(the command: {usage.ru_utime + usage.ru_stime:.1f} s of CPU, "
                f"{usage.ru_maxrss / 1024:.0f} MiB at most)",
                flush=True,
            )
        subprocess.run([*psql, server_url, "-c", f"DROP DATABASE {name}"], check=True)
    finally:
        server.stop()


# The unfiltered page as it was before migration 0009: every skipped row read from the table.
_PAGE_BEFORE = """
SELECT id, customer_id, hardware_version, name, pin, software_version, type FROM connectors
WHERE partner_id = $1 ORDER BY name, id LIMIT $2 OFFSET $3
"""


def measure_offset(rows: int, work: Path) -> None:
    """The last page (10 rows) of ``rows`` connectors by offset: the statement of before and of now
    (fleetreg.partner.queries, the same index), and GET /v2/customers/connectors through the API."""
    import statistics

    from fleetreg.embedded import EmbeddedPostgres
    from fleetreg.partner.queries import ConnectorFilters, connector_page_query

    work.mkdir(parents=True, exist_ok=True)
    server = EmbeddedPostgres(work / "postgres", server_options=IMPORT_SERVER_OPTIONS)
    server_url = server.start()
    name = f"offset_{rows}"
    url = server_url.replace("/postgres?", f"/{name}?", 1)
    try:
        env = environment(FLEETREG_DATABASE_URL=url, FLEETREG_DATA_DIR=str(work / "data"))
        psql = [str(binaries_dir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        subprocess.run([*psql, server_url, "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=True)
        subprocess.run([*psql, server_url, "-c", f"CREATE DATABASE {name}"], check=True)
        subprocess.run([sys.executable, "-m", "fleetreg", "db", "upgrade"], env=env, check=True, capture_output=True)

        async def prepare() -> tuple[str, str, Any]:
            db = Database(url, min_size=1, max_size=1)
            await db.open()
            try:
                client = await auth_clients.create_client(
                    db, scope="connectors:read", partner_name="bench", enterprise_id=None
                )
            finally:
                await db.close()
            connection = await asyncpg.connect(url)
            try:
                await connection.execute(
                    "INSERT INTO connectors (partner_id, name, type, hardware_version, software_version) "
                    "SELECT $1, 'connector ' || lpad(n::text, 8, '0'), 'virtual', '1', '2' "
                    "FROM generate_series(1, $2) n",
                    client.partner_id,
                    rows,
                )
                await connection.execute("VACUUM ANALYZE connectors")
            finally:
                await connection.close()
            return client.client_id, client.client_secret, client.partner_id

        client_id, secret, partner_id = asyncio.run(prepare())
        now_sql, now_args = connector_page_query(ConnectorFilters(), 10, rows - 10)
        now_args[0] = partner_id

        async def timed(sql: str, *args: Any) -> float:
            connection = await asyncpg.connect(url)
            try:
                await connection.fetch(sql, *args)  # warm
                took = []
                for _ in range(7):
                    started = time.perf_counter()
                    await connection.fetch(sql, *args)
                    took.append(time.perf_counter() - started)
                return statistics.median(took) * 1000
            finally:
                await connection.close()

        before = asyncio.run(timed(_PAGE_BEFORE, partner_id, 10, rows - 10))
        print(f"last page of {rows} by offset, statement before: {before:.0f} ms", flush=True)
        now = asyncio.run(timed(now_sql, *now_args))
        print(f"last page of {rows} by offset, statement now: {now:.0f} ms", flush=True)
        with serve(BASE_PORT, work / "data", database_url=url) as base:
            bearer = token(base, client_id, secret)
            took = []
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {bearer}"}) as http:
                for _ in range(8):
                    started = time.perf_counter()
                    answer = http.get("/v2/customers/connectors", params={"offset": rows - 10, "limit": 10})
                    took.append(time.perf_counter() - started)
                    assert answer.status_code == 200, answer.text
                    assert len(answer.json()["result"]) == 10, answer.text
            print(f"GET the last page of {rows} by offset: {statistics.median(took[1:]) * 1000:.0f} ms (median)")
        subprocess.run([*psql, server_url, "-c", f"DROP DATABASE {name}"], check=True)
    finally:
        server.stop()


def measure_insert(rows: int, work: Path) -> None:
    """Where an import's time goes in PostgreSQL: EXPLAIN ANALYZE of the connectors' INSERT of
    ``rows`` staged rows (60 % assigned to 1,000 customers), its triggers' times, then the COMMIT;
    once with the events written through ``pending_events`` (as any write's), once written straight
    into ``events`` after ``events_sequence_now()`` (as the import's, migration 0019)."""
    for written_once in (False, True):
        print("events written once:" if written_once else "events through pending_events:", flush=True)
        _measure_insert(rows, work, written_once)


def _measure_insert(rows: int, work: Path, written_once: bool) -> None:
    from fleetreg import migrate
    from fleetreg.embedded import EmbeddedPostgres

    work.mkdir(parents=True, exist_ok=True)
    server = EmbeddedPostgres(work / "postgres", server_options=IMPORT_SERVER_OPTIONS)
    server_url = server.start()
    url = server_url.replace("/postgres?", "/insert_steps?", 1)

    async def run() -> None:
        admin = await asyncpg.connect(server_url)
        await admin.execute("DROP DATABASE IF EXISTS insert_steps WITH (FORCE)")
        await admin.execute("CREATE DATABASE insert_steps")
        await admin.close()
        await asyncio.to_thread(migrate.upgrade, url)
        connection = await asyncpg.connect(url)
        try:
            partner = await connection.fetchval("INSERT INTO partners (name) VALUES ('bench') RETURNING id")
            await connection.execute(
                "INSERT INTO customers (id, partner_id, name) "
                "SELECT md5('customer' || n)::uuid, $1, 'customer ' || n FROM generate_series(0, 999) n",
                partner,
            )
            await connection.execute("BEGIN")
            await connection.execute(
                "CREATE TEMP TABLE staged AS SELECT n AS line, md5('connector' || n)::uuid AS id, "
                "'connector ' || n AS name, CASE WHEN n % 2 = 0 THEN 'physical' ELSE 'virtual' END AS type, "
                f"CASE WHEN n % 5 < 3 THEN md5('customer' || n % 1000)::uuid END AS customer_id "
                f"FROM generate_series(1, {int(rows)}) n"
            )
            if written_once:
                await connection.execute("SELECT events_sequence_now()")
            plan = await connection.fetch(
                "EXPLAIN (ANALYZE, BUFFERS OFF) INSERT INTO connectors "
                "(id, partner_id, customer_id, name, type, hardware_version, software_version) "
                "SELECT id, $1, customer_id, name, type, '1', '2' FROM staged ORDER BY line",
                partner,
            )
            for (line,) in plan:
                if line.startswith(("Trigger", "Execution Time")):
                    print(line, flush=True)
            started = time.perf_counter()
            await connection.execute("COMMIT")
            print(f"COMMIT: {(time.perf_counter() - started) * 1000:.0f} ms", flush=True)
        finally:
            await connection.close()

    try:
        asyncio.run(run())
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["reads", "ratelimit", "import", "offset", "insert"])
    parser.add_argument("--seconds", type=int, default=8, help="of each wrk run")
    parser.add_argument("--rows", type=int, default=10_000_000, help="connectors to import")
    options = parser.parse_args()
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "")
    if options.what == "reads":
        measure_reads(options.seconds)
    elif options.what == "ratelimit":
        measure_rate_limit(options.seconds)
    elif options.what == "insert":
        measure_insert(options.rows if options.rows != 10_000_000 else 100_000, WORK / "insert")
    elif options.what == "offset":
        measure_offset(min(options.rows, 1_000_000) if options.rows == 10_000_000 else options.rows, WORK)
    else:
        measure_import(options.rows, WORK)


if __name__ == "__main__":
    main()
