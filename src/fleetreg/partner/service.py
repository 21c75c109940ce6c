"""The rules of the partner API: customers and the connectors a partner assigns to them.

Every function takes the calling partner's id and sees only that partner's rows: another partner's
customer or connector is "not found". Writes are one ``db.write`` transaction each; the constraints
of migration 0002 are the guarantee under concurrency, and ``partner.errors`` maps their violations
to the same problems the checks here raise.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from fleetreg.db import Connection, Database
from fleetreg.partner import queries
from fleetreg.partner.errors import (
    ConnectorNameTaken,
    ConnectorNotFound,
    CustomerHasConnectors,
    CustomerNotFound,
)
from fleetreg.partner.queries import ConnectorFilters
from fleetreg.partner.schemas import CONNECTOR_TYPES, NewConnector
from fleetreg.versions import Precondition, check

Row = dict[str, Any]
"""A resource as the API renders it, and its ``version`` (the row's version: its ETag)."""


# -- connectors -----------------------------------------------------------------------------------


def connector_filters(
    *,
    assigned: bool | None = None,
    customer_id: uuid.UUID | None = None,
    name: str | None = None,
    types: Sequence[str] | None = None,
) -> ConnectorFilters:
    """The filters of a list request. Asking for every type is no type filter at all."""
    only_type = None
    if types is not None and set(types) != set(CONNECTOR_TYPES):
        (only_type,) = set(types)
    return ConnectorFilters(assigned=assigned, customer_id=customer_id, name=name, type=only_type)


async def list_connectors(
    db: Database, partner_id: uuid.UUID, filters: ConnectorFilters, *, limit: int, offset: int
) -> tuple[bytes, int]:
    """One page of the partner's connectors ordered by name, then id (JSON objects joined by commas),
    and the total of all matches."""
    return await queries.connector_page(db, partner_id, filters, limit, offset)


async def get_connector(db: Database, partner_id: uuid.UUID, connector_id: uuid.UUID) -> tuple[bytes, str]:
    """The connector as its JSON object, built by PostgreSQL (the hot read: no decoding to re-encode),
    and its version."""
    row = await db.fetchrow(queries.CONNECTOR_JSON_BY_ID, partner_id, connector_id)
    if row is None:
        raise _connector_not_found(connector_id)
    return bytes(row["body"]), row["version"]


async def create_connector(db: Database, partner_id: uuid.UUID, new: NewConnector) -> Row:
    """Adds a connector to the partner's pool, assigned to ``new.customer_id`` when given."""

    async def work(connection: Connection) -> Row:
        row = await connection.fetchrow(
            queries.INSERT_CONNECTOR,
            partner_id,
            new.customer_id,
            new.name,
            new.type,
            new.hardware_version,
            new.software_version,
            new.pin,
        )
        if row is None:
            raise ConnectorNameTaken(f"the partner already has a connector named {new.name!r}", name=new.name)
        return dict(row)

    return await db.write(work)


async def assign_connector(
    db: Database,
    partner_id: uuid.UUID,
    connector_id: uuid.UUID,
    customer_id: uuid.UUID | None,
    precondition: Precondition | None = None,
) -> Row:
    """Assigns the connector to the customer, or unassigns it (``customer_id`` None).

    One statement: an unknown connector changes nothing (404); a customer that is not the partner's
    violates the tenant-safe foreign key (422, also when the customer is deleted concurrently). With
    ``If-Match``, the connector is locked and its version checked first.
    """

    async def work(connection: Connection) -> Row:
        if precondition is not None:
            version = await queries.lock_connector(connection, partner_id, connector_id)
            if version is None:
                raise _connector_not_found(connector_id)
            check(precondition, version)
        row = await connection.fetchrow(queries.ASSIGN_CONNECTOR, partner_id, connector_id, customer_id)
        if row is None:
            raise _connector_not_found(connector_id)
        return dict(row)

    return await db.write(work)


async def delete_connector(
    db: Database, partner_id: uuid.UUID, connector_id: uuid.UUID, precondition: Precondition | None = None
) -> None:
    """Removes the connector from the partner's pool, assigned or not."""

    async def work(connection: Connection) -> None:
        if precondition is not None:
            version = await queries.lock_connector(connection, partner_id, connector_id)
            if version is None:
                raise _connector_not_found(connector_id)
            check(precondition, version)
        if await connection.fetchval(queries.DELETE_CONNECTOR, partner_id, connector_id) is None:
            raise _connector_not_found(connector_id)

    await db.write(work)


def _connector_not_found(connector_id: uuid.UUID) -> ConnectorNotFound:
    return ConnectorNotFound(f"no connector with id {connector_id}")


# -- customers ------------------------------------------------------------------------------------


async def list_customers(
    db: Database, partner_id: uuid.UUID, *, name: str | None, limit: int, offset: int
) -> tuple[list[Row], int]:
    """One page of the partner's customers ordered by name, then id, and the total of all matches."""
    return await queries.customer_page(db, partner_id, name, limit, offset)


async def get_customer(db: Database, partner_id: uuid.UUID, customer_id: uuid.UUID) -> Row:
    row = await db.fetchrow(queries.CUSTOMER_BY_ID, partner_id, customer_id)
    if row is None:
        raise _customer_not_found(customer_id)
    return dict(row)


async def create_customer(db: Database, partner_id: uuid.UUID, name: str) -> Row:
    async def work(connection: Connection) -> Row:
        row = await connection.fetchrow(queries.INSERT_CUSTOMER, partner_id, name)
        assert row is not None  # INSERT ... RETURNING
        return dict(row)

    return await db.write(work)


async def rename_customer(
    db: Database, partner_id: uuid.UUID, customer_id: uuid.UUID, name: str, precondition: Precondition | None = None
) -> Row:
    async def work(connection: Connection) -> Row:
        if precondition is not None:
            version = await queries.lock_customer(connection, partner_id, customer_id)
            if version is None:
                raise _customer_not_found(customer_id)
            check(precondition, version)
        row = await connection.fetchrow(queries.RENAME_CUSTOMER, partner_id, customer_id, name)
        if row is None:
            raise _customer_not_found(customer_id)
        return dict(row)

    return await db.write(work)


async def delete_customer(
    db: Database, partner_id: uuid.UUID, customer_id: uuid.UUID, precondition: Precondition | None = None
) -> None:
    """Deletes a customer that has no connectors (409 while it has some).

    The customer is locked first, so a connector assigned concurrently either committed before (and
    is seen: 409) or fails its foreign key check after the delete (422 for its caller).
    """

    async def work(connection: Connection) -> None:
        version = await queries.lock_customer(connection, partner_id, customer_id)
        if version is None:
            raise _customer_not_found(customer_id)
        check(precondition, version)
        deleted = await connection.fetchval(queries.DELETE_CUSTOMER_WITHOUT_CONNECTORS, partner_id, customer_id)
        if deleted is None:
            raise CustomerHasConnectors(
                f"customer {customer_id} still has connectors assigned to it; unassign or delete them first"
            )

    await db.write(work)


def _customer_not_found(customer_id: uuid.UUID) -> CustomerNotFound:
    return CustomerNotFound(f"no customer with id {customer_id}")
