"""Webhooks: endpoints per partner or fleet caller, and one delivery per (webhook, event) (docs/api.md §5).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

A webhook belongs to a partner (``partner_id``) or to the fleet (``partner_id`` NULL; then
``enterprise_id`` is the enterprise its creator is bound to, NULL: every fleet event), and gets the
events that owner reads in the feed. ``cursor`` is the last event sequence fanned out to it: the
delivery task of every ``fleetreg serve`` process locks a webhook (FOR UPDATE SKIP LOCKED), makes
one ``webhook_deliveries`` row per new event of its types and moves the cursor, in one transaction,
so no event is fanned out twice or skipped (the feed's horizon, migration 0006).

A delivery is claimed by setting ``lease`` and pushing ``next_attempt_at`` 30 s ahead (rows
locked FOR UPDATE SKIP LOCKED while claiming), then attempted outside any transaction; its result
is recorded only under the same lease. A process killed mid-attempt leaves a lease that expires:
the delivery is attempted again (at least once). ``subject_id`` orders deliveries per subject: one
is claimed only when no earlier pending delivery of the same webhook and subject exists.

Signing secrets are stored as they are: an HMAC is computed from the secret itself, so a hash of it
cannot sign (docs/events.md, "Secrets"). ``previous_secret`` signs beside the new one until
``previous_secret_expires_at`` (24 h after a rotation).
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
CREATE TABLE webhooks (
    id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partner_id                  uuid REFERENCES partners (id),
    enterprise_id               text,
    url                         text NOT NULL CONSTRAINT webhooks_url_check CHECK (length(url) BETWEEN 1 AND 2000),
    types                       text[] NOT NULL CONSTRAINT webhooks_types_check CHECK (cardinality(types) >= 1),
    description                 text CONSTRAINT webhooks_description_check CHECK (length(description) <= 500),
    enabled                     boolean NOT NULL DEFAULT true,
    secret                      text NOT NULL,
    previous_secret             text,
    previous_secret_expires_at  timestamptz,
    cursor                      bigint NOT NULL,
    failing_since               timestamptz,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhooks_owner_check CHECK (partner_id IS NULL OR enterprise_id IS NULL)
);
CREATE INDEX webhooks_partner_idx ON webhooks (partner_id, created_at) WHERE partner_id IS NOT NULL;
CREATE INDEX webhooks_enabled_idx ON webhooks (cursor) WHERE enabled;

CREATE TABLE webhook_deliveries (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    webhook_id       uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_sequence   bigint NOT NULL,
    subject_id       text NOT NULL,
    state            text NOT NULL DEFAULT 'pending'
        CONSTRAINT webhook_deliveries_state_check CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         jsonb NOT NULL DEFAULT '[]',
    next_attempt_at  timestamptz,
    lease            uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_deliveries_event_key UNIQUE (webhook_id, event_sequence)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_subject_idx ON webhook_deliveries (webhook_id, subject_id, event_sequence)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (webhook_id, created_at DESC, event_sequence DESC);
""")


def downgrade() -> None:
    op.execute("DROP TABLE webhook_deliveries, webhooks")
