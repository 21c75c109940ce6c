"""An import's events are written once, straight into ``events``.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03

Events are written twice (migration 0006): into ``pending_events`` by the entity triggers, then moved
into ``events`` by the commit step, which draws their sequence numbers under the lock that makes
``sequence`` follow commit order. For a write of a few rows that costs little; for an import it is
half of the whole: 100,000 connectors took 2.2 s to insert (the events trigger 0.5 s of it) and
1.4 s to commit, nearly all of it the move (``python -m bench.scale insert``), and 10,000,000 held
the lock for over ten minutes in the ``COMMIT``.

``events_sequence_now()`` takes the lock at once, moves what the transaction recorded so far, and
turns the transaction's ``fleetreg.events_direct`` on. From then on the insert triggers of the six
importable tables write their created events straight into ``events``, each with its sequence
number drawn there: no other transaction draws one until this one's commit is visible, as after a
commit step, so the feed's horizon holds. The commit step still runs (the function marks the
transaction), moves nothing and notifies the followers. Any other event a transaction would make
after the call is refused (``events_mark_transaction``): it would be sequenced at the commit, after
events made later than it.

The usual path pays nothing more on an update or delete and one setting read on an insert. (A
conditional rule on ``pending_events`` did the same without touching the triggers, but its second,
empty insert cost every statement that made events about 60 µs: a connector assignment 1,031 ->
1,088 and 1,065 -> 1,128 µs in two alternated runs on the tcp setup.)

The price is the lock's: every other transaction that makes events waits from the call to this
commit. ``fleetreg import`` calls it after its checks, right before the statement that moves the
rows into their table, so the others wait for that statement and the commit (before, for the move,
which took about as long); it locked the tables it writes before its checks, so that statement
never waits for a writer that waits for the lock.
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

# Per importable table: the tenant column, the SELECT of its created events, and the function's other
# branches, all as migration 0006 made them.
CREATED = {
    "customers": (
        "partner_id",
        """SELECT 'customer.created', n.partner_id, 'customer', n.id::text, render_customers(n) FROM new_rows AS n""",
        """    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO pending_events (type, partner_id, subject_type, subject_id, before)
        SELECT 'customer.deleted', o.partner_id, 'customer', o.id::text, render_customers(o) FROM old_rows AS o;
    ELSE
        INSERT INTO pending_events (type, partner_id, subject_type, subject_id, before, after)
        SELECT 'customer.updated', partner_id, 'customer', id::text, before, after FROM (
            SELECT n.partner_id, n.id, render_customers(o) AS before, render_customers(n) AS after
            FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
        ) AS changes WHERE before::text IS DISTINCT FROM after::text;""",
    ),
    "connectors": (
        "partner_id",
        """SELECT 'connector.created', n.partner_id, 'connector', n.id::text, render_connectors(n) FROM new_rows AS n""",
        """    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO pending_events (type, partner_id, subject_type, subject_id, before)
        SELECT 'connector.deleted', o.partner_id, 'connector', o.id::text, render_connectors(o) FROM old_rows AS o;
    ELSE
        INSERT INTO pending_events (type, partner_id, subject_type, subject_id, before, after)
        SELECT CASE WHEN customer_changed AND assigned THEN 'connector.assigned'
                    WHEN customer_changed THEN 'connector.unassigned'
                    ELSE 'connector.updated' END,
               partner_id, 'connector', id::text, before, after
        FROM (
            SELECT n.partner_id, n.id, o.customer_id IS DISTINCT FROM n.customer_id AS customer_changed,
                   n.customer_id IS NOT NULL AS assigned, render_connectors(o) AS before, render_connectors(n) AS after
            FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
        ) AS changes WHERE before::text IS DISTINCT FROM after::text;""",
    ),
    "enterprises": (
        "enterprise_id",
        """SELECT 'enterprise.created', n.id, 'enterprise', n.id, render_enterprises(n)
FROM new_rows AS n WHERE n.deleted_at IS NULL""",
        """    ELSE
        INSERT INTO pending_events (type, enterprise_id, subject_type, subject_id, before, after)
        SELECT CASE WHEN deleted THEN 'enterprise.deleted' ELSE 'enterprise.updated' END,
               id, 'enterprise', id, before, CASE WHEN deleted THEN NULL ELSE after END
        FROM (
            SELECT n.id, n.deleted_at IS NOT NULL AS deleted, render_enterprises(o) AS before,
                   render_enterprises(n) AS after
            FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE o.deleted_at IS NULL
        ) AS changes WHERE deleted OR before::text IS DISTINCT FROM after::text;""",
    ),
    "vehicles": (
        "enterprise_id",
        """SELECT 'vehicle.created', n.enterprise_id, 'vehicle', n.id, render_vehicles(n)
FROM new_rows AS n WHERE n.deleted_at IS NULL""",
        """    ELSE
        INSERT INTO pending_events (type, enterprise_id, subject_type, subject_id, before, after)
        SELECT CASE WHEN deleted THEN 'vehicle.deleted' ELSE 'vehicle.updated' END,
               enterprise_id, 'vehicle', id, before, CASE WHEN deleted THEN NULL ELSE after END
        FROM (
            SELECT n.id, n.enterprise_id, n.deleted_at IS NOT NULL AS deleted, render_vehicles(o) AS before,
                   render_vehicles(n) AS after
            FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE o.deleted_at IS NULL
        ) AS changes WHERE deleted OR before::text IS DISTINCT FROM after::text;""",
    ),
    "devices": (
        "enterprise_id",
        """SELECT 'device.created', n.enterprise_id, 'device', n.id, render_devices(n)
