"""Partners never see each other's data: another partner's id is simply 404 (or 422 as a reference).

Every scenario runs in both directions: acme acting on globex's rows, and globex on acme's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from tests.support.partner import CONNECTORS, CUSTOMERS, Partner, connector_rows, count_connectors
from tests.support.problems import assert_problem


@dataclass
class Tenants:
    caller: Partner
    owner: Partner
    owner_customer: dict[str, Any]
    owner_connector: dict[str, Any]  # assigned to owner_customer
    caller_customer: dict[str, Any]
    caller_connector: dict[str, Any]  # unassigned


@pytest.fixture(params=["acme acts on globex", "globex acts on acme"])
async def tenants(request: pytest.FixtureRequest, acme: Partner, globex: Partner) -> Tenants:
    caller, owner = (acme, globex) if request.param.startswith("acme") else (globex, acme)
    owner_customer = await owner.customer("Owner's customer")
    owner_connector = await owner.connector("owned", "physical", owner_customer["id"])
    caller_customer = await caller.customer("Caller's customer")
    caller_connector = await caller.connector("mine", "virtual")
    return Tenants(caller, owner, owner_customer, owner_connector, caller_customer, caller_connector)


async def owner_state(db: asyncpg.Connection, t: Tenants) -> tuple[Any, ...]:
    """Everything of the owner's that a request of the caller could change."""
    return (
        await connector_rows(db, t.owner.id),
        await db.fetch("SELECT id, name FROM customers WHERE partner_id = $1 ORDER BY id", t.owner.id),
        await db.fetch("SELECT * FROM connector_totals WHERE partner_id = $1 ORDER BY 2, 3", t.owner.id),
        await db.fetch("SELECT * FROM customer_connector_totals WHERE partner_id = $1 ORDER BY 2, 3", t.owner.id),
        await db.fetch("SELECT * FROM customer_totals WHERE partner_id = $1", t.owner.id),
    )


class TestTenantIsolation:
    async def test_list_shows_only_own_connectors(self, tenants: Tenants) -> None:
        body = await tenants.caller.list_connectors()
        assert (body["result"], body["total"]) == ([tenants.caller_connector], 1)

    async def test_list_counts_only_own_connectors_for_every_filter(self, tenants: Tenants) -> None:
        for params in ({"assigned": "true"}, {"type": "physical"}, {"assigned": "true", "type": "physical"}):
            body = await tenants.caller.list_connectors(params)
            assert (body["result"], body["total"]) == ([], 0), params

    async def test_list_by_another_partners_customer_is_empty(self, tenants: Tenants) -> None:
        body = await tenants.caller.list_connectors({"customer_id": tenants.owner_customer["id"]})
        assert (body["result"], body["total"]) == ([], 0)

    async def test_list_by_another_partners_connector_name_is_empty(self, tenants: Tenants) -> None:
        body = await tenants.caller.list_connectors({"name": "owned"})
        assert (body["result"], body["total"]) == ([], 0)

    async def test_get_another_partners_connector_is_404(self, tenants: Tenants) -> None:
        response = await tenants.caller.get(f"{CONNECTORS}/{tenants.owner_connector['id']}")
        assert_problem(response, 404, "Connector Not Found")

    async def test_assign_another_partners_connector_is_404(self, tenants: Tenants, db: asyncpg.Connection) -> None:
        before = await owner_state(db, tenants)
        for customer_id in (tenants.caller_customer["id"], None):
            response = await tenants.caller.put(
                f"{CONNECTORS}/{tenants.owner_connector['id']}", json={"customer_id": customer_id}
            )
            assert_problem(response, 404, "Connector Not Found")
        assert await owner_state(db, tenants) == before

    async def test_assign_to_another_partners_customer_is_422(self, tenants: Tenants, db: asyncpg.Connection) -> None:
        before = await owner_state(db, tenants)
        response = await tenants.caller.put(
            f"{CONNECTORS}/{tenants.caller_connector['id']}", json={"customer_id": tenants.owner_customer["id"]}
        )
        assert_problem(response, 422, "Unknown Customer")
        assert await connector_rows(db, tenants.caller.id) == [tenants.caller_connector]
        assert await owner_state(db, tenants) == before

    async def test_create_for_another_partners_customer_is_422(self, tenants: Tenants, db: asyncpg.Connection) -> None:
        before = await owner_state(db, tenants)
        payload = {
            "name": "new",
            "type": "virtual",
            "hardware_version": "1",
            "software_version": "1",
            "customer_id": tenants.owner_customer["id"],
        }
        assert_problem(await tenants.caller.post(CONNECTORS, json=payload), 422, "Unknown Customer")
        assert await count_connectors(db, tenants.caller.id) == 1
        assert await owner_state(db, tenants) == before

    async def test_another_partners_connector_name_is_free(self, tenants: Tenants, db: asyncpg.Connection) -> None:
        before = await owner_state(db, tenants)
        payload = {"name": "owned", "type": "physical", "hardware_version": "1", "software_version": "1"}
        assert (await tenants.caller.post(CONNECTORS, json=payload)).status_code == 201
        assert await owner_state(db, tenants) == before

    async def test_delete_another_partners_connector_is_404(self, tenants: Tenants, db: asyncpg.Connection) -> None:
        before = await owner_state(db, tenants)
        response = await tenants.caller.delete(f"{CONNECTORS}/{tenants.owner_connector['id']}")
        assert_problem(response, 404, "Connector Not Found")
        assert await owner_state(db, tenants) == before

    async def test_list_shows_only_own_customers(self, tenants: Tenants) -> None:
        body = (await tenants.caller.get(CUSTOMERS)).json()
        assert (body["result"], body["total"]) == ([tenants.caller_customer], 1)
        body = (await tenants.caller.get(CUSTOMERS, params={"name": "Owner's customer"})).json()
        assert (body["result"], body["total"]) == ([], 0)

    async def test_get_another_partners_customer_is_404(self, tenants: Tenants) -> None:
        response = await tenants.caller.get(f"{CUSTOMERS}/{tenants.owner_customer['id']}")
        assert_problem(response, 404, "Customer Not Found")

    async def test_rename_another_partners_customer_is_404(self, tenants: Tenants, db: asyncpg.Connection) -> None:
        before = await owner_state(db, tenants)
        response = await tenants.caller.put(f"{CUSTOMERS}/{tenants.owner_customer['id']}", json={"name": "Mine"})
        assert_problem(response, 404, "Customer Not Found")
        assert await owner_state(db, tenants) == before

    async def test_delete_another_partners_customer_is_404(self, tenants: Tenants, db: asyncpg.Connection) -> None:
        # 404 rather than the 409 its connector would otherwise cause: nothing about it is revealed.
        before = await owner_state(db, tenants)
        response = await tenants.caller.delete(f"{CUSTOMERS}/{tenants.owner_customer['id']}")
        assert_problem(response, 404, "Customer Not Found")
        assert await owner_state(db, tenants) == before

    async def test_own_writes_leave_the_other_partners_totals_alone(
        self, tenants: Tenants, db: asyncpg.Connection
    ) -> None:
        before = await owner_state(db, tenants)
        owner_list = await tenants.owner.list_connectors({"limit": 0})
        caller = tenants.caller
        extra = await caller.connector("extra", "physical", tenants.caller_customer["id"])
        await caller.assign(tenants.caller_connector["id"], tenants.caller_customer["id"])
        await caller.assign(extra["id"], None)
        await caller.delete(f"{CONNECTORS}/{extra['id']}")
        await caller.customer("Another")
        assert await owner_state(db, tenants) == before
        assert await tenants.owner.list_connectors({"limit": 0}) == owner_list
        assert (await tenants.owner.get(CUSTOMERS)).json()["total"] == 1


