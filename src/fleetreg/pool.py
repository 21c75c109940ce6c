"""fleetreg's pool of asyncpg connections: taken and given back without a task or a timer.

asyncpg's own ``Pool`` gives a connection back through a task of its own (``asyncio.shield``), and
the next request waiting for one resumes an event-loop turn later still; a timer is armed for every
acquisition. Under load, when every connection is busy, that hand-over is time in which the
connections sit idle (measured in bench/README.md). Here a connection given back goes straight to
the request that has waited longest, or to the idle stack, in the same turn; a timer is armed only
for a request that has to wait.

The owner (``fleetreg.db.Database``) says how a connection comes back: ``release`` for one whose
last statement finished (an open transaction is rolled back first), ``discard`` for one that may be
mid-statement (a timeout, a cancellation, a broken socket), which is closed at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable

import asyncpg

# An idle connection older than this is closed rather than reused, as asyncpg's pool does by default:
# a firewall or load balancer between here and the database may have dropped it silently.
MAX_IDLE_SECONDS = 300.0


class PoolClosed(asyncpg.InterfaceError):  # type: ignore[misc]
    """The pool was closed (the server is shutting down)."""


def _expire(waiter: asyncio.Future[asyncpg.Connection | None]) -> None:
    """No connection came free in time: the waiter gives up (``_hand_on`` skips it)."""
    if not waiter.done():
        waiter.set_exception(TimeoutError("no database connection came free in time"))


class ConnectionPool:
    def __init__(self, connect: Callable[[], Awaitable[asyncpg.Connection]], *, max_size: int, timeout: float) -> None:
        self._connect = connect
        self.max_size = max_size
        self.timeout = timeout  # the longest a request waits for a connection to come free
        self._size = 0  # connections open or being opened
        # A stack of (connection, when it came back): the most recently used is reused first.
        self._idle: list[tuple[asyncpg.Connection, float]] = []
        # Requests waiting, oldest first. A waiter's result is a connection, or None for "a place came
        # free: open a connection yourself".
        self._waiters: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._cleanups: set[asyncio.Task[None]] = set()  # rollbacks and closes of connections that came back
        self._closed = False

    def usage(self) -> tuple[int, int]:
        """(connections open or opening, of which in use)."""
        return self._size, self._size - len(self._idle)

    async def acquire(self) -> asyncpg.Connection:
        if self._closed:
            raise PoolClosed("the connection pool is closed")
        while self._idle:
            connection, since = self._idle.pop()
            if connection.is_closed():
                self._size -= 1  # closed by the server while idle
            elif asyncio.get_running_loop().time() - since > MAX_IDLE_SECONDS:
                self._size -= 1
                self._close_in_background(connection)
            else:
                return connection
        if self._size < self.max_size:
            self._size += 1
            return await self._open()
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[asyncpg.Connection | None] = loop.create_future()
        self._waiters.append(waiter)
        # A timer that fails the waiter, rather than asyncio.timeout's cancellation of the whole task
        # (a third of the cost of a fast read that has to wait).
        expiry = loop.call_later(self.timeout, _expire, waiter)
        try:
            connection = await waiter
        except BaseException:
            if not waiter.done():  # the task was cancelled
                waiter.cancel()
            elif not waiter.cancelled() and waiter.exception() is None:
                # Handed a connection (or a place) in the same turn as the task was cancelled: pass
                # it on rather than lose it.
                handed = waiter.result()
                if handed is None:
                    self._free_place()
                else:
                    self.release(handed)
            raise
        finally:
            expiry.cancel()
        if connection is None:
            return await self._open()
        return connection

    def release(self, connection: asyncpg.Connection) -> None:
        """Take back a connection whose last statement finished."""
        if connection.is_closed() or self._closed:
            self.discard(connection)
        elif connection.is_in_transaction():
            cleanup = asyncio.get_running_loop().create_task(self._roll_back_and_release(connection))
            self._cleanups.add(cleanup)
            cleanup.add_done_callback(self._cleanups.discard)
        else:
            self._hand_on(connection)

    def discard(self, connection: asyncpg.Connection) -> None:
        """Close a connection that may be mid-statement, and free its place."""
        connection.terminate()
        self._free_place()

    async def open(self, count: int) -> None:
        """Open up to ``count`` connections now (the rest open when first needed)."""
        held = []
        try:
            for _ in range(min(count, self.max_size)):
                held.append(await self.acquire())
        finally:
            for connection in held:
                self.release(connection)

    async def close(self) -> None:
        """Close the idle connections; those in use are closed when they come back."""
        self._closed = True
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(PoolClosed("the connection pool is closed"))
        for cleanup in list(self._cleanups):
            cleanup.cancel()  # a rollback in progress: its connection is closed
        idle, self._idle = self._idle, []
        for connection, _ in idle:
            await self._close_quietly(connection)
            self._size -= 1

    def terminate(self) -> None:
        """Close every idle connection at once, without waiting for the server."""
        self._closed = True
        idle, self._idle = self._idle, []
        for connection, _ in idle:
            connection.terminate()
            self._size -= 1

    async def _open(self) -> asyncpg.Connection:
        """A new connection, in the place the caller holds (freed again when opening fails)."""
        try:
            return await self._connect()
        except BaseException:
            self._free_place()
            raise

    def _hand_on(self, connection: asyncpg.Connection) -> None:
        # Waiters that gave up (timed out, cancelled) are done already and skipped.
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self._idle.append((connection, asyncio.get_running_loop().time()))

    def _free_place(self) -> None:
        """A connection is gone: its place goes to the oldest waiter (to open one), or is freed."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._size -= 1

    def _close_in_background(self, connection: asyncpg.Connection) -> None:
        closing = asyncio.get_running_loop().create_task(self._close_quietly(connection))
        self._cleanups.add(closing)
        closing.add_done_callback(self._cleanups.discard)

    async def _close_quietly(self, connection: asyncpg.Connection) -> None:
        try:
            await asyncio.wait_for(connection.close(), timeout=self.timeout)
        except (Exception, asyncio.CancelledError):
            connection.terminate()

    async def _roll_back_and_release(self, connection: asyncpg.Connection) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                await connection.execute("ROLLBACK")
        except (Exception, asyncio.CancelledError):
            # A connection that cannot roll back (a statement cut off by a server shutdown leaves it
            # mid-error, say) is closed; a new one opens when needed.
            with contextlib.suppress(Exception):
                self.discard(connection)
            return
        self.release(connection)
