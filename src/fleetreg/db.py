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

from fleetreg.pool import ConnectionPool
from fleetreg.problems import AppError, BadRequest, Conflict, ServiceUnavailable

T = TypeVar("T")
Connection: TypeAlias = asyncpg.Connection
log = logging.getLogger("fleetreg.db")

# constraint name -> the error a violation of it means to the client. Each domain declares its own
# (``partner.errors.CONSTRAINT_ERRORS``...); ``Database`` is given them, so that a race the service's own
# checks cannot see still ends in the documented 4xx.
ConstraintErrorFactory = Callable[[asyncpg.PostgresError], AppError]
ConstraintErrors = Mapping[str, ConstraintErrorFactory]
CURRENT_REVISION = "SELECT version_num FROM alembic_version"


class SchemaNotMigrated(Exception):
    """The database has no migrations applied (no alembic_version table)."""


_RETRYABLE = (asyncpg.SerializationError, asyncpg.DeadlockDetectedError)
_WRITE_ATTEMPTS = 4


def is_unavailable(error: BaseException) -> bool:
    """True for errors that mean "the database cannot serve us now" rather than "the request is wrong"."""
    return isinstance(
        error,
        OSError
        | TimeoutError
        | asyncpg.PostgresConnectionError
        | asyncpg.OperatorInterventionError  # shutdown, starting up, statement canceled
        | asyncpg.InsufficientResourcesError  # too many connections, disk full
        | asyncpg.InterfaceError  # the connection was closed under us
        # The protocol of a connection the server broke mid-statement ("cannot switch to state 12;
        # protocol is in the failed state"): the connection is unusable, the database merely gone.
        | asyncpg.exceptions.InternalClientError,
    )


def translate(error: BaseException, constraint_errors: ConstraintErrors = {}) -> AppError | None:  # noqa: B006
    """The ``AppError`` a database error means to the client, or None for a bug (a 500)."""
    if isinstance(error, asyncpg.IntegrityConstraintViolationError):
        constraint: str | None = getattr(error, "constraint_name", None)
        if constraint is not None and constraint in constraint_errors:
            return constraint_errors[constraint](error)
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


def _raise_translated(error: Exception, constraint_errors: ConstraintErrors) -> NoReturn:
    """Raise the ``AppError`` that ``error`` means, or ``error`` itself when it is a bug."""
    app_error = translate(error, constraint_errors)
    if app_error is None:
        raise error
    raise app_error from error


@contextlib.contextmanager
def translated_errors(constraint_errors: ConstraintErrors = {}) -> Any:  # noqa: B006
    try:
        yield
    except AppError:
        raise
    except Exception as error:
        app_error = translate(error, constraint_errors)
        if app_error is None:
            raise
        raise app_error from error


def _ended_cleanly(error: BaseException | None) -> bool:
    """Whether a connection is fit for the next request after its user ended with ``error``: a
    statement that failed in the server (a constraint, a bad value) ends cleanly, and so does an
    ``AppError`` of the request's own; a timeout, a cancellation or a broken socket may leave it
    mid-statement, on a server that may be hung, and an error that means the server is going or gone
    (57P01 admin shutdown, 08xxx, a 503 raised on the way) leaves a connection that must not be reused."""
    if error is None:
        return True
    if isinstance(error, ServiceUnavailable) or is_unavailable(error) or _raised_during_an_outage(error):
        return False
    return isinstance(error, AppError | asyncpg.PostgresError)


