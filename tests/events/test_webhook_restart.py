"""A server SIGKILLed between the commit of changes and their delivery delivers them after it is
started again (docs/api.md §5): the outbox and the webhooks' cursors are in the database."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from tests.support.database import create_client_in
from tests.support.processes import free_port, served
from tests.support.receiver import receiving
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


async def test_changes_committed_before_a_kill_are_delivered_after_the_restart(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    client = await create_client_in(database_url, scope="customers:write webhooks:write")
    with served(database_url, tmp_path / "data", webhook_allow_private="true") as server:
        async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
            answer = await http.post(
                "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client.client_id, client.client_secret)
            )
            headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
            # the receiver is down: every first attempt fails at once
            hook = await http.post(
                "/v2/webhooks", json={"url": f"http://127.0.0.1:{port}/hook", "types": ["customer.*"]}, headers=headers
            )
            assert hook.status_code == 201
            for number in range(10):
                response = await http.post("/v2/customers", json={"name": f"c{number}"}, headers=headers)
                assert response.status_code == 201
        server.kill()
    async with receiving(port=port) as receiver:
        with served(database_url, tmp_path / "data", webhook_allow_private="true"):
            await wait_until(lambda: len(receiver.delivered()) >= 10, "ten deliveries", timeout=40)
            await asyncio.sleep(1)
    names = [json.loads(request.body)["data"]["after"]["name"] for request in receiver.delivered()]
    assert sorted(names) == sorted(f"c{number}" for number in range(10))
    assert len(names) == 10
