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

from fleetreg.embedded import EmbeddedPostgres, binaries_dir, user_namespace_prefix
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


# -- who may connect, and what is touched (issue 14 items 1 and 2) --

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="what root does differently")
PSQL = str(binaries_dir() / "psql")


def _psql(url: str, *, user: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [PSQL, "--no-psqlrc", "-tAc", "SELECT current_user", url]
    if user is not None:
        command = ["runuser", "-u", user, "--", *command]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return subprocess.run(command, capture_output=True, text=True, timeout=30, env={**clean, **(env or {})})


def test_the_url_authenticates_with_the_password_file(server: EmbeddedPostgres) -> None:
    url = server.start()
    try:
        assert "passfile=" in url
        assert server.password_file.read_text().split(":")[-1].strip() not in url
        assert server.password_file.stat().st_mode & 0o777 == 0o600
        assert (server.pgdata / "pg_hba.conf").read_text().splitlines()[-1] == "local all all scram-sha-256"
        assert _psql(url).stdout.strip() == "postgres"
    finally:
        server.stop()


def test_without_the_password_no_one_gets_in(server: EmbeddedPostgres) -> None:
    """Not even the server's own user: the socket alone is no longer a key (it was: trust)."""
    url = server.start()
    try:
        without_password = url.split("&passfile=")[0]
        refused = _psql(without_password, env={"PGPASSFILE": "/dev/null"})
        assert refused.returncode != 0
        assert "password" in refused.stderr, refused.stderr
    finally:
        server.stop()


@as_root
def test_another_local_user_cannot_connect(tmp_path: Path) -> None:
    """``nobody`` can neither reach the socket (its directory is 0700) nor read the password."""
    tmp_path.chmod(0o755)  # nobody could reach the directory: only fleetreg's own modes keep it out
    server = EmbeddedPostgres(tmp_path / "pg")
    url = server.start()
    try:
        socket_dir = Path(url.split("host=")[1].split("&")[0])
        assert socket_dir.stat().st_mode & 0o777 == 0o700
        for target in (url, f"postgresql://postgres@/postgres?host={socket_dir}"):
            refused = _psql(target, user="nobody")
            assert refused.returncode != 0
            assert "Permission denied" in refused.stderr, refused.stderr
    finally:
        server.stop()


@as_root
def test_as_root_it_works_in_a_private_directory_and_changes_no_permission(tmp_path: Path) -> None:
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    before = {path: path.stat().st_mode for path in [private, *private.parents]}
    server = EmbeddedPostgres(private / "var" / "postgres")
    url = server.start()
    try:
        assert _psql(url).stdout.strip() == "postgres"
        assert {path: path.stat().st_mode for path in before} == before
        for path in [server.directory, *server.directory.rglob("*")]:
            assert path.is_symlink() or path.stat().st_uid == 0, f"{path} is not root's"
        postmaster = psutil.Process(server._postmaster_pid() or 0)
        # PostgreSQL sees a non-root uid in its user namespace, root outside it
        assert postmaster.uids().real == 0
        assert (Path(f"/proc/{postmaster.pid}/uid_map").read_text().split()[:2]) == ["1000", "0"]
    finally:
        server.stop()


def _fake_unshare(directory: Path, script: str) -> dict[str, str]:
    directory.mkdir()
    fake = directory / "unshare"
    fake.write_text("#!/bin/sh\n" + script)
    fake.chmod(0o755)
    return {**os.environ, "PATH": f"{directory}:/usr/bin:/bin"}


@as_root
@pytest.mark.parametrize(
    ("script", "said"),
    [
        ("echo 'unshare: unshare failed: Operation not permitted' >&2; exit 1", "Operation not permitted"),
        (None, "unshare is not installed"),
    ],
)
def test_as_root_without_user_namespaces_it_says_what_is_needed(tmp_path: Path, script: str | None, said: str) -> None:
    # no unshare on the PATH at all, or one that fails as a kernel without user namespaces makes it
    env = {**os.environ, "PATH": str(tmp_path)} if script is None else _fake_unshare(tmp_path / "bin", script)
    code = (
        "from pathlib import Path; from fleetreg.embedded import EmbeddedPostgres; "
        f"EmbeddedPostgres(Path({str(tmp_path / 'pg')!r})).start()"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("fleetreg.embedded.EmbeddedPostgresError: PostgreSQL does not run as root")
    assert "user namespace" in message
    assert said in message


def test_concurrent_starts_of_different_directories(tmp_path: Path) -> None:
    """Fresh directories started at the same moment (as pytest-xdist workers do) all come up: nothing
    is shared between them (no system user to create, no common socket directory)."""
    children = [holder(tmp_path / f"pg{n}", "once") for n in range(4)]
    for child in children:
        out, _ = child.communicate(timeout=120)
        assert child.returncode == 0
        assert int(out.strip()) > 0


def test_a_trust_cluster_of_an_earlier_fleetreg_is_brought_over(tmp_path: Path) -> None:
    """A data directory made by an earlier fleetreg (trust, and as root owned by fleetreg-pg):
    started, it keeps its data and takes passwords from then on."""
    directory = tmp_path / "pg"
    pgdata = directory / "data"
    pgdata.mkdir(parents=True, mode=0o700)
    prefix = list(user_namespace_prefix())
    bin_dir = binaries_dir()
    initdb = [*prefix, str(bin_dir / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust"]
    subprocess.run(initdb, check=True, capture_output=True)
    single_user = [*prefix, str(bin_dir / "postgres"), "--single", "-D", str(pgdata), "postgres"]
    rows = b"CREATE TABLE kept (n int); INSERT INTO kept VALUES (42);\n"
    subprocess.run(single_user, input=rows, check=True, capture_output=True)
    if os.geteuid() == 0:
        for path in [directory, *directory.rglob("*")]:
            os.chown(path, 995, 994)  # as the fleetreg-pg system user had them
    server = EmbeddedPostgres(directory)
    url = server.start()
    try:
        assert (
            subprocess.run([PSQL, "-tAc", "SELECT n FROM kept", url], capture_output=True, text=True).stdout == "42\n"
        )
        assert _psql(url.split("&passfile=")[0], env={"PGPASSFILE": "/dev/null"}).returncode != 0
        assert pgdata.stat().st_uid == os.geteuid()
    finally:
        server.stop()
