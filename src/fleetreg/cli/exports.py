"""``fleetreg export``: every importable type to stdout, as CSV (re-importable) or JSON lines."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from fleetreg.cli.common import database_url, ensure_schema, examples, fail, load_settings, run_async
from fleetreg.exporter import ExportSpec, Format, export_file
from fleetreg.fleet import exports as fleet_exports
from fleetreg.importer import UnknownPartner
from fleetreg.partner import exports as partner_exports

# What a shell reports for a process ended by SIGPIPE.
EXIT_BROKEN_PIPE = 141

app = typer.Typer(
    help="Export to stdout as CSV (the columns of `fleetreg import`, ids included, so the file imports "
    "again unchanged) or JSON lines (one object per row, members named as the columns). Each export is "
    "one consistent snapshot, streamed: memory stays flat however many rows. Progress goes to stderr "
    "when it is a terminal. The fleet's files re-import in the order enterprises, vehicles, devices, "
    "chips.\n\n"
    + examples(
        "fleetreg export connectors --partner acme > connectors.csv",
        "fleetreg export chips --format jsonl | jq .serial",
        "for t in enterprises vehicles devices chips; do fleetreg export $t > $t.csv; done",
    ),
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

    \b
    Example:
      fleetreg export customers --partner acme > customers.csv
    """
    run_export(partner_exports.CUSTOMERS, file_format.value, partner=partner)


@app.command()
def connectors(partner: PartnerOption, file_format: FormatOption = FileFormat.csv) -> None:
    """Export a partner's connectors.

    \b
    Example:
      fleetreg export connectors --partner acme --format jsonl > connectors.jsonl
    """
    run_export(partner_exports.CONNECTORS, file_format.value, partner=partner)


@app.command()
def enterprises(file_format: FormatOption = FileFormat.csv) -> None:
    """Export the live enterprises (columns id, name, cnpj).

    \b
    Example:
      fleetreg export enterprises > enterprises.csv
    """
    run_export(fleet_exports.ENTERPRISES, file_format.value)


@app.command()
def vehicles(file_format: FormatOption = FileFormat.csv) -> None:
    """Export the live vehicles (columns id, enterprise_id, name, plate, vin).

    \b
    Example:
      fleetreg export vehicles > vehicles.csv
    """
    run_export(fleet_exports.VEHICLES, file_format.value)


@app.command()
def devices(file_format: FormatOption = FileFormat.csv) -> None:
    """Export the live devices (columns id, enterprise_id, name, imei, code).

    \b
    Example:
      fleetreg export devices --format jsonl > devices.jsonl
    """
    run_export(fleet_exports.DEVICES, file_format.value)


@app.command()
def chips(file_format: FormatOption = FileFormat.csv) -> None:
    """Export the SIM chips (columns id, serial, number, carrier, service_provider, batch, device_id).

    \b
    Example:
      fleetreg export chips > chips.csv
    """
    run_export(fleet_exports.CHIPS, file_format.value)


def run_export(spec: ExportSpec, file_format: Format, *, partner: str | None = None) -> None:
    settings = load_settings()
    with database_url(settings) as url:
        ensure_schema(url, migrate_it=settings.uses_embedded_database)
        try:
            run_async(_export(url, spec, file_format, partner))
        except BrokenPipeError:
            # The reader went away (`fleetreg export ... | head`): stop quietly, as Unix tools do.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(EXIT_BROKEN_PIPE) from None


async def _export(url: str, spec: ExportSpec, file_format: Format, partner: str | None) -> None:
    console = Console(stderr=True)
    progress = Progress(
        TextColumn(f"exporting {spec.entity}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    with progress:
        task = progress.add_task(spec.entity, total=None)
        try:
            written = await export_file(
                url,
                spec,
                sys.stdout.buffer,
                file_format,
                partner=partner,
                on_total=lambda total: progress.update(task, total=total),
                progress=lambda done: progress.update(task, completed=done),
            )
        except UnknownPartner:
            fail(f"no partner named {partner!r}")
    sys.stdout.buffer.flush()
    typer.echo(f"exported {written} {spec.entity.removesuffix('s') if written == 1 else spec.entity}", err=True)
