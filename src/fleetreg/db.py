"""The connection pool, the one transaction helper for writes, and database errors as ``AppError``.

Reads go through ``Database.fetch*`` (one round trip each). Writes go through ``Database.write``:
one transaction, committed before it returns (so before the response is sent), retried when
PostgreSQL reports a serialization failure or a deadlock, its database errors translated.

Three kinds of database URL (docs/scaling.md):

- the main one (``FLEETREG_DATABASE_URL``), PostgreSQL or a pooler in transaction mode: every write
  and every read that may not go to a replica. Behind PgBouncer before 1.21 (no
  ``max_prepared_statements``) asyncpg's statement cache is off (``statement_cache_size=0``): its
  statements are then unnamed, parsed and run in one exchange that PgBouncer never splits between
  server connections (Parse, Describe and Flush, then Bind, Execute and Sync);
- the direct one (``FLEETREG_DIRECT_DATABASE_URL``), PostgreSQL itself: whatever needs a session
  (LISTEN, session advisory locks, migrations), through ``connect_direct``, the one place that opens
  such a connection;
- the replicas (``FLEETREG_READ_DATABASE_URL``), for the reads of a block of ``replica_reads``: the
  read-only routes (``fleetreg.reads``) of a client that has not written lately (``RecentWriters``).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
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
        statement_cache_size: int = 100,
        direct_url: str | None = None,
        replica_urls: Sequence[str] = (),
        replica_max_lag: float = 5.0,
        read_after_write: float = 2.0,
        observe_read: Callable[[str], None] | None = None,
    ) -> None:
        self.url = url
        self.direct_url = direct_url or url
        self.constraint_errors: ConstraintErrors = constraint_errors or {}
        self.min_size = min(min_size, max_size)
        self.max_size = max_size
        self.timeout = timeout
        self.statement_cache_size = statement_cache_size
        self._pool: ConnectionPool | None = None
        self.replicas = [
            Replica(f"replica{number}", replica_url, replica_max_lag) for number, replica_url in enumerate(replica_urls)
        ]
        self.recent_writers = RecentWriters(read_after_write)
        self._observe_read = observe_read or (lambda database: None)
        self._next_replica = 0
        self._watcher: asyncio.Task[None] | None = None
        # (when, the primary's WAL position then), the newest last; enough to measure any lag that
        # still lets a replica serve.
        self._primary_positions: deque[tuple[float, int]] = deque(
            maxlen=int(replica_max_lag / REPLICA_CHECK_SECONDS) + 4
        )

    async def _connect(self, url: str | None = None) -> asyncpg.Connection:
        connection: asyncpg.Connection = await asyncpg.connect(
            url or self.url,
            timeout=self.timeout,  # to connect, so that a (re)connection never waits longer
            command_timeout=self.timeout,
            statement_cache_size=self.statement_cache_size,
            # Timestamps come back aware and in UTC whatever the server's default; rendered as RFC 3339 "Z".
            server_settings={"application_name": "fleetreg", "TimeZone": "UTC"},
        )
        return connection

    async def connect_direct(self, application_name: str) -> asyncpg.Connection:
        """A connection of its own to PostgreSQL itself (never through the pooler), for what needs a
        session: LISTEN, a session advisory lock. The caller closes it."""
        connection: asyncpg.Connection = await asyncpg.connect(
            self.direct_url,
            timeout=self.timeout,
            server_settings={"application_name": application_name, "TimeZone": "UTC"},
        )
        return connection

    async def open(self) -> None:
        """Create the pool. Its connections open lazily when the database is down at start-up."""
        self._pool = ConnectionPool(self._connect, max_size=self.max_size, timeout=self.timeout)
        with contextlib.suppress(Exception):
            # Warm up to min_size; a database that is down now is reported by /readyz, not fatal here.
            async with asyncio.timeout(self.timeout):
                await self._pool.open(self.min_size)
        if self.replicas:
            for replica in self.replicas:
                replica.pool = ConnectionPool(
                    functools.partial(self._connect, replica.url), max_size=self.max_size, timeout=self.timeout
                )
            await self.recent_writers.start(self)
            self._watcher = asyncio.create_task(self._watch_replicas(), name="replica-watcher")
            with contextlib.suppress(TimeoutError):
                # Serve at once; the replicas take reads once their first check says they may.
                await asyncio.wait_for(self._check_replicas(), 1.0)

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        await self.recent_writers.stop()
        for replica in self.replicas:
            if replica.pool is not None:
                replica.pool.terminate()
                replica.pool = None
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
            async with self.connection() as connection:  # the primary's, even in a read-only route
                revision: str | None = await connection.fetchval(CURRENT_REVISION)
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
        context manager (measured in bench/README.md). Inside a unit of work, its connection; in a
        block of ``replica_reads``, a replica's when one may serve it."""
        ambient = _AMBIENT.get()
        if ambient is not None and ambient[0] is self:
            with translated_errors(self.constraint_errors):
                return await getattr(ambient[1], method)(query, *args)
        if self.replicas and (since_write := _REPLICA_READS.get()) is not None:
            replica = self._replica_for(since_write)
            if replica is not None:
                served, result = await self._read_on_replica(replica, method, query, args)
                if served:
                    return result
        self._observe_read("primary")
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

    # -- replicas -------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def replica_reads(self, writer: str) -> Iterator[None]:
        """In this block, the reads outside a transaction may go to a replica that is far enough
        along for ``writer`` (a client, ``writer_key``) to see its own writes."""
        if not self.replicas:
            yield
            return
        token = _REPLICA_READS.set(self.recent_writers.seconds_since(writer))
        try:
            yield
        finally:
            _REPLICA_READS.reset(token)

    def _replica_for(self, since_write: float) -> Replica | None:
        """The next replica in turn that is up and has replayed anything written ``since_write``
        seconds ago, or None (the primary then)."""
        if since_write < self.recent_writers.window:
            return None
        count = len(self.replicas)
        for step in range(count):
            replica = self.replicas[(self._next_replica + step) % count]
            if replica.serves(since_write):
                self._next_replica = (self._next_replica + step + 1) % count
                return replica
        return None

    async def _read_on_replica(
        self, replica: Replica, method: str, query: str, args: tuple[Any, ...]
    ) -> tuple[bool, Any]:
        """(True, the result), or (False, None) when the replica failed: it is skipped until its
        next check says it is back, and the read goes to the primary. No such error reaches a client."""
        pool = replica.pool
        if pool is None:
            return False, None
        try:
            connection = await pool.acquire()
        except Exception as error:
            replica.failed(error)
            return False, None
        try:
            result = await getattr(connection, method)(query, *args)
        except asyncpg.DataError as error:
            pool.release(connection)
            _raise_translated(error, self.constraint_errors)  # the primary would say the same
        except BaseException as error:
            self._give_back(pool, connection, error)
            if not isinstance(error, Exception):
                raise
            replica.failed(error)
            return False, None
        pool.release(connection)
        self._observe_read(replica.name)
        return True, result

    async def _watch_replicas(self) -> None:
        while True:
            await asyncio.sleep(REPLICA_CHECK_SECONDS)
            await self._check_replicas()

    async def _check_replicas(self) -> None:
        """Where the primary's WAL is now, then how far each replica has replayed it: a replica that
        has replayed what the primary had written at time T is ``now - T`` behind. (The age of the
        last transaction a replica replayed says nothing while nothing is written, and the WAL the
        primary writes by itself, checkpoints, keeps "received" and "replayed" apart a moment.)"""
        try:
            async with asyncio.timeout(self.timeout):
                position = await self._on_primary(CURRENT_WAL_POSITION)
            self._primary_positions.append((time.monotonic(), int(position)))
        except Exception as error:  # the primary down: the samples age, the replicas' lags grow
            log.debug("the primary's WAL position: %s", error)
        await asyncio.gather(*(self._check(replica) for replica in self.replicas))

    async def _on_primary(self, query: str) -> Any:
        pool = self.pool
        connection = await pool.acquire()
        try:
            value = await connection.fetchval(query)
        except BaseException as error:
            self._give_back(pool, connection, error)
            raise
        pool.release(connection)
        return value

    async def _check(self, replica: Replica) -> None:
        """Measure the replica's lag (a replica down is up again as soon as a check gets an answer)."""
        pool = replica.pool
        if pool is None:
            return
        try:
            async with asyncio.timeout(self.timeout):
                connection = await pool.acquire()
                try:
                    row = await connection.fetchrow(REPLAYED_POSITION)
                except BaseException as error:
                    self._give_back(pool, connection, error)
                    raise
                pool.release(connection)
        except Exception as error:
            replica.failed(error)
            return
        if row is None or not row["in_recovery"] or row["replayed"] is None:
            # Promoted, or not a replica at all: its data may have parted from the primary's.
            replica.measured(None, "is not a streaming replica")
            return
        replica.measured(self._behind(int(row["replayed"])), None)

    def _behind(self, replayed: int) -> float:
        """Seconds since the primary was last seen at or before ``replayed`` (inf: never seen)."""
        now = time.monotonic()
        for when, position in reversed(self._primary_positions):
            if position <= replayed:
                return max(0.0, now - when)
        return float("inf")

    def replica_status(self) -> list[tuple[str, float | None]]:
        """(name, seconds behind the primary, None while unreachable) of every replica."""
        return [(replica.name, replica.lag) for replica in self.replicas]

    @staticmethod
    def _give_back(pool: ConnectionPool, connection: asyncpg.Connection, error: BaseException | None) -> None:
        if _ended_cleanly(error):
            pool.release(connection)
        else:
            pool.discard(connection)

    @contextlib.asynccontextmanager
    async def transaction(
        self, actor: Actor, *, opening: str = "", at_commit: Sequence[str] = ()
    ) -> AsyncIterator[Connection]:
        """One transaction, committed when the block ends normally (rolled back when it raises).

        Inside the block every ``write`` and every read of this database runs in it, on its
        connection: a request's work is one transaction however many service calls it makes (the
        unit of work, ``fleetreg.writes``). ``actor`` is recorded in the transaction-local setting
        ``fleetreg.actor`` that the schema's triggers read. Nested, it joins the outer transaction.

        ``opening`` (an SQL expression without parameters) is selected beside the actor's
        ``set_config`` in the round trip of the ``BEGIN``, and the statements of ``at_commit`` (read
        when the block ends, so the block may add to it) are sent with the ``COMMIT``: a round trip
        costs more than such a statement, and a statement more than a column (about 40 µs of
        PostgreSQL's time each, even ``SELECT 1``).
        """
        outer = _AMBIENT.get()
        if outer is not None and outer[0] is self:
            yield outer[1]
            return
        async with self.connection() as connection:
            token = _AMBIENT.set((self, connection))
            try:
                # BEGIN and the actor in one round trip (the simple query protocol takes both).
                await connection.execute(
                    f"BEGIN; SELECT set_config('fleetreg.actor', {literal(actor.json())}, true)"
                    + (f", {opening}" if opening else "")
                )
                yield connection
            except BaseException:
                _AMBIENT.reset(token)
                await _roll_back(connection)
                raise
            _AMBIENT.reset(token)
            ending = [*at_commit]
            if self.replicas:
                # Every instance learns that this writer wrote (its reads go to the primary a while).
                writer = writer_key(actor)
                ending.append(f"SELECT pg_notify('{WRITES_CHANNEL}', {literal(writer)})")
            try:
                await connection.execute("; ".join([*ending, "COMMIT"]))
            except BaseException:
                await _roll_back(connection)  # a statement before the COMMIT failed
                raise
            if self.replicas:
                self.recent_writers.wrote(writer)

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
            if not is_retryable(conflict) or number == _WRITE_ATTEMPTS:
                raise
            log.info("retrying a write after %s (attempt %d)", type(conflict.__cause__).__name__, number)
            await asyncio.sleep(0.005 * number)
    raise AssertionError("unreachable")


