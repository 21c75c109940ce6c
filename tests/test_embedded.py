"""The embedded PostgreSQL: start, reuse by another process, stop by the last holder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import asyncpg
import psutil
import pytest

from fleetreg.embedded import EmbeddedPostgres
from tests.support.waiting import wait_until_sync

HOLD = """
import sys, time
from pathlib import Path
from fleetreg.embedded import EmbeddedPostgres
server = EmbeddedPostgres(Path(sys.argv[1]))
server.start()
print(server._postmaster_pid(), flush=True)
if sys.argv[2] == "hold":
    time.sleep(600)
server.stop()
"""


def holder(directory: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", HOLD, str(directory), mode], stdout=subprocess.PIPE, text=True)


def postgres_processes(directory: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = process.info["cmdline"] or []
        if process.info["name"] == "postgres" and str(directory) in " ".join(cmdline):
            found.append(process)
    return found


@pytest.fixture
def server(tmp_path: Path) -> EmbeddedPostgres:
    instance = EmbeddedPostgres(tmp_path / "pg")
    yield instance
    # Whatever a test left running goes down with it.
    for process in postgres_processes(instance.directory):
        process.kill()


async def test_start_initialises_and_serves(server: EmbeddedPostgres) -> None:
    url = server.start()
    assert (server.pgdata / "PG_VERSION").read_text().strip() == "18"
    connection = await asyncpg.connect(url)
    try:
        assert await connection.fetchval("SELECT current_setting('server_encoding')") == "UTF8"
        assert await connection.fetchval("SELECT current_setting('listen_addresses')") == ""
    finally:
        await connection.close()
    assert server.stop() is True
    assert not server.is_running()
    assert postgres_processes(server.directory) == []


def test_start_is_idempotent_in_one_process(server: EmbeddedPostgres) -> None:
    server.start()
    pid = server._postmaster_pid()
    server.start()
    assert server._postmaster_pid() == pid
    assert server.stop() is True


def test_another_process_reuses_the_running_server(server: EmbeddedPostgres) -> None:
    server.start()
    pid = server._postmaster_pid()
    child = holder(server.directory, "once")
    out, _ = child.communicate(timeout=60)
    assert int(out.strip()) == pid
    assert server.is_running(), "the child must not stop a server this process still holds"
    assert server.stop() is True


def test_last_live_holder_stops_it(server: EmbeddedPostgres) -> None:
    child = holder(server.directory, "hold")
    assert child.stdout is not None
    child_pid = int(child.stdout.readline())
    server.start()
    assert server._postmaster_pid() == child_pid
    assert server.stop() is False, "the child still holds the server"
    assert server.is_running()
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    child.stdout.close()
    # The killed holder is pruned: this process is the last one and stops it.
    server.start()
    assert server.stop() is True
    assert postgres_processes(server.directory) == []


def test_stale_postmaster_pid_file_is_recovered(server: EmbeddedPostgres) -> None:
    server.start()
    postmaster = psutil.Process(server._postmaster_pid() or 0)
    postmaster.kill()
    postmaster.wait(timeout=10)
    wait_until_sync(lambda: not server.is_running(), "the dead postmaster still counts as running")
    server.start()
    assert server.is_running()
    assert server.stop() is True


def test_refuses_a_foreign_non_empty_data_directory(tmp_path: Path) -> None:
    data = tmp_path / "pg" / "data"
    data.mkdir(parents=True)
    (data / "something").write_text("not a cluster")
    with pytest.raises(Exception, match="holds no PostgreSQL cluster"):
        EmbeddedPostgres(tmp_path / "pg").start()


def test_long_directory_puts_the_socket_elsewhere(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    server = EmbeddedPostgres(deep)
    try:
        url = server.start()
        assert f"{tempfile.gettempdir()}/fleetreg-pg-" in url
    finally:
        server.stop()
    assert os.path.exists(deep / "data" / "PG_VERSION")
