"""``fleetreg partners``: the partners OAuth clients act for."""

from __future__ import annotations

from typing import Annotated

import typer

from fleetreg.cli.common import examples, load_settings, print_json, run_with_database

app = typer.Typer(
    help="Partners: each partner API client acts for one (fleetreg clients create --partner NAME; "
    "--create-partner makes a new one).\n\n" + examples("fleetreg partners list", "fleetreg partners list --json"),
    no_args_is_help=True,
)


@app.command(name="list")
def list_(as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False) -> None:
    """List every partner, by name, with its number of active clients.

    \b
    Example:
      fleetreg partners list --json
    """
    from fleetreg.auth import clients as service

    rows = run_with_database(load_settings(), service.list_partners)
    if as_json:
        for row in rows:
            print_json(row)
        return
    for row in rows:
        typer.echo(f"{row['id']}  {row['active_clients']:>4} active clients  {row['name']}")
    if not rows:
        typer.echo("no partners yet: fleetreg clients create --partner NAME --create-partner ... makes one")