def is_retryable(error: Exception) -> bool:
    """Whether ``error`` is a serialization failure or a deadlock, which ``retrying`` runs again."""
    return isinstance(error, Conflict) and isinstance(error.__cause__, _RETRYABLE)


async def _roll_back(connection: Connection) -> None:
    """End a failed transaction, if the connection is still in it (a broken one is discarded)."""
    if not connection.is_closed() and connection.is_in_transaction():
        with contextlib.suppress(Exception):
            await connection.execute("ROLLBACK")


def literal(text: str) -> str:
    """``text`` as an SQL string literal (standard_conforming_strings is on since PostgreSQL 9.1)."""
    if "\x00" in text:
        raise ValueError("an SQL literal cannot hold NUL")
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Actor:
    """Who makes a change, as the change's events record it (docs/api.md §5)."""

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


def writer_key(actor: Actor) -> str:
    """Whose writes a read must see: the client's, else all anonymous callers' (an open fleet API)."""
    return actor.client_id or actor.kind


# Seconds between two measurements of every replica's lag.
REPLICA_CHECK_SECONDS = 0.5
WRITES_CHANNEL = "fleetreg_client_wrote"
WRITES_LISTENER_NAME = "fleetreg-writes"
# The primary's WAL position and a replica's replayed one, as byte offsets.
CURRENT_WAL_POSITION = "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint"
REPLAYED_POSITION = """
SELECT pg_is_in_recovery() AS in_recovery, (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint AS replayed
"""


