"""GET /v2/customers/connectors: filters, paging, order, the query echo and exact totals."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from typing import Any

import asyncpg
import pytest

from tests.support.app import App, database_of
from tests.support.partner import (
    CONNECTOR_MEMBERS,
    CONNECTORS,
    UNKNOWN_ID,
    Partner,
    connector_rows,
    count_connectors,
    insert_connectors,
)
from tests.support.problems import assert_bad_request, assert_problem


@pytest.fixture
async def pool(acme: Partner) -> dict[str, Any]:
    """acme's connectors: p1 p2 (physical), v1 v2 v3 (virtual); p1 and v1 are Ann's, v2 is Bob's."""
    ann, bob = await acme.customer("Ann"), await acme.customer("Bob")
    connectors = {
        "p1": await acme.connector("p1", "physical", ann["id"]),
        "p2": await acme.connector("p2", "physical"),
        "v1": await acme.connector("v1", "virtual", ann["id"]),
        "v2": await acme.connector("v2", "virtual", bob["id"]),
        "v3": await acme.connector("v3", "virtual"),
    }
    return {"ann": ann, "bob": bob, **connectors}


def names(body: dict[str, Any]) -> list[str]:
    return [connector["name"] for connector in body["result"]]


class TestListConnectors:
    async def test_empty_pool(self, acme: Partner) -> None:
        assert await acme.list_connectors() == {"query": {"limit": 25, "offset": 0}, "result": [], "total": 0}

    async def test_renders_exactly_the_connector_members(self, acme: Partner) -> None:
        customer = await acme.customer()
        created = await acme.connector("1005123", "virtual", customer["id"], pin="01234")
        body = await acme.list_connectors()
        assert body["result"] == [created]
        assert set(created) == CONNECTOR_MEMBERS
        assert created["customer_id"] == customer["id"]
        assert created["pin"] == "01234"

    async def test_without_filters_lists_every_connector(self, acme: Partner, pool: dict[str, Any]) -> None:
        body = await acme.list_connectors()
        assert names(body) == ["p1", "p2", "v1", "v2", "v3"]
        assert body["total"] == 5

    async def test_ordered_by_name_in_code_point_order(self, acme: Partner, db: asyncpg.Connection) -> None:
        given = ["b", "B", "a", "é", "Z", "10", "9", "a b", "ab"]
        await insert_connectors(db, acme.id, given)
        assert names(await acme.list_connectors()) == sorted(given)

    async def test_order_matches_name_then_id(self, acme: Partner, db: asyncpg.Connection) -> None:
        await insert_connectors(db, acme.id, [f"c{i:03}" for i in range(60, 0, -1)])
        body = await acme.list_connectors({"limit": 1000})
        expected = await connector_rows(db, acme.id)
        assert body["result"] == expected

    async def test_unknown_parameter_is_400(self, acme: Partner) -> None:
        response = await acme.get(CONNECTORS, params={"sort": "name"})
        body = assert_bad_request(response, parameter="sort")
        assert body["errors"] == [{"parameter": "sort", "detail": "unknown parameter"}]

    async def test_single_valued_parameter_given_twice_is_400(self, acme: Partner) -> None:
        response = await acme.get(CONNECTORS, params=[("limit", "1"), ("limit", "2")])
        assert_bad_request(response, parameter="limit")

    async def test_without_token_is_401(self, acme: Partner) -> None:
        response = await acme.http.get(CONNECTORS)
        assert_problem(response, 401, "Unauthorized")
        assert response.headers["www-authenticate"].startswith("Bearer")

    async def test_without_the_scope_is_403(self, client: Any, make_api_client: Any) -> None:
        api = await make_api_client(scope="customers:read connectors:write connectors:provision")
        assert_problem(await client.get(CONNECTORS, headers=api.headers), 403, "Forbidden")

    async def test_connectors_read_is_enough(self, client: Any, make_api_client: Any) -> None:
        api = await make_api_client(scope="connectors:read")
        assert (await client.get(CONNECTORS, headers=api.headers)).status_code == 200


