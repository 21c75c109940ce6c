"""The event feed's pages never run as parallel plans.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

A page is at most 1,001 rows read in sequence order from the primary key. Once the server caches a
generic plan for the page's prepared statement (after five executions), at 10M stored events the
planner chose a Gather Merge over a parallel index scan for it: launching the two workers took a
page at the head from 0.33 ms to 5.6 ms, so the feed's latency was no longer flat in its size. No
query of ``events`` (a page, a webhook's fan-out, retention's deletes in batches) gains from workers.
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE events SET (parallel_workers = 0)")


def downgrade() -> None:
    op.execute("ALTER TABLE events RESET (parallel_workers)")
