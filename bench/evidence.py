"""Micro-measurements behind the choices in bench/README.md, each alternative side by side in one run.

    .venv/bin/python -m bench.evidence        (needs `make bench` to have loaded bench/.work once)

CPU time (time.process_time) per operation of this process, median of 5 runs: insensitive to other
processes competing for the machine, unlike requests per second.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import orjson
import psutil
import uvloop

from bench.run import ROOT, SERVER_OPTIONS, WORK, database_url, process, sample, token_for
from fleetreg.app import create_app
from fleetreg.auth.keys import KeyRing
from fleetreg.auth.revocations import RevokedClients
from fleetreg.auth.scopes import parse_scope
from fleetreg.auth.tokens import TokenService
from fleetreg.embedded import EmbeddedPostgres
from fleetreg.partner.queries import CONNECTOR_JSON_BY_ID, ConnectorFilters, connector_page_query
from fleetreg.settings import Settings

RUNS = 5


def per_call_us(function: Callable[[], object], calls: int) -> float:
    samples = []
    for _ in range(RUNS):
        started = time.process_time()
        for _ in range(calls):
            function()
        samples.append((time.process_time() - started) / calls * 1e6)
    return statistics.median(samples)


async def per_call_us_async(function: Callable[[], Awaitable[object]], calls: int) -> float:
    samples = []
    for _ in range(RUNS):
        started = time.process_time()
        for _ in range(calls):
            await function()
        samples.append((time.process_time() - started) / calls * 1e6)
    return statistics.median(samples)


def row(name: str, chosen: float, alternative: float, alternative_name: str) -> str:
    return f"| {name} | {chosen:.1f} | {alternative_name}: {alternative:.1f} | {alternative / chosen:.1f}x |"


async def database_rows(url: str) -> list[str]:
    lines = []
    cached = await asyncpg.connect(url)
    partner = await cached.fetchval("SELECT partner_id FROM connectors LIMIT 1")
    connector_id = await cached.fetchval("SELECT id FROM connectors LIMIT 1")
    customer = await cached.fetchval("SELECT customer_id FROM connectors WHERE customer_id IS NOT NULL LIMIT 1")
    uncached = await asyncpg.connect(url, statement_cache_size=0)
    lines.append(
        row(
            "get by id, one statement (asyncpg, prepared statement cached)",
            await per_call_us_async(lambda: cached.fetchval(CONNECTOR_JSON_BY_ID, partner, connector_id), 2000),
            await per_call_us_async(lambda: uncached.fetchval(CONNECTOR_JSON_BY_ID, partner, connector_id), 2000),
            "prepared anew each time",
        )
    )

    sql, args = connector_page_query(ConnectorFilters(customer_id=customer), 100, 0)
    args[0] = partner
    # The page as rows decoded into dicts and encoded by orjson, against the same page as JSON from PostgreSQL.
    rows_sql = (
        "SELECT id::text, customer_id::text, hardware_version, name, pin, software_version, type "
        "FROM connectors WHERE partner_id = $1 AND customer_id = $2 ORDER BY name, id LIMIT 100"
    )

    async def page_as_json() -> bytes:
        record = await cached.fetchrow(sql, *args)
        return b"[%b]" % bytes(record["items"])

    async def page_as_rows() -> bytes:
        records = await cached.fetch(rows_sql, partner, customer)
        return orjson.dumps([dict(record) for record in records])

    lines.append(
        row(
            "a page of 60 connectors: JSON built by PostgreSQL",
            await per_call_us_async(page_as_json, 1000),
            await per_call_us_async(page_as_rows, 1000),
            "rows decoded to dicts, orjson",
        )
    )
    records = [dict(record) for record in await cached.fetch(rows_sql, partner, customer)]
    lines.append(
        row(
            "encoding that page (60 dicts)",
            per_call_us(lambda: orjson.dumps(records), 5000),
            per_call_us(lambda: json.dumps(records, separators=(",", ":")).encode(), 5000),
            "json.dumps",
        )
    )
    for connection in (cached, uncached):
        await connection.close()
    return lines


async def token_rows() -> list[str]:
    with tempfile.TemporaryDirectory() as directory:
        tokens = TokenService(
            KeyRing.from_directory(Path(directory)), RevokedClients(), issuer="fleetreg", audience="fleetreg", ttl=3600
        )
        token = tokens.issue("client", parse_scope("connectors:read"), uuid.uuid4(), None)

        async def cached() -> object:
            return await tokens.verify(token)

        async def verified() -> object:
            return await tokens._verify_signature_and_claims(token)

        return [
            row(
                "bearer token check (ES256 JWT), cached per token",
                await per_call_us_async(cached, 20000),
                await per_call_us_async(verified, 500),
                "signature and claims verified each time",
            )
        ]


async def app_rows(url: str) -> list[str]:
    """A connector GET through the whole ASGI app (auth, database, JSON), by the fast lane and by the
    FastAPI route it stands in for."""
    settings = Settings(database_url=url, data_dir=WORK / "fleetreg-data", log_level="warning")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        connection = await asyncpg.connect(url)
        partner, connector_id = await connection.fetchrow("SELECT partner_id, id::text FROM connectors LIMIT 1")
        await connection.close()
        token = app.state.auth.tokens.issue("bench", parse_scope("connectors:read"), partner, None)
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": f"/v2/customers/connectors/{connector_id}", "query_string": b"", "root_path": "",
            "headers": [(b"host", b"bench"), (b"authorization", f"Bearer {token}".encode())],
            "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8000),
        }  # fmt: skip

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                assert message["status"] == 200

        async def get() -> None:
            await app(dict(scope, state={}), receive, send)

        fast = await per_call_us_async(get, 1000)
        lane = app.fast_lane
        app.fast_lane = None
        routed = await per_call_us_async(get, 1000)
        app.fast_lane = lane
    return [row("GET one connector through the app: the fast lane", fast, routed, "FastAPI's route")]


def cpu_per_request_us(pid: int, wrk_command: list[str]) -> float:
    """CPU microseconds of process ``pid`` per request of one ``wrk`` run."""
    process = psutil.Process(pid)
    before = process.cpu_times()
    result = subprocess.run(wrk_command, capture_output=True, text=True, check=True)
    after = process.cpu_times()
    requests = int(re.search(r"(\d+) requests in", result.stdout).group(1))  # type: ignore[union-attr]
    return (after.user + after.system - before.user - before.system) / requests * 1e6


# A fleetreg server as `fleetreg serve` runs it, with the HTTP protocol given as its first argument.
SERVE = """import sys, uvicorn
uvicorn.run("fleetreg.app:create_app", factory=True, port=int(sys.argv[2]), loop="uvloop", http=sys.argv[1],
            access_log=False, server_header=False, log_level="warning")"""


def connection_lane_rows(url: str) -> list[str]:
    """``wrk`` GETs of one connector against a real server, its lane's answers written on the connection
    by ``fleetreg.protocol`` or sent through the ASGI app by uvicorn's own httptools protocol."""
    credentials = json.loads((WORK / "credentials-big.json").read_text())
    env = {**os.environ, "FLEETREG_DATABASE_URL": url, "FLEETREG_DATA_DIR": str(WORK / "fleetreg-data")}
    partner = credentials["partner_id"]
    [connector_id] = sample(url, f"SELECT id FROM connectors WHERE partner_id = '{partner}' LIMIT 1")
    results = {}
    for protocol in ("fleetreg.protocol:HttpProtocol", "httptools"):
        base = "http://127.0.0.1:8191"
        command = [sys.executable, "-c", SERVE, protocol, "8191"]
        with process(command, env=env, cwd=ROOT, up=f"{base}/healthz") as server:
            token = token_for(base, credentials)
            connector = f"{base}/v2/customers/connectors/{connector_id}"
            wrk = ["wrk", "-t1", "-c32", "-d5s", "-H", f"Authorization: Bearer {token}", connector]
            results[protocol] = statistics.median(cpu_per_request_us(server.pid, wrk) for _ in range(3))
    return [
        row(
            "GET one connector from a server: the lane's answer written on the connection",
            results["fleetreg.protocol:HttpProtocol"],
            results["httptools"],
            "through the ASGI app",
        )
    ]


