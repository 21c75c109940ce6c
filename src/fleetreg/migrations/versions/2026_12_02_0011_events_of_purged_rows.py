"""Change events of rows removed for real from the softly deleted tables.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

Enterprises, vehicles and devices are deleted softly by every fleetreg path (``deleted_at`` is the
``.deleted`` event, migration 0006), but a ``DELETE`` in SQL (an operator's purge in psql, a test
emptying a table) fired their statement trigger with only the old rows, and the function read the
new ones: the ``DELETE`` failed ("relation new_rows does not exist"). Their delete triggers now run
``events_of_purged_rows``: a purged row that was still live is ``<kind>.deleted``; one deleted
softly before had its event then.
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# table -> (the event's kind, the expression of the row's enterprise over alias o)
SOFTLY_DELETED = {
    "enterprises": ("enterprise", "o.id"),
    "vehicles": ("vehicle", "o.enterprise_id"),
    "devices": ("device", "o.enterprise_id"),
}


def upgrade() -> None:
    op.execute("""
CREATE FUNCTION events_of_purged_rows() RETURNS trigger LANGUAGE plpgsql AS $$
-- TG_ARGV[0]: the kind ("vehicle"); TG_ARGV[1]: the row's enterprise over alias o.
DECLARE
    made bigint;
BEGIN
    EXECUTE format(
        'INSERT INTO pending_events (type, enterprise_id, subject_type, subject_id, before) '
        'SELECT %L, %s, %L, o.id, %I(o) FROM old_rows AS o WHERE o.deleted_at IS NULL',
        TG_ARGV[0] || '.deleted', TG_ARGV[1], TG_ARGV[0], 'render_' || TG_TABLE_NAME);
    GET DIAGNOSTICS made = ROW_COUNT;
    IF made > 0 THEN PERFORM events_mark_transaction(); END IF;
    RETURN NULL;
END
$$;
""")
    for table, (kind, enterprise) in SOFTLY_DELETED.items():
        op.execute(f"DROP TRIGGER {table}_events_delete ON {table}")
        op.execute(
            f"CREATE TRIGGER {table}_events_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION events_of_purged_rows('{kind}', '{enterprise}')"
        )


def downgrade() -> None:
    for table in SOFTLY_DELETED:
        op.execute(f"DROP TRIGGER {table}_events_delete ON {table}")
        op.execute(
            f"CREATE TRIGGER {table}_events_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_events()"
        )
    op.execute("DROP FUNCTION events_of_purged_rows()")