class TestPartnerReference:
    """A connector's partner exists, held by the database through ``connector_totals`` (migration
    0004): for rows written by plain SQL as for the API's."""

    NEW_CONNECTOR = "INSERT INTO connectors (partner_id, name, type, hardware_version, software_version)"

    async def test_a_connector_of_an_unknown_partner_is_refused(self, acme: Partner, db: asyncpg.Connection) -> None:
        before = await db.fetchval("SELECT count(*) FROM connectors")
        with pytest.raises(asyncpg.ForeignKeyViolationError, match="connector_totals_partner_id_fkey"):
            await db.execute(
                f"{self.NEW_CONNECTOR} VALUES ($1, 'known', 'virtual', '1', '1'),"
                " (gen_random_uuid(), 'x', 'virtual', '1', '1')",
                acme.id,
            )
        assert await db.fetchval("SELECT count(*) FROM connectors") == before

    async def test_a_connector_cannot_move_to_an_unknown_partner(self, acme: Partner, db: asyncpg.Connection) -> None:
        connector = await acme.connector("moving", "physical")
        with pytest.raises(asyncpg.ForeignKeyViolationError, match="connector_totals_partner_id_fkey"):
            await db.execute("UPDATE connectors SET partner_id = gen_random_uuid() WHERE id = $1", connector["id"])
        assert await db.fetchval("SELECT partner_id FROM connectors WHERE id = $1", connector["id"]) == acme.id

    async def test_a_partner_with_connectors_cannot_be_deleted(self, acme: Partner, db: asyncpg.Connection) -> None:
        await acme.connector("kept", "virtual")
        await db.execute("DELETE FROM oauth_clients WHERE partner_id = $1", acme.id)  # not what holds it
        with pytest.raises(asyncpg.ForeignKeyViolationError, match="connector_totals_partner_id_fkey"):
            await db.execute("DELETE FROM partners WHERE id = $1", acme.id)
        assert await db.fetchval("SELECT count(*) FROM connectors WHERE partner_id = $1", acme.id) == 1