class Replica:
    """A streaming replica: its pool, and what its last check found."""

    def __init__(self, name: str, url: str, max_lag: float) -> None:
        self.name = name
        self.url = url
        self.max_lag = max_lag
        self.pool: ConnectionPool | None = None
        self.lag: float | None = None
        """Seconds behind the primary at the last check; None: unreachable (or not checked yet)."""
        self._checked_at = 0.0

    def serves(self, since_write: float) -> bool:
        """Up, within the lag allowed, and (as far as it can be known) past a write made
        ``since_write`` seconds ago: its lag then, plus the time since it was measured, is less."""
        lag = self.lag
        if lag is None or lag > self.max_lag:
            return False
        return since_write > lag + (time.monotonic() - self._checked_at)

    def measured(self, lag: float | None, problem: str | None) -> None:
        self._set_lag(lag, problem)

    def failed(self, error: BaseException) -> None:
        self._set_lag(None, f"{type(error).__name__}: {error}")

    def _set_lag(self, lag: float | None, problem: str | None) -> None:
        was_serving = self.lag is not None and self.lag <= self.max_lag
        self.lag, self._checked_at = lag, time.monotonic()
        serving = lag is not None and lag <= self.max_lag
        if was_serving and not serving:
            log.warning("%s skipped, reads go to the primary: %s", self.name, problem or f"{lag:.1f} s behind")
        elif serving and not was_serving:
            log.info("%s serves reads", self.name)


