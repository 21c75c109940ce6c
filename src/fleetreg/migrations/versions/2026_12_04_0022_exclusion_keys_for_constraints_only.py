"""The history's exclusion indexes serve their constraints only: their id columns in the "C" collation.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04

The GiST indexes of "a device on one vehicle at a time" and "one main per vehicle at a time" (0012,
0013) are ordered by ``hashtext(id)`` first. The planner, which cannot tell that a search without the
hash descends nearly every branch, took them for a plain ``device_id = $1``: a device's history, the
check before a device is deleted, the conflicts of a backdated write. On the bench's 15,000
associations such a lookup read 160 pages in 1.0-1.7 ms against 0.03-0.1 ms by the btree
``device_associations_device_history_idx`` beside it, and it grew with the table (a device's history
2.2x slower from 10,000 to 50,000 connectors' worth of data, flat by the btree).

An index column in another collation than the query's cannot answer it, so with the ids as
``id COLLATE "C"`` only the constraints use these indexes and every lookup goes to a btree. The
constraints are exactly what they were: equality of text under a deterministic collation (the
default one, or "C") is equality of bytes.
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

DEVICE_RANGE = "tstzrange(created_at, ended_at)"
MAIN_RANGE = "tstzrange(coalesce(main_since, created_at), ended_at)"


def _constraints(device_key: str, vehicle_key: str) -> str:
    return f"""
ALTER TABLE device_associations
    DROP CONSTRAINT device_associations_device_overlap_excl,
    DROP CONSTRAINT device_associations_main_overlap_excl,
    ADD CONSTRAINT device_associations_device_overlap_excl
        EXCLUDE USING gist (hashtext(device_id) WITH =, {device_key} WITH =, {DEVICE_RANGE} WITH &&),
    ADD CONSTRAINT device_associations_main_overlap_excl
        EXCLUDE USING gist (hashtext(vehicle_id) WITH =, {vehicle_key} WITH =, {MAIN_RANGE} WITH &&)
        WHERE (is_main_device);
"""


def upgrade() -> None:
    op.execute(_constraints('(device_id COLLATE "C")', '(vehicle_id COLLATE "C")'))


def downgrade() -> None:
    op.execute(_constraints("device_id", "vehicle_id"))
