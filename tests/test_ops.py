"""Operations: health, readiness, metrics, request ids."""

from __future__ import annotations

import importlib.metadata
import platform
import re
from pathlib import Path

import httpx
import pytest

from fleetreg.settings import Settings
from tests.support.app import App, MakeApp, MakeClient, head_revision_of
from tests.support.problems import assert_problem


class TestHealth:
    async def test_healthz(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}

    async def test_readyz_when_migrated(self, client: httpx.AsyncClient, app: App) -> None:
        response = await client.get("/readyz")
        assert response.status_code == 200
        assert response.json() == {"status": "ready", "migration": head_revision_of(app)}

    async def test_readyz_without_migrations_is_503(
        self, empty_database_url: str, tmp_path: Path, make_app: MakeApp, make_client: MakeClient
    ) -> None:
        # db_timeout: start-up waits that long for the revocation listener, which cannot start
        # without the oauth_clients table (the default, 5 s, made this the suite's slowest unit test).
        app = await make_app(Settings(database_url=empty_database_url, data_dir=tmp_path, db_timeout=1))
        response = await (await make_client(app)).get("/readyz")
        body = assert_problem(response, 503, "Service Unavailable")
        assert "fleetreg db upgrade" in body["detail"]

    async def test_readyz_behind_head_is_503(
        self, database_url: str, tmp_path: Path, db: object, make_app: MakeApp, make_client: MakeClient
    ) -> None:
        import asyncpg

        connection = await asyncpg.connect(database_url)
        await connection.execute("UPDATE alembic_version SET version_num = '0000'")
        await connection.close()
        app = await make_app(Settings(database_url=database_url, data_dir=tmp_path))
        response = await (await make_client(app)).get("/readyz")
        body = assert_problem(response, 503, "Service Unavailable")
        assert "0000" in body["detail"]

    async def test_readyz_with_database_unreachable_is_503(
        self, tmp_path: Path, make_app: MakeApp, make_client: MakeClient
    ) -> None:
        url = f"postgresql://postgres@/postgres?host={tmp_path}/nowhere"
        app = await make_app(Settings(database_url=url, data_dir=tmp_path, db_timeout=1))
        response = await (await make_client(app)).get("/readyz")
        assert_problem(response, 503, "Service Unavailable", detail="the database is unreachable")
        assert str(tmp_path) not in response.text  # no internals


class TestRequestId:
    async def test_generated_when_absent(self, client: httpx.AsyncClient) -> None:
        first = (await client.get("/healthz")).headers["x-request-id"]
        second = (await client.get("/healthz")).headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", first)
        assert first != second

    async def test_echoed_when_given(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz", headers={"x-request-id": "abc-123"})
        assert response.headers["x-request-id"] == "abc-123"

    async def test_echoed_on_errors(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/nowhere", headers={"x-request-id": "abc-123"})
        assert response.status_code == 404
        assert response.headers["x-request-id"] == "abc-123"

    @pytest.mark.parametrize("given", ["a" * 200, "has space", "new\nline"])
    async def test_unsafe_ids_are_replaced(self, client: httpx.AsyncClient, given: str) -> None:
        response = await client.get("/healthz", headers={"x-request-id": given.encode().decode("latin-1")})
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


class TestMetrics:
    async def test_requests_counted_by_route_template_and_status(self, client: httpx.AsyncClient) -> None:
        await client.get("/healthz")
        await client.get("/healthz")
        await client.get("/no/such/page")
        text = (await client.get("/metrics")).text
        assert 'fleetreg_http_requests_total{method="GET",route="/healthz",status="200"} 2.0' in text
        assert 'fleetreg_http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
        assert (
            'fleetreg_http_request_duration_seconds_bucket{le="0.001",method="GET",route="/healthz",status="200"}'
            in text
        )

    async def test_routes_are_their_openapi_templates_assets_and_405s_included(self, client: httpx.AsyncClient) -> None:
        await client.get("/v2/customers/connectors/00000000-0000-0000-0000-000000000000")  # 401: no token
        await client.get("/static/docs/favicon.png")
        await client.post("/healthz")
        await client.options("/v2/vehicles")
        text = (await client.get("/metrics")).text
        for line in (
            'fleetreg_http_requests_total{method="GET",route="/v2/customers/connectors/{connector-id}",'
            'status="401"} 1.0',
            'fleetreg_http_requests_total{method="GET",route="/static/docs/{asset}",status="200"} 1.0',
            'fleetreg_http_requests_total{method="POST",route="/healthz",status="405"} 1.0',
            'fleetreg_http_requests_total{method="OPTIONS",route="/v2/vehicles",status="204"} 1.0',
        ):
            assert line in text, line

    async def test_process_runtime_and_build_but_no_created_twins(self, client: httpx.AsyncClient) -> None:
        await client.get("/healthz")
        text = (await client.get("/metrics")).text
        for family in ("process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds",
                       "python_info", "python_gc_collections_total"):  # fmt: skip
            assert re.search(rf"^{family}[{{ ]", text, re.MULTILINE), family
        version = importlib.metadata.version("fleetreg")
        python = platform.python_version()
        assert f'fleetreg_build_info{{python="{python}",version="{version}"}} 1.0' in text
        assert "_created" not in text

    async def test_pool_usage(self, client: httpx.AsyncClient, settings: Settings) -> None:
        await client.get("/readyz")
        text = (await client.get("/metrics")).text
        assert f"fleetreg_db_pool_connections_max {float(settings.db_pool_max)}" in text
        match = re.search(r"^fleetreg_db_pool_connections (\d+\.\d+)$", text, re.MULTILINE)
        assert match is not None
        assert float(match.group(1)) >= 1
