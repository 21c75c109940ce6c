"""Connectors: the reference to their partner is held through connector_totals, not per row.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

``connectors_partner_id_fkey`` checked every inserted connector's partner, one lookup and row lock per
row: 5 of the 19 seconds of a million-row import (bench/README.md). The database holds the same
invariant without it. Every statement that inserts connectors, or moves them to another partner,
runs ``connectors_keep_totals`` (migration 0002) in the same statement: it upserts a
``connector_totals`` row for each partner among the new rows, and ``connector_totals.partner_id``
references ``partners``. So a connector of an unknown partner fails its statement on that key (an
existing totals row means the partner exists), and a partner with connectors cannot be deleted while
its totals rows reference it (they are never deleted). Tested in
``tests/partner/test_partner_tenancy.py`` (``TestPartnerReference``).
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE connectors DROP CONSTRAINT connectors_partner_id_fkey")


def downgrade() -> None:
    op.execute(
        "ALTER TABLE connectors ADD CONSTRAINT connectors_partner_id_fkey FOREIGN KEY (partner_id) REFERENCES partners (id)"
    )
