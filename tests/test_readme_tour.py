"""The README's five-minute tour, run as written against a live `fleetreg serve`.

The commands are read from the README (the ```sh blocks under "## Five-minute tour"), so the README
is the only copy: changing a command there changes what this test runs. Two things are substituted:
the server's address (the `FLEETREG=` line) and `.venv/bin/fleetreg` (this interpreter's fleetreg).
Every HTTP request the commands make is logged with its status by a `curl` wrapper, and each
command's output is checked.
"""

from __future__ import annotations

import json
import re
import shlex
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.support.processes import FLEETREG, environment, free_port, wait_ready

README = Path(__file__).resolve().parent.parent / "README.md"
TOUR_HEADING = "## Five-minute tour"
STEP = "@@step "
HTTP = "@@http "
VARIABLE = "@@var "


def tour_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(TOUR_HEADING)
    end = text.find("\n## ", start + len(TOUR_HEADING))
    return text[start : end if end != -1 else len(text)]


def tour_commands() -> list[str]:
    """The commands of the tour's ```sh blocks, in order: one per logical line (``\\`` continues)."""
    blocks = re.findall(r"^```sh\n(.*?)^```$", tour_section(), flags=re.MULTILINE | re.DOTALL)
    assert blocks, "the tour has ```sh blocks"
    commands = []
    for block in blocks:
        pending = ""
        for line in block.splitlines():
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            commands.append(pending + line)
            pending = ""
        assert not pending, "a block ends in a continued line"
    return commands


def inline_curls() -> list[str]:
    """The requests quoted inline in the tour's prose (`curl ... "$FLEETREG/..."`)."""
    return [command for command in re.findall(r"`(curl [^`]+)`", tour_section()) if "$FLEETREG/" in command]


@dataclass
class Step:
    command: str
    output: str = ""
    requests: list[tuple[int, str, str]] = field(default_factory=list)
    """(status, method, URL) of each request the command made."""

    def json(self) -> Any:
        return json.loads(self.output)


@dataclass
class Tour:
    steps: list[Step]
    variables: dict[str, str]

    def step(self, *fragments: str) -> Step:
        found = [step for step in self.steps if all(fragment in step.command for fragment in fragments)]
        assert len(found) == 1, (fragments, [step.command for step in found])
        return found[0]


