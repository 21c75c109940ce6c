"""``fleetreg import``: bulk loads from CSV, all rows or none, with a progress bar."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from fleetreg.cli.common import (
    EXIT_FAILED,
    database_url,
    ensure_schema,
    examples,
    fail,
    load_settings,
    print_json,
    run_async,
)
from fleetreg.fleet import imports as fleet_imports
from fleetreg.importer import ImportRaced, ImportSpec, UnknownPartner, import_file
from fleetreg.partner import imports as partner_imports

app = typer.Typer(
    help="Bulk import from CSV files (UTF-8, the first line names the columns, in any order). All rows "
    "or none: every bad row is reported on stderr as FILE:LINE: reason, then one 'fleetreg: error:' "
    "line, exit status 1, and nothing is written. Ids are kept when given. `fleetreg export` writes "
    "files in this format. Import the fleet in the order enterprises, vehicles, devices, chips.\n\n"
    + examples(
        "fleetreg import customers --partner acme customers.csv",
        "fleetreg import enterprises --json enterprises.csv",
        "fleetreg export devices | FLEETREG_DATA_DIR=/srv/copy fleetreg import devices /dev/stdin",
    ),
    no_args_is_help=True,
)

FileArgument = Annotated[Path, typer.Argument(help="The CSV file.", show_default=False)]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
PartnerOption = Annotated[str, typer.Option(help="The partner (by name) that will own the rows.")]
ErrorsFileOption = Annotated[
    Path | None,
    typer.Option("--errors-file", help="Write every error to this file (the terminal shows the first 100)."),
]


@app.command()
def customers(
    file: FileArgument, partner: PartnerOption, as_json: JsonOption = False, errors_file: ErrorsFileOption = None
) -> None:
    """Import customers. Columns: name, and optionally id (a UUID, kept; generated when empty).

    \b
    Example:
      fleetreg import customers --partner acme customers.csv
    """
    run_import(partner_imports.CUSTOMERS, file, partner=partner, as_json=as_json, errors_file=errors_file)


@app.command()
def connectors(
    file: FileArgument, partner: PartnerOption, as_json: JsonOption = False, errors_file: ErrorsFileOption = None
) -> None:
    """Import connectors. Columns: name, type (physical|virtual), hardware_version, software_version,
    and optionally id (UUID), pin (five digits), customer_id (a customer of the same partner).

    \b
    Example:
      fleetreg import connectors --partner acme connectors.csv
    """
    run_import(partner_imports.CONNECTORS, file, partner=partner, as_json=as_json, errors_file=errors_file)


@app.command()
def enterprises(file: FileArgument, as_json: JsonOption = False, errors_file: ErrorsFileOption = None) -> None:
    """Import enterprises. Columns: name, cnpj (numeric or alphanumeric, with or without . / -), and
    optionally id (15 letters or digits, kept; generated when empty).

    \b
    Example:
      fleetreg import enterprises enterprises.csv
    """
    run_import(fleet_imports.ENTERPRISES, file, as_json=as_json, errors_file=errors_file)


@app.command()
def vehicles(file: FileArgument, as_json: JsonOption = False, errors_file: ErrorsFileOption = None) -> None:
    """Import vehicles. Columns: enterprise_id (a live enterprise), name, and optionally id, plate,
    vin (17 letters or digits without I, O, Q).

    \b
    Example:
      fleetreg import vehicles vehicles.csv
    """
    run_import(fleet_imports.VEHICLES, file, as_json=as_json, errors_file=errors_file)


@app.command()
def devices(file: FileArgument, as_json: JsonOption = False, errors_file: ErrorsFileOption = None) -> None:
    """Import devices. Columns: enterprise_id (a live enterprise), name, imei (15 digits, Luhn-valid,
    unique), code, and optionally id.

    \b
    Example:
      fleetreg import devices devices.csv
    """
    run_import(fleet_imports.DEVICES, file, as_json=as_json, errors_file=errors_file)


@app.command()
def chips(file: FileArgument, as_json: JsonOption = False, errors_file: ErrorsFileOption = None) -> None:
    """Import SIM chips. Columns: serial (ICCID, 19-20 digits, Luhn-valid, unique), number (E.164),
    carrier, service_provider, batch, and optionally id and device_id (a live device holding no chip).

    \b
    Example:
      fleetreg import chips chips.csv
    """
    run_import(fleet_imports.CHIPS, file, as_json=as_json, errors_file=errors_file)


ERRORS_SHOWN = 100  # on the terminal; --errors-file takes every one


def run_import(
    spec: ImportSpec,
    file: Path,
    *,
    partner: str | None = None,
    as_json: bool = False,
    errors_file: Path | None = None,
) -> None:
    """Import ``file`` per ``spec``; report like a compiler (FILE:LINE: reason) and exit 1 on errors."""
    if file.is_dir():
        fail(f"cannot read {file}: it is a directory")
    if not file.exists():
        fail(f"cannot read {file}: no such file")
    settings = load_settings()
    started = time.monotonic()
    with database_url(settings) as url:
        ensure_schema(url, migrate_it=settings.uses_embedded_database)
        with file.open("rb") as source, _ProgressBar(file, spec.entity, enabled=not as_json) as advance:
            try:
                result = run_async(import_file(url, spec, source, partner=partner, progress=advance))
            except UnknownPartner:
                fail(f"no partner named {partner!r} (`fleetreg partners list` shows them)")
            except ImportRaced as raced:
                fail(
                    f"nothing was imported: a row conflicts with data written while the import ran ({raced}); "
                    "run the import again"
                )
    seconds = round(time.monotonic() - started, 2)
    if as_json:
        print_json(
            {
                "imported": result.rows,
                "entity": spec.entity,
                "seconds": seconds,
                "errors": [{"line": error.line, "reason": error.reason} for error in result.errors],
                "more_errors": result.more_errors,
            }
        )
    else:
        for error in result.errors[:ERRORS_SHOWN]:
            typer.echo(f"{file}:{error.line}: {error.reason}", err=True)
        rest = len(result.errors) - ERRORS_SHOWN + result.more_errors
        if rest > 0:
            where = f"{errors_file} has them all" if errors_file else "--errors-file F writes them all to F"
            typer.echo(f"{file}: and {rest} more error{'s' if rest != 1 else ''} ({where})", err=True)
        if result.ok:
            noun = spec.entity.removesuffix("s") if result.rows == 1 else spec.entity
            typer.echo(f"imported {result.rows} {noun} in {seconds} s")
    if errors_file is not None and not result.ok:
        with errors_file.open("w", encoding="utf-8") as sink:
            sink.writelines(f"{file}:{error.line}: {error.reason}\n" for error in result.errors)
            if result.more_errors:
                sink.write(f"{file}: and {result.more_errors} more errors, past the {len(result.errors)} kept\n")
    if not result.ok:
        total = len(result.errors) + result.more_errors
        if not as_json:
            typer.echo(
                f"fleetreg: error: nothing was imported: {total} error{'s' if total != 1 else ''} in {file}", err=True
            )
        raise typer.Exit(EXIT_FAILED)


class _ProgressBar:
    """A progress bar over the bytes of the file, on stderr; a no-op when disabled."""

    def __init__(self, file: Path, entity: str, *, enabled: bool) -> None:
        self.entity = entity
        self.bar: Progress | None = None
        console = Console(stderr=True)
        # On a terminal only (a log gets no bar), and over a regular file only (a pipe has no size).
        if enabled and console.is_terminal and file.is_file():
            self.total = file.stat().st_size
            self.bar = Progress(
                TextColumn(f"importing {entity}"),
                BarColumn(),
                TextColumn("{task.fields[rows]:,} rows"),
                DownloadColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            )

    def __enter__(self) -> Any:
        if self.bar is None:
            return None
        self.bar.start()
        task = self.bar.add_task(self.entity, total=self.total, rows=0)
        bar = self.bar
        return lambda done, rows: bar.update(task, completed=done, rows=rows)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
