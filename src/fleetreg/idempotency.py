"""Idempotency keys (the IETF ``Idempotency-Key`` header, docs/api.md §6): a retried write gets the first
answer again instead of doing the write twice.

A key is claimed, and its answer stored, inside the transaction of the write itself
(``fleetreg.writes``): a crash before the commit leaves neither the write nor the key, a crash after
it leaves both, so a retry with the same key either runs the write for the first time or replays
its answer, never both. While the first request runs, its transaction holds an advisory lock on
(caller, key): a repeat meanwhile finds the lock taken and is answered 409 at once.

The first attempt of a key costs no round trip of its own: the claim goes with the ``BEGIN``
(``claim_at_opening``, the schema's ``idempotency_claim``: it raises when the key is not free) and
the answer with the ``COMMIT`` (``store_answer``; a large answer in a statement of its own, where a
round trip is cheaper than its literal). Only a key that has an answer already is read by a query of
its own (``stored_answer``): a replay, or 422.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from fleetreg.db import Connection, Database, literal
from fleetreg.problems import BadRequest, IdempotencyKeyReused, RequestInProgress

RETENTION_HOURS = 24
LONGEST_KEY = 255

# The answer stored for the key within the retention (committed: no lock needed to read it).
STORED_ANSWER = f"""
SELECT k.fingerprint, k.status, k.headers, k.body FROM idempotency_keys AS k
WHERE k.caller = $1 AND k.key = $2 AND k.created_at > now() - interval '{RETENTION_HOURS} hours'
"""
# Sent with the COMMIT, so its values are literals; the claim has made the key free (an expired row
# of it is gone).
STORE_ANSWER = """
INSERT INTO idempotency_keys (caller, key, fingerprint, status, headers, body) VALUES ({values})
"""
# The same with parameters, in a round trip of its own: for a large answer, which as a literal
# PostgreSQL would read character by character in hex (a bulk of 1,000's 289 KB: 8.3 ms that way,
# 4.1 ms bound; a round trip costs what about 8 KB of literal does).
STORE_ANSWER_BOUND = STORE_ANSWER.format(values="$1, $2, $3, $4, $5, $6")
LITERAL_BODY_LIMIT = 8192
# The SQLSTATEs idempotency_claim raises (migration 0015).
_RUNNING = "FLK09"
_ANSWERED = "FLK00"
# Expired keys, a batch at a time (the housekeeping; the BRIN index on created_at finds them,
# migration 0018; rows another process is deleting are skipped).
DELETE_EXPIRED = f"""
DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM idempotency_keys WHERE created_at < now() - interval '{RETENTION_HOURS} hours'
    LIMIT $1 FOR UPDATE SKIP LOCKED
))
"""


def parse_key(values: list[str]) -> str | None:
    """The key of the request's ``Idempotency-Key`` headers (none: None), bare or as a quoted string
    (RFC 8941, the draft's form; the quotes are not part of the key); 400 otherwise."""
    if not values:
        return None
    if len(values) > 1:
        raise _bad_key("send one Idempotency-Key header")
    text = values[0].strip()
    if text.startswith('"'):
        key = _unquoted(text)
    else:
        key = text
        if not all(0x20 <= ord(char) <= 0x7E for char in key):
            raise _bad_key("a key is printable ASCII")
    if not 1 <= len(key) <= LONGEST_KEY:
        raise _bad_key(f"a key has 1 to {LONGEST_KEY} characters")
    return key


def _unquoted(text: str) -> str:
    if len(text) < 2 or not text.endswith('"'):
        raise _bad_key("a quoted key ends with a double quote")
    key: list[str] = []
    inner = iter(text[1:-1])
    for char in inner:
        if char == "\\":
            escaped = next(inner, "")
            if escaped not in ('"', "\\"):
                raise _bad_key('in a quoted key, \\ escapes only " and \\')
            key.append(escaped)
        elif char == '"' or not 0x20 <= ord(char) <= 0x7E:
            raise _bad_key("a quoted key is printable ASCII, its quotes escaped")
        else:
            key.append(char)
    return "".join(key)


def _bad_key(detail: str) -> BadRequest:
    return BadRequest.from_errors([{"parameter": "Idempotency-Key", "detail": detail}])


def fingerprint(method: str, target: bytes, body: bytes) -> bytes:
    """What makes two requests the same request: method, path with query, and body."""
    digest = hashlib.sha256(method.encode())
    digest.update(b"\n" + target + b"\n")
    digest.update(body)
    return digest.digest()


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class Answered(Exception):
    """The key has an answer stored: ``stored_answer`` reads it (a replay) or refuses it (422)."""


def claim_at_opening(caller: str, key: str) -> str:
    """The call that claims the key with the transaction's ``BEGIN`` (``Database.transaction``'s
    ``opening``); ``claim_errors`` reads what it raises."""
    return f"idempotency_claim({literal(caller)}, {literal(key)}, interval '{RETENTION_HOURS} hours')"


@contextlib.contextmanager
def claim_errors(key: str) -> Iterator[None]:
    """409 while another request holds the key; ``Answered`` when an answer is stored for it."""
    try:
        yield
    except asyncpg.PostgresError as error:
        if error.sqlstate == _RUNNING:
            raise _in_progress(key) from error
        if error.sqlstate == _ANSWERED:
            raise Answered(key) from error
        raise


async def store_answer(
    connection: Connection,
    at_commit: list[str],
    caller: str,
    key: str,
    print_: bytes,
    status: int,
    headers: list[Any],
    body: bytes,
) -> None:
    """Store the answer in the key's transaction: with its ``COMMIT`` (``at_commit``, no round trip of
    its own) unless its body is large, then bound at once."""
    header_list = orjson.dumps(headers).decode()
    if len(body) > LITERAL_BODY_LIMIT:
        await connection.execute(STORE_ANSWER_BOUND, caller, key, print_, int(status), header_list, body)
        return
    values = [literal(caller), literal(key), _bytea(print_), str(int(status)), literal(header_list), _bytea(body)]
    at_commit.append(STORE_ANSWER.format(values=", ".join(values)))


def _bytea(data: bytes) -> str:
    return f"'\\x{data.hex()}'::bytea"


def _in_progress(key: str) -> RequestInProgress:
    return RequestInProgress(f"a request with the Idempotency-Key {key!r} is still running")


async def stored_answer(connection: Connection, caller: str, key: str, print_: bytes) -> StoredAnswer | None:
    """The answer stored for the key (None: none, or expired); 422 when it was for another request."""
    row = await connection.fetchrow(STORED_ANSWER, caller, key)
    if row is None:
        return None
    if bytes(row["fingerprint"]) != print_:
        raise IdempotencyKeyReused(
            f"the Idempotency-Key {key!r} was used for another request; use a new key for a new request"
        )
    headers = [(name, value) for name, value in orjson.loads(row["headers"])]
    return StoredAnswer(row["status"], headers, bytes(row["body"]))


async def delete_expired(db: Database, batch: int = 1000) -> int:
    """Delete the keys past the retention, ``batch`` per transaction; how many went."""
    deleted = 0
    while True:
        status: str = await db.write(lambda connection: connection.execute(DELETE_EXPIRED, batch))
        count = int(status.split()[-1])
        deleted += count
        if count < batch:
            return deleted
