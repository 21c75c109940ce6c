"""Revoked clients, known to every worker at once: loaded at start, then kept current by
LISTEN/NOTIFY on a connection of its own (``fleetreg clients revoke`` notifies in its transaction).
When that connection drops, it reconnects and reloads the whole set."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg

CHANNEL = "fleetreg_client_revoked"
REVOKED_CLIENT_IDS = "SELECT id FROM oauth_clients WHERE revoked_at IS NOT NULL"
_RETRY_SECONDS = 1.0

log = logging.getLogger("fleetreg.auth")


class RevokedClients:
    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    def __contains__(self, client_id: object) -> bool:
        return client_id in self._ids

    def add(self, client_id: str) -> None:
        self._ids.add(client_id)

    async def start(self, database_url: str, connect_timeout: float) -> None:
        self._task = asyncio.create_task(self._follow(database_url, connect_timeout), name="revocations")
        # Start serving even when the database is down now; /readyz says so meanwhile.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), connect_timeout)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _follow(self, database_url: str, connect_timeout: float) -> None:
        while True:
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(database_url, timeout=connect_timeout)
                closed = asyncio.Event()
                connection.add_termination_listener(lambda _connection, closed=closed: closed.set())
                await connection.add_listener(CHANNEL, self._notified)
                self._ids = {row["id"] for row in await connection.fetch(REVOKED_CLIENT_IDS)}
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

    def _notified(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        self._ids.add(payload)
