"""Operators: who may sign in to the console, what each one sees, and their sessions.

Passwords are hashed with the API's argon2 hasher (``auth.clients.HASHER``) on the token guard's
bounded hashing threads (``auth.guard``), so that a flood of sign-ins costs no more memory than one
of token requests. A failed sign-in is counted on the operator's row (every worker sees it): each
one answers a little later than the previous (slowed), and ``lockout_failures`` in a row lock the
account for ``lockout_seconds``. Unknown emails are verified against a dummy hash (the same time) and
counted per address.

A session token is 32 random bytes in the cookie; the database keeps only its SHA-256. The CSRF
token of a session's forms is derived from the session token (HMAC), so it is never stored and
means nothing without the cookie.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2.exceptions import InvalidHashError, VerificationError

from fleetreg.auth import clients as auth_clients
from fleetreg.auth.guard import FailureLimiter, HashingGate, TooManyAttempts
from fleetreg.console import queries
from fleetreg.db import Database

ROLES = ("admin", "partner", "enterprise")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_ENTERPRISE_ID = re.compile(r"[A-Za-z0-9]{15}")
# The slowing of failed sign-ins: 0.25 s after the first, doubling, at most 2 s.
_FIRST_DELAY = 0.25
_LONGEST_DELAY = 2.0


class OperatorError(Exception):
    """An operator cannot be created or changed as asked; the message says why."""


@dataclass(frozen=True)
class Role:
    kind: str
    """admin, partner or enterprise."""
    partner_name: str | None = None
    enterprise_id: str | None = None

    def __str__(self) -> str:
        if self.kind == "partner":
            return f"partner:{self.partner_name}"
        if self.kind == "enterprise":
            return f"enterprise:{self.enterprise_id}"
        return self.kind


def parse_role(text: str) -> Role:
    """``admin``, ``partner:NAME`` or ``enterprise:ID``."""
    kind, _, value = text.partition(":")
    if kind == "admin" and not value:
        return Role("admin")
    if kind == "partner" and value:
        return Role("partner", partner_name=value)
    if kind == "enterprise" and _ENTERPRISE_ID.fullmatch(value):
        return Role("enterprise", enterprise_id=value)
    raise OperatorError(f"the role {text!r} is none of admin, partner:NAME, enterprise:ID (15 letters or digits)")


@dataclass(frozen=True)
class Operator:
    id: uuid.UUID
    email: str
    role: str
    partner_id: uuid.UUID | None
    partner_name: str | None
    enterprise_id: str | None
    created_at: datetime
    disabled_at: datetime | None = None
    locked_until: datetime | None = None

    @classmethod
    def from_row(cls, row: Any) -> Operator:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})

    @property
    def operator_id(self) -> str:
        """What the request's actor records (``writes.actor_of``): the changes are the operator's."""
        return str(self.id)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def sees_fleet(self) -> bool:
        """Enterprises, vehicles, devices and chips: an admin's, or an enterprise operator's own."""
        return self.role in ("admin", "enterprise")

    @property
    def sees_partners(self) -> bool:
        """Customers and connectors: an admin's (of every partner), or a partner operator's own."""
        return self.role in ("admin", "partner")

    @property
    def fleet_scope(self) -> str | None:
        """The ``enterprise`` argument of the fleet services: None sees every enterprise."""
        return self.enterprise_id

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "email": self.email,
            "role": self.role_text,
            "partner_id": str(self.partner_id) if self.partner_id else None,
            "enterprise_id": self.enterprise_id,
            "created_at": self.created_at.isoformat(),
            "disabled": self.disabled_at is not None,
        }

    @property
    def role_text(self) -> str:
        return str(Role(self.role, self.partner_name, self.enterprise_id))


def new_password() -> str:
    """A generated password: 20 characters of letters and digits (about 119 bits)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(20))


def check_password(password: str) -> str:
    if len(password) < 12:
        raise OperatorError("the password must have 12 characters at least")
    if len(password) > 200:
        raise OperatorError("the password must have 200 characters at most")
    return password


async def create_operator(db: Database, email: str, role: Role, password: str) -> Operator:
    if not _EMAIL.fullmatch(email) or len(email) > 254:
        raise OperatorError(f"{email!r} is not an email address")
    check_password(password)
    password_hash = await asyncio.to_thread(auth_clients.HASHER.hash, password)
    async with db.connection() as connection:
        partner_id = None
        if role.kind == "partner":
            partner_id = await connection.fetchval(queries.PARTNER_ID_BY_NAME, role.partner_name)
            if partner_id is None:
                raise OperatorError(f"no partner named {role.partner_name!r} (fleetreg partners list)")
        if role.kind == "enterprise" and await connection.fetchval(queries.LIVE_ENTERPRISE, role.enterprise_id) is None:
            raise OperatorError(f"no enterprise {role.enterprise_id}")
        row = await connection.fetchrow(
            queries.INSERT_OPERATOR, email, role.kind, partner_id, role.enterprise_id, password_hash
        )
    if row is None:
        raise OperatorError(f"an operator with the email {email} exists already")
    return Operator.from_row(row)


async def list_operators(db: Database) -> list[Operator]:
    return [Operator.from_row(row) for row in await db.fetch(queries.LIST_OPERATORS)]


