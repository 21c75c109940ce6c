"""The connection pool, the one transaction helper for writes, and database errors as ``AppError``.

Reads go through ``Database.fetch*`` (one round trip each). Writes go through ``Database.write``:
one transaction, committed before it returns (so before the response is sent), retried when
PostgreSQL reports a serialization failure or a deadlock, its database errors translated.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn, TypeAlias, TypeVar

import asyncpg
import orjson
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
# Seconds to wait for the database to accept a connection: a hung server must not hang the CLI.
CONNECT_TIMEOUT = 10


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
    if is_unavailable(error) or _raised_during_an_outage(error) or _ended_by_the_server_while_idle(error):
        return ServiceUnavailable("the database is unavailable or too slow right now; retry shortly")
    return None


def _ended_by_the_server_while_idle(error: BaseException) -> bool:
    """asyncpg's "cannot switch to state 12; another operation (2) is in progress" on a connection
    taken from the pool: the server sent it an error while it was idle (the FATAL "terminating
    connection" of a shutdown or of pg_terminate_backend), and asyncpg keeps such a connection in
    its error state, not closed, until it reads the socket's end. Nothing was sent on it (the
    connection is discarded, as after any error but a server's answer to a statement)."""
    return isinstance(error, asyncpg.InternalClientError) and "another operation" in str(error)


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


@contextlib.asynccontextmanager
async def connected(url: str) -> AsyncIterator[Connection]:
    """A connection of its own, outside any pool and without a statement timeout: for the CLI's
    long work (imports, exports) and for checks made before a pool makes sense. A server that
    cannot be reached is ``ServiceUnavailable``."""
    try:
        connection: Connection = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise ServiceUnavailable(str(error)) from error
    try:
        yield connection
    finally:
        await connection.close()


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

    @contextlib.asynccontextmanager
    async def exclusive(self, key: int) -> AsyncIterator[None]:
        """Hold the session advisory lock ``key`` (a bigint) meanwhile: one holder at a time, in
        every process on the database."""
        async with self.connection() as connection:
            await connection.execute("SELECT pg_advisory_lock($1)", key)
            try:
                yield
            finally:
                await connection.execute("SELECT pg_advisory_unlock($1)", key)

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
        context manager (measured in bench/README.md). Inside a unit of work, its connection."""
        ambient = _AMBIENT.get()
        if ambient is not None and ambient[0] is self:
            with translated_errors(self.constraint_errors):
                return await getattr(ambient[1], method)(query, *args)
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

    @contextlib.asynccontextmanager
    async def transaction(self, actor: Actor) -> AsyncIterator[Connection]:
        """One transaction, committed when the block ends normally (rolled back when it raises).

        Inside the block every ``write`` and every read of this database runs in it, on its
        connection: a request's work is one transaction however many service calls it makes (the
        unit of work, ``fleetreg.writes``). ``actor`` is recorded in the transaction-local setting
        ``fleetreg.actor`` that the schema's triggers read. Nested, it joins the outer transaction.
        """
        outer = _AMBIENT.get()
        if outer is not None and outer[0] is self:
            yield outer[1]
            return
        async with self.connection() as connection:
            # BEGIN and the actor in one round trip (the simple query protocol takes both).
            await connection.execute(f"BEGIN; SELECT set_config('fleetreg.actor', {_literal(actor.json())}, true)")
            token = _AMBIENT.set((self, connection))
            try:
                yield connection
            except BaseException:
                _AMBIENT.reset(token)
                if not connection.is_closed() and connection.is_in_transaction():
                    with contextlib.suppress(Exception):
                        await connection.execute("ROLLBACK")
                raise
            _AMBIENT.reset(token)
            await connection.execute("COMMIT")

    async def write(self, work: Callable[[Connection], Awaitable[T]], *, actor: Actor | None = None) -> T:
        """Run ``work`` in one transaction and commit it; retry on serialization failure or deadlock.

        Inside a ``transaction`` (a request's unit of work) ``work`` runs in that transaction, and
        the unit of work retries. ``work`` must only touch the database (it may run more than
        once). ``AppError`` raised by it rolls the transaction back and reaches the client unchanged.
        """
        ambient = _AMBIENT.get()
        if ambient is not None and ambient[0] is self:
            return await work(ambient[1])
        return await retrying(lambda: self._write_once(work, actor or CLI))

    async def _write_once(self, work: Callable[[Connection], Awaitable[T]], actor: Actor) -> T:
        async with self.transaction(actor) as connection:
            return await work(connection)


async def retrying(attempt: Callable[[], Awaitable[T]]) -> T:
    """``attempt()``, again (up to 4 times) when PostgreSQL reports a serialization failure or a deadlock."""
    for number in range(1, _WRITE_ATTEMPTS + 1):
        try:
            return await attempt()
        except Conflict as conflict:
            if not isinstance(conflict.__cause__, _RETRYABLE) or number == _WRITE_ATTEMPTS:
                raise
            log.info("retrying a write after %s (attempt %d)", type(conflict.__cause__).__name__, number)
            await asyncio.sleep(0.005 * number)
    raise AssertionError("unreachable")


def _literal(text: str) -> str:
    """``text`` as an SQL string literal (standard_conforming_strings is on since PostgreSQL 9.1)."""
    if "\x00" in text:
        raise ValueError("an SQL literal cannot hold NUL")
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Actor:
    """Who makes a change, as the change's events record it (API.md §5)."""

    kind: str
    """client, operator, cli or anonymous."""
    client_id: str | None = None
    operator_id: str | None = None
    request_id: str | None = None

    def json(self) -> str:
        value = {"kind": self.kind}
        for name in ("client_id", "operator_id", "request_id"):
            if (member := getattr(self, name)) is not None:
                value[name] = member
        return orjson.dumps(value).decode()


CLI = Actor("cli")

# The unit of work of this task, if any: (its database, its connection).
_AMBIENT: contextvars.ContextVar[tuple[Database, Connection] | None] = contextvars.ContextVar(
    "fleetreg_transaction", default=None
)
