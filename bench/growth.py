"""Growth (issues 13, 16 and 19): the p50 of every list at 10,000 connectors and at every larger scale.

One fleetreg per scale (each its own database on the embedded server), all running at once; per list
endpoint, ``wrk -c8`` against each in turn, round after round (the order reversed every round). The
median p50 at each scale over the one at the smallest: at most 1.5 (flat). The last page of the
connectors by ``offset`` is reported beside it (issue 19 asks for it under 200 ms at 1M).
"""

from __future__ import annotations

import argparse
import statistics
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import data
from bench.data import Scale, log

GROWTH_LIMIT = 1.5
DEEP_OFFSET = "connectors, last page by offset"
DEEP_OFFSET_LIMIT_MS = 200.0
ASSOCIATION_QUERY = (
    "filters[chips.carrier][ilk]=i&filters[device.name][sw]=Tracker&includes[device][]=imei"
    "&includes[enterprise][]=name&count=true"
)


def scales(main: Scale) -> list[Scale]:
    chosen = {0.01, main.factor}
    if main.factor > 1:
        chosen.add(1.0)
    return [Scale(factor) for factor in sorted(chosen)]


def paths(url: str, scale: Scale) -> dict[str, list[str]]:
    """Per list, the requests whose p50 is compared across the scales."""

    def sql(query: str) -> list[str]:
        return data.sample(url, query)

    customers = sql(
        "SELECT customer_id FROM connectors WHERE customer_id IS NOT NULL GROUP BY customer_id "
        "ORDER BY md5(customer_id::text) LIMIT 50"
    )
    names = sql("SELECT name FROM connectors ORDER BY md5(id::text) LIMIT 200")
    vehicles = sql(
        "SELECT vehicle_id FROM device_associations WHERE ended_at IS NULL GROUP BY vehicle_id "
        "ORDER BY md5(vehicle_id) LIMIT 200"
    )
    enterprises = sql("SELECT id FROM enterprises ORDER BY md5(id) LIMIT 50")
    devices = sql("SELECT device_id FROM device_associations GROUP BY device_id ORDER BY md5(device_id) LIMIT 200")
    # issue 16: the history lists at an instant (the second before the run) grow no more than today's
    instant = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "connectors, no filter": ["/v2/customers/connectors"],
        "connectors by customer_id": [f"/v2/customers/connectors?customer_id={c}" for c in customers],
        "connectors by name": [f"/v2/customers/connectors?name={n}" for n in names],
        "connectors assigned=true&type=virtual": ["/v2/customers/connectors?assigned=true&type=virtual"],
        "customers": ["/v2/customers"],
        "vehicle associations, filters + includes + count": [
            f"/v2/vehicles/{v}/associations/devices?{ASSOCIATION_QUERY}" for v in vehicles
        ],
        "vehicle associations, as_of + known_at": [
            f"/v2/vehicles/{v}/associations/devices?as_of={instant}&known_at={instant}" for v in vehicles
        ],
        "device history, known_at": [f"/v2/devices/{d}/associations?known_at={instant}" for d in devices],
        "vehicles": ["/v2/vehicles"],
        "vehicles by enterprise_id, count=true": [f"/v2/vehicles?enterprise_id={e}&count=true" for e in enterprises],
        "devices": ["/v2/devices"],
        "chips, count=true": ["/v2/chips?count=true"],
        "enterprises": ["/v2/enterprises"],
        DEEP_OFFSET: [f"/v2/customers/connectors?offset={max(0, scale.connectors - 25)}"],
    }


def run(
    options: argparse.Namespace, wrk: str, server_url: str, work: Path, peer_dir: Path, main: Scale
) -> dict[str, Any]:
    from bench.run import GROWTH_PORT, fleetreg_process, lua_paths, run_wrk, token_for

    chosen = scales(main)
    loaded = [data.load(server_url, work, peer_dir, scale) for scale in chosen]
    result: dict[str, Any] = {
        "scales": [s.describe() for s in chosen],
        "tags": [s.tag for s in chosen],
        "connectors": [s.connectors for s in chosen],
        "lists": {},
    }
    with ExitStack() as stack:
        bases, tokens = [], []
        for number, item in enumerate(loaded):
            port = GROWTH_PORT + number
            stack.enter_context(fleetreg_process(item.fleetreg_url, port, work / f"fleetreg-data-growth-{number}"))
            bases.append(f"http://127.0.0.1:{port}")
            tokens.append(token_for(bases[-1], item.credentials))
        requests = [paths(item.fleetreg_url, item.scale) for item in loaded]
        for endpoint in requests[0]:
            p50s: list[list[float]] = [[] for _ in loaded]
            errors = 0
            for round_number in range(options.rounds):
                order = list(range(len(loaded)))
                for at in order if round_number % 2 == 0 else reversed(order):
                    script = lua_paths(requests[at][endpoint], {"Authorization": f"Bearer {tokens[at]}"})
                    measured = run_wrk(wrk, bases[at], script, seconds=options.seconds, connections=8)
                    p50s[at].append(measured.p50_ms)
                    errors += measured.errors
                    tag = chosen[at].tag
                    log(f"growth {endpoint:<48} {tag:>10} round {round_number + 1}: p50 {measured.p50_ms:8.2f} ms")
            medians = [statistics.median(values) for values in p50s]
            result["lists"][endpoint] = {"p50_ms": medians, "ratio": medians[-1] / medians[0], "errors": errors}
    return result


def render(growth: dict[str, Any]) -> tuple[list[str], list[tuple[str, bool]]]:
    tags = growth["tags"]
    lines = [
        "## growth (embedded setup): p50 in ms, wrk -c8, at " + "; ".join(growth["scales"]),
        "",
        "| list | " + " | ".join(f"p50 {tag}" for tag in tags) + " | largest/smallest | target | met |",
        "| --- | " + " | ".join("---:" for _ in tags) + " | ---: | ---: | --- |",
    ]
    verdicts: list[tuple[str, bool]] = []
    for name, row in growth["lists"].items():
        figures = " | ".join(f"{value:.2f}" for value in row["p50_ms"])
        if name == DEEP_OFFSET:
            # issue 19: the last page of (at most) 1M connectors
            at = max(i for i, n in enumerate(growth["connectors"]) if n <= 1_000_000 or i == 0)
            ok = row["p50_ms"][at] < DEEP_OFFSET_LIMIT_MS and not row["errors"]
            target = f"p50 at {tags[at]} < {DEEP_OFFSET_LIMIT_MS:g} ms"
        else:
            ok = row["ratio"] <= GROWTH_LIMIT and not row["errors"]
            target = f"<= {GROWTH_LIMIT:g}"
        verdicts.append((f"growth of {name}", ok))
        shown = ("yes" if ok else "NO") + (" (errors)" if row["errors"] else "")
        lines.append(f"| {name} | {figures} | {row['ratio']:.2f} | {target} | {shown} |")
    lines.append("")
    return lines, verdicts
