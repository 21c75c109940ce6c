"""``fleetreg serve``: Granian (ASGI, uvloop) serving ``fleetreg.app:create_app`` in worker processes.

The supervisor (this process) starts or joins the embedded PostgreSQL, migrates it, and watches it
while the workers serve: a postmaster that dies (killed, crashed) is started again at once, and
PostgreSQL's crash recovery brings back every committed write. A worker that dies is replaced.
SIGTERM or SIGINT: the workers finish their in-flight requests (up to 30 s, then they are killed),
the embedded database is stopped (unless another process still uses it), exit status 0.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fleetreg.cli.common import database_url, ensure_schema, fail, load_settings
from fleetreg.logs import configure_logging, server_log_config
from fleetreg.settings import unknown_variables

if TYPE_CHECKING:
    from fleetreg.embedded import EmbeddedPostgres

log = logging.getLogger("fleetreg.serve")

# Seconds a worker has to finish its in-flight requests on SIGTERM before it is killed.
GRACEFUL_SHUTDOWN_SECONDS = 30
# The most a request's line and headers may take (hyper's read buffer). The app answers 414/431
# problem+json itself past its own limits, which are lower; past this one Granian answers on its own
# (docs/operations.md says how).
HTTP1_BUFFER_BYTES = 64 * 1024
# How often the supervisor looks for the embedded postmaster.
WATCH_SECONDS = 0.25


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [FLEETREG_HOST, 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [FLEETREG_PORT, 8000].")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes [FLEETREG_WORKERS, 1].")] = None,
    no_migrate: Annotated[
        bool, typer.Option("--no-migrate", help="Refuse to start on a schema that is not current.")
    ] = False,
) -> None:
    """Serve the HTTP API (Granian, one process per worker; a worker that dies is replaced). Without
    FLEETREG_DATABASE_URL it starts (or joins) the embedded PostgreSQL under FLEETREG_DATA_DIR, applies
    pending migrations, restarts the database should it die, and stops it again on exit. SIGTERM or
    Ctrl-C lets in-flight requests finish (up to 30 s); exit status 0. Logs are JSON lines on stderr.

    \b
    Examples:
      fleetreg serve
      fleetreg serve --port 9000 --workers 2
      FLEETREG_DATABASE_URL=postgresql://app@db/fleetreg fleetreg serve --no-migrate
    """
    settings = load_settings(host=host, port=port, workers=workers)
    _check_address_free(settings.host, settings.port)
    configure_logging(settings.log_level, settings.log_format)
    for name in unknown_variables(os.environ):
        log.warning("unknown setting %s: no such FLEETREG_* variable (a typo?); it is ignored", name)
    if settings.uses_embedded_database:
        _become_subreaper()
    with _stop_on_signal(), database_url(settings) as url:
        ensure_schema(url, migrate_it=not no_migrate)
        # Workers are fresh processes: they read the same settings, pointed at this database (the
        # pooler's URL when there is one; ``url`` is PostgreSQL's own).
        os.environ.update(
            FLEETREG_DATABASE_URL=settings.database_url or url,
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
        watcher = None
        if settings.uses_embedded_database:
            from fleetreg.embedded import EmbeddedPostgres

            watcher = _PostmasterWatcher(EmbeddedPostgres(settings.embedded_dir))
            watcher.start()
        try:
            _granian(settings.host, settings.port, settings.workers, settings.log_level, settings.log_format).serve()
        except SystemExit as stopped:
            # Granian exits with status 1 when a worker cannot start (or dies again at once); its log
            # lines say why.
            if stopped.code not in (None, 0):
                fail("the server stopped: a worker could not start or kept dying; the log lines above say why")
            raise
        finally:
            if watcher is not None:
                watcher.stop()
            if metrics_dir is not None:
                shutil.rmtree(metrics_dir, ignore_errors=True)


def _granian(host: str, port: int, workers: int, log_level: str, log_format: str) -> Any:
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import Server

    return Server(
        "fleetreg.app:create_app",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.ASGI,  # with the lifespan: each worker opens its pool, and closes it
        workers=workers,
        loop=Loops.uvloop,
        http=HTTPModes.http1,
        websockets=False,
        http1_settings=HTTP1Settings(max_buffer_size=HTTP1_BUFFER_BYTES),
        respawn_failed_workers=True,
        workers_kill_timeout=GRACEFUL_SHUTDOWN_SECONDS,
        log_level=LogLevels(log_level),
        log_dictconfig=server_log_config(log_level, log_format),
        log_access=False,  # fleetreg's own access line (fleetreg.middleware) names the request id
    )


class _PostmasterWatcher:
    """A thread of the supervisor that starts the embedded postmaster again when it is gone."""

    def __init__(self, embedded: EmbeddedPostgres) -> None:
        self.embedded = embedded
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="postmaster-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=120)  # a restart in progress finishes before the database is stopped

    def _watch(self) -> None:
        from fleetreg.embedded import EmbeddedPostgresError

        while not self._stopping.wait(WATCH_SECONDS):
            _reap_postgres_zombies()
            if self.embedded.is_running():
                continue
            log.error("the embedded PostgreSQL is gone; starting it again (crash recovery)")
            try:
                if self.embedded.recover():
                    log.warning("the embedded PostgreSQL is serving again")
            except EmbeddedPostgresError as error:  # keep watching: the next round tries again
                log.error("the embedded PostgreSQL did not start again: %s", error)


def _become_subreaper() -> None:
    """Adopt the orphans of our children: the postmaster that pg_ctl leaves behind (and, once it is
    killed, its backends). A killed postmaster stays a zombie until its parent reaps it, and while
    it exists PostgreSQL refuses to start again on its data directory ("is another postmaster
    running?"); init may reap it late (2 s here) or, in a container without one, never. As their
    parent, the watcher reaps them at once."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_child_subreaper = 36
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_child_subreaper, 1, 0, 0, 0)


def _reap_postgres_zombies() -> None:
    """Reap our exited PostgreSQL children (only those: Granian waits for its workers itself)."""
    import psutil

    for child in psutil.Process().children():
        with contextlib.suppress(psutil.Error, ChildProcessError):
            if child.status() == psutil.STATUS_ZOMBIE and child.name() in ("postgres", "postmaster"):
                os.waitpid(child.pid, os.WNOHANG)


def _check_address_free(host: str, port: int) -> None:
    """Fail in one line, before the database starts, when the address cannot be listened on (Granian
    would log the error and exit after start-up)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        fail(f"cannot listen on {host}:{port}: {error.strerror}")
    family, kind, protocol, _, address = infos[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Granian binds
        try:
            probe.bind(address)
        except OSError as error:
            fail(f"cannot listen on {host}:{port}: {error.strerror}")


class _Stopped(Exception):
    """SIGTERM or SIGINT before Granian took over the signals (while the database starts, say)."""


@contextlib.contextmanager
def _stop_on_signal() -> Iterator[None]:
    """Until Granian installs its own handlers (and after it has stopped), SIGTERM and SIGINT end the
    command by an exception, so that the embedded database is left (and stopped) on the way out; the
    default SIGTERM action would kill the process first."""

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
