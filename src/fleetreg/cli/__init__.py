"""The ``fleetreg`` command line. Each group lives in a module of its own; this one wires them."""

from __future__ import annotations

import typer

from fleetreg import __version__
from fleetreg.cli import clients, database, demo, events, exports, imports, keys, operators, partners, server
from fleetreg.cli.common import EXIT_STATUS_HELP, examples, run_app

app = typer.Typer(
    name="fleetreg",
    help="fleetreg: the system of record for telematics hardware. Every command reads the FLEETREG_* "
    "settings of the server (README.md), so it acts on the same database.\n\n"
    + examples("fleetreg serve", "fleetreg import enterprises enterprises.csv", "fleetreg db current --json"),
    epilog=EXIT_STATUS_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(wanted: bool) -> None:
    if wanted:
        typer.echo(f"fleetreg {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print fleetreg's version and exit."
    ),
) -> None:
    """fleetreg: the system of record for telematics hardware."""


app.command(name="serve")(server.serve)
app.add_typer(database.app, name="db")
app.add_typer(clients.app, name="clients")
app.add_typer(partners.app, name="partners")
app.add_typer(imports.app, name="import")
app.add_typer(exports.app, name="export")
app.add_typer(keys.app, name="keys")
app.add_typer(operators.app, name="operators")
app.add_typer(events.app, name="events")
app.command(name="demo")(demo.demo)


def main() -> None:
    run_app(app)
