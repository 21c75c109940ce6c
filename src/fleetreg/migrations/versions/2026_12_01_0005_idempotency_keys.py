"""Idempotency keys: the stored answers of writes sent with an Idempotency-Key (docs/api.md §6).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

One row per (caller, key): the request's fingerprint (method, path and body, SHA-256) and the answer
(status, headers, body). A row is written in the transaction of the write it belongs to
(fleetreg.writes), so the write and its key commit together or not at all. Rows older than 24 hours
are expired: ignored by lookups, replaced by a new use of the key, deleted by the maintenance task
in batches (the index on created_at finds them).
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
CREATE TABLE idempotency_keys (
    caller       text NOT NULL,
    key          text NOT NULL CONSTRAINT idempotency_keys_key_check CHECK (length(key) BETWEEN 1 AND 255),
    fingerprint  bytea NOT NULL,
    status       smallint NOT NULL,
    headers      jsonb NOT NULL,
    body         bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
""")


def downgrade() -> None:
    op.execute("DROP TABLE idempotency_keys")
