"""Reading the event feed: one page after a cursor, for one reader, and the long poll.

A cursor is the sequence of the last event a reader was given (decimal). ``next_cursor`` of a
page that is not full is the feed's horizon when that is further: every event up to it was visible
to the page's statement, so the reader skips nothing it may see, and a reader whose filter matches
little does not fall behind the retention while it waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
import uuid
from dataclasses import dataclass

from fleetreg.db import Database
from fleetreg.events import queries
from fleetreg.problems import AppError
from fleetreg.values import INT64_MAX

log = logging.getLogger("fleetreg.events")

LIMIT_DEFAULT = 100
LIMIT_MAX = 1000
WAIT_MAX = 30

# Every type of docs/api.md §5, by subject kind.
TYPES: tuple[str, ...] = (
    *(f"customer.{change}" for change in ("created", "updated", "deleted")),
    *(f"connector.{change}" for change in ("created", "updated", "assigned", "unassigned", "deleted")),
    *(
        f"{kind}.{change}"
        for kind in ("enterprise", "vehicle", "device", "chip")
        for change in ("created", "updated", "deleted")
    ),
    "chip.installed",
    "chip.removed",
    *(f"association.{change}" for change in ("started", "ended", "main_changed", "replaced")),
)
PREFIXES: tuple[str, ...] = tuple(sorted({f"{name.split('.')[0]}.*" for name in TYPES}))


class CursorExpired(AppError):
    """The cursor points before the oldest event kept: events after it were removed by retention
    (``FLEETREG_EVENT_RETENTION_DAYS``). Start again without ``after`` (from the oldest kept)."""

    status = 410
    slug = "cursor-expired"
    title = "Cursor Expired"


def parse_cursor(text: str) -> int:
    """A cursor from an earlier answer; ``ValueError`` for anything else."""
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or int(text) > INT64_MAX:
        raise ValueError("must be a cursor from an earlier answer (next_cursor, or an event stream's id)")
    return int(text)


def parse_type(text: str) -> str:
    if text not in TYPES and text not in PREFIXES:
        raise ValueError(f"must be an event type or a prefix such as association.*, not {text[:200]!r}")
    return text


@dataclass(frozen=True)
class Reader:
    """Whose events a reader sees: a partner's, or the fleet's (one enterprise's, or all)."""

    partner_id: uuid.UUID | None = None
    enterprise_id: str | None = None
    every_tenant: bool = False
    """Every event of every tenant (``fleetreg events``)."""

    def tenant(self) -> tuple[str, tuple[object, ...]]:
        if self.every_tenant:
            return queries.EVERY_TENANT, ()
        if self.partner_id is not None:
            return queries.PARTNER, (self.partner_id,)
        if self.enterprise_id is not None:
            return queries.ENTERPRISE, (self.enterprise_id,)
        return queries.FLEET, ()


@dataclass(frozen=True)
class Filters:
    types: tuple[str, ...] = ()
    subject_id: str | None = None

    def arguments(self) -> tuple[list[str] | None, list[str] | None, str | None]:
        if not self.types:
            return None, None, self.subject_id
        exact = [name for name in self.types if not name.endswith(".*")]
        prefixes = [name[:-1] + "%" for name in self.types if name.endswith(".*")]
        return exact, prefixes, self.subject_id


@dataclass(frozen=True)
class Page:
    events: list[bytes]
    """Each event's JSON."""
    next_cursor: int
    has_more: bool

    def body(self) -> bytes:
        more = b"true" if self.has_more else b"false"
        return b'{"data":[%b],"next_cursor":"%d","has_more":%b}' % (b",".join(self.events), self.next_cursor, more)


@dataclass(frozen=True)
class Entry:
    sequence: int
    body: bytes


async def read_page(
    db: Database, reader: Reader, after: int | None, limit: int, filters: Filters
) -> tuple[Page, list[Entry]]:
    """The events after ``after`` (None: from the oldest kept); ``CursorExpired`` when ``after`` is
    older than the retention."""
    tenant, tenant_arguments = reader.tenant()
    rows = await db.fetch(queries.page(tenant), after or 0, limit + 1, *filters.arguments(), *tenant_arguments)
    pruned, horizon = rows[0]["pruned"], rows[0]["horizon"] or 0
    if after is not None and after < pruned:
        raise CursorExpired(f"the events after {after} are no longer kept; the oldest kept follow {pruned}")
    entries = [Entry(row["sequence"], row["body"].encode()) for row in rows if row["sequence"] is not None]
    has_more = len(entries) > limit
    entries = entries[:limit]
    cursor = entries[-1].sequence if entries else max(after or 0, pruned)
    if not has_more:
        cursor = max(cursor, horizon)
    return Page([entry.body for entry in entries], cursor, has_more), entries


async def horizon(db: Database) -> int:
    """The highest sequence committed: a stream without Last-Event-ID starts after it."""
    value: int = await db.fetchval(queries.HORIZON)
    return value


class EventSignal:
    """Wakes the long polls, streams and webhook deliveries of this process when events commit
    (NOTIFY fleetreg_events, received by the app's one listener connection) or when that listener
    reconnected (notifications may have been missed).

    A commit notifies only while some process follows the events (migration 0017: a NOTIFY costs
    every listening connection of every instance more than the outbox costs the write). ``wait``
    therefore enrols this process first, for ``FOLLOW_SECONDS``, renewed by the waits while half of
    that is left, and returns at once after enrolling, so that its caller reads again before it
    sleeps: what committed before the enrolment is in that read, what commits after notifies.
    """

    CHANNEL = "fleetreg_events"
    FOLLOW_SECONDS = 60

    def __init__(self, db: Database) -> None:
        self._db = db
        self._process = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._renew_at = 0.0  # time.monotonic(); 0: not enrolled
        self._enrolling = asyncio.Lock()
        self._changed = asyncio.Event()

    def notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        """Until the next notification, or ``seconds``; at once when this call enrolled the process."""
        if time.monotonic() >= self._renew_at and await self._enrolled():
            return
        changed = self._changed
        # asyncio.timeout, not wait_for: Python 3.11's wait_for loses a cancellation that comes as the
        # wait ends, and the delivery loop that waits here every second then never stopped (a server
        # or test app hung at shutdown).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await changed.wait()

    async def _enrolled(self) -> bool:
        """Whether the process was enrolled during this call, by it or by a waiter it queued behind
        (its caller then reads again); False when the database is unreachable: the waits then reread
        every REREAD_SECONDS as they would without notifications."""
        seen = self._renew_at
        async with self._enrolling:
            if self._renew_at != seen:
                return True
            try:
                await self._db.write(
                    lambda connection: connection.execute(queries.FOLLOW, self._process, self.FOLLOW_SECONDS)
                )
            except Exception as error:  # the database is down: the next wait tries again
                log.warning("events: could not enrol for notifications: %s", error)
                return False
            self._renew_at = time.monotonic() + self.FOLLOW_SECONDS / 2
            return True


# A poll also rereads this often without a notification: a notification lost with the listener's
# connection delays an answer by this much at most.
REREAD_SECONDS = 2.0


async def wait_for_page(
    db: Database, signal: EventSignal, reader: Reader, after: int | None, limit: int, filters: Filters, wait: float
) -> Page:
    """``read_page``, and while it is empty and ``wait`` seconds have not passed, again after each
    commit of events: the answer comes as soon as there is an event this reader would get."""
    deadline = time.monotonic() + wait
    while True:
        page, _entries = await read_page(db, reader, after, limit, filters)
        left = deadline - time.monotonic()
        if page.events or left <= 0:
            return page
        after = page.next_cursor
        await signal.wait(min(left, REREAD_SECONDS))
