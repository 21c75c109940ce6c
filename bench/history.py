"""Issue 16's targets, fleetreg against itself (the peer has neither history nor idempotency keys):

- a vehicle's association list with ``as_of`` and ``known_at`` as fast as the plain list (the plain
  list's median req/s over the history list's at most 1.2), on the loaded dataset;
- the Idempotency-Key adds at most 5 % to a bulk create of 1,000 associations (the median of keyed
  over unkeyed, pair by pair, the two alternating; each key new, so each request runs);
- and at most 0.3 ms to a connector PUT (median latency, alternating likewise).
"""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.data import log, paired_ratio
from bench.lean import LeanClient
from bench.run import Bench, lua_paths

ASSOCIATIONS = "/v2/vehicles/associations/devices"
CONNECTORS = "/v2/customers/connectors"
FREE_PAIRS = """
SELECT d.id || ' ' || (SELECT v.id FROM vehicles v WHERE v.enterprise_id = d.enterprise_id ORDER BY v.id LIMIT 1)
FROM devices d
WHERE NOT EXISTS (SELECT 1 FROM device_associations a WHERE a.device_id = d.id AND a.ended_at IS NULL)
ORDER BY d.id LIMIT 1000
"""


def scenario(bench: Bench) -> None:
    history_lists(bench)
    with httpx.Client(base_url=bench.setup.fleetreg_base, timeout=60) as client:
        # Each part after a checkpoint: measured while the writes of the part before it (the timed
        # import, the bulks' 44,000 associations) were being written out, the key's tenth of a
        # millisecond on a PUT doubled (0.58 ms; 0.14 ms on the same server a minute later).
        bench.fleetreg_sql("CHECKPOINT")
        connector_put_with_keys(bench, client)
        bench.fleetreg_sql("CHECKPOINT")
        bulk_with_keys(bench, client)


def history_lists(bench: Bench) -> None:
    vehicles = bench.fleetreg_sql(
        "SELECT vehicle_id FROM device_associations WHERE ended_at IS NULL GROUP BY vehicle_id "
        "ORDER BY md5(vehicle_id) LIMIT 1000"
    )
    instant = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    plain = [f"/v2/vehicles/{v}/associations/devices" for v in vehicles]
    dated = [f"{path}?as_of={instant}&known_at={instant}" for path in plain]
    scripts = {"plain": lua_paths(plain, bench.setup.auth), "history": lua_paths(dated, bench.setup.auth)}
    measured: dict[str, list[float]] = {name: [] for name in scripts}
    for round_number in range(bench.options.rounds):
        for name in scripts if round_number % 2 == 0 else reversed(list(scripts)):
            result = bench.run_wrk(bench.setup.fleetreg_base, scripts[name])
            measured[name].append(result.rps)
            log(
                f"[{bench.setup.name}] vehicle associations, {name:<8} round {round_number + 1}: {result.rps:.1f} req/s"
            )
    ratio = statistics.median(measured["plain"]) / statistics.median(measured["history"])
    bench.check("vehicle associations: plain req/s over as_of+known_at req/s", round(ratio, 3), 1.2, unit="ratio")


def bulk_with_keys(bench: Bench, client: httpx.Client) -> None:
    """The overhead is the median over repetitions of keyed over unkeyed, each pair run back to back:
    a bulk of 1,000 takes long enough for the machine's pace to drift between the medians of two
    separate series by more than the 5 % measured."""
    pairs = [line.split() for line in bench.fleetreg_sql(FREE_PAIRS)]
    items = [{"device_id": device, "vehicle_id": vehicle, "is_main_device": False} for device, vehicle in pairs]
    repetitions = 5 if bench.options.quick else 21
    timings: dict[str, list[float]] = {"without": [], "with": []}
    for repetition in range(repetitions + 1):  # the first, warming up, is not counted
        for keyed in (False, True) if repetition % 2 else (True, False):
            headers = {**bench.setup.auth, **({"Idempotency-Key": str(uuid.uuid4())} if keyed else {})}
            started = time.perf_counter()
            response = client.post(ASSOCIATIONS, json={"data": items}, headers=headers)
            elapsed = time.perf_counter() - started
            response.raise_for_status()
            ended = [{"type": "device_association", "id": item["id"]} for item in response.json()["data"]]
            client.request("DELETE", ASSOCIATIONS, json={"data": ended}, headers=bench.setup.auth).raise_for_status()
            if repetition:
                timings["with" if keyed else "without"].append(elapsed * 1000)
    without, keyed = (statistics.median(timings[name]) for name in ("without", "with"))
    paired = paired_ratio(timings["with"], timings["without"])
    log(
        f"[{bench.setup.name}] bulk create of {len(items)}: {without:.1f} ms without a key, {keyed:.1f} ms with "
        f"(medians); keyed over unkeyed, pair by pair: median {paired:.4f}"
    )
    bench.check(
        f"Idempotency-Key overhead on a bulk create of {len(items)} (%)",
        round((paired - 1) * 100, 2),
        5,
        unit="%",
    )


def connector_put_with_keys(bench: Bench, client: httpx.Client) -> None:
    """Timed with the lean client (bench/lean.py): httpx's own 2.5 ms a request is noise that hides a
    difference of a tenth of a millisecond."""
    [connector] = bench.fleetreg_sql("SELECT id FROM connectors ORDER BY id LIMIT 1")
    current = client.get(f"{CONNECTORS}/{connector}", headers=bench.setup.auth)
    current.raise_for_status()
    body: dict[str, Any] = {"customer_id": current.json().get("customer_id")}
    timings: dict[str, list[float]] = {"without": [], "with": []}
    with LeanClient(bench.setup.fleetreg_base, bench.setup.auth) as lean:
        for repetition in range(401):
            for keyed in (False, True) if repetition % 2 else (True, False):
                headers = {"Idempotency-Key": str(uuid.uuid4())} if keyed else {}
                started = time.perf_counter()
                status, answer = lean.request("PUT", f"{CONNECTORS}/{connector}", json=body, headers=headers)
                if repetition:
                    timings["with" if keyed else "without"].append((time.perf_counter() - started) * 1000)
                assert status == 200, answer
    without, keyed = (statistics.median(timings[name]) for name in ("without", "with"))
    log(f"[{bench.setup.name}] connector PUT: {without:.3f} ms without a key, {keyed:.3f} ms with")
    bench.check("Idempotency-Key overhead on a connector PUT (ms)", round(keyed - without, 3), 0.3, unit="ms")
