"""A primary, a streaming replica and PgBouncer on this machine, from the embedded PostgreSQL's binaries.

The primary is an ``EmbeddedPostgres``; the replica is made from it with ``pg_basebackup -R`` (it
streams from the primary over its unix socket, with the same password file) and started as another
``EmbeddedPostgres``; PgBouncer (Debian's, installed with apt when missing and running as root) runs
in front of the primary in transaction mode on a loopback port. As root, PgBouncer (which refuses to
run as root) and the server programs run in a user namespace, as the embedded server does.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import psycopg

from fleetreg.embedded import EmbeddedPostgres, binaries_dir, user_namespace_prefix
from tests.support.database import TEST_SERVER_OPTIONS, database_url_for
from tests.support.processes import free_port
from tests.support.waiting import wait_until_sync

DATABASE = "fleetreg"


def pgbouncer_program() -> str:
    """PgBouncer's path; installed from Debian when missing and running as root (as CI does)."""
    found = shutil.which("pgbouncer") or (os.path.exists("/usr/sbin/pgbouncer") and "/usr/sbin/pgbouncer")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise RuntimeError("these tests need PgBouncer: apt-get install pgbouncer (as root)")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT, "check": True}
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    lock = ["-o", "DPkg::Lock::Timeout=300"]
    try:
        subprocess.run(["apt-get", *lock, "install", "-y", "--no-install-recommends", "pgbouncer"], env=env, **quiet)
    except subprocess.CalledProcessError:
        subprocess.run(["apt-get", *lock, "update"], env=env, **quiet)
        subprocess.run(["apt-get", *lock, "install", "-y", "--no-install-recommends", "pgbouncer"], env=env, **quiet)
    return shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def _password(embedded: EmbeddedPostgres) -> str:
    return embedded.password_file.read_text().strip().rsplit(":", 1)[1]


def _sql(url: str, *statements: str) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as connection:
        for statement in statements:
            cursor = connection.execute(statement)
            if cursor.description is not None:
                rows = cursor.fetchall()
    return rows


@dataclass
class Cluster:
    primary: EmbeddedPostgres
    replica: EmbeddedPostgres
    pgbouncer_port: int

    @property
    def primary_url(self) -> str:
        return database_url_for(self.primary.url(), DATABASE)

    @property
    def replica_url(self) -> str:
        return database_url_for(self.replica.url(), DATABASE)

    @property
    def pooled_url(self) -> str:
        """The database through PgBouncer (the password from the primary's password file)."""
        return f"postgresql://postgres@127.0.0.1:{self.pgbouncer_port}/{DATABASE}?passfile={self.primary.password_file}"

    def on_primary(self, *statements: str) -> list[tuple[object, ...]]:
        return _sql(self.primary_url, *statements)

    def on_replica(self, *statements: str) -> list[tuple[object, ...]]:
        return _sql(self.replica_url, *statements)

    def wait_replica_caught_up(self, timeout: float = 30) -> None:
        """Until the replica has replayed everything the primary wrote so far."""
        (target,) = self.on_primary("SELECT pg_current_wal_lsn()::text")[0]

        def caught_up() -> bool:
            try:
                rows = self.on_replica(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")
            except psycopg.OperationalError:
                return False
            return bool(rows[0][0])

        wait_until_sync(caught_up, "the replica did not catch up", timeout=timeout, interval=0.05)

    def stop_replica(self) -> None:
        subprocess.run(
            [
                *user_namespace_prefix(),
                str(binaries_dir() / "pg_ctl"),
                "-D",
                str(self.replica.pgdata),
                "stop",
                "-m",
                "fast",
                "-w",
            ],
            check=True,
            capture_output=True,
            cwd="/",
        )

    def start_replica(self) -> None:
        self.replica.recover()


def _make_primary(directory: Path) -> EmbeddedPostgres:
    # The test options, but durable enough to stream (full_page_writes is needed by pg_basebackup).
    options = {**TEST_SERVER_OPTIONS, "full_page_writes": "on", "wal_level": "replica", "max_wal_senders": "4"}
    primary = EmbeddedPostgres(directory / "primary", server_options=options)
    primary.start()
    with (primary.pgdata / "pg_hba.conf").open("a") as hba:
        hba.write("local replication all scram-sha-256\n")
    _sql(primary.url(), "SELECT pg_reload_conf()", f'CREATE DATABASE "{DATABASE}"')
    return primary


def _make_replica(primary: EmbeddedPostgres, directory: Path) -> EmbeddedPostgres:
    replica_dir = directory / "replica"
    replica_dir.mkdir()
    shutil.copy2(primary.password_file, replica_dir / "pgpass")
    subprocess.run(
        [
            *user_namespace_prefix(),
            str(binaries_dir() / "pg_basebackup"),
            "-D",
            str(replica_dir / "data"),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "-d",
            primary.url(),
        ],
        check=True,
        capture_output=True,
        cwd="/",
        timeout=120,
    )
    replica = EmbeddedPostgres(replica_dir, server_options={**TEST_SERVER_OPTIONS, "hot_standby": "on"})
    replica.start()
    return replica


@contextlib.contextmanager
def _pgbouncer(primary: EmbeddedPostgres, directory: Path) -> Iterator[int]:
    program = pgbouncer_program()
    home = directory / "pgbouncer"
    home.mkdir()
    port = free_port()
    users = home / "userlist.txt"
    users.write_text(f'"postgres" "{_password(primary)}"\n')
    users.chmod(0o600)
    socket_dir = unquote(primary.url().split("host=", 1)[1].split("&", 1)[0])
    config = home / "pgbouncer.ini"
    config.write_text(
        "[databases]\n"
        f"* = host={socket_dir}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = scram-sha-256\nauth_file = {users}\n"
        "pool_mode = transaction\ndefault_pool_size = 20\nmax_client_conn = 1000\n"
        f"logfile = {home / 'pgbouncer.log'}\npidfile = {home / 'pgbouncer.pid'}\n"
        "ignore_startup_parameters = extra_float_digits\n"
    )
    process = subprocess.Popen(
        [*user_namespace_prefix(), program, str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd="/",
        start_new_session=True,
    )
    try:
        url = f"postgresql://postgres@127.0.0.1:{port}/{DATABASE}?passfile={primary.password_file}"

        def answers() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"pgbouncer exited: {(home / 'pgbouncer.log').read_text()[-2000:]}")
            try:
                _sql(url, "SELECT 1")
            except psycopg.OperationalError:
                return False
            return True

        wait_until_sync(answers, "pgbouncer did not answer", timeout=30, interval=0.1)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def cluster(directory: Path) -> Iterator[Cluster]:
    """The primary (its database ``fleetreg`` migrated by ``migrate``), its replica and PgBouncer."""
    from fleetreg import migrate

    primary = _make_primary(directory)
    replica: EmbeddedPostgres | None = None
    try:
        migrate.upgrade(database_url_for(primary.url(), DATABASE))
        replica = _make_replica(primary, directory)
        with _pgbouncer(primary, directory) as port:
            built = Cluster(primary, replica, port)
            built.wait_replica_caught_up()
            yield built
    finally:
        if replica is not None:
            with contextlib.suppress(Exception):
                replica.stop()
        primary.stop()
