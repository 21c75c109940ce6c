"""``fleetreg db``: migrations."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError

from fleetreg import migrate
from fleetreg.cli.common import database_url, fail, load_settings

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