class TestListConnectorsLimit:
    async def test_default_is_25(self, acme: Partner, db: asyncpg.Connection) -> None:
        await insert_connectors(db, acme.id, [f"c{i:02}" for i in range(30)])
        body = await acme.list_connectors()
        assert len(body["result"]) == 25
        assert body["total"] == 30
        assert body["query"] == {"limit": 25, "offset": 0}

    async def test_zero_returns_no_rows_and_the_total(self, acme: Partner, pool: dict[str, Any]) -> None:
        body = await acme.list_connectors({"limit": 0})
        assert body == {"query": {"limit": 0, "offset": 0}, "result": [], "total": 5}

    async def test_zero_with_a_filter_returns_the_filtered_total(self, acme: Partner, pool: dict[str, Any]) -> None:
        body = await acme.list_connectors({"limit": 0, "assigned": "true"})
        assert body["result"] == []
        assert body["total"] == 3

    async def test_1000_is_the_maximum(self, acme: Partner, db: asyncpg.Connection) -> None:
        await insert_connectors(db, acme.id, [f"c{i:04}" for i in range(1001)])
        body = await acme.list_connectors({"limit": 1000})
        assert len(body["result"]) == 1000
        assert body["total"] == 1001
        assert body["result"][-1]["name"] == "c0999"

    async def test_1001_is_400(self, acme: Partner) -> None:
        body = assert_bad_request(await acme.get(CONNECTORS, params={"limit": 1001}), parameter="limit")
        assert "1000" in body["errors"][0]["detail"]

    async def test_negative_is_400(self, acme: Partner) -> None:
        assert_bad_request(await acme.get(CONNECTORS, params={"limit": -1}), parameter="limit")

    async def test_not_a_decimal_integer_is_400(self, acme: Partner, subtests: pytest.Subtests) -> None:
        for value in ["ten", "2.5", "25.0", "+5", " 5", "1_0", "", "٣"]:
            with subtests.test(limit=value):
                assert_bad_request(await acme.get(CONNECTORS, params={"limit": value}), parameter="limit")


class TestListConnectorsOffset:
    async def test_pages_follow_the_order(self, acme: Partner, pool: dict[str, Any]) -> None:
        pages = [names(await acme.list_connectors({"limit": 2, "offset": offset})) for offset in (0, 2, 4)]
        assert pages == [["p1", "p2"], ["v1", "v2"], ["v3"]]

    async def test_past_the_end_is_empty_with_the_total(self, acme: Partner, pool: dict[str, Any]) -> None:
        body = await acme.list_connectors({"offset": 5})
        assert body == {"query": {"limit": 25, "offset": 5}, "result": [], "total": 5}

    async def test_largest_int64_is_accepted(self, acme: Partner, pool: dict[str, Any]) -> None:
        body = await acme.list_connectors({"offset": 2**63 - 1})
        assert body == {"query": {"limit": 25, "offset": 2**63 - 1}, "result": [], "total": 5}

    async def test_beyond_int64_is_400(self, acme: Partner) -> None:
        assert_bad_request(await acme.get(CONNECTORS, params={"offset": 2**63}), parameter="offset")

    async def test_negative_is_400(self, acme: Partner) -> None:
        assert_bad_request(await acme.get(CONNECTORS, params={"offset": -1}), parameter="offset")

    async def test_not_a_number_is_400(self, acme: Partner) -> None:
        assert_bad_request(await acme.get(CONNECTORS, params={"offset": "first"}), parameter="offset")


class TestListConnectorsQueryEcho:
    async def test_defaults_are_echoed(self, acme: Partner) -> None:
        assert (await acme.list_connectors())["query"] == {"limit": 25, "offset": 0}

    async def test_every_applied_parameter_is_echoed(self, acme: Partner, pool: dict[str, Any]) -> None:
        params = [
            ("assigned", "true"),
            ("customer_id", pool["ann"]["id"].upper()),
            ("limit", "10"),
            ("name", "v1"),
            ("offset", "0"),
            ("type", "virtual"),
            ("type", "physical"),
        ]
        body = await acme.list_connectors(params)
        assert body["query"] == {
            "assigned": True,
            "customer_id": pool["ann"]["id"],
            "limit": 10,
            "name": "v1",
            "offset": 0,
            "type": ["virtual", "physical"],
        }
        assert names(body) == ["v1"]
        assert body["total"] == 1

    async def test_assigned_false_is_echoed_as_false(self, acme: Partner) -> None:
        assert (await acme.list_connectors({"assigned": "false"}))["query"]["assigned"] is False

    async def test_one_type_is_echoed_as_an_array(self, acme: Partner) -> None:
        assert (await acme.list_connectors({"type": "virtual"}))["query"]["type"] == ["virtual"]


