"""``fleetreg keys``: the key pairs that sign access tokens (in FLEETREG_DATA_DIR/keys)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from fleetreg.auth import keys
from fleetreg.cli.common import examples, fail, load_settings, print_json

app = typer.Typer(
    help="Token signing keys (files in FLEETREG_DATA_DIR/keys). The newest key signs; every key listed "
    "is published at /.well-known/jwks.json, so tokens signed before a rotation stay valid until they "
    "expire. Running servers read the keys when they start: restart them after a change. "
    "docs/operations.md has the whole rotation.\n\n"
    + examples(
        "fleetreg keys rotate            # then restart the servers",
        "fleetreg keys list --json       # after FLEETREG_TOKEN_TTL: the old kid",
        "fleetreg keys retire OLD_KID    # then restart the servers again",
    ),
    no_args_is_help=True,
)


def _directory() -> Path:
    settings = load_settings()
    if settings.signing_key_file is not None:
        fail("FLEETREG_SIGNING_KEY_FILE is set: that one key signs; rotate it by replacing the file")
    return settings.data_dir / "keys"


@app.command(name="list")
def list_(as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False) -> None:
    """List the keys, oldest first; the last one signs.

    \b
    Example:
      fleetreg keys list
    """
    directory = _directory()
    try:
        found = keys.key_files(directory)
    except keys.SigningKeyError as error:
        fail(str(error))
    for number, (path, key) in enumerate(found, start=1):
        created = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
        signing = number == len(found)
        if as_json:
            print_json({"kid": key.kid, "file": str(path), "created": created, "signing": signing})
        else:
            typer.echo(f"{key.kid}  {created}  {'signing' if signing else 'verifying only'}  {path.name}")
    if not found and not as_json:
        typer.echo(f"no keys yet in {directory}: the first start of the server creates one")


@app.command()
def rotate(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Create a new signing key. Restart the servers; retire the old key once its tokens have expired
    (FLEETREG_TOKEN_TTL, one hour by default).

    \b
    Example:
      fleetreg keys rotate
    """
    key = keys.rotate(_directory())
    if as_json:
        print_json({"kid": key.kid})
    else:
        typer.echo(f"new signing key {key.kid}; restart the servers to sign with it")


# A kid is base64url and may start with "-": take such a word as the argument, not as an option.
@app.command(context_settings={"ignore_unknown_options": True})
def retire(
    kid: Annotated[str, typer.Argument(help="The key id (kid) to stop publishing.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Stop publishing an old key: tokens it signed stop verifying after the next restart. Refused for
    the newest key, and for a key a running server still signs with (restart it first).

    \b
    Example:
      fleetreg keys retire 8I5axEM3DUnC1vn-psycpIYzqXdywzS7JF-J4wPUdkw
    """
    directory = _directory()
    if not directory.is_dir():
        fail(f"no key {kid}: {directory} holds no keys yet")
    try:
        path = keys.retire(directory, kid)
    except keys.SigningKeyError as error:
        fail(str(error))
    if as_json:
        print_json({"kid": kid, "file": str(path)})
    else:
        typer.echo(f"retired {kid} (moved to {path})")
