"""Issue 13 item 1, the writes: a bulk create of 100 associations and the end of them, side by side.

One client, sequential requests on a kept-alive connection, alternating between the servers (the
order swapped every repetition): 100 free devices go onto vehicles of their enterprises as
secondaries, then the same 100 are ended, so each repetition leaves the data as it found it (plus
100 ended associations of history). Ratio: the peer's median time over fleetreg's (target >= 1.0).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import httpx

from bench.data import log
from bench.run import Bench

ASSOCIATIONS = "/v2/vehicles/associations/devices"
FREE_PAIRS = """
SELECT d.id || ' ' || (SELECT v.id FROM vehicles v WHERE v.enterprise_id = d.enterprise_id ORDER BY v.id LIMIT 1)
FROM devices d
WHERE NOT EXISTS (SELECT 1 FROM device_associations a WHERE a.device_id = d.id AND a.ended_at IS NULL)
ORDER BY d.id LIMIT 100
"""


def scenario(bench: Bench) -> None:
    pairs = [line.split() for line in bench.peer_sql(FREE_PAIRS)]
    items = [{"device_id": device, "vehicle_id": vehicle, "is_main_device": False} for device, vehicle in pairs]
    repetitions = 5 if bench.options.quick else 15
    timings: dict[str, dict[str, list[float]]] = {side: {"create": [], "end": []} for side in ("peer", "fleetreg")}
    with httpx.Client(timeout=60) as client:
        for repetition in range(repetitions + 1):  # the first, warming up, is not counted
            order = [("peer", bench.setup.peer_base), ("fleetreg", bench.setup.fleetreg_base)]
            for side, base in order if repetition % 2 else reversed(order):
                created, ended = _create_and_end(client, base, items)
                if repetition:
                    timings[side]["create"].append(created)
                    timings[side]["end"].append(ended)
    for step in ("create", "end"):
        peer, ours = (statistics.median(timings[side][step]) * 1000 for side in ("peer", "fleetreg"))
        log(f"[{bench.setup.name}] bulk {step} of {len(items)}: peer {peer:.1f} ms, fleetreg {ours:.1f} ms")
        bench.record(
            {
                "name": f"bulk {step} of {len(items)} associations (ms; ratio peer/fleetreg)",
                "unit": "ms",
                "peer": round(peer, 2),
                "fleetreg": round(ours, 2),
                "ratio": peer / ours,
                "target": 1.0,
                "runs": {side: timings[side][step] for side in timings},
            }
        )


def _create_and_end(client: httpx.Client, base: str, items: list[dict[str, Any]]) -> tuple[float, float]:
    started = time.perf_counter()
    response = client.post(base + ASSOCIATIONS, json={"data": items})
    created = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{base}: association create failed: {response.status_code} {response.text[:500]}")
    ending = [{"type": "device_association", "id": item["id"]} for item in response.json()["data"]]
    started = time.perf_counter()
    response = client.request("DELETE", base + ASSOCIATIONS, json={"data": ending})
    ended = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{base}: association end failed: {response.status_code} {response.text[:500]}")
    return created, ended
