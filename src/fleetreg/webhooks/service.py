"""Webhooks of one owner (a partner, or the fleet as its caller is bound): create, read, change,
delete, rotate the secret, read and retry deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fleetreg.db import Database
from fleetreg.problems import NotFound
from fleetreg.versions import Precondition, check
from fleetreg.webhooks import queries, signing, urls


class WebhookNotFound(NotFound):
    """No webhook with this id belongs to the caller (a partner's webhooks are its own; a fleet
    caller's are those of its enterprise binding)."""

    slug = "webhook-not-found"
    title = "Webhook Not Found"


class DeliveryNotFound(NotFound):
    """No delivery with this id belongs to this webhook."""

    slug = "delivery-not-found"
    title = "Delivery Not Found"


@dataclass(frozen=True)
class Owner:
    """Whose webhooks: a partner's (``partner_id``), or the fleet's as seen by a caller bound to
    ``enterprise_id`` (None: unbound)."""

    partner_id: uuid.UUID | None = None
    enterprise_id: str | None = None

    def arguments(self) -> tuple[uuid.UUID | None, str | None]:
        return self.partner_id, self.enterprise_id


@dataclass(frozen=True)
class Webhook:
    body: bytes
    """The webhook as the API renders it, JSON, without its secret."""
    version: str
    id: uuid.UUID

    def with_secret(self, secret: str) -> bytes:
        return self.body[:-1] + b',"secret":"' + secret.encode() + b'"}'


def _webhook(row: Mapping[str, Any] | None) -> Webhook:
    if row is None:
        raise WebhookNotFound
    return Webhook(row["body"].encode(), row["version"], row["id"])


async def create(
    db: Database, owner: Owner, url: str, types: list[str], description: str | None, enabled: bool, allow_private: bool
) -> tuple[Webhook, str]:
    """The new webhook and its secret (shown only now). It gets the events committed from now on."""
    await urls.check(url, allow_private)
    secret = signing.new_secret()
    row = await db.fetchrow(queries.INSERT_WEBHOOK, *owner.arguments(), url, types, description, enabled, secret)
    return _webhook(row), secret


async def list_webhooks(db: Database, owner: Owner) -> list[bytes]:
    return [row["body"].encode() for row in await db.fetch(queries.LIST_WEBHOOKS, *owner.arguments())]


async def get(db: Database, owner: Owner, webhook_id: uuid.UUID) -> Webhook:
    return _webhook(await db.fetchrow(queries.GET_WEBHOOK, *owner.arguments(), webhook_id))


async def _locked(db: Database, owner: Owner, webhook_id: uuid.UUID, precondition: Precondition | None) -> None:
    version = await db.fetchval(queries.LOCK_WEBHOOK, *owner.arguments(), webhook_id)
    if version is None:
        raise WebhookNotFound
    check(precondition, version)


async def update(
    db: Database,
    owner: Owner,
    webhook_id: uuid.UUID,
    changes: Mapping[str, Any],
    allow_private: bool,
    precondition: Precondition | None,
) -> Webhook:
    """Change any of url, types, enabled, description (given members only; enabling again clears
    the failure record that disabled it)."""
    await _locked(db, owner, webhook_id, precondition)
    if changes.get("url") is not None:
        await urls.check(changes["url"], allow_private)
    row = await db.fetchrow(
        queries.UPDATE_WEBHOOK,
        *owner.arguments(),
        webhook_id,
        changes.get("url"),
        changes.get("types"),
        changes.get("enabled"),
        changes.get("description"),
        "description" in changes,
    )
    return _webhook(row)


async def delete(db: Database, owner: Owner, webhook_id: uuid.UUID, precondition: Precondition | None) -> None:
    await _locked(db, owner, webhook_id, precondition)
    await db.fetchval(queries.DELETE_WEBHOOK, *owner.arguments(), webhook_id)


async def rotate_secret(db: Database, owner: Owner, webhook_id: uuid.UUID) -> tuple[Webhook, str]:
    """A new secret; the current one keeps signing beside it for 24 hours."""
    secret = signing.new_secret()
    row = await db.fetchrow(queries.ROTATE_SECRET, *owner.arguments(), webhook_id, secret)
    return _webhook(row), secret


async def deliveries(db: Database, owner: Owner, webhook_id: uuid.UUID) -> list[bytes]:
    """The webhook's latest 100 deliveries, newest first."""
    await get(db, owner, webhook_id)
    return [row["body"].encode() for row in await db.fetch(queries.LIST_DELIVERIES, webhook_id)]


async def retry(db: Database, owner: Owner, webhook_id: uuid.UUID, delivery_id: uuid.UUID) -> bytes:
    """Attempt the delivery again as soon as possible, whatever its state."""
    await _locked(db, owner, webhook_id, None)
    body = await db.fetchval(queries.RETRY_DELIVERY, webhook_id, delivery_id)
    if body is None:
        raise DeliveryNotFound
    return str(body).encode()
