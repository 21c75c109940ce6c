"""What the robustness tests share: the fleet helpers, exact counter tables, and a served fleetreg.

A module of its own (no conftest.py here: tests/ is not a package, see tests/fleet/fleet_helpers.py).
tests/fleet is put on ``sys.path`` so that ``fleet_helpers`` imports whichever directory pytest
collected first.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg

_FLEET_TESTS = str(Path(__file__).resolve().parent.parent / "fleet")
if _FLEET_TESTS not in sys.path:
    sys.path.append(_FLEET_TESTS)

from fleet_helpers import Fleet, assert_invariants, luhn_complete  # noqa: E402

from fleetreg_testing import FLEETREG, database_url_for, environment, free_port, wait_ready  # noqa: E402

__all__ = [
    "Fleet",
    "Served",
    "assert_invariants",
    "assert_totals_exact",
    "fresh_database",
    "luhn_complete",
    "served",
]


@contextlib.contextmanager
def fresh_database(server_url: str, template: str) -> Iterator[str]:
    """A database of its own, copied from the migrated template, dropped on exit (for fixtures
    wider than one test, which cannot use the function-scoped ``database_url``)."""
    name = f"fleetreg_robust_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin_execute(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield database_url_for(server_url, name)
    finally:
        asyncio.run(_admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin_execute(server_url: str, statement: str) -> None:
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def assert_totals_exact(db: asyncpg.Connection) -> None:
    """Every counter kept by triggers equals the COUNT(*) it stands for."""
    fleet = await db.fetch(
        """
        WITH counted AS (
            SELECT 'vehicles' AS kind, enterprise_id, count(*) AS n FROM vehicles WHERE deleted_at IS NULL GROUP BY 2
            UNION ALL
            SELECT 'devices', enterprise_id, count(*) FROM devices WHERE deleted_at IS NULL GROUP BY 2
            UNION ALL
            SELECT 'enterprises', '', count(*) FROM enterprises WHERE deleted_at IS NULL
            UNION ALL
            SELECT 'chips', '', count(*) FROM chips
        )
        SELECT coalesce(c.kind, t.kind) AS kind, coalesce(c.enterprise_id, t.enterprise_id) AS enterprise_id,
               coalesce(c.n, 0) AS counted, coalesce(t.n, 0) AS kept
        FROM counted AS c FULL JOIN fleet_totals AS t ON t.kind = c.kind AND t.enterprise_id = c.enterprise_id
        WHERE coalesce(c.n, 0) <> coalesce(t.n, 0)
        """
    )
    assert fleet == [], f"fleet_totals differ from COUNT(*): {[dict(row) for row in fleet]}"
    connectors = await db.fetch(
        """
        WITH counted AS (
            SELECT partner_id, type, customer_id IS NOT NULL AS assigned, count(*) AS n FROM connectors GROUP BY 1, 2, 3
        )
        SELECT coalesce(c.partner_id, t.partner_id) AS partner_id, coalesce(c.type, t.type) AS type,
               coalesce(c.n, 0) AS counted, coalesce(t.n, 0) AS kept
        FROM counted AS c FULL JOIN connector_totals AS t
             ON t.partner_id = c.partner_id AND t.type = c.type AND t.assigned = c.assigned
        WHERE coalesce(c.n, 0) <> coalesce(t.n, 0)
        """
    )
    assert connectors == [], f"connector_totals differ from COUNT(*): {[dict(row) for row in connectors]}"
    by_customer = await db.fetch(
        """
        WITH counted AS (
            SELECT partner_id, customer_id, type, count(*) AS n FROM connectors
            WHERE customer_id IS NOT NULL GROUP BY 1, 2, 3
        )
        SELECT coalesce(c.customer_id, t.customer_id) AS customer_id, coalesce(c.n, 0) AS counted,
               coalesce(t.n, 0) AS kept
        FROM counted AS c FULL JOIN customer_connector_totals AS t
             ON t.partner_id = c.partner_id AND t.customer_id = c.customer_id AND t.type = c.type
        WHERE coalesce(c.n, 0) <> coalesce(t.n, 0)
        """
    )
    assert by_customer == [], f"customer_connector_totals differ: {[dict(row) for row in by_customer]}"
    customers = await db.fetch(
        """
        WITH counted AS (SELECT partner_id, count(*) AS n FROM customers GROUP BY 1)
        SELECT coalesce(c.partner_id, t.partner_id) AS partner_id, coalesce(c.n, 0) AS counted,
               coalesce(t.n, 0) AS kept
        FROM counted AS c FULL JOIN customer_totals AS t ON t.partner_id = c.partner_id
        WHERE coalesce(c.n, 0) <> coalesce(t.n, 0)
        """
    )
    assert customers == [], f"customer_totals differ from COUNT(*): {[dict(row) for row in customers]}"


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
        FLEETREG_LOG_LEVEL="warning",
        **{f"FLEETREG_{name.upper()}": value for name, value in settings.items()},
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
