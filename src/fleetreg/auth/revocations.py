"""Revoked clients, known to every worker at once: loaded at start, then kept current by
LISTEN/NOTIFY on a connection of its own (``fleetreg clients revoke`` notifies in its transaction).
When that connection drops, it reconnects and reloads the whole set.

``fleetreg db restore`` notifies ``RESET``: the restored database may lack clients, or have others
revoked, so every worker reloads the set and forgets every token it had verified (``on_reset``); a
token met again is verified afresh, its client looked up in the database (``tokens.TokenService``).
The listener's session is named ``LISTENER_NAME`` in pg_stat_activity: ``db restore`` counts them
to know whether a server uses the database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import asyncpg

from fleetreg.auth import queries
from fleetreg.db import connected

if TYPE_CHECKING:
    from fleetreg.db import Database

CHANNEL = "fleetreg_client_revoked"
RESET = "*"  # the payload that means "the whole database changed" (no client id has a *)
LISTENER_NAME = "fleetreg-revocations"
_RETRY_SECONDS = 1.0

log = logging.getLogger("fleetreg.auth")


async def serving_workers(url: str) -> int:
    """Workers of ``fleetreg serve`` on this database: each keeps a revocation listener session."""
    async with connected(url) as connection:
        return int(await connection.fetchval(queries.SERVING_LISTENERS, LISTENER_NAME))


async def announce_restore(url: str) -> None:
    """Tell every server (any that ``db restore --force`` let run) that the data was replaced."""
    async with connected(url) as connection:
        await connection.execute(queries.NOTIFY_REVOKED, CHANNEL, RESET)


class RevokedClients:
    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._reloading = asyncio.Lock()  # one query at a time on the listener's connection
        self._reset_callbacks: list[Callable[[], None]] = []
        self._reloads: set[asyncio.Task[None]] = set()
        self._channels: dict[str, Callable[[], None]] = {}

    def __contains__(self, client_id: object) -> bool:
        return client_id in self._ids

    def on_reset(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever the database was replaced (a restore) or the listener came back:
        what was learnt from it may be stale."""
        self._reset_callbacks.append(callback)

    def also_listen(self, channel: str, callback: Callable[[], None]) -> None:
        """Call ``callback`` on every notification of ``channel`` too, and whenever the listener
        (re)connects: one listening connection per process serves every channel (before ``start``)."""
        self._channels[channel] = callback
        self._reset_callbacks.append(callback)

    async def start(self, db: Database) -> None:
        """Follow the revocations on a direct connection of ``db`` (LISTEN needs a session)."""
        self._task = asyncio.create_task(self._follow(db), name="revocations")
        # Start serving even when the database is down now; /readyz says so meanwhile.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), db.timeout)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _follow(self, db: Database) -> None:
        while True:
            connection: asyncpg.Connection | None = None
            try:
                connection = await db.connect_direct(LISTENER_NAME)
                closed = asyncio.Event()
                connection.add_termination_listener(lambda _connection, closed=closed: closed.set())
                await connection.add_listener(CHANNEL, self._notified)
                for channel, callback in self._channels.items():
                    await connection.add_listener(channel, lambda *_notification, callback=callback: callback())
                await self._reload(connection)
                self._connected.set()
                await closed.wait()
                log.warning("the revocation listener lost its connection; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database is down or restarting: try again shortly
                log.warning("revocation listener: %s", error)
            finally:
                if connection is not None and not connection.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(connection.close(), 1)
            await asyncio.sleep(_RETRY_SECONDS)

    async def _reload(self, connection: asyncpg.Connection) -> None:
        async with self._reloading:
            self._ids = {row["id"] for row in await connection.fetch(queries.REVOKED_CLIENT_IDS)}
        # Notifications missed while disconnected (a restore among them) are not replayed.
        for callback in self._reset_callbacks:
            callback()

    def _notified(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        if payload != RESET:
            self._ids.add(payload)
            return
        log.warning("the database was restored: reloading revoked clients, forgetting verified tokens")
        for callback in self._reset_callbacks:
            callback()  # at once: no token verified before the restore is taken on trust after it
        reload = asyncio.get_running_loop().create_task(self._reload(connection))
        self._reloads.add(reload)
        reload.add_done_callback(self._reloaded)

    def _reloaded(self, reload: asyncio.Task[None]) -> None:
        self._reloads.discard(reload)
        if not reload.cancelled() and reload.exception() is not None:
            # The connection broke meanwhile: the listener reconnects and reloads then.
            log.warning("revocation listener: reloading after a restore failed: %s", reload.exception())
