"""The connection pool, the one transaction helper for writes, and database errors as ``AppError``.

Reads go through ``Database.fetch*`` (one round trip each). Writes go through ``Database.write``:
one transaction, committed before it returns (so before the response is sent), retried when
PostgreSQL reports a serialization failure or a deadlock, its database errors translated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, NoReturn, TypeAlias, TypeVar

import asyncpg
from asyncpg import Record
from asyncpg.pool import PoolConnectionProxy

from fleetreg.problems import AppError, BadRequest, Conflict, ServiceUnavailable

T = TypeVar("T")
Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy
log = logging.getLogger("fleetreg.db")

# constraint name -> the error a violation of it means to the client. Each domain registers its own
# (``register_constraint_errors``), so that a race the service's own checks cannot see still ends in
# the documented 4xx.
ConstraintErrorFactory = Callable[[asyncpg.PostgresError], AppError]
CONSTRAINT_ERRORS: dict[str, ConstraintErrorFactory] = {}

_RETRYABLE = (asyncpg.SerializationError, asyncpg.DeadlockDetectedError)
_WRITE_ATTEMPTS = 4


def register_constraint_errors(errors: Mapping[str, ConstraintErrorFactory]) -> None:
    for name in errors:
        if name in CONSTRAINT_ERRORS and CONSTRAINT_ERRORS[name] is not errors[name]:
            raise ValueError(f"constraint {name} is registered twice")
    CONSTRAINT_ERRORS.update(errors)


def is_unavailable(error: BaseException) -> bool:
    """True for errors that mean "the database cannot serve us now" rather than "the request is wrong"."""
    return isinstance(
        error,
        OSError
        | TimeoutError
        | asyncpg.PostgresConnectionError
        | asyncpg.OperatorInterventionError  # shutdown, starting up, statement canceled
        | asyncpg.InsufficientResourcesError  # too many connections, disk full
        | asyncpg.InterfaceError,  # the connection was closed under us
    )


def translate(error: BaseException) -> AppError | None:
    """The ``AppError`` a database error means to the client, or None for a bug (a 500)."""
    if isinstance(error, asyncpg.IntegrityConstraintViolationError):
        constraint = getattr(error, "constraint_name", None)
        if constraint in CONSTRAINT_ERRORS:
            return CONSTRAINT_ERRORS[constraint](error)
        if isinstance(error, asyncpg.CheckViolationError | asyncpg.NotNullViolationError):
            return BadRequest(f"a value breaks the rule {constraint or 'of its column'}")
        return Conflict(f"the change conflicts with existing data ({constraint or error.sqlstate})")
    if isinstance(error, _RETRYABLE):
        return Conflict("the change collided with a concurrent one; retry it")
    if isinstance(error, asyncpg.DataError):
        return BadRequest(f"a value is out of range or malformed: {error}")
    if is_unavailable(error) or _raised_during_an_outage(error):
        return ServiceUnavailable("the database is unavailable or too slow right now; retry shortly")
    return None


def _raised_during_an_outage(error: BaseException) -> bool:
    """An error raised while handling a lost connection (asyncpg's ROLLBACK on a connection the
    server just closed, say) is part of that outage, not a bug of its own."""
    seen = 0
    cause = error.__cause__ or error.__context__
    while cause is not None and seen < 10:
        if is_unavailable(cause):
            return True
        cause, seen = cause.__cause__ or cause.__context__, seen + 1
    return False


def _raise_translated(error: Exception) -> NoReturn:
    """Raise the ``AppError`` that ``error`` means, or ``error`` itself when it is a bug."""
    app_error = translate(error)
    if app_error is None:
        raise error
    raise app_error from error


@contextlib.contextmanager
def translated_errors() -> Any:
    try:
        yield
    except AppError:
        raise
    except Exception as error:
        app_error = translate(error)
        if app_error is None:
            raise
        raise app_error from error


@contextlib.contextmanager
def _terminated_on_timeout(connection: Connection) -> Any:
    """A statement that timed out may sit on a hung server: close its connection at once rather than
    let the pool wait (on that same server) to cancel the statement and reset the connection."""
    try:
        yield
    except TimeoutError:
        connection.terminate()
        raise


async def _reset_connection(connection: asyncpg.Connection) -> None:
    """Make a released connection fit for the next request.

    asyncpg's default reset runs "advisory unlock all; CLOSE ALL; UNLISTEN *; RESET ALL" on every
    release: a second round trip per request, measured at a third of the throughput of a simple
    read. Nothing in fleetreg leaves such state on pooled connections (no LISTEN, session advisory
    locks, cursors outside transactions or SET), so only an unfinished transaction is undone.

    This never raises: asyncpg re-raises a reset's error from ``release`` (after a commit, say), so a
    connection that cannot roll back (a query cut off by a server shutdown leaves it mid-error) is
    closed instead, and the pool opens a new one when needed.
    """
    if connection.is_closed() or not connection.is_in_transaction():
        return
    try:
        await connection.execute("ROLLBACK")
    except Exception:
        connection.terminate()


async def _init_connection(connection: asyncpg.Connection) -> None:
    # Timestamps come back aware and in UTC whatever the server's default; rendered as RFC 3339 "Z".
    await connection.execute("SET TIME ZONE 'UTC'")


class Database:
    def __init__(self, url: str, *, min_size: int = 2, max_size: int = 10, timeout: float = 5.0) -> None:
        self.url = url
        self.min_size = min(min_size, max_size)
        self.max_size = max_size
        self.timeout = timeout
        self._pool: asyncpg.Pool | None = None
        self._checked_out = 0  # connections handed out by _acquire and not yet released

    async def open(self) -> None:
        """Create the pool. Its connections open lazily when the database is down at start-up."""
        self._pool = asyncpg.create_pool(
            self.url,
            min_size=0,
            max_size=self.max_size,
            command_timeout=self.timeout,
            timeout=self.timeout,  # to connect, so that a (re)connection never waits longer
            init=_init_connection,
            reset=_reset_connection,
            server_settings={"application_name": "fleetreg"},
        )
        await self._pool
        with contextlib.suppress(Exception):
            # Warm up to min_size; a database that is down now is reported by /readyz, not fatal here.
            async with asyncio.timeout(self.timeout):
                held = [await self._pool.acquire() for _ in range(self.min_size)]
                for connection in held:
                    await self._pool.release(connection)

    async def close(self) -> None:
        if self._pool is not None:
            try:
                await asyncio.wait_for(self._pool.close(), timeout=self.timeout)
            except (TimeoutError, Exception):
                self._pool.terminate()
            self._pool = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the database pool is not open")
        return self._pool

    def pool_usage(self) -> tuple[int, int, int]:
        """(connections open, connections in use, maximum)."""
        if self._pool is None:
            return 0, 0, self.max_size
        size = self._pool.get_size()
        return size, size - self._pool.get_idle_size(), self.max_size

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        with translated_errors():
            connection = await self._acquire()
            try:
                with _terminated_on_timeout(connection):
                    yield connection
            finally:
                await self._release(connection)

    async def fetch(self, query: str, *args: Any) -> list[Record]:
        result: list[Record] = await self._read("fetch", query, args)
        return result

    async def fetchrow(self, query: str, *args: Any) -> Record | None:
        result: Record | None = await self._read("fetchrow", query, args)
        return result

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self._read("fetchval", query, args)

    async def _read(self, method: str, query: str, args: tuple[Any, ...]) -> Any:
        """``connection()`` for one statement, spelled out: the hot reads skip two generator-based
        context managers, and ``_acquire`` arms no timer when a connection is free (asyncpg's own
        acquire timeout starts a task per request; measured in bench/README.md)."""
        try:
            connection = await self._acquire()
        except Exception as error:
            _raise_translated(error)
        try:
            return await getattr(connection, method)(query, *args)
        except AppError:
            raise
        except Exception as error:
            if isinstance(error, TimeoutError):
                connection.terminate()  # as _terminated_on_timeout does
            _raise_translated(error)
        finally:
            with contextlib.suppress(Exception):  # the reset never raises; a closed pool may
                await self._release(connection)

    async def _acquire(self) -> PoolConnectionProxy:
        """A connection of the pool, waiting at most ``timeout`` for one to come free."""
        pool = self.pool
        if self._checked_out < self.max_size:
            # A holder is free, so this does not wait (a reconnection is bounded by the connect
            # timeout): no timer to arm, which was a measurable share of a fast read.
            connection = await pool.acquire()
        else:
            async with asyncio.timeout(self.timeout):
                connection = await pool.acquire()
        self._checked_out += 1
        return connection

    async def _release(self, connection: PoolConnectionProxy) -> None:
        try:
            await self.pool.release(connection)
        finally:
            # Counted down only once the holder is back in the pool's queue.
            self._checked_out -= 1

    async def write(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """Run ``work`` in one transaction and commit it; retry on serialization failure or deadlock.

        ``work`` must only touch the database (it may run more than once). ``AppError`` raised by it
        rolls the transaction back and reaches the client unchanged.
        """
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            try:
                with translated_errors():
                    connection = await self._acquire()
                    try:
                        with _terminated_on_timeout(connection):
                            async with connection.transaction():
                                return await work(connection)
                    finally:
                        await self._release(connection)
            except Conflict as conflict:
                if not isinstance(conflict.__cause__, _RETRYABLE) or attempt == _WRITE_ATTEMPTS:
                    raise
                log.info("retrying a write after %s (attempt %d)", type(conflict.__cause__).__name__, attempt)
                await asyncio.sleep(0.005 * attempt)
        raise AssertionError("unreachable")
