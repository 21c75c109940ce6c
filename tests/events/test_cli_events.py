"""``fleetreg events list|tail``: the audit trail on the command line (docs/api.md §5)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import httpx

from tests.support.fleet import Fleet
from tests.support.processes import FLEETREG, environment
from tests.test_importer import run_cli


async def test_list_a_subjects_story_with_actor_and_request_id(database_url: str, client: httpx.AsyncClient) -> None:
    fleet = Fleet(client)
    enterprise = await fleet.enterprise()
    await fleet.enterprise()
    renamed = await client.patch(
        f"/v2/enterprises/{enterprise['id']}",
        json={"data": {"attributes": {"name": "Renamed"}}},
        headers={"X-Request-ID": "rename-1"},
    )
    assert renamed.status_code == 200
    result = run_cli(database_url, "events", "list", "--subject", enterprise["id"])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert "enterprise.created" in lines[0]
    assert "enterprise.updated" in lines[1]
    assert "by anonymous" in lines[1]
    assert "request rename-1" in lines[1]
    as_json = run_cli(database_url, "events", "list", "--subject", enterprise["id"], "--json")
    events = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [event["data"]["after"]["attributes"]["name"] for event in events] == [
        enterprise["attributes"]["name"],
        "Renamed",
    ]
    bad = run_cli(database_url, "events", "list", "--type", "nothing.here")
    assert bad.returncode == 2
    assert bad.stderr.startswith("fleetreg: error:")


async def test_tail_prints_what_commits_from_now_on(
    database_url: str, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    fleet = Fleet(client)
    await fleet.enterprise()  # before the tail: not printed
    output = tmp_path / "tail.out"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [*FLEETREG, "events", "tail", "--json"],
            env=environment(FLEETREG_DATABASE_URL=database_url),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            time.sleep(3)  # the command connects and takes the horizon
            created = await fleet.enterprise()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and created["id"] not in output.read_text():
                time.sleep(0.2)
        finally:
            process.terminate()
            process.wait(timeout=10)
    lines = [line for line in output.read_text().splitlines() if line.startswith("{")]
    assert [json.loads(line)["subject"]["id"] for line in lines] == [created["id"]]
