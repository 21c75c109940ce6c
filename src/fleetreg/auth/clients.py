"""OAuth clients: created from the command line, secrets hashed with argon2, revocable at once."""

from __future__ import annotations

import asyncio
import functools
import secrets
import string
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from fleetreg.auth import queries
from fleetreg.auth.guard import TokenGuard, TooManyAttempts
from fleetreg.auth.revocations import CHANNEL
from fleetreg.auth.scopes import PARTNER_SCOPES, format_scope, parse_scope, unknown_scopes
from fleetreg.db import Connection, Database

HASHER = PasswordHasher()
_ID_ALPHABET = string.ascii_letters + string.digits


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the client id is unknown, so that the answer takes as long either way.
    Made at the first unknown id, not at import: hashing costs ~0.2 s of CPU, which every CLI command
    and every server worker paid at start-up."""
    return HASHER.hash("not a secret of any client")


class ClientError(Exception):
    """A client cannot be created or revoked as asked; the message says why."""


@dataclass(frozen=True)
class NewClient:
    client_id: str
    client_secret: str
    partner_id: uuid.UUID | None
    enterprise_id: str | None
    scope: str
    created_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "partner_id": str(self.partner_id) if self.partner_id else None,
            "enterprise_id": self.enterprise_id,
            "scope": self.scope,
        }


@dataclass(frozen=True)
class AuthenticatedClient:
    client_id: str
    partner_id: uuid.UUID | None
    enterprise_id: str | None
    scopes: frozenset[str]


def new_client_id() -> str:
    return "cl_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(21))


async def create_client(
    db: Database, *, scope: str, partner_name: str | None, enterprise_id: str | None, create_partner: bool = True
) -> NewClient:
    """A new client; with ``partner_name``, of that partner, which is created when missing only with
    ``create_partner`` (else ``ClientError``: a typo must not make a new partner)."""
    scopes = parse_scope(scope)
    if not scopes:
        raise ClientError("give at least one scope")
    if unknown := unknown_scopes(scopes):
        raise ClientError(f"unknown scope {', '.join(unknown)}")
    if scopes & PARTNER_SCOPES.keys() and not partner_name:
        raise ClientError("a client with partner scopes needs --partner NAME")
    if partner_name is not None and not 1 <= len(partner_name) <= 200:
        raise ClientError("a partner name has 1 to 200 characters")
    secret = secrets.token_urlsafe(32)
    secret_hash = await asyncio.to_thread(HASHER.hash, secret)
    client_id = new_client_id()

    async def insert(connection: Connection) -> NewClient:
        partner_id = None
        if partner_name is not None:
            partner_id = await connection.fetchval(
                queries.ENSURE_PARTNER if create_partner else queries.PARTNER_ID_BY_NAME, partner_name
            )
            if partner_id is None:
                raise ClientError(
                    f"no partner named {partner_name!r} (`fleetreg partners list` shows them; "
                    "--create-partner makes a new one)"
                )
        if enterprise_id is not None and not await connection.fetchval(queries.ENTERPRISE_EXISTS, enterprise_id):
            raise ClientError(f"no enterprise with id {enterprise_id}")
        created_at = await connection.fetchval(
            queries.INSERT_CLIENT, client_id, partner_id, enterprise_id, secret_hash, format_scope(scopes)
        )
        return NewClient(client_id, secret, partner_id, enterprise_id, format_scope(scopes), created_at)

    return await db.write(insert)


async def list_clients(db: Database) -> list[dict[str, Any]]:
    return [dict(row) for row in await db.fetch(queries.CLIENTS_WITH_PARTNER)]


async def list_partners(db: Database) -> list[dict[str, Any]]:
    """Every partner with its number of active clients, by name."""
    return [dict(row) for row in await db.fetch(queries.PARTNERS_WITH_CLIENTS)]


async def ensure_partner(db: Database, name: str) -> uuid.UUID:
    """The partner named ``name``, created when missing."""
    partner_id: uuid.UUID = await db.write(lambda connection: connection.fetchval(queries.ENSURE_PARTNER, name))
    return partner_id


async def is_active(db: Database, client_id: str) -> bool:
    """Whether the client exists and is not revoked."""
    return "\x00" not in client_id and bool(await db.fetchval(queries.CLIENT_IS_ACTIVE, client_id))


async def revoke_client(db: Database, client_id: str) -> bool:
    """Revoke the client; its tokens stop working in every worker at once. False when it already was."""

    async def revoke(connection: Connection) -> bool:
        revoked = await connection.fetchval(queries.REVOKE_CLIENT, client_id)
        if revoked is None:
            if not await connection.fetchval(queries.CLIENT_EXISTS, client_id):
                raise ClientError(f"no client with id {client_id}")
            return False
        await connection.execute(queries.NOTIFY_REVOKED, CHANNEL, client_id)
        return True

    return await db.write(revoke)


async def authenticate(
    db: Database, client_id: str, secret: str, guard: TokenGuard, address: str | None
) -> AuthenticatedClient | None:
    """The client when the secret is right and the client is not revoked; None otherwise.

    ``TooManyAttempts`` (before any hashing) when this client id, or for an unknown one ``address``,
    has failed too often, or when too many verifications wait already, answered after the guard's
    refusal delay; every verification runs on the guard's bounded threads (``auth.guard``)."""
    # No stored id holds a NUL (PostgreSQL text cannot): such a client is unknown, not a bad query.
    row = None if "\x00" in client_id else await db.fetchrow(queries.ACTIVE_CLIENT, client_id)
    known = row is not None

    async def verify() -> bool:
        stored = row["secret_hash"] if row is not None else await guard.hashing.run(_dummy_hash)
        try:
            await guard.hashing.run(HASHER.verify, stored, secret, known=known)
        except (VerificationError, InvalidHashError):
            guard.record(client_id, address, known=known, succeeded=False)
            return False
        if row is None:
            guard.record(client_id, address, known=False, succeeded=False)
            return False
        guard.record(client_id, address, known=True, succeeded=True)
        if HASHER.check_needs_rehash(stored):
            new_hash = await guard.hashing.run(HASHER.hash, secret, known=True)
            await db.write(lambda connection: connection.execute(queries.UPDATE_SECRET_HASH, client_id, new_hash))
        return True

    try:
        verified = await guard.verify_once(client_id, secret, address, known=known, verify=verify)
    except TooManyAttempts:
        await guard.hold_back()
        raise
    if not verified or row is None:
        return None
    return AuthenticatedClient(row["id"], row["partner_id"], row["enterprise_id"], parse_scope(row["scope"]))
