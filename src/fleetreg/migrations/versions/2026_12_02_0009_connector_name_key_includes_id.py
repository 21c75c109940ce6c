"""The unique (partner_id, name) index of connectors carries the id: a deep page by offset is found
by an index-only scan, then only its rows are read (fleetreg.partner.queries.connector_page_query).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

The last page of a million connectors took 1.3-1.5 s when every skipped row was read from the table;
skipping index entries instead takes a fraction (docs/scaling.md). The constraint keeps its name, so
a duplicate name is still reported as connectors_partner_id_name_key.
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
ALTER TABLE connectors
    DROP CONSTRAINT connectors_partner_id_name_key,
    ADD CONSTRAINT connectors_partner_id_name_key UNIQUE (partner_id, name) INCLUDE (id)
""")


def downgrade() -> None:
    op.execute("""
ALTER TABLE connectors
    DROP CONSTRAINT connectors_partner_id_name_key,
    ADD CONSTRAINT connectors_partner_id_name_key UNIQUE (partner_id, name)
""")