def run_tour(base_url: str, env: dict[str, str], commands: list[str]) -> Tour:
    fleetreg = shlex.join(FLEETREG)
    script = [
        "set -e -o pipefail",
        "curl() { command curl -w '%{stderr}" + HTTP + '%{http_code} %{method} %{url_effective}\\n\' "$@"; }',
    ]
    substituted = []
    for command in commands:
        if command.startswith("FLEETREG="):
            command = f"FLEETREG={base_url}"
        substituted.append(command.replace(".venv/bin/fleetreg", fleetreg))
    for number, command in enumerate(substituted):
        # A newline first: a command's output may not end in one.
        script += [f"printf '\\n{STEP}{number}\\n'; echo '{STEP}{number}' >&2", command]
    assigned = sorted({match for command in commands for match in re.findall(r"^([A-Z][A-Z0-9_]*)=", command)})
    script += ["printf '\\n" + STEP + "end\\n'"] + [
        f"printf '{VARIABLE}%s=%s\\n' {name} \"${name}\"" for name in assigned
    ]
    result = subprocess.run(
        ["bash", "-c", "\n".join(script)], env=env, capture_output=True, text=True, timeout=300, cwd=README.parent
    )
    assert result.returncode == 0, f"the tour failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"

    steps = [Step(command) for command in commands]
    current: Step | None = None
    variables: dict[str, str] = {}
    for line in result.stdout.splitlines(keepends=True):
        if line.startswith(STEP):
            marker = line[len(STEP) :].strip()
            current = None if marker == "end" else steps[int(marker)]
        elif line.startswith(VARIABLE):
            name, _, value = line[len(VARIABLE) :].rstrip("\n").partition("=")
            variables[name] = value
        elif current is not None:
            current.output += line
    current = None
    for line in result.stderr.splitlines():
        if line.startswith(STEP):
            current = steps[int(line[len(STEP) :])]
        elif line.startswith(HTTP):
            status, method, url = line[len(HTTP) :].split(" ", 2)
            assert current is not None
            current.requests.append((int(status), method, url))
    return Tour(steps, variables)


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """`make run` on an empty database: `fleetreg demo --if-empty`, then `fleetreg serve`."""
    env = environment(
        FLEETREG_DATABASE_URL=database_url,
        FLEETREG_DATA_DIR=str(tmp_path / "var"),
        FLEETREG_PORT=str(free_port()),
        FLEETREG_LOG_LEVEL="warning",
    )
    loaded = subprocess.run([*FLEETREG, "demo", "--if-empty"], env=env, capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    assert "client_secret:" in loaded.stdout
    process = subprocess.Popen([*FLEETREG, "serve"], env=env)
    try:
        base_url = f"http://127.0.0.1:{env['FLEETREG_PORT']}"
        wait_ready(base_url, process)
        yield base_url, env
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def test_the_tour_has_the_expected_shape() -> None:
    commands = tour_commands()
    assert [command for command in commands if command.startswith("FLEETREG=")] == ["FLEETREG=http://127.0.0.1:8000"]
    assert any(".venv/bin/fleetreg demo --json" in command for command in commands)
    assert all(not command.startswith("curl") or "$FLEETREG/" in command for command in commands)


@pytest.mark.slow
async def test_the_tour_runs_as_written(server: tuple[str, dict[str, str]], db: asyncpg.Connection) -> None:
    base_url, env = server
    commands = tour_commands()
    tour = run_tour(base_url, env, commands)
    values = tour.variables

    # Every request of the tour succeeds.
    for step in tour.steps:
        for status, method, url in step.requests:
            assert 200 <= status < 300, (step.command, status, method, url, step.output)
    requests = [request for step in tour.steps for request in step.requests]
    assert len(requests) >= 12
    # Every variable the tour sets has a value.
    assert all(values.values()), values
    assert values["TOKEN"].startswith("ey")
    assert values["AUTH"] == f"Authorization: Bearer {values['TOKEN']}"

    # The demo client of the tour is the one live client (make run's was revoked by the tour's).
    assert await db.fetchval("SELECT count(*) FROM oauth_clients WHERE revoked_at IS NULL") == 1
    assert await db.fetchval("SELECT id FROM oauth_clients WHERE revoked_at IS NULL") == values["CLIENT_ID"]

    # The connectors nobody has.
    unassigned = tour.step("connectors?assigned=false").json()
    assert unassigned["total"] == 4
    assert [c["name"] for c in unassigned["result"]] == ["DEMO-1005", "DEMO-1006", "DEMO-1007", "DEMO-1008"]
    assert all(c["customer_id"] is None for c in unassigned["result"])

    # DEMO-1005 assigned to Locadora Horizonte.
    assigned = tour.step("-X PUT").json()
    customer = await db.fetchval("SELECT id::text FROM customers WHERE name = 'Locadora Horizonte'")
    assert values["CUSTOMER"] == customer
    assert assigned["name"] == "DEMO-1005"
    assert assigned["customer_id"] == customer
    assert await db.fetchval("SELECT customer_id::text FROM connectors WHERE name = 'DEMO-1005'") == customer

    # Tracker A5 on Van 03, main.
    (created,) = tour.step("-X POST", "$TRACKER").json()["data"]
    van = await db.fetchval("SELECT id FROM vehicles WHERE name = 'Van 03'")
    tracker = await db.fetchval("SELECT id FROM devices WHERE name = 'Tracker A5'")
    assert (values["VAN"], values["TRACKER"]) == (van, tracker)
    assert created["attributes"] | {"created_at": None, "recorded_at": None} == {
        "vehicle_id": van,
        "device_id": tracker,
        "is_main_device": True,
        "created_at": None,
        "ended_at": None,
        "recorded_at": None,
        "end_recorded_at": None,
    }
    active = await db.fetchval(
        "SELECT count(*) FROM device_associations WHERE vehicle_id = $1 AND device_id = $2 AND ended_at IS NULL",
        van,
        tracker,
    )
    assert active == 1

    # Truck 01's associations: includes, chip attributes, a filter, the count.
    listing = tour.step("filters[chips.carrier]").json()
    assert listing["meta"] == {"page": 0, "limit": 25, "count": 1}
    (only,) = listing["data"]
    a1 = await db.fetchrow("SELECT id, imei FROM devices WHERE name = 'Tracker A1'")
    assert only["attributes"]["device_id"] == a1["id"]
    assert only["attributes"]["is_main_device"] is True
    assert only["attributes"]["chip"]["carrier"] == "Vivo"
    assert set(only["attributes"]["chip"]) == {"serial", "carrier"}
    assert only["device"] == {"name": "Tracker A1", "imei": a1["imei"]}
    assert only["enterprise"] == {"name": "Transportes Aurora Ltda"}

    # Tracker A4's history, newest first: on Truck 02 now, on Truck 01 before.
    history = tour.step("/devices/$A4/associations").json()["data"]
    truck_2 = await db.fetchval("SELECT id FROM vehicles WHERE name = 'Truck 02'")
    assert [(h["attributes"]["vehicle_id"], h["attributes"]["ended_at"] is None) for h in history] == [
        (truck_2, True),
        (values["TRUCK"], False),
    ]

    # Tracker A6, fitted on Monday, recorded now: known on Tuesday as it is now, not as it was then.
    (backdated,) = tour.step("started_at").json()["data"]
    assert backdated["attributes"]["device_id"] == values["A6"]
    assert backdated["attributes"]["created_at"] == "2026-11-30T09:00:00Z"
    assert backdated["attributes"]["recorded_at"] > created["attributes"]["recorded_at"]
    assert [item["id"] for item in tour.step("as_of=2026-12-01").json()["data"]] == [backdated["id"]]
    assert tour.step("known_at=2026-12-01").json()["data"] == []

    # Truck 01's secondary replaced: Tracker A2 ended, Tracker A3 secondary in its place at the same instant.
    replaced = tour.step("/replace").json()["data"]
    a2 = await db.fetchval("SELECT id FROM devices WHERE name = 'Tracker A2'")
    assert replaced["ended"]["attributes"]["device_id"] == a2
    assert replaced["started"]["attributes"]["device_id"] == values["A3"]
    assert replaced["started"]["attributes"]["vehicle_id"] == values["TRUCK"]
    assert replaced["started"]["attributes"]["is_main_device"] is False
    assert replaced["started"]["attributes"]["created_at"] == replaced["ended"]["attributes"]["ended_at"]

    # The webhook, and the events: the connector's story, and the webhook's delivery of its assignment.
    assert values["WEBHOOK"]
    story = tour.step("/v2/events?subject_id=$CONNECTOR").json()
    assert [event["type"] for event in story["data"]][-1] == "connector.assigned"
    assert story["data"][-1]["actor"]["client_id"] == values["CLIENT_ID"]
    deliveries = tour.step("/deliveries").json()["data"]
    assert [delivery["event_id"] for delivery in deliveries] == [story["data"][-1]["id"]]

    # What the prose promises: the POST a second time is the original 400, and the inline example is a problem.
    again_commands = [c for c in commands if not c.startswith("curl") and "-X POST" not in c]
    again_commands.append(tour.step("-X POST", "$TRACKER").command)
    assert inline_curls(), "the prose shows a problem"
    again_commands += inline_curls()
    again = run_tour(base_url, env, again_commands)
    refused = again.step("-X POST", "$TRACKER")
    assert [status for status, _, _ in refused.requests] == [400]
    assert refused.json()["title"] == "Device(s) Already Associated With Another Vehicle"
    for command in inline_curls():
        problem = again.step(command)
        assert [status for status, _, _ in problem.requests] == [404]
        assert problem.json()["type"] == "/problems/vehicle-not-found"
