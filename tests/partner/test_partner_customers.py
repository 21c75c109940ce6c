"""Customers: POST, GET (list and one), PUT, DELETE."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from tests.support.partner import (
    CONNECTORS,
    CUSTOMER_MEMBERS,
    CUSTOMERS,
    UNKNOWN_ID,
    Partner,
    count_connectors,
    wait_until_blocked,
)
from tests.support.problems import assert_bad_request, assert_problem

MALFORMED_IDS = ["connector", "497f6eca62764993bfeb53cbbbba6f08", "497f6eca-6276-4993-bfeb-53cbbbba6f0", "1"]


async def customer_rows(db: asyncpg.Connection, partner_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await db.fetch("SELECT id::text, name FROM customers WHERE partner_id = $1 ORDER BY name, id", partner_id)
    return [dict(row) for row in rows]


async def customer_total(db: asyncpg.Connection, partner_id: uuid.UUID) -> int:
    total: int = await db.fetchval(
        "SELECT coalesce((SELECT n FROM customer_totals WHERE partner_id = $1), 0)", partner_id
    )
    return total


class TestCreateCustomer:
    async def test_creates_the_customer(self, acme: Partner, db: asyncpg.Connection) -> None:
        before = datetime.now(UTC)
        response = await acme.post(CUSTOMERS, json={"name": "Rent-a-Car Lisboa"})
        assert response.status_code == 201
        body = response.json()
        assert set(body) == CUSTOMER_MEMBERS
        assert body["name"] == "Rent-a-Car Lisboa"
        assert uuid.UUID(body["id"])
        assert body["created_at"].endswith("Z")
        created_at = datetime.fromisoformat(body["created_at"])
        assert before - timedelta(seconds=5) <= created_at <= datetime.now(UTC) + timedelta(seconds=5)
        assert response.headers["location"] == f"{CUSTOMERS}/{body['id']}"
        assert await customer_rows(db, acme.id) == [{"id": body["id"], "name": "Rent-a-Car Lisboa"}]
        assert await customer_total(db, acme.id) == 1

    async def test_location_names_the_customer(self, acme: Partner) -> None:
        response = await acme.post(CUSTOMERS, json={"name": "Ann"})
        assert (await acme.get(response.headers["location"])).json() == response.json()

    async def test_names_need_not_be_unique(self, acme: Partner, db: asyncpg.Connection) -> None:
        first, second = await acme.customer("Ann"), await acme.customer("Ann")
        assert first["id"] != second["id"]
        assert await customer_total(db, acme.id) == 2

    async def test_longest_name_is_accepted(self, acme: Partner) -> None:
        assert (await acme.post(CUSTOMERS, json={"name": "n" * 200})).status_code == 201

    async def test_invalid_name_is_400(self, acme: Partner, db: asyncpg.Connection, subtests: pytest.Subtests) -> None:
        for name in ["", "n" * 201, "a\x00b", 42, None, ["Ann"]]:
            with subtests.test(name=name):
                assert_bad_request(await acme.post(CUSTOMERS, json={"name": name}), pointer="/name")
        assert await customer_rows(db, acme.id) == []
        assert await customer_total(db, acme.id) == 0

    async def test_missing_name_is_400(self, acme: Partner) -> None:
        body = assert_bad_request(await acme.post(CUSTOMERS, json={}), pointer="/name")
        assert body["errors"] == [{"pointer": "/name", "detail": "required"}]

    async def test_other_members_are_400(
        self, acme: Partner, db: asyncpg.Connection, subtests: pytest.Subtests
    ) -> None:
        for member in ["id", "created_at", "partner_id"]:
            with subtests.test(member=member):
                response = await acme.post(CUSTOMERS, json={"name": "Ann", member: UNKNOWN_ID})
                assert_bad_request(response, pointer=f"/{member}")
        assert await customer_rows(db, acme.id) == []

    async def test_not_json_is_415(self, acme: Partner) -> None:
        response = await acme.post(
            CUSTOMERS, content=b"name=Ann", headers={"content-type": "application/x-www-form-urlencoded"}
        )
        assert_problem(response, 415, "Unsupported Media Type")

    async def test_read_scope_is_not_enough(self, acme: Partner, make_api_client: Any) -> None:
        api = await make_api_client(scope="customers:read connectors:provision")
        response = await acme.http.post(CUSTOMERS, json={"name": "Ann"}, headers=api.headers)
        assert_problem(response, 403, "Forbidden")

    async def test_without_token_is_401(self, acme: Partner) -> None:
        assert_problem(await acme.http.post(CUSTOMERS, json={"name": "Ann"}), 401, "Unauthorized")


class TestListCustomers:
    async def test_empty(self, acme: Partner) -> None:
        response = await acme.get(CUSTOMERS)
        assert response.json() == {"query": {"limit": 25, "offset": 0}, "result": [], "total": 0}

    async def test_ordered_by_name_then_id(self, acme: Partner, db: asyncpg.Connection) -> None:
        for name in ("bob", "Ann", "ann", "bob", "Zoe", "ann"):
            await acme.customer(name)
        body = (await acme.get(CUSTOMERS)).json()
        assert [(c["name"], c["id"]) for c in body["result"]] == [
            (row["name"], row["id"]) for row in await customer_rows(db, acme.id)
        ]
        assert [c["name"] for c in body["result"]] == ["Ann", "Zoe", "ann", "ann", "bob", "bob"]
        assert body["total"] == 6

    async def test_renders_id_name_and_created_at(self, acme: Partner) -> None:
        created = await acme.customer("Ann")
        assert (await acme.get(CUSTOMERS)).json()["result"] == [created]

    async def test_name_filter_is_exact(self, acme: Partner) -> None:
        ann, _, ann_again = await acme.customer("Ann"), await acme.customer("Anne"), await acme.customer("Ann")
        body = (await acme.get(CUSTOMERS, params={"name": "Ann"})).json()
        assert body["query"] == {"limit": 25, "name": "Ann", "offset": 0}
        assert sorted(c["id"] for c in body["result"]) == sorted([ann["id"], ann_again["id"]])
        assert body["total"] == 2

    async def test_name_filter_matching_nothing(self, acme: Partner) -> None:
        await acme.customer("Ann")
        body = (await acme.get(CUSTOMERS, params={"name": "ann"})).json()
        assert (body["result"], body["total"]) == ([], 0)

    async def test_default_limit_is_25(self, acme: Partner, db: asyncpg.Connection) -> None:
        await db.execute(
            "INSERT INTO customers (partner_id, name) SELECT $1, 'c' || g FROM generate_series(1, 30) g", acme.id
        )
        body = (await acme.get(CUSTOMERS)).json()
        assert (len(body["result"]), body["total"]) == (25, 30)

    async def test_limit_zero_returns_the_total(self, acme: Partner) -> None:
        await acme.customer("Ann")
        body = (await acme.get(CUSTOMERS, params={"limit": 0})).json()
        assert body == {"query": {"limit": 0, "offset": 0}, "result": [], "total": 1}

    async def test_limit_1000(self, acme: Partner, db: asyncpg.Connection) -> None:
        await db.execute(
            "INSERT INTO customers (partner_id, name) SELECT $1, 'c' || g FROM generate_series(1, 1001) g", acme.id
        )
        body = (await acme.get(CUSTOMERS, params={"limit": 1000})).json()
        assert (len(body["result"]), body["total"]) == (1000, 1001)

    async def test_invalid_limit_is_400(self, acme: Partner, subtests: pytest.Subtests) -> None:
        for limit in ["1001", "-1", "x", "1.0"]:
            with subtests.test(limit=limit):
                assert_bad_request(await acme.get(CUSTOMERS, params={"limit": limit}), parameter="limit")

    async def test_offset(self, acme: Partner) -> None:
        for name in ("a", "b", "c"):
            await acme.customer(name)
        body = (await acme.get(CUSTOMERS, params={"offset": 1, "limit": 1})).json()
        assert ([c["name"] for c in body["result"]], body["total"]) == (["b"], 3)

    async def test_largest_offset(self, acme: Partner) -> None:
        await acme.customer("a")
        body = (await acme.get(CUSTOMERS, params={"offset": 2**63 - 1})).json()
        assert (body["result"], body["total"]) == ([], 1)

    async def test_invalid_offset_is_400(self, acme: Partner, subtests: pytest.Subtests) -> None:
        for offset in [str(2**63), "-1", "x"]:
            with subtests.test(offset=offset):
                assert_bad_request(await acme.get(CUSTOMERS, params={"offset": offset}), parameter="offset")

    async def test_unknown_parameter_is_400(self, acme: Partner) -> None:
        assert_bad_request(await acme.get(CUSTOMERS, params={"customer_id": UNKNOWN_ID}), parameter="customer_id")

    async def test_total_comes_from_the_counter(self, acme: Partner, db: asyncpg.Connection) -> None:
        await acme.customer("Ann")
        await db.execute("UPDATE customer_totals SET n = 4242 WHERE partner_id = $1", acme.id)
        assert (await acme.get(CUSTOMERS)).json()["total"] == 4242

    async def test_total_exact_through_creates_and_deletes(self, acme: Partner, db: asyncpg.Connection) -> None:
        created = [await acme.customer(f"c{i}") for i in range(5)]
        for customer in created[:2]:
            assert (await acme.delete(f"{CUSTOMERS}/{customer['id']}")).status_code == 204
        true_count = await db.fetchval("SELECT count(*) FROM customers WHERE partner_id = $1", acme.id)
        assert (await acme.get(CUSTOMERS)).json()["total"] == true_count == 3

    async def test_read_scope_is_needed(self, acme: Partner, make_api_client: Any) -> None:
        api = await make_api_client(scope="customers:write connectors:read")
        assert_problem(await acme.http.get(CUSTOMERS, headers=api.headers), 403, "Forbidden")

    async def test_without_token_is_401(self, acme: Partner) -> None:
        assert_problem(await acme.http.get(CUSTOMERS), 401, "Unauthorized")


class TestGetCustomer:
    async def test_returns_the_customer(self, acme: Partner) -> None:
        created = await acme.customer("Ann")
        response = await acme.get(f"{CUSTOMERS}/{created['id']}")
        assert response.status_code == 200
        assert response.json() == created

    async def test_unknown_id_is_404(self, acme: Partner) -> None:
        body = assert_problem(await acme.get(f"{CUSTOMERS}/{UNKNOWN_ID}"), 404, "Customer Not Found")
        assert body["type"] == "/problems/customer-not-found"

    async def test_malformed_id_is_400(self, acme: Partner, subtests: pytest.Subtests) -> None:
        for customer_id in MALFORMED_IDS:
            with subtests.test(customer_id=customer_id):
                assert_bad_request(await acme.get(f"{CUSTOMERS}/{customer_id}"), parameter="customer-id")

    async def test_read_scope_is_needed(self, acme: Partner, make_api_client: Any) -> None:
        created = await acme.customer("Ann")
        api = await make_api_client(scope="customers:write connectors:read")
        assert_problem(await acme.http.get(f"{CUSTOMERS}/{created['id']}", headers=api.headers), 403, "Forbidden")

    async def test_without_token_is_401(self, acme: Partner) -> None:
        created = await acme.customer("Ann")
        assert_problem(await acme.http.get(f"{CUSTOMERS}/{created['id']}"), 401, "Unauthorized")


class TestUpdateCustomer:
    async def test_renames_the_customer(self, acme: Partner, db: asyncpg.Connection) -> None:
        created = await acme.customer("Ann")
        response = await acme.put(f"{CUSTOMERS}/{created['id']}", json={"name": "Anne"})
        assert response.status_code == 200
        assert response.json() == {**created, "name": "Anne"}
        assert await customer_rows(db, acme.id) == [{"id": created["id"], "name": "Anne"}]
        assert await customer_total(db, acme.id) == 1

    async def test_unknown_id_is_404(self, acme: Partner) -> None:
        assert_problem(await acme.put(f"{CUSTOMERS}/{UNKNOWN_ID}", json={"name": "x"}), 404, "Customer Not Found")

    async def test_malformed_id_is_400(self, acme: Partner, subtests: pytest.Subtests) -> None:
        for customer_id in MALFORMED_IDS:
            with subtests.test(customer_id=customer_id):
                response = await acme.put(f"{CUSTOMERS}/{customer_id}", json={"name": "x"})
                assert_bad_request(response, parameter="customer-id")

    async def test_invalid_body_is_400(self, acme: Partner, db: asyncpg.Connection, subtests: pytest.Subtests) -> None:
        created = await acme.customer("Ann")
        for payload in [{}, {"name": ""}, {"name": "n" * 201}, {"name": None}, {"name": "x", "id": UNKNOWN_ID}]:
            with subtests.test(payload=payload):
                assert_problem(await acme.put(f"{CUSTOMERS}/{created['id']}", json=payload), 400, "Bad Request")
        assert await customer_rows(db, acme.id) == [{"id": created["id"], "name": "Ann"}]

    async def test_read_scope_is_not_enough(self, acme: Partner, make_api_client: Any) -> None:
        created = await acme.customer("Ann")
        api = await make_api_client(scope="customers:read")
        response = await acme.http.put(f"{CUSTOMERS}/{created['id']}", json={"name": "x"}, headers=api.headers)
        assert_problem(response, 403, "Forbidden")


class TestDeleteCustomer:
    async def test_deletes_the_customer(self, acme: Partner, db: asyncpg.Connection) -> None:
        created = await acme.customer("Ann")
        response = await acme.delete(f"{CUSTOMERS}/{created['id']}")
        assert response.status_code == 204
        assert response.content == b""
        assert await customer_rows(db, acme.id) == []
        assert await customer_total(db, acme.id) == 0
        assert_problem(await acme.get(f"{CUSTOMERS}/{created['id']}"), 404, "Customer Not Found")

    async def test_with_connectors_is_409(self, acme: Partner, db: asyncpg.Connection) -> None:
        created = await acme.customer("Ann")
        await acme.connector("c1", "virtual", created["id"])
        body = assert_problem(await acme.delete(f"{CUSTOMERS}/{created['id']}"), 409, "Customer Has Connectors")
        assert body["type"] == "/problems/customer-has-connectors"
        assert await customer_rows(db, acme.id) == [{"id": created["id"], "name": "Ann"}]
        assert await customer_total(db, acme.id) == 1
        assert await count_connectors(db, acme.id, customer_id=created["id"]) == 1

    async def test_after_unassigning_its_connectors(self, acme: Partner) -> None:
        created = await acme.customer("Ann")
        connector = await acme.connector("c1", "virtual", created["id"])
        await acme.assign(connector["id"], None)
        assert (await acme.delete(f"{CUSTOMERS}/{created['id']}")).status_code == 204

    async def test_after_deleting_its_connectors(self, acme: Partner) -> None:
        created = await acme.customer("Ann")
        connector = await acme.connector("c1", "virtual", created["id"])
        await acme.delete(f"{CONNECTORS}/{connector['id']}")
        assert (await acme.delete(f"{CUSTOMERS}/{created['id']}")).status_code == 204

    async def test_its_connector_totals_go_with_it(self, acme: Partner, db: asyncpg.Connection) -> None:
        created = await acme.customer("Ann")
        connector = await acme.connector("c1", "virtual", created["id"])
        await acme.assign(connector["id"], None)
        await acme.delete(f"{CUSTOMERS}/{created['id']}")
        assert await db.fetchval("SELECT count(*) FROM customer_connector_totals") == 0

    async def test_twice_is_404(self, acme: Partner) -> None:
        created = await acme.customer("Ann")
        await acme.delete(f"{CUSTOMERS}/{created['id']}")
        assert_problem(await acme.delete(f"{CUSTOMERS}/{created['id']}"), 404, "Customer Not Found")

    async def test_unknown_id_is_404(self, acme: Partner) -> None:
        assert_problem(await acme.delete(f"{CUSTOMERS}/{UNKNOWN_ID}"), 404, "Customer Not Found")

    async def test_malformed_id_is_400(self, acme: Partner, subtests: pytest.Subtests) -> None:
        for customer_id in MALFORMED_IDS:
            with subtests.test(customer_id=customer_id):
                assert_bad_request(await acme.delete(f"{CUSTOMERS}/{customer_id}"), parameter="customer-id")

    async def test_read_scope_is_not_enough(self, acme: Partner, make_api_client: Any, db: asyncpg.Connection) -> None:
        created = await acme.customer("Ann")
        api = await make_api_client(scope="customers:read connectors:provision")
        assert_problem(await acme.http.delete(f"{CUSTOMERS}/{created['id']}", headers=api.headers), 403, "Forbidden")
        assert len(await customer_rows(db, acme.id)) == 1

    async def test_connector_assigned_concurrently_is_409(
        self, acme: Partner, db: asyncpg.Connection, database_url: str
    ) -> None:
        # The assignment is in flight (uncommitted) when the delete arrives: the delete waits for it,
        # then sees the connector and refuses; nothing is deleted.
        created = await acme.customer("Ann")
        connector = await acme.connector("c1")
        async with db.transaction():
            await db.execute(
                "UPDATE connectors SET customer_id = $1 WHERE id = $2",
                uuid.UUID(created["id"]),
                uuid.UUID(connector["id"]),
            )
            request = asyncio.ensure_future(acme.delete(f"{CUSTOMERS}/{created['id']}"))
            observer = await asyncpg.connect(database_url)
            try:
                await wait_until_blocked(observer)
            finally:
                await observer.close()
        assert_problem(await request, 409, "Customer Has Connectors")
        assert len(await customer_rows(db, acme.id)) == 1
        assert await count_connectors(db, acme.id, customer_id=created["id"]) == 1

    async def test_concurrent_deletes_and_assignments_end_in_documented_answers(self, acme: Partner) -> None:
        customers = [await acme.customer(f"c{i}") for i in range(6)]
        connectors = [await acme.connector(f"k{i}") for i in range(6)]
        requests = []
        for customer, connector in zip(customers, connectors, strict=True):
            requests.append(acme.put(f"{CONNECTORS}/{connector['id']}", json={"customer_id": customer["id"]}))
            requests.append(acme.delete(f"{CUSTOMERS}/{customer['id']}"))
        responses = await asyncio.gather(*requests)
        for assign, delete in zip(responses[::2], responses[1::2], strict=True):
            # Either the assignment came first (200, then 409) or the delete did (422, then 204).
            assert (assign.status_code, delete.status_code) in {(200, 409), (422, 204)}, (assign.text, delete.text)
