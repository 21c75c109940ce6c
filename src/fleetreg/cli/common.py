"""What every command shares: settings from the environment, the database, one-line errors."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any, NoReturn

import typer
from pydantic import ValidationError

from fleetreg.embedded import EmbeddedPostgres, EmbeddedPostgresError
from fleetreg.settings import Settings

# Exit codes: 0 done, 1 the operation failed, 2 the command was used wrongly (as click does).
EXIT_FAILED = 1
EXIT_USAGE = 2


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def report(error: CliError) -> NoReturn:
    typer.echo(f"fleetreg: error: {error}", err=True)
    sys.exit(error.code)


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    raise CliError(message, code)


def load_settings(**overrides: Any) -> Settings:
    """Settings from FLEETREG_* variables, with the command's options (those given) on top."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            name = "FLEETREG_" + "_".join(str(part) for part in item["loc"]).upper()
            problems.append(f"{name}: {item['msg']}")
        fail("; ".join(problems), EXIT_USAGE)


@contextlib.contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """The URL of the database to use; with none configured, the embedded server (started or joined
    for the duration of the block, stopped after it unless another process still uses it)."""
    if settings.database_url is not None:
        yield settings.database_url
        return
    embedded = EmbeddedPostgres(settings.embedded_dir)
    try:
        url = embedded.start()
    except EmbeddedPostgresError as error:
        fail(f"cannot start the embedded PostgreSQL in {settings.embedded_dir}: {error}")
    try:
        yield url
    finally:
        embedded.stop()
