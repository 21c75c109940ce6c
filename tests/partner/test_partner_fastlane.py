"""The connector reads' fast lane (fleetreg.partner.fastlane) answers exactly as the FastAPI routes do.

Each request is sent twice, once with the fast lane in place and once with the lane declining it, and
the two answers must be the same status, content type and bytes. Requests the fast lane leaves to
the routes (malformed, unknown or repeated parameters) are in the list too: they must not change.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from fleetreg.partner.fastlane import ConnectorReadFastLane
from fleetreg_testing import ApiClient, MakeApiClient

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
