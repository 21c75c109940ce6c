"""Operators of the console and their sign-in sessions (docs/api.md §8).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

An operator is a person who signs in to /console: an email (unique whatever its case), an argon2
hash of the password, and a role: admin (everything), partner (one partner's customers and
connectors) or enterprise (one enterprise's fleet). Failed sign-ins are counted on the row, so that
every worker process sees the same count and the account locks for a while after too many.

A session is the SHA-256 of the random token in the operator's cookie (never the token itself) and
when it expires; disabling an operator or resetting the password deletes their sessions.
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(r"""
CREATE TABLE operators (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email            text NOT NULL CONSTRAINT operators_email_check CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 254),
    role             text NOT NULL CONSTRAINT operators_role_check CHECK (role IN ('admin', 'partner', 'enterprise')),
    partner_id       uuid REFERENCES partners (id),
    enterprise_id    text REFERENCES enterprises (id),
    password_hash    text NOT NULL,
    failed_sign_ins  integer NOT NULL DEFAULT 0,
    locked_until     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    disabled_at      timestamptz,
    -- an admin is bound to nothing, a partner operator to one partner, an enterprise operator to one enterprise
    CONSTRAINT operators_role_binding_check CHECK (
        (role = 'admin' AND partner_id IS NULL AND enterprise_id IS NULL)
        OR (role = 'partner' AND partner_id IS NOT NULL AND enterprise_id IS NULL)
        OR (role = 'enterprise' AND enterprise_id IS NOT NULL AND partner_id IS NULL)
    )
);
CREATE UNIQUE INDEX operators_email_key ON operators (lower(email));

CREATE TABLE operator_sessions (
    token_hash   bytea PRIMARY KEY,
    operator_id  uuid NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX operator_sessions_operator_idx ON operator_sessions (operator_id);
CREATE INDEX operator_sessions_expires_idx ON operator_sessions (expires_at);
""")


def downgrade() -> None:
    op.execute("DROP TABLE operator_sessions; DROP TABLE operators")
