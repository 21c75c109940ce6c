"""The error framework: every failure is an RFC 9457 problem with a useful detail, never a bare 500."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from fleetreg.problems import CATALOGUE
from tests.support.app import App, MakeClient, include_router
from tests.support.probes import errors_probe
from tests.support.problems import assert_problem


@pytest.fixture
async def client(app: App, make_client: MakeClient) -> httpx.AsyncClient:
    """A client of the default app serving the probe routes too."""
    include_router(app, errors_probe)
    return await make_client(app)


class TestRouting:
    async def test_unknown_path_is_404_problem(self, client: httpx.AsyncClient) -> None:
        body = assert_problem(await client.get("/no/such/thing"), 404, "Not Found")
        assert body["type"] == "/problems/not-found"

    async def test_wrong_method_is_405_with_allow(self, client: httpx.AsyncClient) -> None:
        response = await client.delete("/healthz")
        assert_problem(response, 405, "Method Not Allowed")
        assert response.headers["allow"] == "GET, HEAD, OPTIONS"  # docs/api.md §7: every method of the path


class TestQueryParameters:
    async def test_valid_parameters_pass(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/probe/search", params=[("limit", "3"), ("tag", "a"), ("tag", "b")])
        assert response.status_code == 200
        assert response.json() == {"limit": 3, "tag": ["a", "b"]}

    async def test_unknown_parameter_is_named(self, client: httpx.AsyncClient) -> None:
        body = assert_problem(await client.get("/probe/search?limit=3&colour=red"), 400, "Bad Request")
        assert body["errors"] == [{"parameter": "colour", "detail": "unknown parameter"}]
        assert "colour" in str(body["detail"])

    async def test_single_valued_parameter_given_twice(self, client: httpx.AsyncClient) -> None:
        body = assert_problem(await client.get("/probe/search?limit=3&limit=4"), 400, "Bad Request")
        assert body["errors"] == [{"parameter": "limit", "detail": "given more than once"}]

    async def test_out_of_range_is_400_not_422(self, client: httpx.AsyncClient) -> None:
        body = assert_problem(await client.get("/probe/search?limit=11"), 400, "Bad Request")
        errors = body["errors"]
        assert isinstance(errors, list)
        assert errors[0]["parameter"] == "limit"
        assert "10" in errors[0]["detail"]

    async def test_not_a_number(self, client: httpx.AsyncClient) -> None:
        body = assert_problem(await client.get("/probe/search?limit=ten"), 400, "Bad Request")
        assert body["errors"][0]["parameter"] == "limit"  # type: ignore[index]


class TestBodies:
    async def test_valid_body_passes(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/probe/orders", json={"items": [{"name": "a", "count": 1}]})
        assert response.status_code == 200
        assert response.json() == {"items": 1}

    async def test_malformed_json(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/probe/orders", content=b'{"items": [', headers={"content-type": "application/json"}
        )
        body = assert_problem(response, 400, "Malformed JSON")
        assert body["type"] == "/problems/malformed-json"

    async def test_invalid_utf8(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/probe/orders", content=b'{"items": "\xff"}', headers={"content-type": "application/json"}
        )
        assert_problem(response, 400, "Malformed JSON")

    async def test_missing_body(self, client: httpx.AsyncClient) -> None:
        body = assert_problem(
            await client.post("/probe/orders", headers={"content-type": "application/json"}),
            400,
            "Bad Request",
        )
        assert body["errors"] == [{"pointer": "", "detail": "a JSON body is required"}]

    async def test_body_that_is_not_an_object(self, client: httpx.AsyncClient) -> None:
        body = assert_problem(await client.post("/probe/orders", json=[1, 2]), 400, "Bad Request")
        assert body["errors"] == [{"pointer": "", "detail": "the body must be a JSON object"}]

    async def test_unknown_member_is_named_by_pointer(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/probe/orders", json={"items": [{"name": "a", "count": 1, "colour": "red"}]})
        body = assert_problem(response, 400, "Bad Request")
        assert body["errors"] == [{"pointer": "/items/0/colour", "detail": "unknown member"}]

    async def test_every_invalid_member_is_listed(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/probe/orders", json={"items": [{"name": "", "count": -1}, {"count": 1}]})
        body = assert_problem(response, 400, "Bad Request")
        pointers = sorted(error["pointer"] for error in body["errors"])  # type: ignore[attr-defined]
        assert pointers == ["/items/0/count", "/items/0/name", "/items/1/name"]

    async def test_non_json_content_type_is_415(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/probe/orders", content=b"items=1", headers={"content-type": "text/plain"})
        assert_problem(response, 415, "Unsupported Media Type")

    async def test_json_suffix_media_type_is_accepted(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/probe/orders", content=b'{"items": []}', headers={"content-type": "application/vnd.api+json"}
        )
        assert response.status_code == 200


class TestBodyLimit:
    async def test_declared_length_over_limit_is_413(self, client: httpx.AsyncClient) -> None:
        big = b'{"items": [' + b'{"name": "a", "count": 1},' * 60_000 + b'{"name": "a", "count": 1}]}'
        assert len(big) > 1024 * 1024
        response = await client.post("/probe/orders", content=big, headers={"content-type": "application/json"})
        assert_problem(response, 413, "Payload Too Large")

    async def test_streamed_body_over_limit_is_413(self, client: httpx.AsyncClient) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"items": ['
            for _ in range(2000):
                yield b'{"name": "a", "count": 1},' * 30
            yield b'{"name": "a", "count": 1}]}'

        response = await client.post("/probe/orders", content=chunks(), headers={"content-type": "application/json"})
        assert_problem(response, 413, "Payload Too Large")


class TestAppErrors:
    async def test_app_error_renders_with_extensions(self, client: httpx.AsyncClient) -> None:
        body = assert_problem(await client.get("/probe/conflict"), 409, "Conflict")
        assert body["detail"] == "that name is taken"
        assert body["name"] == "x"

    async def test_unexpected_error_is_bare_500_and_logged(
        self, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.ERROR, logger="fleetreg.errors"):
            response = await client.get("/probe/crash", headers={"x-request-id": "trace-me-42"})
        body = assert_problem(response, 500, "Internal Server Error")
        assert "hunter2" not in response.text
        assert "RuntimeError" not in response.text
        assert response.headers["x-request-id"] == "trace-me-42"
        assert body["type"] == "/problems/internal-error"
        logged = [record for record in caplog.records if record.name == "fleetreg.errors"]
        assert len(logged) == 1
        assert logged[0].request_id == "trace-me-42"  # type: ignore[attr-defined]
        assert logged[0].exc_info is not None


def test_every_problem_type_has_a_title_status_and_explanation() -> None:
    for slug, problem in CATALOGUE.items():
        assert problem.slug == slug
        assert 400 <= problem.status <= 599
        assert problem.title
        assert problem.__doc__, f"{problem.__name__} needs a docstring: it is the page behind its type URI"
