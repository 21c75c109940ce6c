"""What the web layer refuses before any endpoint runs (docs/api.md §7; issue 14 items 4, 6, 8, 9, 11):
ambiguous or oversized requests, and replies that would grow with what a client sends."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.auth import MakeApiClient
from tests.support.problems import assert_problem

CONNECTORS = "/v2/customers/connectors"


@pytest.fixture
async def token(make_api_client: MakeApiClient) -> str:
    return (await make_api_client(partner="acme")).token


class TestTwoAuthorizationHeaders:
    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("GET", CONNECTORS),
            ("GET", f"{CONNECTORS}/00000000-0000-4000-8000-000000000000"),
            ("POST", "/v2/customers"),
            ("GET", "/v2/enterprises"),
            ("GET", "/healthz"),
            ("GET", "/openapi.json"),
        ],
    )
    async def test_are_400_on_every_route(self, client: httpx.AsyncClient, token: str, method: str, path: str) -> None:
        headers = [("Authorization", f"Bearer {token}"), ("Authorization", "Bearer something-else")]
        response = await client.request(method, path, headers=headers, json={} if method == "POST" else None)
        assert_problem(response, 400, "Bad Request")

    async def test_the_token_endpoint_says_invalid_request(self, client: httpx.AsyncClient) -> None:
        headers = [("Authorization", "Basic eDp5"), ("Authorization", "Basic eDp6")]
        response = await client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=headers)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"


class TestSizes:
    async def test_headers_over_16_kib_are_431(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz", headers={f"X-Filler-{n}": "x" * 1000 for n in range(17)})
        assert_problem(response, 431, "Request Header Fields Too Large")

    async def test_headers_under_16_kib_pass(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz", headers={f"X-Filler-{n}": "x" * 1000 for n in range(14)})
        assert response.status_code == 200

    async def test_a_request_line_over_8_kib_is_414(self, client: httpx.AsyncClient, token: str) -> None:
        response = await client.get(
            CONNECTORS, params={"name": "x" * 9000}, headers={"Authorization": f"Bearer {token}"}
        )
        assert_problem(response, 414, "URI Too Long")

    async def test_a_get_with_a_body_over_the_limit_is_413(self, client: httpx.AsyncClient) -> None:
        big = b"x" * (1024 * 1024 + 1)
        declared = await client.request("GET", "/healthz", content=big)
        assert_problem(declared, 413, "Payload Too Large")

        async def chunks() -> Any:
            for _ in range(1100):
                yield b"x" * 1024

        streamed = await client.request("GET", "/healthz", content=chunks())
        assert_problem(streamed, 413, "Payload Too Large")

    async def test_a_small_body_on_a_get_is_ignored(self, client: httpx.AsyncClient) -> None:
        assert (await client.request("GET", "/healthz", content=b"ignored")).status_code == 200

    async def test_a_nul_in_a_header_is_400(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz", headers={"X-Odd": "a\x00b"})
        assert_problem(response, 400, "Bad Request")


class TestEchoes:
    """A reply never grows with the request: what it repeats of it is cut at 200 characters."""

    async def test_a_huge_unknown_member_name(self, client: httpx.AsyncClient, token: str) -> None:
        name = "m" * 1_000_000
        response = await client.put(
            f"{CONNECTORS}/00000000-0000-4000-8000-000000000000",
            content=b'{"customer_id": null, "' + name.encode() + b'": 1}',
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        assert_problem(response, 400, "Bad Request")
        assert len(response.content) < 2_000

    async def test_a_huge_unknown_parameter_and_value(self, client: httpx.AsyncClient, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        for params in ({"p" * 3000: "1"}, {"type": "v" * 3000}, {"limit": "9" * 3000}):
            response = await client.get(CONNECTORS, params=params, headers=headers)
            assert_problem(response, 400, "Bad Request")
            assert len(response.content) < 2_000, params

    async def test_a_huge_path(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/" + "p" * 7000)
        assert (response.status_code, response.json()["title"]) == (404, "Not Found")
        assert response.json()["instance"] == "/" + "p" * 199 + "..."  # the path, cut at 200 characters
        assert len(response.content) < 2_000


class TestBodiesThatMeanTwoThings:
    async def test_a_member_given_twice_is_400_duplicate_member(self, client: httpx.AsyncClient, token: str) -> None:
        customer = (
            await client.post("/v2/customers", json={"name": "Ann"}, headers={"Authorization": f"Bearer {token}"})
        ).json()
        connector = (
            await client.post(
                CONNECTORS,
                json={"name": "R1", "type": "virtual", "hardware_version": "1", "software_version": "1"},
                headers={"Authorization": f"Bearer {token}"},
            )
        ).json()
        body = b'{"customer_id": "%s", "customer_id": null}' % customer["id"].encode()
        response = await client.put(
            f"{CONNECTORS}/{connector['id']}",
            content=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        problem = assert_problem(response, 400, "Duplicate Member")
        assert problem["errors"] == [{"pointer": "/customer_id", "detail": "given more than once"}]
        unchanged = await client.get(f"{CONNECTORS}/{connector['id']}", headers={"Authorization": f"Bearer {token}"})
        assert unchanged.json()["customer_id"] is None

    async def test_a_nested_duplicate_is_named_by_its_pointer(self, client: httpx.AsyncClient) -> None:
        body = b'{"data": [{"attributes": {"name": "a", "name": "b", "cnpj": "11222333000181"}}]}'
        response = await client.post("/v2/enterprises", content=body, headers={"Content-Type": "application/json"})
        problem = assert_problem(response, 400, "Duplicate Member")
        assert problem["errors"][0]["pointer"] == "/data/0/attributes/name"

    async def test_a_body_that_is_not_utf8_is_malformed_json(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/v2/enterprises", content=b'{"data": "\xff\xfe"}', headers={"Content-Type": "application/json"}
        )
        assert_problem(response, 400, "Malformed JSON")

    async def test_a_body_without_content_type_is_415(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v2/enterprises", content=b'{"data": {}}')
        assert_problem(response, 415, "Unsupported Media Type")

    async def test_the_token_is_checked_before_the_body(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/v2/customers", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert_problem(response, 401, "Unauthorized")
