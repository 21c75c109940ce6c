"""The ``fleetreg`` command line. Each group lives in a module of its own; this one wires them."""

from __future__ import annotations

import typer

from fleetreg.cli import clients, database, demo, exports, imports, keys, server
from fleetreg.cli.common import CliError, report

app = typer.Typer(
    name="fleetreg",
    help="fleetreg: the system of record for telematics hardware.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command(name="serve")(server.serve)
app.add_typer(database.app, name="db")
app.add_typer(clients.app, name="clients")
app.add_typer(imports.app, name="import")
app.add_typer(exports.app, name="export")
app.add_typer(keys.app, name="keys")
app.command(name="demo")(demo.demo)


def main() -> None:
    try:
        app()
    except CliError as error:
        report(error)
