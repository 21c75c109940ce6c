"""Issue 18: the operator console's pages answer in under 100 ms (p50) on the bench's data (at scale 1:
200,000 vehicles, 300,000 devices and chips, 1M connectors).

An admin operator is made with ``fleetreg operators create`` in the loaded database and signs in as
a browser does (the form's cookie and CSRF token). Each page is then asked for one request after
another on one keep-alive connection over the loopback, for samples of the loaded rows: the time of a
request is the server's time plus well under a millisecond of loopback and parsing. Judged: the p50
of each page under 100 ms. Alone, without the peer:
``.venv/bin/python -m bench.console --scale 1`` (or ``make bench BENCH_ARGS="--only bench.console"``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from urllib.parse import quote

import httpx

from bench import data, run
from bench.data import log
from bench.run import Bench

LIMIT_MS = 100.0
EMAIL = "bench-console@example.com"
REQUESTS_PER_PAGE = 60
_CSRF = re.compile(r'name="csrf" value="([^"]*)"')


def _operator_password(database_url: str) -> str:
    """An admin operator of the loaded database: made, or given a new password when it exists."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLEETREG_")}
    env["FLEETREG_DATABASE_URL"] = database_url
    command = [sys.executable, "-m", "fleetreg", "operators"]
    made = subprocess.run(
        [*command, "create", "--email", EMAIL, "--role", "admin", "--json"], env=env, capture_output=True, text=True
    )
    if made.returncode != 0:
        made = subprocess.run(
            [*command, "reset-password", EMAIL, "--json"], env=env, capture_output=True, text=True, check=True
        )
    password: str = json.loads(made.stdout)["password"]
    return password


def _signed_in(base: str, password: str) -> httpx.Client:
    http = httpx.Client(base_url=base, timeout=30)
    form = http.get("/console/sign-in")
    token = _CSRF.search(form.text)
    assert token is not None, "the sign-in form has no CSRF token"
    answer = http.post("/console/sign-in", data={"csrf": token.group(1), "email": EMAIL, "password": password})
    assert answer.status_code == 303, answer.text[:300]
    return http


def _p50_ms(http: httpx.Client, paths: list[str]) -> tuple[float, float]:
    """(p50, p90) in ms of the pages ``paths`` asked one after another (cycling through them)."""
    for path in paths[:3]:  # warm up: prepared statements, templates
        http.get(path)
    times = []
    for number in range(REQUESTS_PER_PAGE):
        path = paths[number % len(paths)]
        started = time.perf_counter()
        response = http.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, f"{path}: {response.status_code}"
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9)]


def measure(base: str, database_url: str) -> list[tuple[str, float, float]]:
    """(page, p50 ms, p90 ms) of every page, signed in as the bench's admin operator."""
    password = _operator_password(database_url)

    def sql(query: str) -> list[str]:
        return data.sample(database_url, query)

    vehicles = sql(
        "SELECT vehicle_id FROM device_associations WHERE ended_at IS NULL GROUP BY vehicle_id "
        "ORDER BY md5(vehicle_id) LIMIT 20"
    )
    listed = ", ".join(f"'{vehicle}'" for vehicle in vehicles)
    plates = sql(f"SELECT plate FROM vehicles WHERE id IN ({listed}) AND plate IS NOT NULL")
    devices = sql("SELECT device_id FROM device_associations GROUP BY device_id ORDER BY md5(device_id) LIMIT 20")
    device_list = ", ".join(f"'{device}'" for device in devices)
    imeis = sql(f"SELECT imei FROM devices WHERE id IN ({device_list})")
    enterprises = sql("SELECT id FROM enterprises ORDER BY md5(id) LIMIT 20")
    names = sql("SELECT name FROM enterprises ORDER BY md5(id) LIMIT 20")
    partner = sql(f"SELECT id FROM partners WHERE name = '{data.PARTNER}'")[0]
    pages = {
        "search form": ["/console"],
        "search by plate": [f"/console?q={quote(plate)}" for plate in plates],
        "search by IMEI": [f"/console?q={imei}" for imei in imeis],
        "search by enterprise name": [f"/console?q={quote(name)}" for name in names],
        "vehicle page (timeline)": [f"/console/vehicles/{vehicle}" for vehicle in vehicles],
        "device page (timeline)": [f"/console/devices/{device}" for device in devices],
        "enterprise page": [f"/console/enterprises/{enterprise}" for enterprise in enterprises],
        "vehicle events page": [f"/console/events/vehicles/{vehicle}" for vehicle in vehicles],
        "connectors of a partner": [f"/console/partners/{partner}/connectors"],
        "connectors, unassigned virtual": [f"/console/partners/{partner}/connectors?type=virtual&assigned=no"],
    }
    figures = []
    http = _signed_in(base, password)
    try:
        for page, paths in pages.items():
            p50, p90 = _p50_ms(http, paths)
            log(f"console {page:<32} p50 {p50:7.2f} ms  p90 {p90:7.2f} ms")
            figures.append((page, p50, p90))
    finally:
        http.close()
    return figures


def scenario(bench: Bench) -> None:
    for page, p50, _ in measure(bench.setup.fleetreg_base, bench.setup.loaded.fleetreg_url):
        bench.check(f"console: {page}, p50 (ms)", round(p50, 2), LIMIT_MS, unit="ms")


def main(argv: list[str] | None = None) -> None:
    """The console's figures alone: the bench's data on the embedded setup (loaded once, kept in
    bench/.work), one ``fleetreg serve`` on ``--port``; no peer, no wrk."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="1: 200,000 vehicles (the issue's dataset)")
    parser.add_argument("--port", type=int, default=18400)
    options = parser.parse_args(argv)
    scale = data.Scale(options.scale)
    server = run.make_server("embedded")
    work = run.WORK / "embedded"
    try:
        loaded = data.load(server.start(), work, run.PEER_SOURCE, scale)
        with run.fleetreg_process(loaded.fleetreg_url, options.port, work / "fleetreg-data"):
            figures = measure(f"http://127.0.0.1:{options.port}", loaded.fleetreg_url)
    finally:
        server.stop()
    print(f"console pages on {scale.describe()} (sequential requests, loopback):")
    for page, p50, p90 in figures:
        verdict = "met" if p50 < LIMIT_MS else "NOT met"
        print(f"  {page:<34} p50 {p50:7.2f} ms  p90 {p90:7.2f} ms  (< {LIMIT_MS:g} ms: {verdict})")


if __name__ == "__main__":
    main()
