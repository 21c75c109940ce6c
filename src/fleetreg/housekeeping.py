"""Housekeeping that every ``fleetreg serve`` process runs at its start and then every ten minutes:
each job removes what its retention has expired (change events, docs/api.md §5; Idempotency-Keys,
§6), in small batches, each its own short transaction, so that it never holds a write back. The
processes of every instance share the work through the database (a job's batches skip what another
process holds); a job that fails (the database is down) logs and waits for the next turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping

log = logging.getLogger("fleetreg.housekeeping")

EVERY_SECONDS = 600.0

Job = Callable[[], Awaitable[object]]


class Housekeeping:
    def __init__(self, jobs: Mapping[str, Job], every_seconds: float = EVERY_SECONDS) -> None:
        self.jobs = dict(jobs)
        self.every_seconds = every_seconds
        self._task: asyncio.Task[None] | None = None
        self.turns = 0
        """Turns done, every job tried once in each."""

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="housekeeping")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            for name, job in self.jobs.items():
                try:
                    await job()
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # the database is down: the next turn tries again
                    log.warning("%s: %s", name, error)
            self.turns += 1
            await asyncio.sleep(self.every_seconds)
