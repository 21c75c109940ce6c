"""GET /v2/events/stream (docs/api.md §5): Server-Sent Events from a real `fleetreg serve` (an in-process
ASGI client would wait for the end of an endless body)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.database import create_client_in
from tests.support.processes import Served, served

pytestmark = pytest.mark.slow


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Any:
    with served(database_url, tmp_path / "data") as running:
        yield running


async def token(
    http: httpx.AsyncClient, database_url: str, scope: str = "events:read customers:write"
) -> dict[str, str]:
    client = await create_client_in(database_url, scope=scope)
    answer = await http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client.client_id, client.client_secret)
    )
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def messages(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, Any]]:
    """Each message of the stream: {"id", "data"} for an event, {"comment"} for a comment line."""
    message: dict[str, Any] = {}
    async for line in lines:
        if line == "":
            if message:
                yield message
            message = {}
        elif line.startswith(":"):
            yield {"comment": line[1:].strip()}
        else:
            field, _, value = line.partition(": ")
            message[field] = json.loads(value) if field == "data" else value


async def take(stream: AsyncIterator[dict[str, Any]], count: int, timeout: float = 10) -> list[dict[str, Any]]:
    taken: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        async for message in stream:
            if "data" in message:
                taken.append(message)
                if len(taken) == count:
                    return taken
    return taken


async def test_the_stream_sends_events_as_they_commit_and_resumes(server: Served, database_url: str) -> None:
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
        headers = await token(http, database_url)
        assert (await http.post("/v2/customers", json={"name": "before"}, headers=headers)).status_code == 201
        async with http.stream("GET", "/v2/events/stream", headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            stream = messages(response.aiter_lines())
            for name in ("one", "two"):
                assert (await http.post("/v2/customers", json={"name": name}, headers=headers)).status_code == 201
            first, second = await take(stream, 2)
        # without Last-Event-ID: from then on only ("before" is not sent)
        assert [first["data"]["data"]["after"]["name"], second["data"]["data"]["after"]["name"]] == ["one", "two"]
        assert first["id"] == str(first["data"]["sequence"])
        await http.post("/v2/customers", json={"name": "three"}, headers=headers)
        async with http.stream("GET", "/v2/events/stream", headers={**headers, "Last-Event-ID": first["id"]}) as again:
            resumed = await take(messages(again.aiter_lines()), 2)
        assert [message["data"]["data"]["after"]["name"] for message in resumed] == ["two", "three"]


async def test_filters_expired_and_malformed_ids(server: Served, database_url: str) -> None:
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
        headers = await token(http, database_url, "events:read customers:write connectors:provision")
        async with http.stream("GET", "/v2/events/stream", params={"type": "connector.*"}, headers=headers) as response:
            stream = messages(response.aiter_lines())
            await http.post("/v2/customers", json={"name": "skipped"}, headers=headers)
            connector = {"name": "R", "type": "virtual", "hardware_version": "1", "software_version": "1"}
            await http.post("/v2/customers/connectors", json=connector, headers=headers)
            [only] = await take(stream, 1)
        assert only["data"]["type"] == "connector.created"
        bad = await http.get("/v2/events/stream", headers={**headers, "Last-Event-ID": "x"})
        assert bad.status_code == 400
        without_scope = await token(http, database_url, "customers:read")
        assert (await http.get("/v2/events/stream", headers=without_scope)).status_code == 403


async def test_an_idle_stream_sends_a_comment_every_15_seconds(server: Served, database_url: str) -> None:
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
        headers = await token(http, database_url)
        async with http.stream("GET", "/v2/events/stream", headers=headers) as response:
            stream = messages(response.aiter_lines())
            started = time.monotonic()
            comments = []
            async with asyncio.timeout(20):
                async for message in stream:
                    comments.append((message, time.monotonic() - started))
                    if len(comments) == 2:
                        break
        assert [message for message, _at in comments] == [{"comment": "fleetreg events"}, {"comment": "keep-alive"}]
        assert 14 < comments[1][1] < 17