def server_rows() -> list[str]:
    """A trivial ASGI app under uvicorn: uvloop + httptools against asyncio + h11, CPU per request."""
    lines = []
    results = {}
    for loop, http in (("uvloop", "httptools"), ("asyncio", "h11")):
        port = 8190
        command = [sys.executable, "-m", "uvicorn", "bench.evidence:trivial_app", "--port", str(port),
                   "--loop", loop, "--http", http, "--no-access-log", "--log-level", "warning"]  # fmt: skip
        with process(command, env=dict(os.environ), cwd=ROOT, up=f"http://127.0.0.1:{port}/") as server:
            wrk = ["wrk", "-t1", "-c32", "-d5s", f"http://127.0.0.1:{port}/"]
            results[loop] = cpu_per_request_us(server.pid, wrk)
    lines.append(
        row(
            "an HTTP request to a trivial app: uvicorn on uvloop + httptools",
            results["uvloop"],
            results["asyncio"],
            "asyncio + h11",
        )
    )
    return lines


async def trivial_app(
    scope: dict[str, object], receive: object, send: Callable[[dict[str, object]], Awaitable[None]]
) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"{}"})


async def main() -> None:
    server = EmbeddedPostgres(WORK / "postgres", server_options=SERVER_OPTIONS)
    url = database_url(server.start(), "fleetreg")
    try:
        lines = [
            "| operation | chosen (µs CPU) | alternative (µs CPU) | alternative / chosen |",
            "| --- | ---: | ---: | ---: |",
            *await token_rows(),
            *await database_rows(url),
            *await app_rows(url),
            *connection_lane_rows(url),
            *server_rows(),
        ]
    finally:
        server.stop()
    print("\n".join(lines))


if __name__ == "__main__":
    uvloop.run(main())
