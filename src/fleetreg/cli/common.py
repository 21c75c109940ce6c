"""What every command shares: settings from the environment, the database, one-line errors."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, NoReturn, TypeVar

import orjson
import typer
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from fleetreg import migrate
from fleetreg.db import Database
from fleetreg.embedded import EmbeddedPostgres, EmbeddedPostgresError
from fleetreg.problems import ServiceUnavailable
from fleetreg.settings import Settings

T = TypeVar("T")

# Exit codes: 0 done, 1 the operation failed, 2 the command was used wrongly (as click does).
EXIT_FAILED = 1
EXIT_USAGE = 2


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def report(error: CliError) -> NoReturn:
    typer.echo(f"fleetreg: error: {error}", err=True)
    sys.exit(error.code)


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    raise CliError(message, code)


def load_settings(**overrides: Any) -> Settings:
    """Settings from FLEETREG_* variables, with the command's options (those given) on top."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            name = "FLEETREG_" + "_".join(str(part) for part in item["loc"]).upper()
            problems.append(f"{name}: {item['msg']}")
        fail("; ".join(problems), EXIT_USAGE)


@contextlib.contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """The URL of the database to use; with none configured, the embedded server (started or joined
    for the duration of the block, stopped after it unless another process still uses it)."""
    if settings.database_url is not None:
        yield settings.database_url
        return
    embedded = EmbeddedPostgres(settings.embedded_dir)
    try:
        url = embedded.start()
    except EmbeddedPostgresError as error:
        fail(f"cannot start the embedded PostgreSQL in {settings.embedded_dir}: {error}")
    try:
        yield url
    finally:
        embedded.stop()


def run_with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``work`` with a connection pool on the configured database, its schema current.

    The embedded database is migrated on the way (as ``serve`` would); an external one that is
    behind is refused, since deployments migrate it as a step of their own.
    """
    with database_url(settings) as url:
        ensure_schema(url, migrate_it=settings.uses_embedded_database)

        async def run() -> T:
            db = Database(url, min_size=1, max_size=4, timeout=max(settings.db_timeout, 30))
            await db.open()
            try:
                return await work(db)
            finally:
                await db.close()

        try:
            return asyncio.run(run())
        except ServiceUnavailable as error:
            fail(f"cannot reach the database: {error.detail}")


def ensure_schema(url: str, *, migrate_it: bool) -> None:
    try:
        if migrate_it:
            migrate.upgrade(url)
            return
        current, head = migrate.current_revision(url), migrate.head_revision()
    except OperationalError as error:
        fail(f"cannot reach the database: {error.orig}")
    if current != head:
        fail(f"the database schema is at {current or 'none'}, this version needs {head}: run `fleetreg db upgrade`")


def print_json(value: Any) -> None:
    typer.echo(orjson.dumps(value, option=orjson.OPT_UTC_Z, default=str).decode())
