"""Issue 15's targets for change events, measured side by side with the same run without them:

- the outbox's overhead on a 1,000-item bulk association create (target <= 15 %) and on a connector
  assignment (<= 10 %): the same requests alternately with the entity table's event triggers
  enabled and disabled (``ALTER TABLE ... DISABLE TRIGGER``), the two alternating, the overhead the
  median of with over without, round by round;
- delivery: a committed change reaches a local receiver in < 1 s (p50) and < 3 s (p99), served by
  ``fleetreg serve --workers 2``;
- catch-up: a consumer 1,000,000 events behind pages through ``GET /v2/events?limit=1000`` at
  >= 20,000 events/s;
- the feed's latency at the head, with 10k and then 1M stored events (flat).

Standalone (its own embedded PostgreSQL, durable settings, port 18200):
``.venv/bin/python -m bench.events`` (``--events 1000000 --rounds 7``; ``--parts overhead`` for the
outbox's overhead alone; ``--parts feed --events 10000000`` for the feed's head at 10M). Prints one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.data import paired_ratio
from bench.lean import LeanClient
from fleetreg import migrate
from fleetreg.auth import clients as auth_clients
from fleetreg.db import Database
from fleetreg.embedded import EmbeddedPostgres

PORT = 18200
BASE = f"http://127.0.0.1:{PORT}"


def cnpj(number: int) -> str:
    digits = [int(c) for c in f"{number:012d}"]
    for weights in ([5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2], [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]):
        remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        digits.append(0 if remainder < 2 else 11 - remainder)
    return "".join(map(str, digits))


def imei(number: int) -> str:
    body = f"35{number:012d}"
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char) * (2 if position % 2 == 0 else 1)
        total += digit // 10 + digit % 10
    return body + str((10 - total % 10) % 10)


# The names that begin those of the triggers making the events measured: a bulk create's, and a
# connector update's (since migration 0021 two triggers, one per path).
ASSOCIATION_EVENTS = "device_associations_events_insert"
ASSIGNMENT_EVENTS = "connectors_events_update"


async def _toggle(url: str, table: str, triggers: str, on: bool) -> None:
    connection = await asyncpg.connect(url)
    try:
        names = await connection.fetch(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = $1::regclass AND starts_with(tgname, $2)", table, triggers
        )
        action = "ENABLE" if on else "DISABLE"
        await connection.execute(f"ALTER TABLE {table} " + ", ".join(f"{action} TRIGGER {name}" for (name,) in names))
    finally:
        await connection.close()


async def bulk_overhead(http: httpx.AsyncClient, url: str, rounds: int) -> dict[str, Any]:
    enterprise = (
        await http.post("/v2/enterprises", json={"data": {"attributes": {"name": "B", "cnpj": cnpj(7)}}})
    ).json()
    eid = enterprise["data"]["id"]
    counter = iter(range(1, 10**9))
    timings: dict[bool, list[float]] = {True: [], False: []}
    for round_number in range(rounds):
        for with_events in (True, False) if round_number % 2 else (False, True):
            vehicles = [{"attributes": {"enterprise_id": eid, "name": f"v{next(counter)}"}} for _ in range(1000)]
            devices = [
                {"attributes": {"enterprise_id": eid, "name": "d", "imei": imei(next(counter)), "code": "c"}}
                for _ in range(1000)
            ]
            v = (await http.post("/v2/vehicles", json={"data": vehicles})).json()["data"]
            d = (await http.post("/v2/devices", json={"data": devices})).json()["data"]
            items = [
                {"vehicle_id": a["id"], "device_id": b["id"], "is_main_device": True} for a, b in zip(v, d, strict=True)
            ]
            await _toggle(url, "device_associations", ASSOCIATION_EVENTS, with_events)
            started = time.perf_counter()
            response = await http.post("/v2/vehicles/associations/devices", json={"data": items})
            timings[with_events].append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
    await _toggle(url, "device_associations", ASSOCIATION_EVENTS, True)
    return _overhead(timings, digits=1)


async def assignment_overhead(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], rounds: int
) -> dict[str, Any]:
    """Timed with the lean client: httpx's own 2.5 ms a request would be most of the base and hide
    the outbox's share of it."""
    customers = [
        (await http.post("/v2/customers", json={"name": f"c{n}"}, headers=headers)).json()["id"] for n in range(2)
    ]
    connector = {"name": "bench", "type": "virtual", "hardware_version": "1", "software_version": "1"}
    cid = (await http.post("/v2/customers/connectors", json=connector, headers=headers)).json()["id"]
    medians: dict[bool, list[float]] = {True: [], False: []}
    with LeanClient(BASE, headers) as client:
        for round_number in range(rounds * 4):  # short blocks: the machine's pace drifts less within a pair
            for with_events in (True, False) if round_number % 2 else (False, True):
                await _toggle(url, "connectors", ASSIGNMENT_EVENTS, with_events)
                samples = []
                for number in range(51):
                    started = time.perf_counter()
                    status, _ = client.request(
                        "PUT", f"/v2/customers/connectors/{cid}", json={"customer_id": customers[number % 2]}
                    )
                    if number:  # the first after the toggle plans its statements again
                        samples.append(time.perf_counter() - started)
                    assert status == 200
                medians[with_events].append(statistics.median(samples))
    await _toggle(url, "connectors", ASSIGNMENT_EVENTS, True)
    return _overhead(medians, digits=3)


