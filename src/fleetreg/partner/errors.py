"""The partner API's problems, and the constraints of migration 0002 that mean them.

Each class's docstring is the page behind its ``type`` URI (``/problems/<slug>``).
"""

from __future__ import annotations

import asyncpg

from fleetreg.db import ConstraintErrorFactory
from fleetreg.problems import AppError, Conflict, NotFound, Unprocessable


class ConnectorNotFound(NotFound):
    """No connector with this id exists for the calling partner. Another partner's connectors are
    never visible: their ids are answered with this problem too."""

    slug = "connector-not-found"
    title = "Connector Not Found"


class CustomerNotFound(NotFound):
    """No customer with this id exists for the calling partner. Another partner's customers are
    never visible: their ids are answered with this problem too."""

    slug = "customer-not-found"
    title = "Customer Not Found"


class UnknownCustomer(Unprocessable):
    """The request is well-formed, but its ``customer_id`` names no customer of the calling partner
    (it never existed, was deleted, or belongs to another partner), so a connector cannot be assigned
    to it. ``errors`` points at the member."""

    slug = "unknown-customer"
    title = "Unknown Customer"


class ConnectorNameTaken(Conflict):
    """A connector's ``name`` is unique within a partner, and the partner already has a connector
    with this name. ``name`` holds the name."""

    slug = "connector-name-taken"
    title = "Connector Name Taken"


class CustomerHasConnectors(Conflict):
    """The customer still has connectors assigned to it, so it cannot be deleted. Unassign them
    first (``PUT /v2/customers/connectors/{connector-id}`` with ``{"customer_id": null}``)."""

    slug = "customer-has-connectors"
    title = "Customer Has Connectors"


CUSTOMER_ID_POINTER = "/customer_id"


def unknown_customer(detail: str = "customer_id names no customer of this partner") -> UnknownCustomer:
    return UnknownCustomer(detail, errors=[{"pointer": CUSTOMER_ID_POINTER, "detail": "no such customer"}])


def _connector_customer_violation(error: asyncpg.PostgresError) -> AppError:
    """``connectors_customer_fkey`` is violated from two sides: a connector written with a customer
    that does not exist for its partner (422), or a customer deleted while a connector still refers
    to it (409; the service locks the customer and checks first, so this is a race's last resort).
    PostgreSQL names the key columns of the table it checked: the customers' own ``(partner_id,
    id)`` on a delete, the connectors' ``(partner_id, customer_id)`` on a write."""
    if "(partner_id, id)=" in (getattr(error, "detail", None) or ""):
        return CustomerHasConnectors("the customer still has connectors assigned to it")
    return unknown_customer()


def _connector_name_taken(_error: asyncpg.PostgresError) -> AppError:
    return ConnectorNameTaken("the partner already has a connector with this name")


# Constraint name -> the problem its violation means (given to ``Database``; see fleetreg.db.translate).
CONSTRAINT_ERRORS: dict[str, ConstraintErrorFactory] = {
    "connectors_customer_fkey": _connector_customer_violation,
    "connectors_partner_id_name_key": _connector_name_taken,
}
