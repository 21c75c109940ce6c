"""A commit of events notifies only while some process follows them.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02

The commit step's ``NOTIFY fleetreg_events`` (migration 0006) wakes every listening connection of
every instance: PostgreSQL signals each listening backend, which reads the queue and sends the
notification, and each ``fleetreg serve`` process receives it. On this machine that cost more CPU
than the outbox itself: with two workers, 0.1 ms of PostgreSQL's and 0.2 ms of the workers' CPU per
committed connector assignment, whether anything waited for events or not (bench/README.md).

The notification serves only the waits of ``fleetreg.events.feed.EventSignal``: long polls, streams
and the webhook deliveries of a process with enabled webhooks. A process that waits enrols in
``event_followers`` first (``events_follow``, for a minute, renewed while it waits; UNLOGGED: after a
crash the processes enrol again), and the commit step notifies only while a live row exists. The
enrolment takes the commit step's lock when it is free, so a commit either sees the row or was
visible before the enrolment committed (the follower reads once more after enrolling); behind a
long commit (an import's) it does not wait, and the wait's periodic reread covers the gap.
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

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
        SELECT nextval('events_sequence'), occurred_at, type, partner_id, enterprise_id,
               (SELECT coalesce(nullif(current_setting('fleetreg.actor', true), ''), '{"kind":"cli"}')::json),
               subject_type, subject_id, before, after
        FROM (SELECT * FROM moved ORDER BY ordinal) AS in_order
        RETURNING sequence
    ), mark_gone AS (
        DELETE FROM event_commit_marks WHERE xid = pg_current_xact_id()
    )
    SELECT set_config('fleetreg.events_marked', '', true),
           CASE WHEN max(sequence) IS NOT NULL {followed}
                THEN pg_notify('fleetreg_events', max(sequence)::text)::text END
    INTO cleared, notified
    FROM sequenced;
    RETURN NULL;
END
$$;
"""
FOLLOWED = "AND EXISTS (SELECT FROM event_followers WHERE until > now())"


def upgrade() -> None:
    op.execute("""
CREATE UNLOGGED TABLE event_followers (
    process  text PRIMARY KEY,
    until    timestamptz NOT NULL
);
CREATE FUNCTION events_follow(process text, seconds integer) RETURNS void LANGUAGE sql AS $$
    SELECT pg_try_advisory_xact_lock(7306916436585427717);
    DELETE FROM event_followers WHERE until < now() - interval '1 hour';  -- processes long gone
    INSERT INTO event_followers (process, until) VALUES (events_follow.process, now() + make_interval(secs => seconds))
    ON CONFLICT (process) DO UPDATE SET until = excluded.until;
$$;
""")
    op.execute(SEQUENCE_AT_COMMIT.replace("{followed}", FOLLOWED))


def downgrade() -> None:
    op.execute(SEQUENCE_AT_COMMIT.replace("{followed}", ""))
    op.execute("DROP FUNCTION events_follow(text, integer); DROP TABLE event_followers")