def _overhead(timings: dict[bool, list[float]], digits: int) -> dict[str, Any]:
    """Medians of each side, and the overhead as the median of with over without, round by round."""
    on, off = statistics.median(timings[True]), statistics.median(timings[False])
    paired = paired_ratio(timings[True], timings[False])
    return {
        "with_events_ms": round(on * 1000, digits),
        "without_ms": round(off * 1000, digits),
        "overhead": round(paired - 1, 3),
    }


async def delivery_latency(http: httpx.AsyncClient, headers: dict[str, str], count: int) -> dict[str, Any]:
    arrivals: dict[str, float] = {}
    all_arrived = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(
                    next(
                        line.split(b":")[1]
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    )
                )
                body = json.loads(await reader.readexactly(length))
                arrivals[body["data"]["after"]["name"]] = time.perf_counter()
                if len(arrivals) >= count:
                    all_arrived.set()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", PORT + 1)
    hook = {"url": f"http://127.0.0.1:{PORT + 1}/", "types": ["customer.created"]}
    assert (await http.post("/v2/webhooks", json=hook, headers=headers)).status_code == 201
    committed: dict[str, float] = {}
    for number in range(count):
        name = f"latency-{number}"
        response = await http.post("/v2/customers", json={"name": name}, headers=headers)
        committed[name] = time.perf_counter()  # the answer follows the commit
        assert response.status_code == 201
        await asyncio.sleep(0.02)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_arrived.wait(), 30)
    server.close()
    latencies = sorted(max(0.0, arrivals[name] - committed[name]) for name in arrivals)
    return {
        "delivered": len(latencies),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
    }


async def fill(url: str, count: int) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(
            """
INSERT INTO events (sequence, occurred_at, type, enterprise_id, actor, subject_type, subject_id, before, after)
SELECT nextval('events_sequence'), now(), 'vehicle.updated', 'Ab3dE5gH7jK9mN1', '{"kind":"cli"}', 'vehicle', 'Vh' || n,
       json_build_object('type', 'vehicle', 'id', 'Vh' || n, 'attributes', json_build_object('name', 'before')),
       json_build_object('type', 'vehicle', 'id', 'Vh' || n, 'attributes', json_build_object('name', 'after'))
FROM generate_series(1, $1) AS n
""",
            count,
        )
        await connection.execute("VACUUM ANALYZE events")
    finally:
        await connection.close()


async def head_latency(http: httpx.AsyncClient) -> float:
    horizon = (await http.get("/v2/events", params={"limit": 1000, "type": "customer.created"})).json()["next_cursor"]
    samples = []
    for _ in range(200):
        started = time.perf_counter()
        await http.get("/v2/events", params={"after": horizon, "limit": 100})
        samples.append(time.perf_counter() - started)
    return round(statistics.median(samples) * 1000, 3)


async def catch_up(http: httpx.AsyncClient) -> dict[str, Any]:
    cursor, count = "0", 0
    started = time.perf_counter()
    while True:
        body = (await http.get("/v2/events", params={"after": cursor, "limit": 1000})).json()
        count += len(body["data"])
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break
    seconds = time.perf_counter() - started
    return {"events": count, "seconds": round(seconds, 2), "events_per_second": round(count / seconds)}


async def measure(url: str, options: argparse.Namespace) -> dict[str, Any]:
    database = Database(url, min_size=1, max_size=2)
    await database.open()
    client = await auth_clients.create_client(
        database,
        scope="customers:write connectors:write connectors:provision events:read webhooks:write",
        partner_name="bench",
        enterprise_id=None,
    )
    await database.close()
    async with httpx.AsyncClient(base_url=BASE, timeout=120) as http:
        token = (
            await http.post(
                "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client.client_id, client.client_secret)
            )
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        results: dict[str, Any] = {}
        parts = set(options.parts.split(","))
        if "overhead" in parts:
            results["bulk_1000_associations"] = await bulk_overhead(http, url, options.rounds)
            results["connector_assignment"] = await assignment_overhead(http, url, headers, options.rounds)
        if "delivery" in parts:
            results["delivery"] = await delivery_latency(http, headers, 200)
        if "feed" in parts:
            await fill(url, 10_000)
            results["feed_head_ms_at_10k"] = await head_latency(http)
            await fill(url, options.events)
            results["feed_head_ms_at_full"] = await head_latency(http)
        if "catchup" in parts:
            results["catch_up"] = await catch_up(http)
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--parts", default="overhead,delivery,feed,catchup", help="comma-separated: overhead, delivery, feed, catchup"
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fleetreg-bench-events-") as directory:
        postgres = EmbeddedPostgres(Path(directory) / "pg")
        url = postgres.start()
        try:
            migrate.upgrade(url)
            env = {key: value for key, value in os.environ.items() if not key.startswith("FLEETREG_")}
            env.update(
                FLEETREG_DATABASE_URL=url,
                FLEETREG_DATA_DIR=str(Path(directory) / "data"),
                FLEETREG_WEBHOOK_ALLOW_PRIVATE="true",
                FLEETREG_LOG_LEVEL="warning",
            )
            server = subprocess.Popen(
                [sys.executable, "-m", "fleetreg", "serve", "--port", str(PORT), "--workers", "2", "--no-migrate"],
                env=env,
                start_new_session=True,
            )
            try:
                for _ in range(300):
                    try:
                        if httpx.get(f"{BASE}/readyz", timeout=1).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    time.sleep(0.2)
                results = asyncio.run(measure(url, options))
            finally:
                server.terminate()
                server.wait(timeout=30)
        finally:
            postgres.stop()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
