"""One connector: GET, PUT (assign/unassign), POST (provision), DELETE, and the routing around them."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, ClassVar

import asyncpg
import httpx
import pytest

from fleetreg.constraints import CONSTRAINT_ERRORS
from fleetreg.db import translate
from tests.support.app import App
from tests.support.partner import (
    CONNECTOR_MEMBERS,
    CONNECTORS,
    CUSTOMERS,
    UNKNOWN_ID,
    Partner,
    connector_rows,
    count_connectors,
    wait_until_blocked,
)
from tests.support.problems import assert_bad_request, assert_problem

MALFORMED_IDS = [
    "abc",
    "497f6eca62764993bfeb53cbbbba6f08",
    "{497f6eca-6276-4993-bfeb-53cbbbba6f08}",
    "497f6eca-6276-4993-bfeb-53cbbbba6f0g",
    "497f6eca-6276-4993-bfeb-53cbbbba6f08a",
    "12345",
]
NEW = {"name": "1005123", "type": "virtual", "hardware_version": "11", "software_version": "8756"}


async def totals(db: asyncpg.Connection, partner_id: uuid.UUID) -> dict[tuple[str, bool], int]:
    rows = await db.fetch("SELECT type, assigned, n FROM connector_totals WHERE partner_id = $1", partner_id)
    return {(row["type"], row["assigned"]): row["n"] for row in rows if row["n"]}


class TestGetConnector:
    async def test_returns_the_connector(self, acme: Partner) -> None:
        customer = await acme.customer()
        created = await acme.connector("1005123", "virtual", customer["id"], pin="01234")
        response = await acme.get(f"{CONNECTORS}/{created['id']}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {
            "id": created["id"],
            "customer_id": customer["id"],
            "hardware_version": "11",
            "name": "1005123",
            "pin": "01234",
            "software_version": "8756",
            "type": "virtual",
        }

    async def test_upper_case_id_is_the_same_connector(self, acme: Partner) -> None:
        created = await acme.connector("c1")
        response = await acme.get(f"{CONNECTORS}/{created['id'].upper()}")
        assert response.json() == created

    async def test_unknown_id_is_404(self, acme: Partner) -> None:
        body = assert_problem(await acme.get(f"{CONNECTORS}/{UNKNOWN_ID}"), 404, "Connector Not Found")
        assert body["type"] == "/problems/connector-not-found"
        assert UNKNOWN_ID in body["detail"]

    async def test_malformed_id_is_400(self, acme: Partner, subtests: pytest.Subtests) -> None:
        for connector_id in MALFORMED_IDS:
            with subtests.test(connector_id=connector_id):
                assert_bad_request(await acme.get(f"{CONNECTORS}/{connector_id}"), parameter="connector-id")

    async def test_unknown_query_parameter_is_400(self, acme: Partner) -> None:
        created = await acme.connector("c1")
        assert_bad_request(await acme.get(f"{CONNECTORS}/{created['id']}", params={"x": "1"}), parameter="x")

    async def test_without_token_is_401(self, acme: Partner) -> None:
        created = await acme.connector("c1")
        assert_problem(await acme.http.get(f"{CONNECTORS}/{created['id']}"), 401, "Unauthorized")

    async def test_without_the_scope_is_403(self, acme: Partner, make_api_client: Any) -> None:
        created = await acme.connector("c1")
        api = await make_api_client(scope="customers:read connectors:write connectors:provision")
        assert_problem(await acme.http.get(f"{CONNECTORS}/{created['id']}", headers=api.headers), 403, "Forbidden")


class TestAssignConnector:
    async def test_assigns_to_a_customer(self, acme: Partner, db: asyncpg.Connection) -> None:
        customer = await acme.customer()
        created = await acme.connector("c1", "physical")
        response = await acme.put(f"{CONNECTORS}/{created['id']}", json={"customer_id": customer["id"]})
        assert response.status_code == 200
        assert response.json() == {**created, "customer_id": customer["id"]}
        assert (await connector_rows(db, acme.id))[0]["customer_id"] == customer["id"]
        assert await totals(db, acme.id) == {("physical", True): 1}

    async def test_unassigns_with_null(self, acme: Partner, db: asyncpg.Connection) -> None:
        customer = await acme.customer()
        created = await acme.connector("c1", "physical", customer["id"])
        response = await acme.put(f"{CONNECTORS}/{created['id']}", json={"customer_id": None})
        assert response.status_code == 200
        assert response.json() == {**created, "customer_id": None}
        assert (await connector_rows(db, acme.id))[0]["customer_id"] is None
        assert await totals(db, acme.id) == {("physical", False): 1}
        assert await db.fetchval("SELECT coalesce(sum(n), 0) FROM customer_connector_totals") == 0

    async def test_reassigns_to_another_customer(self, acme: Partner, db: asyncpg.Connection) -> None:
        ann, bob = await acme.customer("Ann"), await acme.customer("Bob")
        created = await acme.connector("c1", "virtual", ann["id"])
        assert (await acme.assign(created["id"], bob["id"]))["customer_id"] == bob["id"]
        assert await count_connectors(db, acme.id, customer_id=ann["id"]) == 0
        assert (await acme.list_connectors({"customer_id": ann["id"]}))["total"] == 0
        assert (await acme.list_connectors({"customer_id": bob["id"]}))["total"] == 1

    async def test_assigning_the_same_customer_again_changes_nothing(
        self, acme: Partner, db: asyncpg.Connection
    ) -> None:
        customer = await acme.customer()
        created = await acme.connector("c1", "virtual", customer["id"])
        assert await acme.assign(created["id"], customer["id"]) == created
        assert await totals(db, acme.id) == {("virtual", True): 1}

    async def test_unassigning_an_unassigned_connector_changes_nothing(self, acme: Partner) -> None:
        created = await acme.connector("c1")
        assert await acme.assign(created["id"], None) == created

    async def test_customer_of_no_one_is_422(self, acme: Partner, db: asyncpg.Connection) -> None:
        created = await acme.connector("c1")
        response = await acme.put(f"{CONNECTORS}/{created['id']}", json={"customer_id": UNKNOWN_ID})
        body = assert_problem(response, 422, "Unknown Customer")
        assert body["type"] == "/problems/unknown-customer"
        assert body["errors"] == [{"pointer": "/customer_id", "detail": "no such customer"}]
        assert (await connector_rows(db, acme.id))[0]["customer_id"] is None
        assert await totals(db, acme.id) == {("virtual", False): 1}

    async def test_unknown_customer_leaves_the_assignment_unchanged(
        self, acme: Partner, db: asyncpg.Connection
    ) -> None:
        customer = await acme.customer()
        created = await acme.connector("c1", "virtual", customer["id"])
        response = await acme.put(f"{CONNECTORS}/{created['id']}", json={"customer_id": UNKNOWN_ID})
        assert_problem(response, 422, "Unknown Customer")
        assert (await connector_rows(db, acme.id))[0]["customer_id"] == customer["id"]

    async def test_unknown_connector_is_404(self, acme: Partner) -> None:
        customer = await acme.customer()
        response = await acme.put(f"{CONNECTORS}/{UNKNOWN_ID}", json={"customer_id": customer["id"]})
        assert_problem(response, 404, "Connector Not Found")

    async def test_unknown_connector_and_unknown_customer_is_404(self, acme: Partner) -> None:
        response = await acme.put(f"{CONNECTORS}/{UNKNOWN_ID}", json={"customer_id": UNKNOWN_ID})
        assert_problem(response, 404, "Connector Not Found")

    async def test_malformed_connector_id_is_400(self, acme: Partner, subtests: pytest.Subtests) -> None:
        for connector_id in MALFORMED_IDS:
            with subtests.test(connector_id=connector_id):
                response = await acme.put(f"{CONNECTORS}/{connector_id}", json={"customer_id": None})
                assert_bad_request(response, parameter="connector-id")

    async def test_missing_customer_id_is_400(self, acme: Partner) -> None:
        created = await acme.connector("c1")
        body = assert_bad_request(await acme.put(f"{CONNECTORS}/{created['id']}", json={}), pointer="/customer_id")
        assert body["errors"] == [{"pointer": "/customer_id", "detail": "required"}]

    async def test_unknown_member_is_400(self, acme: Partner, db: asyncpg.Connection) -> None:
        customer = await acme.customer()
        created = await acme.connector("c1")
        response = await acme.put(
            f"{CONNECTORS}/{created['id']}", json={"customer_id": customer["id"], "name": "renamed"}
        )
        body = assert_bad_request(response, pointer="/name")
        assert {"pointer": "/name", "detail": "unknown member"} in body["errors"]
        assert (await connector_rows(db, acme.id))[0] == {**created, "customer_id": None}

    async def test_customer_id_not_a_uuid_is_400(self, acme: Partner, subtests: pytest.Subtests) -> None:
        created = await acme.connector("c1")
        for value in ["ann", 42, True, [UNKNOWN_ID], "497f6eca62764993bfeb53cbbbba6f08"]:
            with subtests.test(customer_id=value):
                response = await acme.put(f"{CONNECTORS}/{created['id']}", json={"customer_id": value})
                assert_bad_request(response, pointer="/customer_id")

    async def test_body_not_an_object_is_400(self, acme: Partner) -> None:
        created = await acme.connector("c1")
        response = await acme.put(f"{CONNECTORS}/{created['id']}", json=[None])
        assert_bad_request(response, pointer="")

    async def test_no_body_is_400(self, acme: Partner) -> None:
        created = await acme.connector("c1")
        response = await acme.put(f"{CONNECTORS}/{created['id']}", headers={"content-type": "application/json"})
        assert_bad_request(response, pointer="")

    async def test_malformed_json_is_400(self, acme: Partner) -> None:
        created = await acme.connector("c1")
        response = await acme.put(
            f"{CONNECTORS}/{created['id']}", content=b'{"customer_id": ', headers={"content-type": "application/json"}
        )
        assert_problem(response, 400, "Malformed JSON")

    async def test_not_json_is_415(self, acme: Partner) -> None:
        created = await acme.connector("c1")
        response = await acme.put(
            f"{CONNECTORS}/{created['id']}", content=b"customer_id=", headers={"content-type": "text/plain"}
        )
        assert_problem(response, 415, "Unsupported Media Type")

    async def test_without_token_is_401(self, acme: Partner) -> None:
        created = await acme.connector("c1")
        response = await acme.http.put(f"{CONNECTORS}/{created['id']}", json={"customer_id": None})
        assert_problem(response, 401, "Unauthorized")

    async def test_read_scope_is_not_enough(self, acme: Partner, make_api_client: Any) -> None:
        created = await acme.connector("c1")
        api = await make_api_client(scope="connectors:read connectors:provision customers:write")
        response = await acme.http.put(f"{CONNECTORS}/{created['id']}", json={"customer_id": None}, headers=api.headers)
        assert_problem(response, 403, "Forbidden")

    async def test_write_scope_is_enough(self, acme: Partner, make_api_client: Any) -> None:
        customer = await acme.customer()
        created = await acme.connector("c1")
        api = await make_api_client(scope="connectors:write")
        response = await acme.http.put(
            f"{CONNECTORS}/{created['id']}", json={"customer_id": customer["id"]}, headers=api.headers
        )
        assert response.status_code == 200

    async def test_customer_deleted_concurrently_is_422(
        self, acme: Partner, db: asyncpg.Connection, database_url: str
    ) -> None:
        # The delete holds the customer's row when the assignment's foreign key check arrives: the
        # check waits, then finds the customer gone.
        customer = await acme.customer()
        created = await acme.connector("c1")
        async with db.transaction():
            await db.execute("DELETE FROM customers WHERE id = $1", uuid.UUID(customer["id"]))
            request = asyncio.ensure_future(
                acme.put(f"{CONNECTORS}/{created['id']}", json={"customer_id": customer["id"]})
            )
            observer = await asyncpg.connect(database_url)
            try:
                await wait_until_blocked(observer)
            finally:
                await observer.close()
        assert_problem(await request, 422, "Unknown Customer")
        assert (await connector_rows(db, acme.id))[0]["customer_id"] is None


class TestCreateConnector:
    async def test_creates_the_connector(self, acme: Partner, db: asyncpg.Connection) -> None:
        response = await acme.post(CONNECTORS, json={**NEW, "pin": "01234"})
        assert response.status_code == 201
        body = response.json()
        assert set(body) == CONNECTOR_MEMBERS
        assert body == {**NEW, "pin": "01234", "customer_id": None, "id": body["id"]}
        assert response.headers["location"] == f"{CONNECTORS}/{body['id']}"
        assert await connector_rows(db, acme.id) == [body]
        assert await totals(db, acme.id) == {("virtual", False): 1}

    async def test_location_names_the_connector(self, acme: Partner) -> None:
        response = await acme.post(CONNECTORS, json=NEW)
        assert (await acme.get(response.headers["location"])).json() == response.json()

    async def test_pin_and_customer_default_to_null(self, acme: Partner) -> None:
        body = (await acme.post(CONNECTORS, json=NEW)).json()
        assert (body["pin"], body["customer_id"]) == (None, None)

    async def test_explicit_nulls_are_accepted(self, acme: Partner) -> None:
        body = (await acme.post(CONNECTORS, json={**NEW, "pin": None, "customer_id": None})).json()
        assert (body["pin"], body["customer_id"]) == (None, None)

    async def test_assigned_at_creation(self, acme: Partner, db: asyncpg.Connection) -> None:
        customer = await acme.customer()
        response = await acme.post(CONNECTORS, json={**NEW, "type": "physical", "customer_id": customer["id"]})
        assert response.status_code == 201
        assert response.json()["customer_id"] == customer["id"]
        assert await totals(db, acme.id) == {("physical", True): 1}
        assert (await acme.list_connectors({"customer_id": customer["id"]}))["total"] == 1

    async def test_duplicate_name_is_409(self, acme: Partner, db: asyncpg.Connection) -> None:
        first = await acme.connector("1005123")
        response = await acme.post(CONNECTORS, json={**NEW, "type": "physical"})
        body = assert_problem(response, 409, "Connector Name Taken")
        assert body["type"] == "/problems/connector-name-taken"
        assert body["name"] == "1005123"
        assert await connector_rows(db, acme.id) == [first]
        assert await totals(db, acme.id) == {("virtual", False): 1}

    async def test_names_differing_in_case_are_distinct(self, acme: Partner) -> None:
        await acme.connector("abc")
        assert (await acme.post(CONNECTORS, json={**NEW, "name": "ABC"})).status_code == 201

    async def test_duplicate_name_and_unknown_customer_is_409(self, acme: Partner) -> None:
        await acme.connector("1005123")
        response = await acme.post(CONNECTORS, json={**NEW, "customer_id": UNKNOWN_ID})
        assert_problem(response, 409, "Connector Name Taken")

    async def test_concurrent_creates_of_one_name_make_one_connector(
        self, acme: Partner, db: asyncpg.Connection
    ) -> None:
        responses = await asyncio.gather(*(acme.post(CONNECTORS, json=NEW) for _ in range(5)))
        assert sorted(response.status_code for response in responses) == [201, 409, 409, 409, 409]
        assert await count_connectors(db, acme.id) == 1
        assert (await acme.list_connectors())["total"] == 1

    async def test_unknown_customer_is_422(self, acme: Partner, db: asyncpg.Connection) -> None:
        response = await acme.post(CONNECTORS, json={**NEW, "customer_id": UNKNOWN_ID})
        body = assert_problem(response, 422, "Unknown Customer")
        assert body["errors"] == [{"pointer": "/customer_id", "detail": "no such customer"}]
        assert await count_connectors(db, acme.id) == 0
        assert await totals(db, acme.id) == {}

    async def test_missing_required_member_is_400(
        self, acme: Partner, db: asyncpg.Connection, subtests: pytest.Subtests
    ) -> None:
        for member in ["name", "type", "hardware_version", "software_version"]:
            with subtests.test(member=member):
                payload = {key: value for key, value in NEW.items() if key != member}
                body = assert_bad_request(await acme.post(CONNECTORS, json=payload), pointer=f"/{member}")
                assert {"pointer": f"/{member}", "detail": "required"} in body["errors"]
        assert await count_connectors(db, acme.id) == 0

    async def test_every_missing_member_is_listed(self, acme: Partner) -> None:
        body = assert_bad_request(await acme.post(CONNECTORS, json={}), pointer="/name")
        assert sorted(error["pointer"] for error in body["errors"]) == [
            "/hardware_version",
            "/name",
            "/software_version",
            "/type",
        ]

    async def test_id_is_not_accepted(self, acme: Partner) -> None:
        response = await acme.post(CONNECTORS, json={**NEW, "id": UNKNOWN_ID})
        assert_bad_request(response, pointer="/id")

    async def test_unknown_member_is_400(self, acme: Partner) -> None:
        assert_bad_request(await acme.post(CONNECTORS, json={**NEW, "colour": "red"}), pointer="/colour")

    INVALID_MEMBERS: ClassVar[list[tuple[str, Any]]] = [
        ("name", ""),
        ("name", "x" * 201),
        ("name", "a\x00b"),
        ("name", 1005123),
        ("name", None),
        ("hardware_version", ""),
        ("hardware_version", "1" * 101),
        ("software_version", ""),
        ("software_version", "1" * 101),
        ("software_version", 8756),
        ("type", "wireless"),
        ("type", "Virtual"),
        ("type", None),
        ("pin", "1234"),
        ("pin", "123456"),
        ("pin", "12a45"),
        ("pin", "٠١٢٣٤"),  # Arabic-Indic digits: \d would take them, the database would not
        ("pin", " 1234"),
        ("pin", 12345),
        ("customer_id", "ann"),
    ]

    async def test_invalid_member_is_400(
        self, acme: Partner, db: asyncpg.Connection, subtests: pytest.Subtests
    ) -> None:
        for member, value in self.INVALID_MEMBERS:
            with subtests.test(member=member, value=value):
                assert_bad_request(await acme.post(CONNECTORS, json={**NEW, member: value}), pointer=f"/{member}")
        assert await count_connectors(db, acme.id) == 0

    async def test_lone_surrogate_is_400(self, acme: Partner) -> None:
        content = b'{"name": "a\\ud800", "type": "virtual", "hardware_version": "1", "software_version": "1"}'
        response = await acme.post(CONNECTORS, content=content, headers={"content-type": "application/json"})
        assert_problem(response, 400, "Bad Request")

    async def test_longest_values_are_accepted(self, acme: Partner) -> None:
        payload = {**NEW, "name": "n" * 200, "hardware_version": "h" * 100, "software_version": "s" * 100}
        response = await acme.post(CONNECTORS, json=payload)
        assert response.status_code == 201
        assert response.json()["name"] == "n" * 200

    async def test_non_ascii_name_is_kept_as_given(self, acme: Partner) -> None:
        body = (await acme.post(CONNECTORS, json={**NEW, "name": " Remote №7 — Lisboa "})).json()
        assert body["name"] == " Remote №7 — Lisboa "

    async def test_write_scope_is_not_enough(self, acme: Partner, make_api_client: Any) -> None:
        api = await make_api_client(scope="connectors:read connectors:write")
        assert_problem(await acme.http.post(CONNECTORS, json=NEW, headers=api.headers), 403, "Forbidden")

    async def test_without_token_is_401(self, acme: Partner) -> None:
        assert_problem(await acme.http.post(CONNECTORS, json=NEW), 401, "Unauthorized")


class TestDeleteConnector:
    async def test_deletes_the_connector(self, acme: Partner, db: asyncpg.Connection) -> None:
        created = await acme.connector("c1")
        response = await acme.delete(f"{CONNECTORS}/{created['id']}")
        assert response.status_code == 204
        assert response.content == b""
        assert await count_connectors(db, acme.id) == 0
        assert await totals(db, acme.id) == {}
        assert_problem(await acme.get(f"{CONNECTORS}/{created['id']}"), 404, "Connector Not Found")

    async def test_an_assigned_connector_can_be_deleted(self, acme: Partner, db: asyncpg.Connection) -> None:
        customer = await acme.customer()
        created = await acme.connector("c1", "physical", customer["id"])
        assert (await acme.delete(f"{CONNECTORS}/{created['id']}")).status_code == 204
        assert (await acme.list_connectors({"customer_id": customer["id"]}))["total"] == 0
        assert await totals(db, acme.id) == {}

    async def test_its_name_can_be_used_again(self, acme: Partner) -> None:
        created = await acme.connector("1005123")
        await acme.delete(f"{CONNECTORS}/{created['id']}")
        assert (await acme.post(CONNECTORS, json=NEW)).status_code == 201

    async def test_twice_is_404(self, acme: Partner) -> None:
        created = await acme.connector("c1")
        await acme.delete(f"{CONNECTORS}/{created['id']}")
        assert_problem(await acme.delete(f"{CONNECTORS}/{created['id']}"), 404, "Connector Not Found")

    async def test_unknown_id_is_404(self, acme: Partner) -> None:
        assert_problem(await acme.delete(f"{CONNECTORS}/{UNKNOWN_ID}"), 404, "Connector Not Found")

    async def test_malformed_id_is_400(self, acme: Partner, subtests: pytest.Subtests) -> None:
        for connector_id in MALFORMED_IDS:
            with subtests.test(connector_id=connector_id):
                assert_bad_request(await acme.delete(f"{CONNECTORS}/{connector_id}"), parameter="connector-id")

    async def test_write_scope_is_not_enough(self, acme: Partner, make_api_client: Any, db: asyncpg.Connection) -> None:
        created = await acme.connector("c1")
        api = await make_api_client(scope="connectors:read connectors:write")
        response = await acme.http.delete(f"{CONNECTORS}/{created['id']}", headers=api.headers)
        assert_problem(response, 403, "Forbidden")
        assert await count_connectors(db, acme.id) == 1

    async def test_without_token_is_401(self, acme: Partner) -> None:
        created = await acme.connector("c1")
        assert_problem(await acme.http.delete(f"{CONNECTORS}/{created['id']}"), 401, "Unauthorized")


class TestConnectorRouting:
    async def test_connector_list_is_not_read_as_a_customer_id(
        self, client: httpx.AsyncClient, make_api_client: Any
    ) -> None:
        # A token that may read connectors but not customers: the customer route would answer 403.
        api = await make_api_client(scope="connectors:read")
        response = await client.get(CONNECTORS, headers=api.headers)
        assert response.status_code == 200
        assert set(response.json()) == {"query", "result", "total"}

    async def test_create_is_not_read_as_a_customer_operation(self, acme: Partner) -> None:
        response = await acme.post(CONNECTORS, json=NEW)
        assert response.status_code == 201
        assert set(response.json()) == CONNECTOR_MEMBERS

    async def test_other_methods_on_the_collection_are_405(self, acme: Partner, subtests: pytest.Subtests) -> None:
        for method in ["PUT", "PATCH", "DELETE"]:
            with subtests.test(method=method):
                response = await acme.request(method, CONNECTORS, json={})
                assert_problem(response, 405, "Method Not Allowed")
                assert response.headers["allow"] == "GET, HEAD, POST, OPTIONS"  # docs/api.md §7: every method

    async def test_post_to_one_connector_is_405(self, acme: Partner) -> None:
        created = await acme.connector("c1")
        response = await acme.post(f"{CONNECTORS}/{created['id']}", json={})
        assert_problem(response, 405, "Method Not Allowed")

    async def test_customer_routes_still_take_customer_ids(self, acme: Partner) -> None:
        customer = await acme.customer()
        assert (await acme.get(f"{CUSTOMERS}/{customer['id']}")).json() == customer


class TestConnectorCustomerConstraint:
    """connectors_customer_fkey is violated from both sides; each side means its own problem."""

    async def test_writing_a_connector_with_no_such_customer_means_unknown_customer(
        self, acme: Partner, db: asyncpg.Connection
    ) -> None:
        with pytest.raises(asyncpg.ForeignKeyViolationError) as raised:
            await db.execute(
                """INSERT INTO connectors (partner_id, customer_id, name, type, hardware_version, software_version)
                VALUES ($1, $2, 'c1', 'virtual', '1', '1')""",
                acme.id,
                uuid.UUID(UNKNOWN_ID),
            )
        error = translate(raised.value, CONSTRAINT_ERRORS)
        assert error is not None
        assert (error.status, error.title) == (422, "Unknown Customer")

    async def test_deleting_a_customer_with_connectors_means_customer_has_connectors(
        self, acme: Partner, db: asyncpg.Connection
    ) -> None:
        customer = await acme.customer()
        await acme.connector("c1", "virtual", customer["id"])
        with pytest.raises(asyncpg.ForeignKeyViolationError) as raised:
            await db.execute("DELETE FROM customers WHERE id = $1", uuid.UUID(customer["id"]))
        error = translate(raised.value, CONSTRAINT_ERRORS)
        assert error is not None
        assert (error.status, error.title) == (409, "Customer Has Connectors")


class TestPartnerOpenApi:
    async def test_documents_every_partner_operation(self, client: httpx.AsyncClient, app: App) -> None:
        paths = (await client.get("/openapi.json")).json()["paths"]
        assert set(paths[CONNECTORS]) == {"get", "post"}
        assert set(paths[f"{CONNECTORS}/{{connector-id}}"]) == {"get", "put", "delete"}
        assert set(paths[CUSTOMERS]) == {"get", "post"}
        assert set(paths[f"{CUSTOMERS}/{{customer-id}}"]) == {"get", "put", "delete"}

    async def test_problems_are_problem_json_and_no_validation_422(self, client: httpx.AsyncClient) -> None:
        paths = (await client.get("/openapi.json")).json()["paths"]
        for path in (CONNECTORS, f"{CONNECTORS}/{{connector-id}}", CUSTOMERS, f"{CUSTOMERS}/{{customer-id}}"):
            for operation in paths[path].values():
                responses = operation["responses"]
                for status in ("400", "401", "403", "default"):
                    assert set(responses[status]["content"]) == {"application/problem+json"}
                if "422" in responses:
                    assert set(responses["422"]["content"]) == {"application/problem+json"}

    async def test_assignment_documents_404_and_422(self, client: httpx.AsyncClient) -> None:
        put = (await client.get("/openapi.json")).json()["paths"][f"{CONNECTORS}/{{connector-id}}"]["put"]
        assert {"200", "400", "401", "403", "404", "422"} <= set(put["responses"])
        assert put["security"] == [{"OAuth2ClientCredentials": ["connectors:write"]}]

    async def test_list_parameters(self, client: httpx.AsyncClient) -> None:
        get = (await client.get("/openapi.json")).json()["paths"][CONNECTORS]["get"]
        parameters = {parameter["name"]: parameter for parameter in get["parameters"]}
        assert set(parameters) == {"assigned", "customer_id", "limit", "name", "offset", "type"}
        assert (parameters["limit"]["schema"]["minimum"], parameters["limit"]["schema"]["maximum"]) == (0, 1000)
        assert parameters["limit"]["schema"]["default"] == 25
        assert (parameters["offset"]["schema"]["minimum"], parameters["offset"]["schema"]["default"]) == (0, 0)


class TestPartnerProblemTypes:
    async def test_each_has_its_page(self, client: httpx.AsyncClient, subtests: pytest.Subtests) -> None:
        pages = {
            "connector-not-found": "Connector Not Found",
            "customer-not-found": "Customer Not Found",
            "unknown-customer": "Unknown Customer",
            "connector-name-taken": "Connector Name Taken",
            "customer-has-connectors": "Customer Has Connectors",
        }
        for slug, title in pages.items():
            with subtests.test(slug=slug):
                response = await client.get(f"/problems/{slug}")
                assert response.status_code == 200
                assert title in response.text
