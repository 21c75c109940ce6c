"""``fleetreg operators``: the people who sign in to the console (/console)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from fleetreg.cli.common import EXIT_USAGE, examples, fail, load_settings, print_json, run_with_database

if TYPE_CHECKING:
    from fleetreg.console.operators import Operator
    from fleetreg.db import Database

app = typer.Typer(
    help="Operators of the console at /console: create (a generated password is shown once; stored as "
    "an argon2 hash), list, disable, reset-password.\n\n"
    + examples(
        "fleetreg operators create --email ana@example.com --role admin",
        "fleetreg operators create --email bo@acme.example --role partner:acme --json",
        "printf '%s' \"$PASSWORD\" | fleetreg operators create --email cy@fleet.example "
        "--role enterprise:Ab3dE5gH7jK9mN1 --password-stdin",
        "fleetreg operators list --json",
        "fleetreg operators disable bo@acme.example",
    ),
    no_args_is_help=True,
)

_ROLE_HELP = (
    "admin (everything), partner:NAME (that partner's customers and connectors) or enterprise:ID "
    "(that enterprise's fleet)."
)
_FROM_STDIN_HELP = "Read the password from standard input (12 to 200 characters) instead of generating one."


def _password(from_stdin: bool) -> tuple[str, bool]:
    """The password and whether it was generated (then printed once)."""
    from fleetreg.console import operators as service

    if not from_stdin:
        return service.new_password(), True
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        return service.check_password(password), False
    except service.OperatorError as error:
        fail(str(error), EXIT_USAGE)


@app.command()
def create(
    email: Annotated[str, typer.Option(help="The operator's email: what they sign in with.")],
    role: Annotated[str, typer.Option(help=_ROLE_HELP)],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help=_FROM_STDIN_HELP)] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create an operator. Without --password-stdin a password is generated and shown this once only.

    \b
    Examples:
      fleetreg operators create --email ana@example.com --role admin
      fleetreg operators create --email bo@acme.example --role partner:acme --json
    """
    from fleetreg.console import operators as service

    try:
        parsed = service.parse_role(role)
    except service.OperatorError as error:
        fail(str(error), EXIT_USAGE)
    password, generated = _password(password_stdin)
    settings = load_settings()

    async def work(db: Database) -> Operator:
        try:
            return await service.create_operator(db, email, parsed, password)
        except service.OperatorError as error:
            fail(str(error))

    operator = run_with_database(settings, work)
    if as_json:
        print_json({**operator.as_json(), **({"password": password} if generated else {})})
        return
    typer.echo(f"id:       {operator.id}")
    typer.echo(f"email:    {operator.email}")
    typer.echo(f"role:     {operator.role_text}")
    if generated:
        typer.echo(f"password: {password}   (shown only now: give it to the operator safely)")


@app.command(name="list")
def list_(as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False) -> None:
    """List every operator (never their passwords).

    \b
    Example:
      fleetreg operators list --json
    """
    from fleetreg.console import operators as service

    rows = run_with_database(load_settings(), service.list_operators)
    for operator in rows:
        if as_json:
            print_json(operator.as_json())
        else:
            state = "disabled" if operator.disabled_at else "active"
            typer.echo(f"{operator.email:<40} {state:<9} {operator.role_text}")


@app.command()
def disable(
    email: Annotated[str, typer.Argument(help="The operator's email.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Disable an operator: they cannot sign in, and their open sessions end at once.

    \b
    Example:
      fleetreg operators disable bo@acme.example
    """
    from fleetreg.console import operators as service

    async def work(db: Database) -> None:
        try:
            await service.disable_operator(db, email)
        except service.OperatorError as error:
            fail(str(error))

    run_with_database(load_settings(), work)
    if as_json:
        print_json({"email": email, "disabled": True})
    else:
        typer.echo(f"disabled {email}")


@app.command(name="reset-password")
def reset_password(
    email: Annotated[str, typer.Argument(help="The operator's email.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help=_FROM_STDIN_HELP)] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Give an operator a new password (generated and shown once, or read from standard input); it
    unlocks a locked account and ends the operator's open sessions.

    \b
    Example:
      fleetreg operators reset-password bo@acme.example
    """
    from fleetreg.console import operators as service

    password, generated = _password(password_stdin)

    async def work(db: Database) -> None:
        try:
            await service.reset_password(db, email, password)
        except service.OperatorError as error:
            fail(str(error))

    run_with_database(load_settings(), work)
    if as_json:
        print_json({"email": email, **({"password": password} if generated else {})})
    elif generated:
        typer.echo(f"password: {password}   (shown only now: give it to the operator safely)")
    else:
        typer.echo(f"reset the password of {email}")
