"""``fleetreg clients``: OAuth clients of the partner and fleet APIs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from fleetreg.auth.scopes import ALL_SCOPES
from fleetreg.cli.common import EXIT_USAGE, examples, fail, load_settings, print_json, run_with_database

if TYPE_CHECKING:
    from fleetreg.auth.clients import NewClient
    from fleetreg.db import Database

app = typer.Typer(
    help="OAuth clients of the partner and fleet APIs: create (the secret is shown once, stored as an "
    "argon2 hash), list, revoke.\n\n"
    + examples(
        'fleetreg clients create --partner acme --scope "connectors:read connectors:write" --json',
        "fleetreg clients list --json",
        "fleetreg clients revoke cl_4fJ8kQ2mZxWq9TbLr7NcY",
    ),
    no_args_is_help=True,
)

_SCOPE_HELP = "Space-separated scopes: " + ", ".join(ALL_SCOPES) + "."


@app.command()
def create(
    scope: Annotated[str, typer.Option(help=_SCOPE_HELP)],
    partner: Annotated[
        str | None, typer.Option(help="The partner it acts for (fleetreg partners list); it must exist.")
    ] = None,
    create_partner: Annotated[
        bool, typer.Option("--create-partner", help="Create the partner named by --partner when it is missing.")
    ] = False,
    enterprise: Annotated[
        str | None, typer.Option(help="Bind it to this enterprise: the fleet API then shows it only that one.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a client and print its id and secret. The secret is shown this once only.

    \b
    Examples:
      fleetreg clients create --partner acme --scope "connectors:read connectors:write" --json
      fleetreg clients create --partner newco --create-partner --scope connectors:read
      fleetreg clients create --scope "fleet:read fleet:write" --enterprise Ab3dE5gH7jK9mN1
    """
    from fleetreg.auth import clients as service

    if create_partner and partner is None:
        fail("--create-partner needs --partner NAME", EXIT_USAGE)
    settings = load_settings()

    async def work(db: Database) -> NewClient:
        try:
            return await service.create_client(
                db, scope=scope, partner_name=partner, enterprise_id=enterprise, create_partner=create_partner
            )
        except service.ClientError as error:
            fail(str(error), EXIT_USAGE)

    client = run_with_database(settings, work)
    if as_json:
        print_json(client.as_json())
        return
    typer.echo(f"client_id:     {client.client_id}")
    typer.echo(f"client_secret: {client.client_secret}   (shown only now: keep it safe)")
    if client.partner_id:
        typer.echo(f"partner_id:    {client.partner_id}")
    if client.enterprise_id:
        typer.echo(f"enterprise_id: {client.enterprise_id}")
    typer.echo(f"scope:         {client.scope}")


@app.command(name="list")
def list_(as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False) -> None:
    """List every client (never their secrets).

    \b
    Example:
      fleetreg clients list --json
    """
    from fleetreg.auth import clients as service

    settings = load_settings()
    rows = run_with_database(settings, service.list_clients)
    if as_json:
        for row in rows:
            print_json(row)
        return
    lines = [("CLIENT", "STATE", "PARTNER / ENTERPRISE", "SCOPE")]
    for row in rows:
        state = f"revoked {row['revoked_at']:%Y-%m-%d %H:%M}" if row["revoked_at"] else "active"
        lines.append((row["id"], state, row["partner"] or row["enterprise_id"] or "-", row["scope"]))
    if not rows:
        typer.echo("no clients yet: fleetreg clients create makes one", err=True)
        return
    width = max(len(line[0]) for line in lines)
    for client, state, bound, scope in lines:
        typer.echo(f"{client:<{width}}  {state:<24} {bound:<24} {scope}")


@app.command()
def revoke(
    client_id: Annotated[str, typer.Argument(help="The client's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Revoke a client: its tokens stop working at once, in every worker.

    \b
    Example:
      fleetreg clients revoke cl_4fJ8kQ2mZxWq9TbLr7NcY
    """
    from fleetreg.auth import clients as service

    settings = load_settings()

    async def work(db: Database) -> bool:
        try:
            return await service.revoke_client(db, client_id)
        except service.ClientError as error:
            fail(str(error))

    changed = run_with_database(settings, work)
    if as_json:
        print_json({"client_id": client_id, "revoked": True, "changed": changed})
    else:
        typer.echo(f"{client_id} revoked" if changed else f"{client_id} was already revoked")
