"""Expired Idempotency-Keys found by a BRIN index on ``created_at`` instead of a B-tree.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02

The B-tree of migration 0005 served one statement, the maintenance's batch delete of keys older than
24 hours, and cost every keyed write an insertion and its WAL (issue 16 allows the key 0.3 ms on a
connector PUT). Keys are stored in the order they are made, so their ``created_at`` follows the
table's blocks and a BRIN index (a few bytes per range of blocks, updated only when a range's bounds
move) finds the old blocks as well; a range whose space was reused holds both old and new keys and
is read in full, which costs the maintenance, not the writes.
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX idempotency_keys_created_idx")
    op.execute("CREATE INDEX idempotency_keys_created_idx ON idempotency_keys USING brin (created_at)")


def downgrade() -> None:
    op.execute("DROP INDEX idempotency_keys_created_idx")
    op.execute("CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)")
