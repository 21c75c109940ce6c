"""A partner's API client, and connector rows and counts read straight from the database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from tests.support.auth import ApiClient
from tests.support.waiting import wait_until

CONNECTORS = "/v2/customers/connectors"
CUSTOMERS = "/v2/customers"
CONNECTOR_MEMBERS = {"id", "customer_id", "hardware_version", "name", "pin", "software_version", "type"}
CUSTOMER_MEMBERS = {"id", "name", "created_at"}
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


@dataclass
class Partner:
    """A partner's API client: requests carry its token."""

    http: httpx.AsyncClient
    api: ApiClient

    @property
    def id(self) -> uuid.UUID:
        partner_id = self.api.partner_id
        assert partner_id is not None, "a partner's client"
        return partner_id

    @property
    def headers(self) -> dict[str, str]:
        return self.api.headers

    async def request(
        self, method: str, url: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        return await self.http.request(method, url, headers={**self.headers, **(headers or {})}, **kwargs)

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", url, **kwargs)

    async def customer(self, name: str = "Customer") -> dict[str, Any]:
        response = await self.post(CUSTOMERS, json={"name": name})
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def connector(
        self, name: str, connector_type: str = "virtual", customer_id: str | None = None, **members: Any
    ) -> dict[str, Any]:
        payload = {"name": name, "type": connector_type, "hardware_version": "11", "software_version": "8756"}
        if customer_id is not None:
            payload["customer_id"] = customer_id
        payload.update(members)
        response = await self.post(CONNECTORS, json=payload)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def assign(self, connector_id: str, customer_id: str | None) -> dict[str, Any]:
        response = await self.put(f"{CONNECTORS}/{connector_id}", json={"customer_id": customer_id})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def list_connectors(self, params: Any = None) -> dict[str, Any]:
        response = await self.get(CONNECTORS, params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


async def insert_connectors(
    db: asyncpg.Connection, partner_id: uuid.UUID, names: list[str], connector_type: str = "virtual"
) -> None:
    """Many connectors at once, straight into the table (the counters' triggers still run)."""
    await db.execute(
        """
        INSERT INTO connectors (partner_id, name, type, hardware_version, software_version)
        SELECT $1, name, $3, '1', '1' FROM unnest($2::text[]) AS name
        """,
        partner_id,
        names,
        connector_type,
    )


async def connector_rows(db: asyncpg.Connection, partner_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await db.fetch(
        """SELECT id::text, customer_id::text, hardware_version, name, pin, software_version, type
        FROM connectors WHERE partner_id = $1 ORDER BY name, id""",
        partner_id,
    )
    return [dict(row) for row in rows]


async def count_connectors(
    db: asyncpg.Connection,
    partner_id: uuid.UUID,
    *,
    assigned: bool | None = None,
    customer_id: str | None = None,
    name: str | None = None,
    types: list[str] | None = None,
) -> int:
    """The true number of matching connectors, by count(*)."""
    count: int = await db.fetchval(
        """
        SELECT count(*) FROM connectors
        WHERE partner_id = $1
          AND ($2::boolean IS NULL OR (customer_id IS NOT NULL) = $2)
          AND ($3::uuid IS NULL OR customer_id = $3)
          AND ($4::text IS NULL OR name = $4)
          AND ($5::text[] IS NULL OR type = ANY ($5))
        """,
        partner_id,
        assigned,
        None if customer_id is None else uuid.UUID(customer_id),
        name,
        types,
    )
    return count


async def wait_until_blocked(db: asyncpg.Connection, timeout: float = 10.0) -> None:
    """Wait until some other session of this database waits for a lock (a request queued behind ours)."""

    async def blocked() -> bool:
        return bool(
            await db.fetchval(
                """SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                   WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock')"""
            )
        )

    await wait_until(blocked, "no request came to wait for our lock", timeout=timeout)
