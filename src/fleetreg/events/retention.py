"""Retention of the change events (``FLEETREG_EVENT_RETENTION_DAYS``, docs/api.md §5): every process
prunes now and then (``fleetreg.housekeeping``), in small batches, each its own short transaction, so
that pruning never holds back a write (events are never written again once committed; the writers
touch only new rows).

A batch removes the oldest events up to the newest one among the 10,000 oldest that is past the
retention: by sequence, so that the events kept are always one unbroken stretch of the feed and
``events_pruned`` (the highest sequence removed) tells exactly which cursors are expired. An event
of a transaction that ran long may go with the older ones around it, a little before its own time.
"""

from __future__ import annotations

from fleetreg.db import Connection, Database

BATCH = 10_000
# One pruner at a time among the processes; the others skip their turn.
PRUNE_LOCK = 7306916436585427718

PRUNE_BATCH = f"""
WITH cut AS (
    SELECT max(sequence) AS sequence FROM (
        SELECT sequence, occurred_at FROM events ORDER BY sequence LIMIT {BATCH}
    ) AS oldest
    WHERE occurred_at < now() - make_interval(days => $1)
), removed AS (
    DELETE FROM events WHERE sequence <= (SELECT sequence FROM cut) RETURNING sequence
)
UPDATE events_pruned SET through_sequence = greatest(through_sequence, (SELECT max(sequence) FROM removed))
WHERE EXISTS (SELECT 1 FROM removed)
RETURNING through_sequence
"""
FAIL_ORPHANED_DELIVERIES = """
UPDATE webhook_deliveries SET state = 'failed', next_attempt_at = NULL
WHERE state = 'pending' AND event_sequence <= (SELECT through_sequence FROM events_pruned)
"""


async def prune(db: Database, retention_days: int) -> int:
    """Remove the events older than ``retention_days`` (0: none); how many batches ran."""
    if retention_days <= 0:
        return 0
    batches = 0
    while True:

        async def batch(connection: Connection) -> bool:
            if not await connection.fetchval("SELECT pg_try_advisory_xact_lock($1)", PRUNE_LOCK):
                return False
            pruned = await connection.fetchval(PRUNE_BATCH, retention_days)
            if pruned is not None:
                await connection.execute(FAIL_ORPHANED_DELIVERIES)
            return pruned is not None

        if not await db.write(batch):
            return batches
        batches += 1
