"""The rate limit's buckets, shared by every instance (fleetreg.auth.ratelimit).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

UNLOGGED: a bucket is rewritten on every request of its client, and losing them all in a crash only
gives every client a full burst again; so no WAL is written for them (and replicas have none:
the limit is taken on the primary).
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
CREATE UNLOGGED TABLE rate_limit_buckets (
    client_id   text PRIMARY KEY,
    tokens      float8 NOT NULL,
    allowed     boolean NOT NULL,
    updated_at  timestamptz NOT NULL
)
""")


def downgrade() -> None:
    op.execute("DROP TABLE rate_limit_buckets")