class TestListConnectorsFilters:
    async def test_assigned_true(self, acme: Partner, pool: dict[str, Any]) -> None:
        body = await acme.list_connectors({"assigned": "true"})
        assert (names(body), body["total"]) == (["p1", "v1", "v2"], 3)

    async def test_assigned_false(self, acme: Partner, pool: dict[str, Any]) -> None:
        body = await acme.list_connectors({"assigned": "false"})
        assert (names(body), body["total"]) == (["p2", "v3"], 2)

    async def test_assigned_other_than_true_or_false_is_400(self, acme: Partner, subtests: pytest.Subtests) -> None:
        for value in ["True", "1", "0", "yes", "on", "t", ""]:
            with subtests.test(assigned=value):
                response = await acme.get(CONNECTORS, params={"assigned": value})
                body = assert_bad_request(response, parameter="assigned")
                assert "true or false" in body["errors"][0]["detail"]

    async def test_customer_id(self, acme: Partner, pool: dict[str, Any]) -> None:
        body = await acme.list_connectors({"customer_id": pool["ann"]["id"]})
        assert (names(body), body["total"]) == (["p1", "v1"], 2)

    async def test_customer_id_of_no_customer_is_empty(self, acme: Partner, pool: dict[str, Any]) -> None:
        body = await acme.list_connectors({"customer_id": UNKNOWN_ID})
        assert (body["result"], body["total"]) == ([], 0)

    async def test_customer_id_not_a_uuid_is_400(self, acme: Partner, subtests: pytest.Subtests) -> None:
        for value in [
            "ann",
            "497f6eca62764993bfeb53cbbbba6f08",
            "{497f6eca-6276-4993-bfeb-53cbbbba6f08}",
            "urn:uuid:497f6eca-6276-4993-bfeb-53cbbbba6f08",
            "497f6eca-6276-4993-bfeb-53cbbbba6f0",
            "",
        ]:
            with subtests.test(customer_id=value):
                response = await acme.get(CONNECTORS, params={"customer_id": value})
                assert_bad_request(response, parameter="customer_id")

    async def test_name_is_exact(self, acme: Partner, pool: dict[str, Any]) -> None:
        body = await acme.list_connectors({"name": "v2"})
        assert (body["result"], body["total"]) == ([pool["v2"]], 1)

    async def test_name_is_not_a_pattern_nor_case_insensitive(
        self, acme: Partner, pool: dict[str, Any], subtests: pytest.Subtests
    ) -> None:
        for value in ["v", "V2", "v2 ", "%", "v_"]:
            with subtests.test(name=value):
                body = await acme.list_connectors({"name": value})
                assert (body["result"], body["total"]) == ([], 0)

    async def test_name_with_nul_is_400(self, acme: Partner) -> None:
        assert_bad_request(await acme.get(CONNECTORS, params={"name": "a\x00b"}), parameter="name")

    async def test_one_type(self, acme: Partner, pool: dict[str, Any]) -> None:
        body = await acme.list_connectors({"type": "physical"})
        assert (names(body), body["total"]) == (["p1", "p2"], 2)

    async def test_both_types(self, acme: Partner, pool: dict[str, Any]) -> None:
        body = await acme.list_connectors([("type", "virtual"), ("type", "physical")])
        assert (names(body), body["total"]) == (["p1", "p2", "v1", "v2", "v3"], 5)

    async def test_type_given_twice_is_400(self, acme: Partner) -> None:
        response = await acme.get(CONNECTORS, params=[("type", "virtual"), ("type", "virtual")])
        body = assert_bad_request(response, parameter="type")
        assert "virtual" in body["errors"][0]["detail"]

    async def test_unknown_type_is_400(self, acme: Partner) -> None:
        response = await acme.get(CONNECTORS, params=[("type", "virtual"), ("type", "wireless")])
        assert_bad_request(response, parameter="type")

    async def test_empty_type_is_400(self, acme: Partner) -> None:
        assert_bad_request(await acme.get(CONNECTORS, params={"type": ""}), parameter="type")

    async def test_type_is_case_sensitive(self, acme: Partner) -> None:
        assert_bad_request(await acme.get(CONNECTORS, params={"type": "Virtual"}), parameter="type")

    async def test_assigned_and_type(self, acme: Partner, pool: dict[str, Any]) -> None:
        body = await acme.list_connectors({"assigned": "true", "type": "physical"})
        assert (names(body), body["total"]) == (["p1"], 1)

    async def test_unassigned_and_type(self, acme: Partner, pool: dict[str, Any]) -> None:
        body = await acme.list_connectors({"assigned": "false", "type": "virtual"})
        assert (names(body), body["total"]) == (["v3"], 1)

    async def test_customer_id_and_type(self, acme: Partner, pool: dict[str, Any]) -> None:
        body = await acme.list_connectors({"customer_id": pool["ann"]["id"], "type": "virtual"})
        assert (names(body), body["total"]) == (["v1"], 1)

    async def test_customer_id_and_assigned_true(self, acme: Partner, pool: dict[str, Any]) -> None:
        body = await acme.list_connectors({"customer_id": pool["bob"]["id"], "assigned": "true"})
        assert (names(body), body["total"]) == (["v2"], 1)

    async def test_customer_id_and_assigned_false_is_empty(self, acme: Partner, pool: dict[str, Any]) -> None:
        body = await acme.list_connectors({"customer_id": pool["ann"]["id"], "assigned": "false"})
        assert (body["result"], body["total"]) == ([], 0)

    async def test_name_and_a_matching_filter(self, acme: Partner, pool: dict[str, Any]) -> None:
        body = await acme.list_connectors({"name": "p1", "assigned": "true", "customer_id": pool["ann"]["id"]})
        assert (names(body), body["total"]) == (["p1"], 1)

    async def test_name_and_a_filter_it_does_not_match(self, acme: Partner, pool: dict[str, Any]) -> None:
        body = await acme.list_connectors({"name": "p1", "type": "virtual"})
        assert (body["result"], body["total"]) == ([], 0)

    async def test_filters_and_paging(self, acme: Partner, pool: dict[str, Any]) -> None:
        body = await acme.list_connectors({"type": "virtual", "limit": 1, "offset": 1})
        assert (names(body), body["total"]) == (["v2"], 3)


