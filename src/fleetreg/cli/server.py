"""``fleetreg serve``."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
from collections.abc import Iterator
from typing import Annotated

import typer
import uvicorn

from fleetreg.cli.common import database_url, ensure_schema, fail, load_settings
from fleetreg.logs import configure_logging, uvicorn_log_config

log = logging.getLogger("fleetreg.serve")


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [FLEETREG_HOST, 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [FLEETREG_PORT, 8000].")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes [FLEETREG_WORKERS, 1].")] = None,
    no_migrate: Annotated[
        bool, typer.Option("--no-migrate", help="Refuse to start on a schema that is not current.")
    ] = False,
) -> None:
    """Serve the HTTP API. Without FLEETREG_DATABASE_URL it starts (or joins) the embedded PostgreSQL
    under FLEETREG_DATA_DIR, applies pending migrations, and stops the database again on exit.
    SIGTERM or Ctrl-C lets in-flight requests finish (up to 30 s); exit status 0. Logs are JSON lines
    on stderr.

    \b
    Examples:
      fleetreg serve
      fleetreg serve --port 9000 --workers 2
      FLEETREG_DATABASE_URL=postgresql://app@db/fleetreg fleetreg serve --no-migrate
    """
    settings = load_settings(host=host, port=port, workers=workers)
    _check_address_free(settings.host, settings.port)
    configure_logging(settings.log_level)
    with database_url(settings) as url:
        ensure_schema(url, migrate_it=not no_migrate)
        # Workers are fresh processes: they read the same settings, pointed at this database.
        os.environ.update(
            FLEETREG_DATABASE_URL=url,
            FLEETREG_HOST=settings.host,
            FLEETREG_PORT=str(settings.port),
            FLEETREG_WORKERS=str(settings.workers),
        )
        metrics_dir = _multiprocess_metrics_dir(settings.data_dir, settings.workers)
        log.info(
            "serving",
            extra={
                "url": f"http://{settings.host}:{settings.port}",
                "workers": settings.workers,
                "database": "embedded" if settings.uses_embedded_database else "external",
            },
        )
        try:
            with _stop_on_signal():
                uvicorn.run(
                    "fleetreg.app:create_app",
                    factory=True,
                    host=settings.host,
                    port=settings.port,
                    workers=settings.workers,
                    loop="uvloop",
                    http="httptools",
                    log_config=uvicorn_log_config(settings.log_level),
                    access_log=False,
                    server_header=False,
                    timeout_graceful_shutdown=30,
                )
        except SystemExit as stopped:
            # uvicorn exits with status 3 when the app fails to start; its log lines say why
            if stopped.code not in (None, 0):
                fail("the server did not start; the log lines above say why")
            raise
        finally:
            if metrics_dir is not None:
                shutil.rmtree(metrics_dir, ignore_errors=True)


def _check_address_free(host: str, port: int) -> None:
    """Fail in one line, before the database starts, when the address cannot be listened on (uvicorn
    would log the error and exit with status 3 after start-up)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        fail(f"cannot listen on {host}:{port}: {error.strerror}")
    family, kind, protocol, _, address = infos[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as error:
            fail(f"cannot listen on {host}:{port}: {error.strerror}")


class _Stopped(Exception):
    """SIGTERM or SIGINT after uvicorn's graceful shutdown."""


@contextlib.contextmanager
def _stop_on_signal() -> Iterator[None]:
    """uvicorn drains in-flight requests on SIGTERM/SIGINT, then restores the previous handlers and
    raises the signal again. Our handler turns that into a return, so that the embedded database is
    stopped before the process exits (the default SIGTERM action would kill it first)."""

    def stopped(signum: int, frame: object) -> None:
        raise _Stopped(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, stopped) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    except _Stopped as stop:
        log.info("stopped", extra={"signal": str(stop)})
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _multiprocess_metrics_dir(data_dir: os.PathLike[str], workers: int) -> str | None:
    """With several workers, Prometheus counters live in files that /metrics sums over all of them."""
    if workers < 2:
        return None
    path = os.path.join(os.fspath(data_dir), "run", f"metrics-{os.getpid()}")
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    return path
