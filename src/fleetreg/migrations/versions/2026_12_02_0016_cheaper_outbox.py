"""The outbox, cheaper per event: times rendered inline with one ``to_char``, the actor read once per commit.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

Issue 15 allows the outbox 15 % on a bulk create of 1,000 associations; it cost 31 % (about 29 µs
an event). Two parts of that were per row and need not be:

- ``api_time`` was never inlined into the render functions: it was declared ``IMMUTABLE`` while
  ``to_char`` is ``STABLE``, and PostgreSQL inlines no function that claims more than its body
  keeps, so each of an association's four times was a call of an SQL function. It is now
  ``STABLE`` (what it is), and calls ``to_char`` once instead of twice beside a ``date_part``: it
  asks whether the time has a fraction and formats with or without ``.US``. The events trigger on
  1,000 associations went from 16.4 to 5.1 ms (``EXPLAIN ANALYZE``); the text is the same (compared
  over 100,000 times, with and without fractions; tests/events/test_rendering.py).
- Every pending event parsed the actor (``fleetreg.actor``, JSON) as its column's default. The
  actor is the transaction's (``Database.transaction`` sets it once), so the commit step reads it
  once and gives it to every event it sequences; ``pending_events`` loses the column.
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

API_TIME = """
CREATE OR REPLACE FUNCTION api_time(t timestamptz) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN date_trunc('second', t) = t THEN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                ELSE to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END
$$;
"""
OLD_API_TIME = """
CREATE OR REPLACE FUNCTION api_time(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN date_part('microseconds', t)::bigint % 1000000 = 0 THEN ''
                ELSE to_char(t AT TIME ZONE 'UTC', '.US') END
        || 'Z'
$$;
"""
# The commit step of migration 0006 (``{actor}``: the commit's, read once, or the pending row's), as one
# statement: each statement of a PL/pgSQL function costs an executor start and end, and the commit of a
# single change paid six.
SEQUENCE_AT_COMMIT = """
CREATE OR REPLACE FUNCTION events_sequence_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cleared text;  -- set_config's and pg_notify's results, unused
    notified text;
BEGIN
    -- The serialized step: held until this transaction's commit is visible (migration 0006).
    PERFORM pg_advisory_xact_lock(7306916436585427717);
    WITH moved AS (
        DELETE FROM pending_events WHERE xid = pg_current_xact_id() RETURNING *
    ), sequenced AS (
        INSERT INTO events (sequence, occurred_at, type, partner_id, enterprise_id, actor, subject_type,
                            subject_id, before, after)
        SELECT nextval('events_sequence'), occurred_at, type, partner_id, enterprise_id, {actor}, subject_type,
               subject_id, before, after
        FROM (SELECT * FROM moved ORDER BY ordinal) AS in_order
        RETURNING sequence
    ), mark_gone AS (
        DELETE FROM event_commit_marks WHERE xid = pg_current_xact_id()
    )
    SELECT set_config('fleetreg.events_marked', '', true),
           CASE WHEN max(sequence) IS NOT NULL THEN pg_notify('fleetreg_events', max(sequence)::text)::text END
    INTO cleared, notified
    FROM sequenced;
    RETURN NULL;
END
$$;
"""
# a scalar subquery: evaluated once per commit, not once per event
COMMIT_ACTOR = "(SELECT coalesce(nullif(current_setting('fleetreg.actor', true), ''), '{\"kind\":\"cli\"}')::json)"


def upgrade() -> None:
    op.execute(API_TIME)
    op.execute(SEQUENCE_AT_COMMIT.format(actor=COMMIT_ACTOR))
    op.execute("ALTER TABLE pending_events DROP COLUMN actor")


def downgrade() -> None:
    op.execute(
        "ALTER TABLE pending_events ADD COLUMN actor json NOT NULL "
        """DEFAULT coalesce(nullif(current_setting('fleetreg.actor', true), ''), '{"kind":"cli"}')::json"""
    )
    op.execute(SEQUENCE_AT_COMMIT.format(actor="actor"))
    op.execute(OLD_API_TIME)