async def disable_operator(db: Database, email: str) -> None:
    """The operator can no longer sign in, and their open sessions end at once."""

    async def work(connection: Any) -> None:
        operator_id = await connection.fetchval(queries.DISABLE_OPERATOR, email)
        if operator_id is None:
            raise OperatorError(f"no operator with the email {email}")
        await connection.execute(queries.DELETE_SESSIONS_OF, operator_id)

    await db.write(work)


async def reset_password(db: Database, email: str, password: str) -> None:
    """A new password (the account unlocked); the operator's open sessions end."""
    check_password(password)
    password_hash = await asyncio.to_thread(auth_clients.HASHER.hash, password)

    async def work(connection: Any) -> None:
        operator_id = await connection.fetchval(queries.NEW_HASH_AND_UNLOCK, email, password_hash)
        if operator_id is None:
            raise OperatorError(f"no operator with the email {email}")
        await connection.execute(queries.DELETE_SESSIONS_OF, operator_id)

    await db.write(work)


# -- signing in -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignInPolicy:
    lockout_failures: int
    lockout_seconds: int


@dataclass(frozen=True)
class SignInRefused:
    """Why a sign-in failed, as the operator is told; ``retry_after`` when it is locked or limited."""

    message: str
    retry_after: int | None = None


@functools.cache
def _dummy_hash() -> str:
    return auth_clients.HASHER.hash("not the password of any operator")


def failure_delay(failures: int) -> float:
    """Seconds a failed sign-in waits before its answer, by the failures in a row so far."""
    return float(min(_LONGEST_DELAY, _FIRST_DELAY * 2 ** max(0, failures - 1)))


async def sign_in(
    db: Database,
    email: str,
    password: str,
    *,
    policy: SignInPolicy,
    hashing: HashingGate,
    address_failures: FailureLimiter,
    address: str | None,
) -> uuid.UUID | SignInRefused:
    """The operator's id when the email and password are right, else why not. Writes the count of
    failures (or clears it): the caller commits this whatever the outcome."""
    wrong = SignInRefused("Wrong email or password.")
    if address is not None and (wait := address_failures.retry_after(address)) is not None:
        return SignInRefused(f"Too many failed sign-ins from this address; try again in {wait} s.", wait)

    async def work(connection: Any) -> uuid.UUID | SignInRefused:
        row = await connection.fetchrow(queries.OPERATOR_FOR_SIGN_IN, email)
        if row is not None and row["locked_for"] is not None:
            minutes = max(1, round(row["locked_for"] / 60))
            return SignInRefused(
                f"This account is locked after too many failed sign-ins; try again in {minutes} min.", row["locked_for"]
            )
        known = row is not None and row["disabled_at"] is None
        try:
            stored = row["password_hash"] if known else await hashing.run(_dummy_hash)
            verified = await hashing.run(_verify, stored, password, known=known)
        except TooManyAttempts as error:
            return SignInRefused("Too many sign-ins at once; try again in a moment.", error.retry_after)
        if known and verified:
            await connection.execute(queries.RECORD_SIGN_IN, row["id"])
            if auth_clients.HASHER.check_needs_rehash(stored):
                new_hash = await hashing.run(auth_clients.HASHER.hash, password, known=True)
                await connection.execute(queries.STORE_REHASH, row["id"], new_hash)
            operator_id: uuid.UUID = row["id"]
            return operator_id
        if address is not None:
            address_failures.failed(address)
        if not known:
            await asyncio.sleep(_FIRST_DELAY)
            return wrong
        counted = await connection.fetchrow(
            queries.RECORD_FAILED_SIGN_IN, row["id"], policy.lockout_failures, policy.lockout_seconds
        )
        if counted["locked"]:
            minutes = max(1, round(policy.lockout_seconds / 60))
            return SignInRefused(
                f"Wrong email or password. This account is now locked for {minutes} min.", policy.lockout_seconds
            )
        await asyncio.sleep(failure_delay(counted["failed_sign_ins"]))
        return wrong

    return await db.write(work)


def _verify(stored: str, password: str) -> bool:
    try:
        return bool(auth_clients.HASHER.verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


# -- sessions -------------------------------------------------------------------------------------


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def csrf_token_for(secret: str) -> str:
    """The CSRF token of the forms of whoever holds ``secret`` (a session token, or the sign-in
    form's cookie): derived, so never stored, and worthless without the cookie."""
    return hmac.new(secret.encode(), b"fleetreg console csrf", hashlib.sha256).hexdigest()


def csrf_matches(secret: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(csrf_token_for(secret), given)


async def open_session(db: Database, operator_id: uuid.UUID, ttl: int) -> str:
    """A new session's token (for the cookie)."""
    token = secrets.token_urlsafe(32)

    async def work(connection: Any) -> None:
        await connection.execute(queries.DELETE_EXPIRED_SESSIONS_OF, operator_id)
        await connection.execute(queries.INSERT_SESSION, _token_hash(token), operator_id, ttl)

    await db.write(work)
    return token


async def session_operator(db: Database, token: str) -> Operator | None:
    """The operator of a live session (not expired, not disabled), else None."""
    row = await db.fetchrow(queries.SESSION_OPERATOR, _token_hash(token))
    return Operator.from_row(row) if row is not None else None


async def close_session(db: Database, token: str) -> None:
    await db.write(lambda connection: connection.execute(queries.DELETE_SESSION, _token_hash(token)))
