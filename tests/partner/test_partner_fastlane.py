"""The connector reads' fast lane (fleetreg.partner.fastlane) answers exactly as the FastAPI routes do.

Each request is sent twice, once with the fast lane in place and once with the lane declining it, and
the two answers must be the same status, content type and bytes. Requests the fast lane leaves to
the routes (malformed, unknown or repeated parameters) are in the list too: they must not change.
The same holds through a real server (Granian, as ``fleetreg serve`` runs it): there keep-alive,
pipelining, HTTP/1.0 and ``Connection: close`` must behave as for any other request.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from granian.constants import HTTPModes, Interfaces
from granian.server.embed import Server

from fleetreg.partner.fastlane import ConnectorReadFastLane
from fleetreg_testing import ApiClient, MakeApiClient, free_port

CONNECTORS = "/v2/customers/connectors"


def _declined(self: ConnectorReadFastLane, scope: Any) -> bool:
    return False


@pytest.fixture
async def acme(make_api_client: MakeApiClient, client: httpx.AsyncClient) -> dict[str, Any]:
    api = await make_api_client(partner="acme")
    customers = []
    for name in ("ann", "bob"):
        response = await client.post("/v2/customers", json={"name": name}, headers=api.headers)
        assert response.status_code == 201, response.text
        customers.append(response.json()["id"])
    connectors = []
    for number in range(12):
        body = {
            "name": f"c-{number:02d}",
            "type": ("physical", "virtual")[number % 2],
            "hardware_version": "1",
            "software_version": "2",
            "pin": f"{number:05d}" if number % 3 else None,
            "customer_id": customers[number % 3] if number % 3 < 2 else None,
        }
        response = await client.post(CONNECTORS, json=body, headers=api.headers)
        assert response.status_code == 201, response.text
        connectors.append(response.json()["id"])
    return {"api": api, "customers": customers, "connectors": connectors}


def _requests(acme: dict[str, Any], other: ApiClient) -> list[tuple[str, dict[str, str]]]:
    auth = acme["api"].headers
    ann, bob = acme["customers"]
    first = acme["connectors"][0]
    plain = [
        "",
        "?limit=0",
        "?limit=1000",
        "?limit=5&offset=3",
        "?offset=11",
        "?offset=12",
        "?offset=999999999999999999",
        f"?customer_id={ann}",
        f"?customer_id={bob.upper()}",
        f"?customer_id={uuid.uuid4()}",
        "?assigned=true",
        "?assigned=false",
        "?type=physical",
        "?type=virtual&type=physical",
        "?assigned=true&type=virtual",
        f"?assigned=false&customer_id={ann}",
        f"?customer_id={ann}&type=physical&limit=1&offset=1",
    ]
    left_to_the_routes = [
        "?limit=1001",
        "?limit=-1",
        "?limit=+5",
        "?offset=9223372036854775808",
        "?assigned=yes",
        "?type=physical&type=physical",
        "?type=both",
        "?customer_id=nope",
        "?limit=1&limit=2",
        "?colour=red",
        "?name=c-01",
        "?name=",
    ]
    requests = [(CONNECTORS + query, auth) for query in plain + left_to_the_routes]
    requests += [
        (f"{CONNECTORS}/{first}", auth),
        (f"{CONNECTORS}/{first.upper()}", auth),
        (f"{CONNECTORS}/{uuid.uuid4()}", auth),
        (f"{CONNECTORS}/{first}?x=1", auth),
        (f"{CONNECTORS}/not-a-uuid", auth),
        (f"{CONNECTORS}/{first}", other.headers),  # another partner's connector: 404
        (CONNECTORS, other.headers),
        (CONNECTORS, {}),
        (CONNECTORS, {"Authorization": "Bearer not-a-token"}),
        (CONNECTORS, {"Authorization": "Basic abc"}),
        (f"{CONNECTORS}/{first}", {}),
    ]
    return requests


async def test_the_fast_lane_answers_as_the_routes_do(
    app: FastAPI,
    client: httpx.AsyncClient,
    acme: dict[str, Any],
    make_api_client: MakeApiClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other = await make_api_client(partner="globex")
    no_read = await make_api_client(partner="acme", scope="connectors:write")
    requests = [*_requests(acme, other), (CONNECTORS, no_read.headers)]

    taken: list[str] = []
    takes = ConnectorReadFastLane.takes

    def recording(self: ConnectorReadFastLane, scope: Any) -> bool:
        if takes(self, scope):
            taken.append(scope["path"] + ("?" + scope["query_string"].decode() if scope["query_string"] else ""))
            return True
        return False

    monkeypatch.setattr(ConnectorReadFastLane, "takes", recording)
    fast = [await client.get(url, headers=headers) for url, headers in requests]
    # Taken: the 17 plain lists, 3 gets by id (as given, upper case, unknown), another partner's get,
    # 5 lists and 1 get whose tokens fail (other partner, none, malformed, Basic, no read scope).
    assert len(taken) == 17 + 3 + 1 + 5 + 1, taken
    assert not any("limit=1001" in url or "name=" in url or "colour" in url for url in taken)
    monkeypatch.setattr(ConnectorReadFastLane, "takes", _declined)
    routed = [await client.get(url, headers=headers) for url, headers in requests]

    for (url, _), ours, theirs in zip(requests, fast, routed, strict=True):
        assert (ours.status_code, ours.headers["content-type"], ours.content) == (
            theirs.status_code,
            theirs.headers["content-type"],
            theirs.content,
        ), url
        assert ours.headers.get("www-authenticate") == theirs.headers.get("www-authenticate"), url
    statuses = {response.status_code for response in fast}
    assert statuses == {200, 400, 401, 403, 404}


async def test_fast_answers_are_counted_under_their_route(client: httpx.AsyncClient, acme: dict[str, Any]) -> None:
    auth = acme["api"].headers
    assert (await client.get(CONNECTORS, headers=auth)).status_code == 200
    assert (await client.get(f"{CONNECTORS}/{acme['connectors'][0]}", headers=auth)).status_code == 200
    metrics = (await client.get("/metrics")).text
    assert f'route="{CONNECTORS}",status="200"' in metrics
    assert f'route="{CONNECTORS}/{{connector_id}}",status="200"' in metrics


async def test_page_items_are_the_stored_rows(client: httpx.AsyncClient, acme: dict[str, Any], db: Any) -> None:
    """The items PostgreSQL renders as JSON are the rows, member for member, in name order."""
    body = (await client.get(f"{CONNECTORS}?limit=1000", headers=acme["api"].headers)).json()
    rows = await db.fetch(
        "SELECT id::text, customer_id::text, hardware_version, name, pin, software_version, type"
        " FROM connectors ORDER BY name, id"
    )
    assert body["result"] == [dict(row) for row in rows]
    assert body["total"] == len(rows) == 12
    assert list(body["result"][0]) == [
        "id",
        "customer_id",
        "hardware_version",
        "name",
        "pin",
        "software_version",
        "type",
    ]


# -- through a real server: Granian, as fleetreg serve runs it --


@pytest.fixture
async def served(app: FastAPI) -> AsyncIterator[str]:
    """``app`` (its lifespan already running) served by Granian in this process, HTTP/1.1 only as
    ``fleetreg serve`` does (its access log line trusts X-Forwarded-For from 127.0.0.1)."""
    port = free_port()
    server = Server(
        app,
        address="127.0.0.1",
        port=port,
        interface=Interfaces.ASGINL,  # the lifespan runs already
        http=HTTPModes.http1,
        websockets=False,
        log_enabled=False,
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        assert not task.done(), "the server did not start"
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.01)
            continue
        writer.close()
        break
    yield f"http://127.0.0.1:{port}"
    server.stop()
    await task


def _comparable(response: httpx.Response) -> tuple[Any, ...]:
    """Status, body and every header (in any order) but the two that differ from answer to answer."""
    headers = sorted((k, v) for k, v in response.headers.multi_items() if k not in ("date", "x-request-id"))
    return response.status_code, headers, response.content


async def test_the_connection_lane_answers_as_the_routes_do(
    served: str, acme: dict[str, Any], make_api_client: MakeApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = await make_api_client(partner="globex")
    requests = _requests(acme, other)
    answered_by_the_lane = 0
    serve = ConnectorReadFastLane.serve

    async def counting(self: ConnectorReadFastLane, scope: Any, receive: Any, send: Any) -> None:
        nonlocal answered_by_the_lane
        answered_by_the_lane += 1
        await serve(self, scope, receive, send)

    monkeypatch.setattr(ConnectorReadFastLane, "serve", counting)
    async with httpx.AsyncClient(base_url=served) as http:
        fast = [await http.get(url, headers=headers) for url, headers in requests]
        assert answered_by_the_lane == 17 + 3 + 1 + 4 + 1  # as in the ASGI test, without the no-read-scope client
        monkeypatch.setattr(ConnectorReadFastLane, "takes", _declined)
        routed = [await http.get(url, headers=headers) for url, headers in requests]
    assert answered_by_the_lane == 26
    for (url, _), ours, theirs in zip(requests, fast, routed, strict=True):
        assert _comparable(ours) == _comparable(theirs), url
        assert ours.headers["date"]
        assert ours.headers["x-request-id"]


async def _exchange(base: str, raw: bytes) -> bytes:
    """What the server sends back for ``raw`` until it closes the connection."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(raw)
    await writer.drain()
    received = await asyncio.wait_for(reader.read(-1), timeout=10)  # to the end: the server must close
    writer.close()
    return received


