"""``fleetreg events``: the change events, the audit trail, on the command line (docs/api.md §5)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer

from fleetreg.cli.common import examples, fail, load_settings, run_with_database

app = typer.Typer(
    help="The change events of every tenant (the audit trail: who changed what, when), oldest first.\n\n"
    + examples(
        "fleetreg events list --subject Ab3dE5gH7jK9mN1",
        "fleetreg events list --type 'association.*' --json",
        "fleetreg events tail",
    ),
    no_args_is_help=True,
)

SUBJECT = typer.Option("--subject", help="Only the events of this resource (its id): its whole story.")
TYPES = typer.Option("--type", help="Only these types (repeatable); association.* matches a prefix.")
TAIL_POLL_SECONDS = 0.5
AS_JSON = typer.Option("--json", help="Print each event as a JSON line, as GET /v2/events gives it.")


def _filters(subject: str | None, types: list[str] | None) -> Any:
    from fleetreg.events import feed

    try:
        checked = tuple(feed.parse_type(name) for name in types or ())
    except ValueError as error:
        fail(f"--type {error}", 2)
    return feed.Filters(checked, subject)


def _line(event: dict[str, Any]) -> str:
    actor = event["actor"]
    who = actor["kind"] + (f" {actor['client_id']}" if "client_id" in actor else "")
    who += f" {actor['operator_id']}" if "operator_id" in actor else ""
    request = f"  request {actor['request_id']}" if "request_id" in actor else ""
    subject = event["subject"]
    when, kind = event["occurred_at"], event["type"]
    return f"{event['sequence']:>8}  {when}  {kind:<26} {subject['type']} {subject['id']}  by {who}{request}"


def _show(bodies: list[bytes], as_json: bool) -> None:
    for body in bodies:
        if as_json:
            typer.echo(body.decode())
        else:
            typer.echo(_line(json.loads(body)))


@app.command(name="list")
def list_(
    subject: Annotated[str | None, SUBJECT] = None,
    types: Annotated[list[str] | None, TYPES] = None,
    after: Annotated[int, typer.Option("--after", help="Only the events after this sequence (a cursor).")] = 0,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many events.")] = 1000,
    as_json: Annotated[bool, AS_JSON] = False,
) -> None:
    """List the events, oldest first: one line each (sequence, time, type, subject, actor, request id).

    \b
    Example:
      fleetreg events list --subject 497f6eca-6276-4993-bfeb-53cbbbba6f08
    """
    from fleetreg.events import feed

    filters = _filters(subject, types)

    async def read(db: Any) -> list[bytes]:
        bodies: list[bytes] = []
        cursor: int | None = after or None
        while len(bodies) < limit:
            page, _entries = await feed.read_page(
                db, feed.Reader(every_tenant=True), cursor, min(feed.LIMIT_MAX, limit - len(bodies)), filters
            )
            bodies += page.events
            cursor = page.next_cursor
            if not page.has_more:
                break
        return bodies

    _show(run_with_database(load_settings(), read), as_json)


@app.command()
def tail(
    subject: Annotated[str | None, SUBJECT] = None,
    types: Annotated[list[str] | None, TYPES] = None,
    as_json: Annotated[bool, AS_JSON] = False,
) -> None:
    """Print the events as they commit, from now on, until interrupted (Ctrl-C).

    \b
    Example:
      fleetreg events tail --type 'connector.*'
    """
    from fleetreg.events import feed

    filters = _filters(subject, types)

    async def follow(db: Any) -> None:
        cursor = await feed.horizon(db)
        while True:
            page, _entries = await feed.read_page(db, feed.Reader(every_tenant=True), cursor, feed.LIMIT_MAX, filters)
            _show(page.events, as_json)
            cursor = page.next_cursor
            if not page.has_more:
                await asyncio.sleep(TAIL_POLL_SECONDS)

    try:
        run_with_database(load_settings(), follow)
    except KeyboardInterrupt:
        return
