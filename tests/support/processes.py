"""Running fleetreg as a user does: the CLI in a subprocess, ``fleetreg serve`` on a free port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.support.waiting import wait_until_sync

FLEETREG = [sys.executable, "-m", "fleetreg"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(**extra: str) -> dict[str, str]:
    """The test process's environment without any FLEETREG_* variable, plus ``extra``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLEETREG_")}
    env.update(extra)
    return env


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> httpx.Response:
    """Until ``url``/readyz answers 200 (its answer); AssertionError if the server exits first."""

    def ready() -> httpx.Response | None:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}")
        try:
            response = httpx.get(url + "/readyz", timeout=2)
        except httpx.TransportError:
            return None
        return response if response.status_code == 200 else None

    return wait_until_sync(ready, "the server did not become ready", timeout=timeout, interval=0.2)


class Served:
    """A ``fleetreg serve`` subprocess: its base URL and process."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process = process
        self.port = port
        self.base = f"http://127.0.0.1:{port}"

    def kill(self) -> None:
        """SIGKILL the whole process group: the server and its workers, without any chance to clean up."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        # Workers orphaned by a killed parent would keep the port and the database connections.
        self.kill()


@contextlib.contextmanager
def served(
    database_url: str, data_dir: Path, *, workers: int = 1, output: Path | None = None, **settings: str
) -> Iterator[Served]:
    """``fleetreg serve`` on a free port against ``database_url``, ready; stopped (and its process
    group killed) on exit whatever happened. ``output``: a file for its stdout and stderr (its logs)."""
    port = free_port()
    env = environment(
        FLEETREG_DATABASE_URL=database_url,
        FLEETREG_DATA_DIR=str(data_dir),
        **{"FLEETREG_LOG_LEVEL": "warning", **{f"FLEETREG_{name.upper()}": value for name, value in settings.items()}},
    )
    sink = open(output, "ab") if output is not None else None  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [*FLEETREG, "serve", "--port", str(port), "--workers", str(workers), "--no-migrate"],
        env=env,
        stdout=sink,
        stderr=sink,
        start_new_session=True,  # its own process group, so that its workers can be killed with it
    )
    server = Served(process, port)
    try:
        wait_ready(server.base, process)
        yield server
    finally:
        server.stop()
        if sink is not None:
            sink.close()
