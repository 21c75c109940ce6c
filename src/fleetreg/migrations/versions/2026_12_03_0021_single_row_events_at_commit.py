"""A customer's or connector's update or delete makes its event at commit, in one step.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03

Through ``pending_events`` (migration 0006) an event is written twice: the entity's statement
trigger captures the statement's rows as transition tables, renders them into ``pending_events``
and queues the commit step (a row in ``event_commit_marks``); the commit step, under the lock that
makes ``sequence`` follow commit order, moves them into ``events``. For a bulk that is cheap per
event; for the change of one row it is most of the outbox's cost: a connector assignment's
transaction took 1,108 / 1,160 µs without events, 1,521 / 1,518 µs so (two runs of 40 alternated
blocks of 60 on the tcp setup).

The customers and connectors change one row at a time (the API updates and deletes one, no foreign
key cascades into them, the import only inserts), so their updates and deletes now make their
events with a deferred row trigger: at commit it renders the row's versions of that statement, takes
the lock and inserts the event into ``events`` with its sequence number, as the commit step would.
No transition tables, no pending row, no commit mark: the same transaction took 1,239 / 1,354 µs.

Order within a transaction stays the order of the changes. Deferred triggers fire at commit in the
order they were queued, and the commit step's place in that queue is the transaction's first
pending event. So a change made while the transaction has pending events already
(``fleetreg.events_marked``) is recorded as one of them (the ``pending`` trigger, immediate; the
triggers' ``WHEN`` decides when the row changes); one made before any is sequenced at commit
ahead of the commit step, which moves only events recorded after it. After
``events_sequence_now()`` (an import) the transaction is marked, so such a change takes the pending
path and is refused there as any other.

Inserts, and every change of the fleet's tables (bulk creates and ends, imports, an enterprise's
delete reaching its vehicles), keep the set-based path: fired once per row at commit, a bulk of
1,000 would pay a trigger call and an insert a row where one statement serves them all.
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

LOCK = "PERFORM pg_advisory_xact_lock(7306916436585427717);"
ACTOR = """coalesce(nullif(current_setting('fleetreg.actor', true), ''), '{"kind":"cli"}')::json"""
FOLLOWED = "EXISTS (SELECT FROM event_followers WHERE until > now())"
MARKED = "coalesce(current_setting('fleetreg.events_marked', true), '') <> ''"

# Per table: the subject type, and the type of an update's event (over OLD and NEW) as migration 0006's
# statement triggers choose it.
TABLES = {
    "customers": ("customer", "'customer.updated'"),
    "connectors": (
        "connector",
        """CASE WHEN OLD.customer_id IS DISTINCT FROM NEW.customer_id
                     THEN CASE WHEN NEW.customer_id IS NULL THEN 'connector.unassigned' ELSE 'connector.assigned' END
                     ELSE 'connector.updated' END""",
    ),
}
OPERATIONS = ("UPDATE", "DELETE")


def row_events_function(table: str) -> str:
    subject, updated = TABLES[table]
    return f"""
CREATE FUNCTION {table}_row_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    before json := render_{table}(OLD);
    after json;
    kind text := '{subject}.deleted';
    drawn bigint;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        after := render_{table}(NEW);
        IF before::text IS NOT DISTINCT FROM after::text THEN
            RETURN NULL;  -- nothing the API shows changed: no event
        END IF;
        kind := {updated};
    END IF;
    IF TG_ARGV[0] = 'at_commit' THEN
        -- The commit step's lock and its sequence, for this one event (migration 0006).
        {LOCK}
        INSERT INTO events (sequence, occurred_at, type, partner_id, actor, subject_type, subject_id, before, after)
        VALUES (nextval('events_sequence'), now(), kind, OLD.partner_id, {ACTOR}, '{subject}', OLD.id::text,
                before, after)
        RETURNING sequence INTO drawn;
        IF {FOLLOWED} THEN
            PERFORM pg_notify('fleetreg_events', drawn::text);
        END IF;
    ELSE
        INSERT INTO pending_events (type, partner_id, subject_type, subject_id, before, after)
        VALUES (kind, OLD.partner_id, '{subject}', OLD.id::text, before, after);
        PERFORM events_mark_transaction();
    END IF;
    RETURN NULL;
END
$$;
"""


def upgrade() -> None:
    for table in TABLES:
        op.execute(row_events_function(table))
        for operation in OPERATIONS:
            name = f"{table}_events_{operation.lower()}"
            op.execute(f"DROP TRIGGER {name} ON {table}")
            op.execute(
                f"CREATE CONSTRAINT TRIGGER {name}_at_commit AFTER {operation} ON {table} "
                f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NOT {MARKED}) "
                f"EXECUTE FUNCTION {table}_row_events('at_commit')"
            )
            op.execute(
                f"CREATE TRIGGER {name}_pending AFTER {operation} ON {table} "
                f"FOR EACH ROW WHEN ({MARKED}) EXECUTE FUNCTION {table}_row_events('pending')"
            )


def downgrade() -> None:
    for table in TABLES:
        for operation in OPERATIONS:
            name = f"{table}_events_{operation.lower()}"
            op.execute(f"DROP TRIGGER {name}_at_commit ON {table}")
            op.execute(f"DROP TRIGGER {name}_pending ON {table}")
            tables = "OLD TABLE AS old_rows" + (" NEW TABLE AS new_rows" if operation == "UPDATE" else "")
            op.execute(
                f"CREATE TRIGGER {name} AFTER {operation} ON {table} "
                f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {table}_events()"
            )
        op.execute(f"DROP FUNCTION {table}_row_events()")
