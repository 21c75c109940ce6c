"""Issue 13 item 1, the reads: every connector read and every fleet read, side by side with the peer.

The same requests go to both servers (the ids are the same rows: fleetreg's data is copied from the
peer's database). Target: fleetreg's median req/s at least 0.8 of the peer's (aim 1.0). The lists of
vehicles, devices and chips have no route in the peer: fleetreg's figures are reported alone.
"""

from __future__ import annotations

import httpx

from bench.run import Bench

CONNECTORS = "/v2/customers/connectors"
# The peer README's association requests: a chip filter with both includes and the count; a search.
CHIP_FILTER = (
    "filters[chips.carrier][eq]=Vivo&includes[device][]=name&includes[device][]=imei"
    "&includes[enterprise][]=name&count=true"
)
TEXT_FILTERS = (
    "filters[chips.carrier][ilk]=i&filters[device.name][sw]=Tracker&includes[device][]=imei"
    "&includes[enterprise][]=name&count=true"
)
SORTED_ATTRIBUTES = "attributes[]=serial&attributes[]=number&sort[number]=-1"


def scenario(bench: Bench) -> None:
    connector_reads(bench)
    fleet_reads(bench)


def connector_reads(bench: Bench) -> None:
    ids = bench.peer_sql("SELECT id FROM connectors ORDER BY md5(id::text) LIMIT 1000")
    names = bench.peer_sql("SELECT name FROM connectors ORDER BY md5(id::text) LIMIT 1000")
    customers = bench.peer_sql(
        "SELECT customer_id FROM connectors WHERE customer_id IS NOT NULL GROUP BY customer_id "
        "ORDER BY md5(customer_id::text) LIMIT 50"
    )
    same = _same_everywhere
    for name, paths in (
        ("connector get by id", [f"{CONNECTORS}/{i}" for i in ids]),
        ("connectors list by customer_id", [f"{CONNECTORS}?customer_id={c}" for c in customers]),
        ("connectors list by name", [f"{CONNECTORS}?name={n}" for n in names]),
        ("connectors list assigned=true&type=virtual", [f"{CONNECTORS}?assigned=true&type=virtual"]),
        ("connectors list, no filter", [CONNECTORS]),
    ):
        same(bench, paths[0])
        bench.compare(name, paths, paths, target=0.8, aim=1.0)


def fleet_reads(bench: Bench) -> None:
    vehicles = bench.peer_sql(
        "SELECT vehicle_id FROM device_associations WHERE ended_at IS NULL GROUP BY vehicle_id "
        "ORDER BY md5(vehicle_id) LIMIT 200"
    )
    enterprises = bench.peer_sql("SELECT id FROM enterprises ORDER BY md5(id) LIMIT 50")

    def associations(query: str) -> list[str]:
        return [f"/v2/vehicles/{v}/associations/devices" + (f"?{query}" if query else "") for v in vehicles]

    for name, query in (
        ("vehicle associations, no parameters", ""),
        ("vehicle associations, chip filter + includes + count", CHIP_FILTER),
        ("vehicle associations, text filters + includes + count", TEXT_FILTERS),
        ("vehicle associations, search=vivo", "search=vivo"),
        ("vehicle associations, attributes + sort", SORTED_ATTRIBUTES),
    ):
        paths = associations(query)
        _same_everywhere(bench, paths[0])
        bench.compare(name, paths, paths, target=0.8, aim=1.0)
    for name, paths in (
        ("vehicles list by enterprise_id", [f"/v2/vehicles?enterprise_id={e}" for e in enterprises]),
        ("vehicles list, search", [f"/v2/vehicles?search=Truck%20{n}1" for n in range(50)]),
        ("devices list by enterprise_id", [f"/v2/devices?enterprise_id={e}" for e in enterprises]),
        ("chips list", ["/v2/chips"]),
        ("chips list, count=true", ["/v2/chips?count=true"]),
        ("enterprises list", ["/v2/enterprises"]),
    ):
        bench.compare(name, [], paths, target=None)


def _same_everywhere(bench: Bench, path: str) -> None:
    """Both servers answer the first request of a workload with 200 and as many items: the same data."""
    answers = {}
    for side, base, headers in (
        ("peer", bench.setup.peer_base, {}),
        ("fleetreg", bench.setup.fleetreg_base, bench.setup.auth),
    ):
        response = httpx.get(base + path, headers=headers, timeout=60)
        if response.status_code != 200:
            raise SystemExit(f"{side} answered {path} with {response.status_code}: {response.text[:300]}")
        body = response.json()
        items = body.get("data", body.get("result", body))
        answers[side] = len(items) if isinstance(items, list) else 1
    if answers["peer"] != answers["fleetreg"]:
        raise SystemExit(f"{path}: the peer gave {answers['peer']} items, fleetreg {answers['fleetreg']}")