class Database:
    def __init__(
        self,
        url: str,
        *,
        min_size: int = 2,
        max_size: int = 10,
        timeout: float = 5.0,
        constraint_errors: ConstraintErrors | None = None,
    ) -> None:
        self.url = url
        self.constraint_errors: ConstraintErrors = constraint_errors or {}
        self.min_size = min(min_size, max_size)
        self.max_size = max_size
        self.timeout = timeout
        self._pool: ConnectionPool | None = None

    async def _connect(self) -> asyncpg.Connection:
        connection: asyncpg.Connection = await asyncpg.connect(
            self.url,
            timeout=self.timeout,  # to connect, so that a (re)connection never waits longer
            command_timeout=self.timeout,
            # Timestamps come back aware and in UTC whatever the server's default; rendered as RFC 3339 "Z".
            server_settings={"application_name": "fleetreg", "TimeZone": "UTC"},
        )
        return connection

    async def open(self) -> None:
        """Create the pool. Its connections open lazily when the database is down at start-up."""
        self._pool = ConnectionPool(self._connect, max_size=self.max_size, timeout=self.timeout)
        with contextlib.suppress(Exception):
            # Warm up to min_size; a database that is down now is reported by /readyz, not fatal here.
            async with asyncio.timeout(self.timeout):
                await self._pool.open(self.min_size)

    async def close(self) -> None:
        if self._pool is not None:
            try:
                await asyncio.wait_for(self._pool.close(), timeout=self.timeout)
            except (TimeoutError, Exception):
                self._pool.terminate()
            self._pool = None

    @property
    def pool(self) -> ConnectionPool:
        if self._pool is None:
            raise RuntimeError("the database pool is not open")
        return self._pool

    def pool_usage(self) -> tuple[int, int, int]:
        """(connections open, connections in use, maximum)."""
        if self._pool is None:
            return 0, 0, self.max_size
        return *self._pool.usage(), self.max_size

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        with translated_errors(self.constraint_errors):
            pool = self.pool
            connection = await pool.acquire()
            try:
                yield connection
            except BaseException as error:
                self._give_back(pool, connection, error)
                raise
            self._give_back(pool, connection, None)

    async def schema_revision(self) -> str | None:
        """The migration the database is at; ``SchemaNotMigrated`` when it has none."""
        try:
            revision: str | None = await self.fetchval(CURRENT_REVISION)
        except asyncpg.UndefinedTableError as error:
            raise SchemaNotMigrated from error
        return revision

    async def fetch(self, query: str, *args: Any) -> list[Record]:
        result: list[Record] = await self._read("fetch", query, args)
        return result

    async def fetchrow(self, query: str, *args: Any) -> Record | None:
        result: Record | None = await self._read("fetchrow", query, args)
        return result

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self._read("fetchval", query, args)

    async def _read(self, method: str, query: str, args: tuple[Any, ...]) -> Any:
        """``connection()`` for one statement, spelled out: the hot reads skip a generator-based
        context manager (measured in bench/README.md)."""
        pool = self.pool
        try:
            connection = await pool.acquire()
        except Exception as error:
            _raise_translated(error, self.constraint_errors)
        try:
            result = await getattr(connection, method)(query, *args)
        except BaseException as error:
            self._give_back(pool, connection, error)
            if isinstance(error, Exception) and not isinstance(error, AppError):
                _raise_translated(error, self.constraint_errors)
            raise
        pool.release(connection)
        return result

    @staticmethod
    def _give_back(pool: ConnectionPool, connection: asyncpg.Connection, error: BaseException | None) -> None:
        if _ended_cleanly(error):
            pool.release(connection)
        else:
            pool.discard(connection)

    async def write(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """Run ``work`` in one transaction and commit it; retry on serialization failure or deadlock.

        ``work`` must only touch the database (it may run more than once). ``AppError`` raised by it
        rolls the transaction back and reaches the client unchanged.
        """
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            try:
                async with self.connection() as connection, connection.transaction():
                    return await work(connection)
            except Conflict as conflict:
                if not isinstance(conflict.__cause__, _RETRYABLE) or attempt == _WRITE_ATTEMPTS:
                    raise
                log.info("retrying a write after %s (attempt %d)", type(conflict.__cause__).__name__, attempt)
                await asyncio.sleep(0.005 * attempt)
        raise AssertionError("unreachable")
