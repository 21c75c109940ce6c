"""The pool and the write helper: transactions, retries, error translation, clean connections."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import asyncpg
import pytest

from fleetreg import db as db_module
from fleetreg import pool as pool_module
from fleetreg.db import Database
from fleetreg.problems import BadRequest, Conflict, ServiceUnavailable
from tests.support.database import opened
from tests.support.waiting import wait_until


class NameTaken(Conflict):
    """A partner name is used already (only for this test of the translation)."""

    slug = "test-partner-name-taken"
    title = "Test Partner Name Taken"


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    async with opened(database_url, min_size=1, max_size=1) as db:
        yield db


async def test_an_unfinished_transaction_is_not_handed_on(database: Database) -> None:
    async with database.connection() as connection:
        await connection.execute("BEGIN")
        await connection.execute("INSERT INTO partners (name) VALUES ('left open')")
    # the pool has one connection: the next user gets the same one, clean
    async with database.connection() as connection:
        assert not connection.is_in_transaction()
        assert await connection.fetchval("SELECT count(*) FROM partners") == 0


async def test_write_commits_before_returning(database: Database, db: asyncpg.Connection) -> None:
    await database.write(lambda c: c.execute("INSERT INTO partners (name) VALUES ('a')"))
    assert await db.fetchval("SELECT count(*) FROM partners") == 1


async def test_write_rolls_back_on_error(database: Database, db: asyncpg.Connection) -> None:
    async def work(connection: asyncpg.Connection) -> None:
        await connection.execute("INSERT INTO partners (name) VALUES ('a')")
        raise BadRequest("no")

    with pytest.raises(BadRequest):
        await database.write(work)
    assert await db.fetchval("SELECT count(*) FROM partners") == 0


async def test_constraint_violation_is_translated(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database, "constraint_errors", {"partners_name_key": lambda error: NameTaken("taken")})
    await database.write(lambda c: c.execute("INSERT INTO partners (name) VALUES ('a')"))
    with pytest.raises(NameTaken):
        await database.write(lambda c: c.execute("INSERT INTO partners (name) VALUES ('a')"))
    with pytest.raises(BadRequest):  # an unregistered check constraint: a generic 400
        await database.write(lambda c: c.execute("INSERT INTO partners (name) VALUES ('')"))


async def test_deadlock_is_retried(database_url: str, db: asyncpg.Connection) -> None:
    await db.execute("INSERT INTO partners (name) VALUES ('a'), ('b')")
    first, second = Database(database_url, max_size=2), Database(database_url, max_size=2)
    await first.open()
    await second.open()
    attempts = {"first": 0, "second": 0}
    both_locked = asyncio.Barrier(2)

    def crossing(name: str, order: tuple[str, str]):  # type: ignore[no-untyped-def]
        async def work(connection: asyncpg.Connection) -> None:
            attempts[name] += 1
            await connection.execute("UPDATE partners SET name = name WHERE name = $1", order[0])
            if attempts[name] == 1:
                await both_locked.wait()
            await connection.execute("UPDATE partners SET name = name WHERE name = $1", order[1])

        return work

    try:
        await asyncio.gather(first.write(crossing("first", ("a", "b"))), second.write(crossing("second", ("b", "a"))))
    finally:
        await first.close()
        await second.close()
    assert attempts["first"] + attempts["second"] == 3, "one of the two lost the deadlock and ran again"


async def test_unreachable_database_is_service_unavailable(tmp_path: object) -> None:
    db = Database(f"postgresql://postgres@/postgres?host={tmp_path}", timeout=1)
    await db.open()
    with pytest.raises(ServiceUnavailable):
        await db.fetchval("SELECT 1")
    await db.close()


# -- the pool (fleetreg.pool): what a full pool does with connections coming back -------------------


async def backends(db: asyncpg.Connection) -> int:
    return int(
        await db.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'fleetreg'"
        )
    )


async def nobody_left(db: asyncpg.Connection) -> bool:
    return await backends(db) == 0


def waiters(database: Database) -> int:
    """How many requests wait for a connection of ``database``'s pool (the pool's own queue)."""
    return len(database.pool._waiters)


async def test_a_connection_given_back_goes_to_the_request_waiting_for_it(database_url: str) -> None:
    async with opened(database_url, min_size=0, max_size=1) as database:
        async with database.connection() as held:
            waiting = asyncio.create_task(database.fetchval("SELECT pg_backend_pid()"))
            await wait_until(lambda: waiters(database) == 1, "the request did not queue for the connection")
            assert not waiting.done(), "the one connection is in use"
            assert database.pool_usage() == (1, 1, 1)
            holder_pid = await held.fetchval("SELECT pg_backend_pid()")
        assert await asyncio.wait_for(waiting, 5) == holder_pid, "the waiter got the same connection"
        assert database.pool_usage() == (1, 0, 1)


async def test_a_request_that_waits_too_long_is_service_unavailable(database_url: str) -> None:
    async with opened(database_url, min_size=0, max_size=1, timeout=0.2) as database:
        async with database.connection():
            with pytest.raises(ServiceUnavailable):
                await database.fetchval("SELECT 1")
        # the waiter that gave up left nothing behind: the connection is free for the next request
        assert await asyncio.wait_for(database.fetchval("SELECT 1"), 1) == 1
        assert database.pool_usage() == (1, 0, 1)


async def test_a_statement_that_times_out_closes_its_connection(database_url: str) -> None:
    async with opened(database_url, min_size=1, max_size=1, timeout=0.3) as database:
        first = await database.fetchval("SELECT pg_backend_pid()")
        with pytest.raises(ServiceUnavailable):
            await database.fetchval("SELECT pg_sleep(10)")
        # closed at once, not reused mid-statement: the next request opens a new connection
        assert database.pool_usage() == (0, 0, 1)
        assert await database.fetchval("SELECT pg_backend_pid()") != first
        assert database.pool_usage() == (1, 0, 1)


async def test_a_waiter_cancelled_as_it_is_handed_a_connection_passes_it_on(database_url: str) -> None:
    async with opened(database_url, min_size=0, max_size=1, timeout=2) as database:
        cancelled = None
        async with database.connection():
            cancelled = asyncio.create_task(database.fetchval("SELECT 1"))
            await wait_until(lambda: waiters(database) == 1, "the request did not queue for the connection")
        cancelled.cancel()  # in the same turn as the connection was handed to it
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        assert await asyncio.wait_for(database.fetchval("SELECT 3"), 1) == 3
        assert database.pool_usage() == (1, 0, 1)


async def test_closing_the_pool_answers_waiters_and_closes_connections_in_use(
    database_url: str, db: asyncpg.Connection
) -> None:
    database = Database(database_url, min_size=0, max_size=1)
    await database.open()
    async with database.connection() as held:
        waiting = asyncio.create_task(database.fetchval("SELECT 1"))
        await wait_until(lambda: waiters(database) == 1, "the request did not queue for the connection")
        pool = database.pool
        await database.close()
        with pytest.raises(ServiceUnavailable):
            await waiting
        assert not held.is_closed(), "a connection in use is not cut off under its user"
    assert held.is_closed(), "it is closed when it comes back"
    assert pool.usage() == (0, 0)
    # the server's backend ends after the client has closed the socket: on a busy machine a moment later
    await wait_until(lambda: nobody_left(db), "a closed connection's backend is still there")


async def test_a_connection_idle_too_long_is_replaced(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool_module, "MAX_IDLE_SECONDS", 0.2)
    async with opened(database_url, min_size=1, max_size=1) as database:
        first = await database.fetchval("SELECT pg_backend_pid()")
        assert await database.fetchval("SELECT pg_backend_pid()") == first, "reused while fresh"
        await asyncio.sleep(0.3)  # not a wait for a condition: the connection has to grow older than 0.2 s
        assert await database.fetchval("SELECT pg_backend_pid()") != first
        assert database.pool_usage() == (1, 0, 1)


# -- a connection the server ends while it is idle ---------------------------------------------------


class ServerInTheMiddle:
    """A TCP proxy to the test's PostgreSQL (its unix socket) that can also speak for the server:
    ``say(message)`` sends a protocol message to the clients as the server would, socket kept open."""

    def __init__(self, database_url: str) -> None:
        parts = urlsplit(database_url)
        self.socket = str(Path(parse_qs(parts.query)["host"][0]) / ".s.PGSQL.5432")
        self.database = parts.path.lstrip("/")
        # the embedded server's password file, which its URL names (the proxy's URL passes it on)
        self.passfile = parse_qs(parts.query).get("passfile", [None])[0]
        self.clients: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None
        self.url = ""  # the proxy's, once entered

    async def __aenter__(self) -> ServerInTheMiddle:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"postgresql://postgres@127.0.0.1:{port}/{self.database}"
        if self.passfile:
            self.url += f"?passfile={quote(self.passfile)}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        for client in self.clients:
            client.close()
        self.server.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_unix_connection(self.socket)
        self.clients.append(writer)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer), return_exceptions=True)

    async def say(self, message: bytes) -> None:
        for client in self.clients:
            client.write(message)
            await client.drain()


def server_message(kind: bytes, *fields: bytes) -> bytes:
    body = b"".join(field + b"\x00" for field in fields)
    return kind + struct.pack("!i", len(body) + 4) + body


async def test_a_connection_the_server_ends_while_idle_is_503_not_500(database_url: str) -> None:
    """What a database shutting down does to idle connections: a FATAL error first, the socket's end
    later. asyncpg keeps the connection open, in its error state, in between; taken from the pool
    then, it failed the request with InternalClientError, a 500 (seen in test_faults.py under load)."""
    async with ServerInTheMiddle(database_url) as middle, opened(middle.url, min_size=1, max_size=1) as database:
        assert await database.fetchval("SELECT 1") == 1
        [(idle, _)] = database.pool._idle
        fatal = server_message(
            b"E", b"SFATAL", b"VFATAL", b"C57P01", b"Mterminating connection due to administrator command"
        )
        # then a ParameterStatus (read in any state): once asyncpg has it, it has read the error too
        await middle.say(fatal + server_message(b"S", b"application_name", b"error-read"))
        await wait_until(lambda: idle.get_settings().application_name == "error-read", "the error was not read")
        assert not idle.is_closed()
        with pytest.raises(ServiceUnavailable):
            await database.fetchval("SELECT 1")
        assert database.pool_usage() == (0, 0, 1), "the connection was discarded"


# -- a connection the server broke (issue 14 item 3) --


def _postgres_error(kind: type[asyncpg.PostgresError]) -> asyncpg.PostgresError:
    return kind.new({"C": kind.sqlstate, "M": "from the test", "S": "FATAL"})


@pytest.mark.parametrize(
    "error",
    [
        _postgres_error(asyncpg.AdminShutdownError),  # 57P01: the server is shutting down
        _postgres_error(asyncpg.CrashShutdownError),
        _postgres_error(asyncpg.CannotConnectNowError),
        _postgres_error(asyncpg.ConnectionDoesNotExistError),
        asyncpg.InternalClientError("cannot switch to state 12; protocol is in the failed state"),
        asyncpg.InterfaceError("connection is closed"),
        ServiceUnavailable("the database is unavailable"),
    ],
)
def test_an_error_of_a_broken_server_is_503_and_its_connection_is_not_reused(error: Exception) -> None:
    assert not db_module._ended_cleanly(error)
    translated = error if isinstance(error, ServiceUnavailable) else db_module.translate(error)
    assert isinstance(translated, ServiceUnavailable)


@pytest.mark.parametrize(
    "error", [_postgres_error(asyncpg.UniqueViolationError), _postgres_error(asyncpg.DataError), Conflict("taken")]
)
def test_a_refused_statement_leaves_its_connection_fit_for_the_next(error: Exception) -> None:
    assert db_module._ended_cleanly(error)


async def test_a_session_terminated_by_the_server_is_503_and_the_pool_opens_a_new_one(
    database: Database, db: asyncpg.Connection
) -> None:
    first = await database.fetchval("SELECT pg_backend_pid()")
    sleeping = asyncio.create_task(database.fetchval("SELECT pg_sleep(30)"))
    while not await db.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", first):
        await asyncio.sleep(0.01)
    await db.execute("SELECT pg_terminate_backend($1)", first)  # 57P01 to that session
    with pytest.raises(ServiceUnavailable):
        await sleeping
    assert await database.fetchval("SELECT pg_backend_pid()") != first