def _get(path: str, token: str, *extra: str, version: str = "1.1") -> bytes:
    lines = [f"GET {path} HTTP/{version}", "Host: fleetreg.test", f"Authorization: {token}", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _responses(raw: bytes) -> list[tuple[bytes, dict[bytes, bytes], bytes]]:
    """The status lines, headers and bodies of consecutive responses, each with a content-length."""
    found = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        status, *header_lines = head.split(b"\r\n")
        headers = dict(line.split(b": ", 1) for line in header_lines)
        length = int(headers[b"content-length"])
        found.append((status, headers, rest[:length]))
        raw = rest[length:]
    return found


async def test_pipelined_requests_are_answered_in_order_and_close_ends_the_connection(
    served: str, acme: dict[str, Any], client: httpx.AsyncClient
) -> None:
    token = acme["api"].headers["Authorization"]
    first, second = acme["connectors"][:2]
    raw = (
        _get(f"{CONNECTORS}/{first}", token, "X-Request-ID: one")
        + _get(f"{CONNECTORS}?limit=1", token)
        + _get(f"{CONNECTORS}/{second}", token, "Connection: close")
    )
    answers = _responses(await _exchange(served, raw))  # returns only because the server closes
    assert [status for status, _, _ in answers] == [b"HTTP/1.1 200 OK"] * 3
    expected = [
        (await client.get(f"{CONNECTORS}/{first}", headers=acme["api"].headers)).content,
        (await client.get(f"{CONNECTORS}?limit=1", headers=acme["api"].headers)).content,
        (await client.get(f"{CONNECTORS}/{second}", headers=acme["api"].headers)).content,
    ]
    assert [body for _, _, body in answers] == expected
    assert answers[0][1][b"x-request-id"] == b"one"
    assert b"connection" not in answers[0][1]
    assert b"connection" not in answers[1][1]
    assert answers[2][1][b"connection"] == b"close"


async def test_an_http_1_0_request_is_answered_and_the_connection_closed(served: str, acme: dict[str, Any]) -> None:
    token = acme["api"].headers["Authorization"]
    answers = _responses(await _exchange(served, _get(f"{CONNECTORS}/{uuid.uuid4()}", token, version="1.0")))
    [(status, headers, body)] = answers
    assert status == b"HTTP/1.0 404 Not Found"  # Granian (hyper) answers in the request's version
    assert headers.get(b"connection", b"close") == b"close"  # HTTP/1.0 closes unless kept alive
    assert headers[b"content-type"] == b"application/problem+json"
    assert b"not found" in body.lower()


async def test_the_access_log_names_the_client_a_trusted_proxy_forwards(
    served: str, acme: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="fleetreg.access")
    headers = {**acme["api"].headers, "X-Forwarded-For": "203.0.113.9"}
    async with httpx.AsyncClient(base_url=served) as http:
        response = await http.get(f"{CONNECTORS}/{acme['connectors'][0]}", headers=headers)
    assert response.status_code == 200
    [record] = [record for record in caplog.records if record.name == "fleetreg.access"]
    assert (record.client, record.route, record.status) == ("203.0.113.9:0", f"{CONNECTORS}/{{connector_id}}", 200)  # type: ignore[attr-defined]
