"""What every command shares: settings from the environment, the database, one-line errors.

The command line imports lazily: ``fleetreg --help`` and a command on a current schema never load
the web framework, the HTTP server, SQLAlchemy or Alembic (tests/test_cli.py checks it); each
command imports what it uses when it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import orjson
import typer
import typer.main
from pydantic import ValidationError

# Typer vendors click; its usage errors are not re-exported (tests/test_cli_errors.py would notice
# a move).
from typer._click import exceptions as click_exceptions

from fleetreg.settings import Settings

if TYPE_CHECKING:
    from fleetreg.db import Database

T = TypeVar("T")

# Exit codes: 0 done, 1 the operation failed, 2 the command was used wrongly (as click does).
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

EXIT_STATUS_HELP = (
    "\b\nExit status:\n"
    "  0  done\n"
    "  1  the operation failed: database unreachable, file unreadable, bad CSV\n"
    "     rows, no such partner or client, ...\n"
    "  2  the command was used wrongly: unknown command or option, missing or\n"
    "     bad value, bad FLEETREG_* setting\n"
    "  Errors are one line on stderr starting with 'fleetreg: error: ';\n"
    "  the output of --json goes to stdout."
)


def examples(*lines: str) -> str:
    """An "Examples:" block for a help text or epilog, kept as written (click rewraps paragraphs
    unless they start with a \\b line)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def one_line(text: str) -> str:
    """``text`` on one line: messages of libpq, pg_dump and others span several."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def report(error: CliError) -> NoReturn:
    typer.echo(f"fleetreg: error: {one_line(str(error))}", err=True)
    sys.exit(error.code)


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    raise CliError(message, code)


def run_app(app: typer.Typer, args: list[str] | None = None) -> NoReturn:
    """Run the command line; every way it ends is an exit status of EXIT_STATUS_HELP, and every
    mistake one line on stderr (click's usage errors included), never a traceback."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="fleetreg", standalone_mode=False)
    except CliError as error:
        report(error)
    except click_exceptions.NoArgsIsHelpError as error:
        error.show()  # the group's help, as --help shows it
        sys.exit(EXIT_USAGE)
    except click_exceptions.UsageError as error:
        message = _lower_first(error.format_message())
        if error.ctx is not None:
            message += f" (see {error.ctx.command_path} --help)"
        report(CliError(message, EXIT_USAGE))
    except click_exceptions.ClickException as error:
        report(CliError(error.format_message(), error.exit_code))
    except typer.Abort:
        report(CliError("aborted"))
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as error:
        # A path the user gave or configured; anything else unexpected stays a traceback (a bug).
        report(CliError(f"{error.strerror}: {error.filename}" if error.filename else str(error)))
    sys.exit(result if isinstance(result, int) else EXIT_OK)


def _lower_first(text: str) -> str:
    """click's "Missing option '--partner'." as "missing option '--partner'"."""
    text = text.replace("Value error, ", "").rstrip(".")
    return text[:1].lower() + text[1:]


def load_settings(**overrides: Any) -> Settings:
    """Settings from FLEETREG_* variables, with the command's options (those given) on top."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            field = "_".join(str(part) for part in item["loc"])
            # name what the user set: the command's option, or else the variable
            name = f"--{field.replace('_', '-')}" if field in given else f"FLEETREG_{field.upper()}"
            problems.append(f"{name}: {item['msg'].removeprefix('Value error, ')}")
        fail("; ".join(problems), EXIT_USAGE)


@contextlib.contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """The URL of the database to use; with none configured, the embedded server (started or joined
    for the duration of the block, stopped after it unless another process still uses it). The
    commands connect to PostgreSQL directly (FLEETREG_DIRECT_DATABASE_URL when set), not through a
    pooler: migrations, advisory locks, pg_dump and the bulk imports need a session of their own."""
    if settings.database_url is not None:
        yield settings.direct_database_url or settings.database_url
        return
    from fleetreg.embedded import EmbeddedPostgres, EmbeddedPostgresError

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
    from fleetreg.db import Database

    with database_url(settings) as url:
        ensure_schema(url, migrate_it=settings.uses_embedded_database)

        async def run() -> T:
            db = Database(url, min_size=1, max_size=4, timeout=max(settings.db_timeout, 30))
            await db.open()
            try:
                return await work(db)
            finally:
                await db.close()

        return run_async(run())


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work``; a database that cannot be reached ends the command with a message."""
    from fleetreg.problems import ServiceUnavailable

    try:
        return asyncio.run(work)
    except ServiceUnavailable as error:
        fail(f"cannot reach the database: {error.detail}")


def ensure_schema(url: str, *, migrate_it: bool) -> None:
    """Return when the schema is at this version's head; else migrate it (``migrate_it``) or fail."""
    from fleetreg import migrate

    head = migrate.head_revision()
    current = run_async(migrate.schema_revision(url))
    if current == head:
        return
    if not migrate_it:
        fail(f"the database schema is at {current or 'none'}, this version needs {head}: run `fleetreg db upgrade`")
    from sqlalchemy.exc import OperationalError

    try:
        migrate.upgrade(url)
    except OperationalError as error:
        fail(f"cannot reach the database: {error.orig}")


def print_json(value: Any) -> None:
    typer.echo(orjson.dumps(value, option=orjson.OPT_UTC_Z, default=str).decode())