# Every combination of filters, to compare the API's totals with count(*).
ASSIGNED = [None, True, False]
TYPES: list[list[str] | None] = [None, ["physical"], ["virtual"], ["physical", "virtual"]]


async def assert_every_total_exact(acme: Partner, db: asyncpg.Connection, customers: list[str | None]) -> None:
    for assigned, types, customer_id in itertools.product(ASSIGNED, TYPES, customers):
        params: list[tuple[str, str]] = [("limit", "0")]
        if assigned is not None:
            params.append(("assigned", str(assigned).lower()))
        if customer_id is not None:
            params.append(("customer_id", customer_id))
        params += [("type", t) for t in types or []]
        expected = await count_connectors(db, acme.id, assigned=assigned, customer_id=customer_id, types=types)
        assert (await acme.list_connectors(params))["total"] == expected, params


class TestListConnectorsTotal:
    async def test_exact_through_creates_assigns_unassigns_and_deletes(
        self, acme: Partner, globex: Partner, db: asyncpg.Connection
    ) -> None:
        ann, bob = await acme.customer("Ann"), await acme.customer("Bob")
        customers = [None, ann["id"], bob["id"]]
        await globex.connector("g1", "physical", (await globex.customer())["id"])
        created = [
            await acme.connector(f"c{i}", "physical" if i % 3 else "virtual", ann["id"] if i % 2 else None)
            for i in range(8)
        ]
        await assert_every_total_exact(acme, db, customers)
        for connector in created[:4]:
            await acme.assign(connector["id"], bob["id"])
        await acme.assign(created[5]["id"], None)
        await assert_every_total_exact(acme, db, customers)
        for connector in created[3:6]:
            assert (await acme.delete(f"{CONNECTORS}/{connector['id']}")).status_code == 204
        await assert_every_total_exact(acme, db, customers)

    async def test_by_name_is_exact(self, acme: Partner, pool: dict[str, Any]) -> None:
        for name in ("p1", "v3", "nope"):
            body = await acme.list_connectors({"name": name, "limit": 0})
            assert body["total"] == (0 if name == "nope" else 1)

    async def test_comes_from_the_partner_counters(self, acme: Partner, db: asyncpg.Connection) -> None:
        # Proof that no request counts rows: a (deliberately wrong) counter is what the API reports.
        await acme.connector("c1", "physical")
        await db.execute("UPDATE connector_totals SET n = 1000000 WHERE partner_id = $1", acme.id)
        assert (await acme.list_connectors())["total"] == 1000000
        assert (await acme.list_connectors({"assigned": "false", "type": "physical"}))["total"] == 1000000

    async def test_by_customer_comes_from_the_customer_counters(self, acme: Partner, db: asyncpg.Connection) -> None:
        customer = await acme.customer()
        await acme.connector("c1", "physical", customer["id"])
        await db.execute(
            "UPDATE customer_connector_totals SET n = 777 WHERE customer_id = $1", uuid.UUID(customer["id"])
        )
        assert (await acme.list_connectors({"customer_id": customer["id"]}))["total"] == 777
        assert (await acme.list_connectors({"customer_id": customer["id"], "type": "physical"}))["total"] == 777

    async def test_one_statement_per_request(self, acme: Partner, app: App, pool: dict[str, Any]) -> None:
        # Database.fetchrow is one statement on one pooled connection; count every way to the database
        # taken by this request (in process, it runs in the test's task; the app's background tasks,
        # webhook deliveries and event pruning, have tasks of their own).
        calls: list[str] = []
        db = database_of(app)
        request_task = asyncio.current_task()
        for method in ("fetch", "fetchrow", "fetchval", "write"):
            original = getattr(db, method)

            def spy(*args: Any, _name: str = method, _original: Any = original, **kwargs: Any) -> Any:
                if asyncio.current_task() is request_task:
                    calls.append(_name)
                return _original(*args, **kwargs)

            setattr(db, method, spy)
        params = {"customer_id": pool["ann"]["id"], "type": "virtual", "assigned": "true", "limit": 1}
        body = await acme.list_connectors(params)
        assert body["total"] == 1
        assert calls == ["fetchrow"]