class RecentWriters:
    """When each writer last wrote, as far as this process knows: its own writes, and those of every
    other instance, which each notify on WRITES_CHANNEL with their commit (a connection of its own
    listens). Writers older than the window are forgotten."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._last: dict[str, float] = {}
        self._listener: asyncio.Task[None] | None = None
        self._prune_at = 0.0

    def wrote(self, writer: str) -> None:
        now = time.monotonic()
        self._last[writer] = now
        if now > self._prune_at:
            horizon = now - max(self.window, MAX_REMEMBERED_SECONDS)
            self._last = {key: when for key, when in self._last.items() if when > horizon}
            self._prune_at = now + MAX_REMEMBERED_SECONDS

    def seconds_since(self, writer: str) -> float:
        last = self._last
        when = max(last.get(writer, -1.0), last.get(EVERYONE, -1.0))
        return float("inf") if when < 0 else time.monotonic() - when

    async def start(self, db: Database) -> None:
        self._blind()  # writes of the last moments, on other instances, were not heard
        connected = asyncio.Event()
        self._listener = asyncio.create_task(self._follow(db, connected), name="writes-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(connected.wait(), db.timeout)

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None

    async def _follow(self, db: Database, connected: asyncio.Event) -> None:
        while True:
            connection: asyncpg.Connection | None = None
            try:
                connection = await db.connect_direct(WRITES_LISTENER_NAME)
                closed = asyncio.Event()
                connection.add_termination_listener(lambda _connection, closed=closed: closed.set())
                await connection.add_listener(WRITES_CHANNEL, self._notified)
                connected.set()
                await closed.wait()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("the writes listener: %s", error)
            finally:
                # Writes notified while it was away are not replayed: until it is back, every read
                # goes to the primary (as if everyone had just written).
                self._blind()
                if connection is not None and not connection.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(connection.close(), 1)
            await asyncio.sleep(1.0)

    def _blind(self) -> None:
        self.wrote(EVERYONE)

    def _notified(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        self.wrote(payload)


# How long a writer is remembered at least (the window may be longer).
MAX_REMEMBERED_SECONDS = 60.0
# A writer key no client has: "every writer" (the writes listener is reconnecting).
EVERYONE = "*"

# In a block of ``Database.replica_reads``: seconds since the reading client's last write.
_REPLICA_READS: contextvars.ContextVar[float | None] = contextvars.ContextVar("fleetreg_replica_reads", default=None)

# The unit of work of this task, if any: (its database, its connection).
_AMBIENT: contextvars.ContextVar[tuple[Database, Connection] | None] = contextvars.ContextVar(
    "fleetreg_transaction", default=None
)
