"""``fleetreg demo``: load a small demo data set and print an OAuth client to explore the API with."""

from __future__ import annotations

from typing import Annotated

import typer

from fleetreg import demo as service
from fleetreg.cli.common import EXIT_USAGE, fail, load_settings, print_json, run_with_database
from fleetreg.db import Database


def demo(
    reset: Annotated[bool, typer.Option("--reset", help="Remove the demo data first, then load it afresh.")] = False,
    if_empty: Annotated[
        bool,
        typer.Option("--if-empty", help="Load only into a database holding no data at all (what `make run` does)."),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"partner", "client_id", "client_secret"} as the last line.')
    ] = False,
) -> None:
    """Load the demo data (a partner with customers and connectors; two enterprises with vehicles,
    devices, chips and vehicle-device associations, some of them ended) and print a new OAuth client
    of the partner "demo-partner" holding every scope. Running it again adds no data; it issues a new
    client and revokes the previous one (a secret is stored hashed and cannot be shown twice).
    With --reset, the demo's rows are removed as the API removes them (associations are never
    erased: the ended ones stay with the deleted vehicles) and loaded again with new ids.

    \b
    Examples:
      fleetreg demo
      fleetreg demo --json | tail -n 1
      fleetreg demo --reset
    """
    if reset and if_empty:
        fail("--reset and --if-empty exclude each other", EXIT_USAGE)
    settings = load_settings()

    async def work(db: Database) -> tuple[service.DemoResult | None, int]:
        try:
            async with service.exclusive(db):
                if if_empty and not await service.is_empty(db):
                    return None, 0
                removed = await service.reset(db) if reset else 0
                return await service.load(db), removed
        except service.DemoError as error:
            fail(str(error))

    result, removed = run_with_database(settings, work)
    if result is None:
        message = (
            "the database holds data already: demo not loaded "
            "(`fleetreg demo` adds what is missing of it and prints a new demo client)"
        )
        typer.echo(f"fleetreg demo: {message}", err=as_json)
        if as_json:
            print_json({"partner": None, "client_id": None, "client_secret": None})
        return
    if as_json:
        print_json(result.as_json())
        return
    if reset:
        typer.echo(f"Demo data removed ({removed} rows deleted, ended or revoked).")
    counts = result.summary
    state = "loaded" if result.created else "already loaded, nothing added"
    typer.echo(
        f"Demo data {state}: partner {result.partner} ({counts['customers']} customers, {counts['connectors']} "
        f"connectors, {counts['assigned_connectors']} assigned); {counts['enterprises']} enterprises "
        f"({counts['vehicles']} vehicles, {counts['devices']} devices, {counts['chips']} chips, "
        f"{counts['active_associations']} active and {counts['ended_associations']} ended device associations)."
    )
    revoked = f"; {result.revoked_clients} earlier one(s) revoked" if result.revoked_clients else ""
    typer.echo(f"Demo OAuth client of {result.partner}, every scope (a new one each run{revoked}):")
    typer.echo(f"  client_id:     {result.client.client_id}")
    typer.echo(f"  client_secret: {result.client.client_secret}   (shown only now)")
    typer.echo("For the README's five-minute tour, paste into your shell:")
    typer.echo(f"  CLIENT_ID={result.client.client_id} CLIENT_SECRET={result.client.client_secret}")
