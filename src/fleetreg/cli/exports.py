"""``fleetreg export``: every importable type to stdout, as CSV (re-importable) or JSON lines."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from enum import StrEnum
from typing import Annotated, Any

import asyncpg
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from fleetreg.auth import queries as auth_queries
from fleetreg.cli.common import database_url, ensure_schema, fail, load_settings
from fleetreg.exporter import ExportSpec, Format, export_rows
from fleetreg.partner import exports as partner_exports

# What a shell reports for a process ended by SIGPIPE.
EXIT_BROKEN_PIPE = 141

app = typer.Typer(
    help="Export to stdout as CSV (the columns of `fleetreg import`, so the file imports again) or "
    "JSON lines. Progress goes to stderr.",
    no_args_is_help=True,
)


class FileFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


FormatOption = Annotated[FileFormat, typer.Option("--format", help="csv or jsonl.")]
PartnerOption = Annotated[str, typer.Option(help="The partner (by name) whose rows to export.")]


@app.command()
def customers(partner: PartnerOption, file_format: FormatOption = FileFormat.csv) -> None:
    """Export a partner's customers.

    Example: fleetreg export customers --partner acme > customers.csv
    """
    run_export(partner_exports.CUSTOMERS, file_format.value, partner=partner)


@app.command()
def connectors(partner: PartnerOption, file_format: FormatOption = FileFormat.csv) -> None:
    """Export a partner's connectors.

    Example: fleetreg export connectors --partner acme --format jsonl > connectors.jsonl
    """
    run_export(partner_exports.CONNECTORS, file_format.value, partner=partner)


def run_export(spec: ExportSpec, file_format: Format, *, partner: str | None = None) -> None:
    settings = load_settings()
    with database_url(settings) as url:
        ensure_schema(url, migrate_it=settings.uses_embedded_database)
        try:
            asyncio.run(_export(url, spec, file_format, partner))
        except BrokenPipeError:
            # The reader went away (`fleetreg export ... | head`): stop quietly, as Unix tools do.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(EXIT_BROKEN_PIPE) from None


async def _export(url: str, spec: ExportSpec, file_format: Format, partner: str | None) -> None:
    connection = await asyncpg.connect(url)
    try:
        parameters: list[Any] = []
        if partner is not None:
            partner_id: uuid.UUID | None = await connection.fetchval(auth_queries.PARTNER_ID_BY_NAME, partner)
            if partner_id is None:
                fail(f"no partner named {partner!r}")
            parameters.append(partner_id)
        total = int(await connection.fetchval(spec.count, *parameters))
        progress = Progress(
            TextColumn(f"exporting {spec.entity}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        with progress:
            task = progress.add_task(spec.entity, total=total)
            written = await export_rows(
                connection,
                spec,
                sys.stdout.buffer,
                file_format,
                parameters,
                progress=lambda done: progress.update(task, completed=done),
            )
        sys.stdout.buffer.flush()
        typer.echo(f"exported {written} {spec.entity}", err=True)
    finally:
        await connection.close()
