"""The command line as a user runs it: real processes, real signals."""

from __future__ import annotations

import importlib.metadata
import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from fleetreg import migrate
from tests.support.problems import assert_problem
from tests.support.processes import FLEETREG, environment, free_port, wait_ready
from tests.support.waiting import wait_until_sync


def leftover_processes(data_dir: Path, server_pid: int) -> list[str]:
    found = []
    for process in psutil.process_iter(["pid", "name", "cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if str(data_dir) in cmdline or process.info["pid"] == server_pid:
            found.append(f"{process.info['pid']} {cmdline}")
    return found


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_serve_with_embedded_database_and_stop(tmp_path: Path, workers: int) -> None:
    port = free_port()
    data_dir = tmp_path / "var"
    process = subprocess.Popen(
        [*FLEETREG, "serve", "--port", str(port), "--workers", str(workers)],
        env=environment(FLEETREG_DATA_DIR=str(data_dir), FLEETREG_LOG_LEVEL="warning"),
    )
    try:
        base = f"http://127.0.0.1:{port}"
        ready = wait_ready(base, process)
        assert ready.json()["migration"] == migrate.head_revision()
        openapi = httpx.get(base + "/openapi.json").json()
        assert "/readyz" in openapi["paths"]
        missing = httpx.get(base + "/no/such/path")
        assert_problem(missing, 404, "Not Found")
        if workers > 1:
            children = psutil.Process(process.pid).children(recursive=True)
            assert len([c for c in children if "postgres" not in c.name()]) >= workers
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    # the server's workers and its PostgreSQL end after it (no fixed delay: until a deadline)
    wait_until_sync(lambda: leftover_processes(data_dir, process.pid) == [], "processes left behind", timeout=10)


@pytest.mark.slow
def test_serve_refuses_an_unmigrated_database_with_no_migrate(empty_database_url: str) -> None:
    result = subprocess.run(
        [*FLEETREG, "serve", "--no-migrate", "--port", str(free_port())],
        env=environment(FLEETREG_DATABASE_URL=empty_database_url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "fleetreg db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


def test_db_upgrade_and_current(empty_database_url: str) -> None:
    env = environment(FLEETREG_DATABASE_URL=empty_database_url)
    before = subprocess.run([*FLEETREG, "db", "current", "--json"], env=env, capture_output=True, text=True)
    assert json.loads(before.stdout) == {
        "current": None,
        "head": migrate.head_revision(),
        "up_to_date": False,
    }
    upgraded = subprocess.run([*FLEETREG, "db", "upgrade"], env=env, capture_output=True, text=True)
    assert upgraded.returncode == 0, upgraded.stderr
    after = subprocess.run([*FLEETREG, "db", "current", "--json"], env=env, capture_output=True, text=True)
    assert json.loads(after.stdout)["up_to_date"] is True


def test_bad_setting_is_one_clear_line() -> None:
    result = subprocess.run(
        [*FLEETREG, "db", "current"], env=environment(FLEETREG_PORT="eighty"), capture_output=True, text=True
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("fleetreg: error: FLEETREG_PORT:")


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    url = f"postgresql://postgres@/postgres?host={tmp_path}"
    result = subprocess.run(
        [*FLEETREG, "db", "current"],
        env=environment(FLEETREG_DATABASE_URL=url),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("fleetreg: error: cannot reach the database")
    assert "Traceback" not in result.stderr


async def test_backup_and_restore(database_url: str, tmp_path: Path) -> None:
    import asyncpg

    env = environment(FLEETREG_DATABASE_URL=database_url)
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("INSERT INTO partners (name) VALUES ('kept')")
        dump = tmp_path / "backup.dump"
        backed_up = subprocess.run([*FLEETREG, "db", "backup", str(dump)], env=env, capture_output=True, text=True)
        assert backed_up.returncode == 0, backed_up.stderr
        await connection.execute("INSERT INTO partners (name) VALUES ('after the backup')")
        await connection.execute("DELETE FROM partners WHERE name = 'kept'")
    finally:
        await connection.close()
    restored = subprocess.run([*FLEETREG, "db", "restore", "--yes", str(dump)], env=env, capture_output=True, text=True)
    assert restored.returncode == 0, restored.stderr
    connection = await asyncpg.connect(database_url)
    try:
        assert [r[0] for r in await connection.fetch("SELECT name FROM partners")] == ["kept"]
        assert await connection.fetchval("SELECT version_num FROM alembic_version") == migrate.head_revision()
    finally:
        await connection.close()


# -- the CLI imports lazily (issue 13 item 5) --

HEAVY = ("fastapi", "starlette", "granian", "sqlalchemy", "alembic")
LOADED_AFTER = """
import runpy, sys
sys.argv = ["fleetreg", *sys.argv[1:]]
try:
    runpy.run_module("fleetreg", run_name="__main__")
except SystemExit:
    pass
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})), file=sys.stderr)
"""


def _top_level_modules_after(env: dict[str, str], *args: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", LOADED_AFTER, *args], env=env, capture_output=True, text=True, timeout=120
    )
    return set(result.stderr.strip().splitlines()[-1].split())


def test_version_is_the_installed_packages() -> None:
    result = subprocess.run([*FLEETREG, "--version"], env=environment(), capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (0, f"fleetreg {importlib.metadata.version('fleetreg')}\n")


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["clients", "--help"], ["db", "--help"]])
def test_help_imports_no_web_framework_nor_sqlalchemy(args: list[str]) -> None:
    loaded = _top_level_modules_after(environment(), *args)
    assert "fleetreg" in loaded
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_clients_list_on_a_current_schema_imports_no_web_framework_nor_sqlalchemy(database_url: str) -> None:
    loaded = _top_level_modules_after(environment(FLEETREG_DATABASE_URL=database_url), "clients", "list")
    assert "asyncpg" in loaded, "the command ran"
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


# -- backups and restores (issue 14 item 10) --


async def test_a_backup_is_private_and_never_replaces_a_file_unasked(database_url: str, tmp_path: Path) -> None:
    env = environment(FLEETREG_DATABASE_URL=database_url)
    dump = tmp_path / "backup.dump"
    written = subprocess.run([*FLEETREG, "db", "backup", str(dump)], env=env, capture_output=True, text=True)
    assert written.returncode == 0, written.stderr
    assert dump.stat().st_mode & 0o777 == 0o600
    first = dump.read_bytes()

    again = subprocess.run([*FLEETREG, "db", "backup", str(dump)], env=env, capture_output=True, text=True)
    assert again.returncode == 2
    assert again.stderr == f"fleetreg: error: {dump} exists: give another file, or --force to replace it\n"
    assert dump.read_bytes() == first

    dump.chmod(0o644)
    forced = subprocess.run([*FLEETREG, "db", "backup", "--force", str(dump)], env=env, capture_output=True, text=True)
    assert forced.returncode == 0, forced.stderr
    assert dump.stat().st_mode & 0o777 == 0o600
    assert [path.name for path in tmp_path.iterdir()] == ["backup.dump"], "no partial file left behind"
