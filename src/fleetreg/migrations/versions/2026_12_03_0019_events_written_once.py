"""A transaction that takes the events' lock early writes its events once, straight into ``events``.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03

Events are written twice (migration 0006): into ``pending_events`` by the entity triggers, then moved
into ``events`` by the commit step, which draws their sequence numbers under the lock that makes
``sequence`` follow commit order. For a write of a few rows that costs little; for an import it is
half of the whole: 100,000 connectors took 2.3 s to insert (the events trigger 0.5 s of it) and
1.7 s to commit, nearly all of it the move (``python -m bench.scale insert``), and 10,000,000 held
the lock for over ten minutes in the ``COMMIT``.

``events_sequence_now()`` takes the lock at once, moves what this transaction recorded so far (in
order, ahead of what follows), and turns the transaction's setting ``fleetreg.events_direct`` on.
From then on the rule ``pending_events_direct`` rewrites the triggers' inserts into
``pending_events`` into inserts into ``events``, each event with its sequence number drawn there: no
other transaction draws one until this one's commit is visible, which is what the commit step
guarantees, so the feed's horizon holds as before. The commit step still runs (the function marks
the transaction), moves nothing, and notifies the followers. The rule is one-time filtered per
statement (its condition reads no row), so the triggers need no change and the usual path only
plans the second, empty insert.

The price: every other transaction that makes events waits for the lock until this one commits,
from the call on instead of for its commit step only. ``fleetreg import`` calls it right before the
statement that moves the checked rows into their table (``fleetreg.importer``), so the wait is that
statement and the commit, which the move made longer than that before.
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

LOCK = "PERFORM pg_advisory_xact_lock(7306916436585427717);"
ACTOR = """(SELECT coalesce(nullif(current_setting('fleetreg.actor', true), ''), '{"kind":"cli"}')::json)"""
DIRECT = "coalesce(current_setting('fleetreg.events_direct', true), '') = 'on'"
FOLLOWED = "EXISTS (SELECT FROM event_followers WHERE until > now())"
# This transaction's pending events into ``events`` in the order they were recorded (migration 0006).
MOVED = f"""
    WITH moved AS (
        DELETE FROM pending_events WHERE xid = pg_current_xact_id() RETURNING *
    ), sequenced AS (
        INSERT INTO events (sequence, occurred_at, type, partner_id, enterprise_id, actor, subject_type,
                            subject_id, before, after)
        SELECT nextval('events_sequence'), occurred_at, type, partner_id, enterprise_id, {ACTOR},
               subject_type, subject_id, before, after
        FROM (SELECT * FROM moved ORDER BY ordinal) AS in_order
        RETURNING sequence
    )"""
SEQUENCE_AT_COMMIT = f"""
CREATE OR REPLACE FUNCTION events_sequence_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cleared text;  -- set_config's and pg_notify's results, unused
    notified text;
BEGIN
    -- The serialized step: held until this transaction's commit is visible (migration 0006).
    {LOCK}
    {MOVED}, mark_gone AS (
        DELETE FROM event_commit_marks WHERE xid = pg_current_xact_id()
    )
    SELECT set_config('fleetreg.events_marked', '', true),
           CASE WHEN max(sequence) IS NOT NULL AND {FOLLOWED}
                    THEN pg_notify('fleetreg_events', max(sequence)::text)::text
                WHEN {DIRECT} AND {FOLLOWED}  -- written straight into events: the last drawn is this one's
                    THEN pg_notify('fleetreg_events', pg_sequence_last_value('events_sequence')::text)::text END
    INTO cleared, notified
    FROM sequenced;
    RETURN NULL;
END
$$;
"""
OLD_SEQUENCE_AT_COMMIT = f"""
CREATE OR REPLACE FUNCTION events_sequence_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cleared text;
    notified text;
BEGIN
    {LOCK}
    {MOVED}, mark_gone AS (
        DELETE FROM event_commit_marks WHERE xid = pg_current_xact_id()
    )
    SELECT set_config('fleetreg.events_marked', '', true),
           CASE WHEN max(sequence) IS NOT NULL AND {FOLLOWED}
                THEN pg_notify('fleetreg_events', max(sequence)::text)::text END
    INTO cleared, notified
    FROM sequenced;
    RETURN NULL;
END
$$;
"""
SEQUENCE_NOW = f"""
CREATE FUNCTION events_sequence_now() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    moved bigint;  -- unused
BEGIN
    {LOCK}
    {MOVED}
    SELECT count(*) INTO moved FROM sequenced;
    PERFORM set_config('fleetreg.events_direct', 'on', true);
    PERFORM events_mark_transaction();  -- the commit step notifies
END
$$;
CREATE RULE pending_events_direct AS ON INSERT TO pending_events WHERE {DIRECT}
    DO INSTEAD INSERT INTO events (sequence, occurred_at, type, partner_id, enterprise_id, actor, subject_type,
                                   subject_id, before, after)
    VALUES (nextval('events_sequence'), NEW.occurred_at, NEW.type, NEW.partner_id, NEW.enterprise_id, {ACTOR},
            NEW.subject_type, NEW.subject_id, NEW.before, NEW.after);
"""


def upgrade() -> None:
    op.execute(SEQUENCE_NOW)
    op.execute(SEQUENCE_AT_COMMIT)


def downgrade() -> None:
    op.execute(OLD_SEQUENCE_AT_COMMIT)
    op.execute("DROP RULE pending_events_direct ON pending_events; DROP FUNCTION events_sequence_now()")
