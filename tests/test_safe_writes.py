"""Safe writes (docs/api.md §6): idempotency keys and conditional requests, over both APIs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from fleetreg import idempotency
from fleetreg.db import Database
from fleetreg.problems import Conflict
from fleetreg.web import Request, Response, Routes, json_response
from fleetreg.web.app import WebApp
from tests.support.app import App, MakeApp, asgi_client, database_of, include_router
from tests.support.auth import MakeApiClient
from tests.support.fleet import Fleet
from tests.support.problems import assert_problem
from tests.support.waiting import wait_until

CONNECTORS = "/v2/customers/connectors"
CUSTOMERS = "/v2/customers"
NEW = {"name": "R-1", "type": "virtual", "hardware_version": "11", "software_version": "8756"}


@pytest.fixture
async def partner(client: httpx.AsyncClient, make_api_client: MakeApiClient) -> dict[str, str]:
    """The headers of a client of the partner acme."""
    return (await make_api_client(partner="acme")).headers


async def connector_count(db: asyncpg.Connection, name: str) -> int:
    count: int = await db.fetchval("SELECT count(*) FROM connectors WHERE name = $1", name)
    return count


class TestIdempotencyKeys:
    async def test_a_repeat_gets_the_stored_answer_and_writes_nothing(
        self, client: httpx.AsyncClient, partner: dict[str, str], db: asyncpg.Connection
    ) -> None:
        headers = {**partner, "Idempotency-Key": "create-r1"}
        first = await client.post(CONNECTORS, json=NEW, headers={**headers, "X-Request-ID": "first"})
        again = await client.post(CONNECTORS, json=NEW, headers={**headers, "X-Request-ID": "again"})
        assert first.status_code == again.status_code == 201
        assert again.content == first.content
        assert again.headers["location"] == first.headers["location"]
        assert again.headers["etag"] == first.headers["etag"]
        assert again.headers["idempotent-replayed"] == "true"
        assert "idempotent-replayed" not in first.headers
        assert (first.headers["x-request-id"], again.headers["x-request-id"]) == ("first", "again")
        assert await connector_count(db, "R-1") == 1

    async def test_a_large_answer_is_stored_and_replayed_whole(
        self, client: httpx.AsyncClient, db: asyncpg.Connection
    ) -> None:
        # Over idempotency.LITERAL_BODY_LIMIT, the answer is bound in a statement of its own.
        fleet = Fleet(client)
        enterprise = await fleet.enterprise()
        items = [{"attributes": fleet.vehicle_attributes(enterprise["id"])} for _ in range(100)]
        headers = {"Idempotency-Key": "many-vehicles"}
        first = await client.post("/v2/vehicles", json={"data": items}, headers=headers)
        again = await client.post("/v2/vehicles", json={"data": items}, headers=headers)
        assert first.status_code == again.status_code == 201
        assert len(first.content) > idempotency.LITERAL_BODY_LIMIT
        assert again.content == first.content
        assert again.headers["idempotent-replayed"] == "true"
        assert await db.fetchval("SELECT count(*) FROM vehicles WHERE enterprise_id = $1", enterprise["id"]) == 100

    async def test_the_key_with_another_request_is_422(
        self, client: httpx.AsyncClient, partner: dict[str, str]
    ) -> None:
        headers = {**partner, "Idempotency-Key": "k1"}
        assert (await client.post(CONNECTORS, json=NEW, headers=headers)).status_code == 201
        other_body = await client.post(CONNECTORS, json={**NEW, "name": "R-2"}, headers=headers)
        assert_problem(other_body, 422, "Idempotency Key Reused")
        other_method = await client.post(CUSTOMERS, json={"name": "x"}, headers=headers)
        assert_problem(other_method, 422, "Idempotency Key Reused")

    async def test_keys_are_per_caller(
        self, client: httpx.AsyncClient, make_api_client: MakeApiClient, db: asyncpg.Connection
    ) -> None:
        acme, globex = await make_api_client(partner="acme"), await make_api_client(partner="globex")
        for api in (acme, globex):
            response = await client.post(CONNECTORS, json=NEW, headers={**api.headers, "Idempotency-Key": "same"})
            assert response.status_code == 201, response.text
            assert "idempotent-replayed" not in response.headers
        assert await connector_count(db, "R-1") == 2

    async def test_a_problem_answer_is_kept(
        self, client: httpx.AsyncClient, partner: dict[str, str], db: asyncpg.Connection
    ) -> None:
        taken = await client.post(CONNECTORS, json=NEW, headers=partner)
        headers = {**partner, "Idempotency-Key": "dup"}
        first = await client.post(CONNECTORS, json=NEW, headers=headers)
        assert_problem(first, 409, "Connector Name Taken")
        # the name becomes free again, but the key keeps its answer
        assert (await client.delete(f"{CONNECTORS}/{taken.json()['id']}", headers=partner)).status_code == 204
        again = await client.post(CONNECTORS, json=NEW, headers=headers)
        assert_problem(again, 409, "Connector Name Taken")
        assert again.headers["idempotent-replayed"] == "true"
        assert await connector_count(db, "R-1") == 0

    async def test_anonymous_fleet_callers_share_one_scope(
        self, client: httpx.AsyncClient, db: asyncpg.Connection
    ) -> None:
        first = await client.post("/v2/enterprises", json=_enterprise(), headers={"Idempotency-Key": "e"})
        again = await client.post("/v2/enterprises", json=_enterprise(), headers={"Idempotency-Key": "e"})
        assert first.status_code == again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
        assert await db.fetchval("SELECT count(*) FROM enterprises") == 1

    async def test_expired_keys_run_again(
        self, client: httpx.AsyncClient, partner: dict[str, str], db: asyncpg.Connection
    ) -> None:
        headers = {**partner, "Idempotency-Key": "old"}
        first = await client.post(CUSTOMERS, json={"name": "Ann"}, headers=headers)
        await db.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
        again = await client.post(CUSTOMERS, json={"name": "Ann"}, headers=headers)
        assert again.status_code == 201
        assert "idempotent-replayed" not in again.headers
        assert again.json()["id"] != first.json()["id"]

    async def test_expired_keys_are_deleted_by_every_server_at_its_start(
        self,
        app: App,
        client: httpx.AsyncClient,
        partner: dict[str, str],
        db: asyncpg.Connection,
        make_app: MakeApp,
    ) -> None:
        # this app's housekeeping ran once as it started, before the keys are made
        await wait_until(lambda: app.state.housekeeping.turns >= 1, "the app's first housekeeping")
        for key in ("old", "older", "fresh"):
            response = await client.post(CUSTOMERS, json={"name": key}, headers={**partner, "Idempotency-Key": key})
            assert response.status_code == 201
        await db.execute(
            "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key IN ('old', 'older')"
        )
        # one batch at a time until a batch is not full
        assert await idempotency.delete_expired(database_of(app), batch=1) == 2
        assert await db.fetchval("SELECT array_agg(key) FROM idempotency_keys") == ["fresh"]

        await db.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
        await make_app()  # its housekeeping runs as it starts
        await wait_until(
            lambda: db.fetchval("SELECT count(*) = 0 FROM idempotency_keys"), "the expired key was deleted"
        )

    @pytest.mark.parametrize(
        ("given", "stored"),
        [("abc", "abc"), ('"abc"', "abc"), ('"a \\"quoted\\" key"', 'a "quoted" key'), ("x" * 255, "x" * 255)],
    )
    async def test_key_forms(
        self, client: httpx.AsyncClient, partner: dict[str, str], db: asyncpg.Connection, given: str, stored: str
    ) -> None:
        response = await client.post(CUSTOMERS, json={"name": "Ann"}, headers={**partner, "Idempotency-Key": given})
        assert response.status_code == 201, response.text
        assert await db.fetchval("SELECT key FROM idempotency_keys") == stored

    @pytest.mark.parametrize("given", ["", '""', "x" * 256, '"unterminated', '"bad \\n escape"', "tab\there"])
    async def test_malformed_keys_are_400(self, client: httpx.AsyncClient, partner: dict[str, str], given: str) -> None:
        response = await client.post(CUSTOMERS, json={"name": "Ann"}, headers={**partner, "Idempotency-Key": given})
        body = assert_problem(response, 400, "Bad Request")
        assert body["errors"][0]["parameter"] == "Idempotency-Key"

    async def test_two_keys_are_400(self, client: httpx.AsyncClient, partner: dict[str, str]) -> None:
        headers = [*partner.items(), ("Idempotency-Key", "a"), ("Idempotency-Key", "b")]
        response = await client.post(CUSTOMERS, json={"name": "Ann"}, headers=headers)
        assert_problem(response, 400, "Bad Request")

    async def test_reads_ignore_the_header(self, client: httpx.AsyncClient, partner: dict[str, str]) -> None:
        response = await client.get(CUSTOMERS, headers={**partner, "Idempotency-Key": "read"})
        assert response.status_code == 200
        assert "idempotent-replayed" not in response.headers


class TestIdempotencyUnderFailure:
    """With probe routes: a write followed by a crash (a 500) or a slow write."""

    @pytest.fixture
    async def probed(self, app: WebApp) -> AsyncIterator[httpx.AsyncClient]:
        probe = Routes()

        @probe.post("/probe/write-then-crash")
        async def write_then_crash(request: Request) -> Response:
            db: Database = request.state.db
            await db.write(lambda connection: connection.execute("INSERT INTO partners (name) VALUES ('crash')"))
            raise RuntimeError("after the write")

        @probe.post("/probe/write-then-refuse")
        async def write_then_refuse(request: Request) -> Response:
            db: Database = request.state.db
            await db.write(lambda connection: connection.execute("INSERT INTO partners (name) VALUES ('refused')"))
            raise Conflict("refused after a write")

        @probe.post("/probe/slow-write")
        async def slow_write(request: Request) -> Response:
            db: Database = request.state.db
            await db.write(lambda connection: connection.execute("INSERT INTO partners (name) VALUES ('slow')"))
            await asyncio.sleep(0.5)
            return json_response({"done": True}, 201)

        include_router(app, probe)
        async with asgi_client(app) as http:
            yield http

    async def test_a_5xx_is_not_kept_and_its_write_is_undone(
        self, probed: httpx.AsyncClient, db: asyncpg.Connection
    ) -> None:
        for _ in range(2):
            response = await probed.post("/probe/write-then-crash", headers={"Idempotency-Key": "boom"})
            assert_problem(response, 500, "Internal Server Error")
            assert "idempotent-replayed" not in response.headers
        assert await db.fetchval("SELECT count(*) FROM partners WHERE name = 'crash'") == 0
        assert await db.fetchval("SELECT count(*) FROM idempotency_keys") == 0

    async def test_a_problem_answer_is_kept_without_the_writes_before_it(
        self, probed: httpx.AsyncClient, db: asyncpg.Connection
    ) -> None:
        first = await probed.post("/probe/write-then-refuse", headers={"Idempotency-Key": "no"})
        assert_problem(first, 409, "Conflict")
        again = await probed.post("/probe/write-then-refuse", headers={"Idempotency-Key": "no"})
        assert again.headers["idempotent-replayed"] == "true"
        assert again.content == first.content
        assert await db.fetchval("SELECT count(*) FROM partners WHERE name = 'refused'") == 0

    async def test_a_repeat_while_the_first_runs_is_409(
        self, probed: httpx.AsyncClient, db: asyncpg.Connection
    ) -> None:
        headers = {"Idempotency-Key": "slow"}
        first = asyncio.create_task(probed.post("/probe/slow-write", headers=headers))
        await asyncio.sleep(0.2)
        during = await probed.post("/probe/slow-write", headers=headers)
        assert_problem(during, 409, "Request In Progress")
        assert (await first).status_code == 201
        after = await probed.post("/probe/slow-write", headers=headers)
        assert (after.status_code, after.headers["idempotent-replayed"]) == (201, "true")
        assert await db.fetchval("SELECT count(*) FROM partners WHERE name = 'slow'") == 1


class TestConditionalRequests:
    async def test_every_single_resource_answer_carries_its_etag(
        self, client: httpx.AsyncClient, partner: dict[str, str]
    ) -> None:
        created = await client.post(CONNECTORS, json=NEW, headers=partner)
        url = f"{CONNECTORS}/{created.json()['id']}"
        read = await client.get(url, headers=partner)
        assert read.headers["etag"] == created.headers["etag"]
        assert read.headers["etag"][0] == read.headers["etag"][-1] == '"'  # a strong entity tag
        customer = await client.post(CUSTOMERS, json={"name": "Ann"}, headers=partner)
        assigned = await client.put(url, json={"customer_id": customer.json()["id"]}, headers=partner)
        assert assigned.headers["etag"] != read.headers["etag"]
        assert (await client.get(url, headers=partner)).headers["etag"] == assigned.headers["etag"]
        listed = await client.get(CONNECTORS, headers=partner)
        assert "etag" not in listed.headers

    async def test_if_none_match_is_304_when_unchanged(
        self, client: httpx.AsyncClient, partner: dict[str, str]
    ) -> None:
        created = await client.post(CUSTOMERS, json={"name": "Ann"}, headers=partner)
        url, tag = f"{CUSTOMERS}/{created.json()['id']}", created.headers["etag"]
        for value in (tag, f"W/{tag}", f'"other", {tag}', "*"):
            response = await client.get(url, headers={**partner, "If-None-Match": value})
            assert (response.status_code, response.content, response.headers["etag"]) == (304, b"", tag), value
        other = await client.get(url, headers={**partner, "If-None-Match": '"other"'})
        assert other.status_code == 200

    async def test_if_match_with_a_stale_version_is_412_and_changes_nothing(
        self, client: httpx.AsyncClient, partner: dict[str, str]
    ) -> None:
        created = await client.post(CUSTOMERS, json={"name": "Ann"}, headers=partner)
        url, stale = f"{CUSTOMERS}/{created.json()['id']}", created.headers["etag"]
        renamed = await client.put(url, json={"name": "Bea"}, headers={**partner, "If-Match": stale})
        assert renamed.status_code == 200
        clobber = await client.put(url, json={"name": "Cid"}, headers={**partner, "If-Match": stale})
        body = assert_problem(clobber, 412, "Precondition Failed")
        assert body["etag"] == renamed.headers["etag"]
        assert (await client.get(url, headers=partner)).json()["name"] == "Bea"
        weak = await client.put(url, json={"name": "Cid"}, headers={**partner, "If-Match": f"W/{body['etag']}"})
        assert_problem(weak, 412, "Precondition Failed")  # If-Match compares strongly
        deleted = await client.delete(url, headers={**partner, "If-Match": stale})
        assert_problem(deleted, 412, "Precondition Failed")
        assert (await client.delete(url, headers={**partner, "If-Match": body["etag"]})).status_code == 204

    async def test_if_match_star_and_missing_resources(
        self, client: httpx.AsyncClient, partner: dict[str, str]
    ) -> None:
        created = await client.post(CONNECTORS, json=NEW, headers=partner)
        url = f"{CONNECTORS}/{created.json()['id']}"
        response = await client.put(url, json={"customer_id": None}, headers={**partner, "If-Match": "*"})
        assert response.status_code == 200
        missing = f"{CONNECTORS}/00000000-0000-4000-8000-000000000000"
        gone = await client.put(missing, json={"customer_id": None}, headers={**partner, "If-Match": "*"})
        assert_problem(gone, 404, "Connector Not Found")

    async def test_fleet_resources(self, client: httpx.AsyncClient) -> None:
        created = await client.post("/v2/enterprises", json=_enterprise())
        url = f"/v2/enterprises/{created.json()['data']['id']}"
        tag = created.headers["etag"]
        assert (await client.get(url)).headers["etag"] == tag
        assert (await client.get(url, headers={"If-None-Match": tag})).status_code == 304
        patch = {"data": {"attributes": {"name": "Renamed"}}}
        changed = await client.patch(url, json=patch, headers={"If-Match": tag})
        assert changed.status_code == 200
        assert changed.headers["etag"] != tag
        assert_problem(await client.patch(url, json=patch, headers={"If-Match": tag}), 412, "Precondition Failed")
        assert_problem(await client.delete(url, headers={"If-Match": tag}), 412, "Precondition Failed")
        assert (await client.delete(url, headers={"If-Match": changed.headers["etag"]})).status_code == 204

    async def test_a_change_made_outside_the_api_changes_the_etag(
        self, client: httpx.AsyncClient, partner: dict[str, str], db: asyncpg.Connection
    ) -> None:
        created = await client.post(CONNECTORS, json=NEW, headers=partner)
        url = f"{CONNECTORS}/{created.json()['id']}"
        await db.execute("UPDATE connectors SET software_version = '9000'")
        assert (await client.get(url, headers=partner)).headers["etag"] != created.headers["etag"]

    async def test_malformed_entity_tags_are_400(self, client: httpx.AsyncClient, partner: dict[str, str]) -> None:
        created = await client.post(CUSTOMERS, json={"name": "Ann"}, headers=partner)
        url = f"{CUSTOMERS}/{created.json()['id']}"
        assert_problem(await client.get(url, headers={**partner, "If-None-Match": "no-quotes"}), 400, "Bad Request")
        response = await client.put(url, json={"name": "x"}, headers={**partner, "If-Match": "no-quotes"})
        assert_problem(response, 400, "Bad Request")


def _enterprise() -> dict[str, Any]:
    return {"data": {"attributes": {"name": "Aurora", "cnpj": "11222333000181"}}}
