"""Baseline: the schema is managed by these migrations from here on.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