FROM new_rows AS n WHERE n.deleted_at IS NULL""",
        """    ELSE
        INSERT INTO pending_events (type, enterprise_id, subject_type, subject_id, before, after)
        SELECT CASE WHEN deleted THEN 'device.deleted' ELSE 'device.updated' END,
               enterprise_id, 'device', id, before, CASE WHEN deleted THEN NULL ELSE after END
        FROM (
            SELECT n.id, n.enterprise_id, n.deleted_at IS NOT NULL AS deleted, render_devices(o) AS before,
                   render_devices(n) AS after
            FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE o.deleted_at IS NULL
        ) AS changes WHERE deleted OR before::text IS DISTINCT FROM after::text;""",
    ),
    "chips": (
        "enterprise_id",
        """SELECT 'chip.created', d.enterprise_id, 'chip', n.id, render_chips(n)
FROM new_rows AS n LEFT JOIN devices AS d ON d.id = n.device_id""",
        """    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO pending_events (type, enterprise_id, subject_type, subject_id, before)
        SELECT 'chip.deleted', d.enterprise_id, 'chip', o.id, render_chips(o)
        FROM old_rows AS o LEFT JOIN devices AS d ON d.id = o.device_id;
    ELSE
        INSERT INTO pending_events (type, enterprise_id, subject_type, subject_id, before, after)
        SELECT kind.type, changes.enterprise_id, 'chip', changes.id, changes.before, changes.after
        FROM (
            SELECT n.id, coalesce(dn.enterprise_id, d_old.enterprise_id) AS enterprise_id,
                   o.device_id IS DISTINCT FROM n.device_id AS device_changed, n.device_id IS NOT NULL AS installed,
                   (o.serial, o.number, o.carrier, o.service_provider, o.batch)
                       IS DISTINCT FROM (n.serial, n.number, n.carrier, n.service_provider, n.batch) AS others_changed,
                   render_chips(o) AS before, render_chips(n) AS after
            FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
            LEFT JOIN devices AS dn ON dn.id = n.device_id
            LEFT JOIN devices AS d_old ON d_old.id = o.device_id
        ) AS changes
        CROSS JOIN LATERAL (
            SELECT CASE WHEN installed THEN 'chip.installed' ELSE 'chip.removed' END AS type, 1 AS position
            WHERE device_changed
            UNION ALL
            SELECT 'chip.updated', 2
            WHERE others_changed OR (NOT device_changed AND before::text IS DISTINCT FROM after::text)
        ) AS kind
        ORDER BY changes.id, kind.position;""",
    ),
}


def events_function(table: str, *, written_once: bool) -> str:
    tenant, created, others = CREATED[table]
    columns = f"type, {tenant}, subject_type, subject_id, after"
    indented = created.replace("\n", "\n        ")
    once = f"""
    IF TG_OP = 'INSERT' AND {DIRECT} THEN
        INSERT INTO events (sequence, occurred_at, actor, {columns})
        SELECT nextval('events_sequence'), now(), {ACTOR}, created.* FROM (
            {created.replace(chr(10), chr(10) + "            ")}
        ) AS created;
        RETURN NULL;
    END IF;"""
    return f"""
CREATE OR REPLACE FUNCTION {table}_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN{once if written_once else ""}
    IF TG_OP = 'INSERT' THEN
        INSERT INTO pending_events ({columns})
        {indented};
{others}
    END IF;
    IF FOUND THEN PERFORM events_mark_transaction(); END IF;
    RETURN NULL;
END
$$;
"""


def mark_function(*, written_once: bool) -> str:
    refused = f"""
    ELSIF {DIRECT} THEN
        RAISE EXCEPTION 'after events_sequence_now() a transaction may only insert rows of the tables it imports';"""
    return f"""
CREATE OR REPLACE FUNCTION events_mark_transaction() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('fleetreg.events_marked', true), '') = '' THEN
        INSERT INTO event_commit_marks VALUES (pg_current_xact_id()) ON CONFLICT DO NOTHING;
        PERFORM set_config('fleetreg.events_marked', 'yes', true);{refused if written_once else ""}
    END IF;
END
$$;
"""


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


def sequence_at_commit(*, written_once: bool) -> str:
    direct = f"""
                WHEN {DIRECT} AND {FOLLOWED}  -- written straight into events: the last drawn is this one's
                    THEN pg_notify('fleetreg_events', pg_sequence_last_value('events_sequence')::text)::text"""
    return f"""
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
                    THEN pg_notify('fleetreg_events', max(sequence)::text)::text{direct if written_once else ""} END
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
    PERFORM events_mark_transaction();  -- the commit step notifies
    PERFORM set_config('fleetreg.events_direct', 'on', true);
END
$$;
"""


def upgrade() -> None:
    op.execute(SEQUENCE_NOW)
    op.execute(mark_function(written_once=True))
    op.execute(sequence_at_commit(written_once=True))
    for table in CREATED:
        op.execute(events_function(table, written_once=True))


def downgrade() -> None:
    for table in CREATED:
        op.execute(events_function(table, written_once=False))
    op.execute(sequence_at_commit(written_once=False))
    op.execute(mark_function(written_once=False))
    op.execute("DROP FUNCTION events_sequence_now()")
