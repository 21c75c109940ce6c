"""Change events: a transactional outbox written by triggers, sequenced in commit order (docs/api.md §5).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

**One mechanism no write path can forget.** Statement-level AFTER triggers on every entity table
(customers, connectors, enterprises, vehicles, devices, chips, device_associations) turn the
statement's transition tables into events, in the transaction of the change: the API, imports (COPY
fires them too), the demo, psql. The actor and request id come from the transaction-local setting
``fleetreg.actor`` that ``Database.transaction`` sets (none: ``{"kind": "cli"}``). ``before`` and
``after`` are rendered by one SQL function per table, ``render_<table>(row)``, exactly as the API
renders the resource: a column added later is added there, once.

**Sequenced at commit.** Sequence numbers taken while a transaction runs commit out of order, so a
feed reading ``sequence > cursor`` would skip, forever, an event that commits after a higher one was
read. Events are therefore written first to ``pending_events`` (UNLOGGED: its rows live only inside
their transaction; a crash aborts those transactions anyway), and a deferred constraint trigger
moves them to ``events`` at commit, after taking one transaction-level advisory lock: the numbers are
drawn while holding it and it is released only once the commit is visible, so a transaction that
draws a higher number starts drawing after every lower one is visible. Hence: every event at or below
the highest sequence a snapshot sees is visible to that snapshot (the feed's horizon). The cost is
that committing transactions that made events queue on that lock for the end of their commit
(bench/events.py measures it).

The trigger runs once per transaction (``event_commit_marks``: one row per transaction, made by the
first event) and announces the last sequence with NOTIFY fleetreg_events.

**Replacement** (docs/api.md §6): ``SELECT events_replacing(<ended association id>)`` before ending it,
then insert the started one: the end makes no ``association.ended`` and the start is one
``association.replaced`` whose ``before`` is the ended association as it was.
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Every entity table and the one function that makes its events.
TABLES = ("customers", "connectors", "enterprises", "vehicles", "devices", "chips", "device_associations")


def upgrade() -> None:
    op.execute(r"""
-- Times as the API's JSON renders them (orjson, UTC, "Z"; a fraction only when there is one).
CREATE FUNCTION api_time(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN date_part('microseconds', t)::bigint % 1000000 = 0 THEN ''
                ELSE to_char(t AT TIME ZONE 'UTC', '.US') END
        || 'Z'
$$;

-- The resources as the API renders them: the one place to change when a table gains a column.
CREATE FUNCTION render_customers(c customers) RETURNS json LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object('id', c.id, 'name', c.name, 'created_at', api_time(c.created_at))
$$;
CREATE FUNCTION render_connectors(c connectors) RETURNS json LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', c.id, 'customer_id', c.customer_id, 'hardware_version', c.hardware_version, 'name', c.name,
        'pin', c.pin, 'software_version', c.software_version, 'type', c.type)
$$;
CREATE FUNCTION render_enterprises(e enterprises) RETURNS json LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object('type', 'enterprise', 'id', e.id, 'attributes', json_build_object(
        'name', e.name, 'cnpj', e.cnpj, 'created_at', api_time(e.created_at), 'updated_at', api_time(e.updated_at)))
$$;
CREATE FUNCTION render_vehicles(v vehicles) RETURNS json LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object('type', 'vehicle', 'id', v.id, 'attributes', json_build_object(
        'enterprise_id', v.enterprise_id, 'name', v.name, 'plate', v.plate, 'vin', v.vin,
        'created_at', api_time(v.created_at), 'updated_at', api_time(v.updated_at)))
$$;
CREATE FUNCTION render_devices(d devices) RETURNS json LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object('type', 'device', 'id', d.id, 'attributes', json_build_object(
        'enterprise_id', d.enterprise_id, 'name', d.name, 'imei', d.imei, 'code', d.code,
        'created_at', api_time(d.created_at), 'updated_at', api_time(d.updated_at)))
$$;
CREATE FUNCTION render_chips(c chips) RETURNS json LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object('type', 'chip', 'id', c.id, 'attributes', json_build_object(
        'serial', c.serial, 'number', c.number, 'carrier', c.carrier, 'service_provider', c.service_provider,
        'batch', c.batch, 'device_id', c.device_id,
        'created_at', api_time(c.created_at), 'updated_at', api_time(c.updated_at)))
$$;
CREATE FUNCTION render_device_associations(a device_associations) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object('type', 'device_association', 'id', a.id, 'attributes', json_build_object(
        'vehicle_id', a.vehicle_id, 'device_id', a.device_id, 'is_main_device', a.is_main_device,
        'created_at', api_time(a.created_at), 'ended_at', api_time(a.ended_at)))
$$;

-- The feed, in commit order. partner_id: a partner's event; else a fleet event of enterprise_id
-- (NULL: a chip in no device, seen by unbound fleet callers only).
CREATE SEQUENCE events_sequence AS bigint;
CREATE TABLE events (
    sequence      bigint PRIMARY KEY,
    occurred_at   timestamptz NOT NULL,
    type          text NOT NULL,
    partner_id    uuid,
    enterprise_id text,
    actor         json NOT NULL,
    subject_type  text NOT NULL,
    subject_id    text NOT NULL,
    before        json,
    after         json
);
CREATE INDEX events_partner_idx ON events (partner_id, sequence) WHERE partner_id IS NOT NULL;
CREATE INDEX events_enterprise_idx ON events (enterprise_id, sequence) WHERE enterprise_id IS NOT NULL;
CREATE INDEX events_subject_idx ON events (subject_id, sequence);
-- the highest sequence pruned by retention: a cursor below it is 410 Cursor Expired
CREATE TABLE events_pruned (
    one             boolean PRIMARY KEY DEFAULT true CHECK (one),
    through_sequence bigint NOT NULL
);
INSERT INTO events_pruned VALUES (true, 0);

-- An event as the feed and the webhooks send it (docs/api.md §5). Its id is its sequence, zero-padded:
-- unique, stable, and in feed order.
CREATE FUNCTION event_json(e events) RETURNS json LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', 'evt_' || lpad(e.sequence::text, 26, '0'), 'sequence', e.sequence, 'type', e.type,
        'occurred_at', api_time(e.occurred_at),
        'tenant', CASE WHEN e.partner_id IS NOT NULL THEN json_build_object('partner_id', e.partner_id)
                       ELSE json_build_object('enterprise_id', e.enterprise_id) END,
        'actor', e.actor, 'subject', json_build_object('type', e.subject_type, 'id', e.subject_id),
        'data', json_build_object('before', e.before, 'after', e.after))
$$;

-- Events of transactions still running (never committed here: moved to events at commit).
CREATE UNLOGGED TABLE pending_events (
    ordinal       bigserial,
    xid           xid8 NOT NULL DEFAULT pg_current_xact_id(),
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    type          text NOT NULL,
    partner_id    uuid,
    enterprise_id text,
    actor         json NOT NULL
        DEFAULT coalesce(nullif(current_setting('fleetreg.actor', true), ''), '{"kind":"cli"}')::json,
    subject_type  text NOT NULL,
    subject_id    text NOT NULL,
    before        json,
    after         json
);
CREATE INDEX pending_events_xid_idx ON pending_events (xid, ordinal);
CREATE UNLOGGED TABLE event_commit_marks (xid xid8 PRIMARY KEY);

-- Called by every entity trigger after it wrote pending events: the first time in a transaction,
-- queue the commit step.
CREATE FUNCTION events_mark_transaction() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('fleetreg.events_marked', true), '') = '' THEN
        INSERT INTO event_commit_marks VALUES (pg_current_xact_id()) ON CONFLICT DO NOTHING;
        PERFORM set_config('fleetreg.events_marked', 'yes', true);
    END IF;
END
$$;

CREATE FUNCTION events_sequence_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_sequence bigint;
BEGIN
    -- The serialized step: held until this transaction's commit is visible (see the module's text).
    PERFORM pg_advisory_xact_lock(7306916436585427717);
    WITH moved AS (
        DELETE FROM pending_events WHERE xid = pg_current_xact_id() RETURNING *
    ), sequenced AS (
        INSERT INTO events (sequence, occurred_at, type, partner_id, enterprise_id, actor, subject_type,
                            subject_id, before, after)
        SELECT nextval('events_sequence'), occurred_at, type, partner_id, enterprise_id, actor, subject_type,
               subject_id, before, after
        FROM (SELECT * FROM moved ORDER BY ordinal) AS in_order
        RETURNING sequence
    )
    SELECT max(sequence) INTO last_sequence FROM sequenced;
    DELETE FROM event_commit_marks WHERE xid = pg_current_xact_id();
    PERFORM set_config('fleetreg.events_marked', '', true);
    IF last_sequence IS NOT NULL THEN
        PERFORM pg_notify('fleetreg_events', last_sequence::text);
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER event_commit_marks_sequence
    AFTER INSERT ON event_commit_marks DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION events_sequence_at_commit();

-- The association being replaced in this transaction (docs/api.md §6: one association.replaced).
CREATE FUNCTION events_replacing(association_id text) RETURNS void LANGUAGE sql AS $$
    SELECT set_config('fleetreg.replacing', association_id, true)
$$;

-- -- one trigger function per table ---------------------------------------------------------------

CREATE FUNCTION customers_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO pending_events (type, partner_id, subject_type, subject_id, after)
        SELECT 'customer.created', n.partner_id, 'customer', n.id::text, render_customers(n) FROM new_rows AS n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO pending_events (type, partner_id, subject_type, subject_id, before)
        SELECT 'customer.deleted', o.partner_id, 'customer', o.id::text, render_customers(o) FROM old_rows AS o;
    ELSE
        INSERT INTO pending_events (type, partner_id, subject_type, subject_id, before, after)
        SELECT 'customer.updated', partner_id, 'customer', id::text, before, after FROM (
            SELECT n.partner_id, n.id, render_customers(o) AS before, render_customers(n) AS after
            FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
        ) AS changes WHERE before::text IS DISTINCT FROM after::text;
    END IF;
    IF FOUND THEN PERFORM events_mark_transaction(); END IF;
    RETURN NULL;
END
$$;

-- A change of customer_id is assigned/unassigned alone (docs/api.md §5); other changes are updated.
CREATE FUNCTION connectors_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO pending_events (type, partner_id, subject_type, subject_id, after)
        SELECT 'connector.created', n.partner_id, 'connector', n.id::text, render_connectors(n) FROM new_rows AS n;
    ELSIF TG_OP = 'DELETE' THEN
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
        ) AS changes WHERE before::text IS DISTINCT FROM after::text;
    END IF;
    IF FOUND THEN PERFORM events_mark_transaction(); END IF;
    RETURN NULL;
END
$$;

-- Enterprises, vehicles and devices are deleted softly: setting deleted_at is the deleted event.
CREATE FUNCTION enterprises_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO pending_events (type, enterprise_id, subject_type, subject_id, after)
        SELECT 'enterprise.created', n.id, 'enterprise', n.id, render_enterprises(n)
        FROM new_rows AS n WHERE n.deleted_at IS NULL;
    ELSE
        INSERT INTO pending_events (type, enterprise_id, subject_type, subject_id, before, after)
        SELECT CASE WHEN deleted THEN 'enterprise.deleted' ELSE 'enterprise.updated' END,
               id, 'enterprise', id, before, CASE WHEN deleted THEN NULL ELSE after END
        FROM (
            SELECT n.id, n.deleted_at IS NOT NULL AS deleted, render_enterprises(o) AS before,
                   render_enterprises(n) AS after
            FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE o.deleted_at IS NULL
        ) AS changes WHERE deleted OR before::text IS DISTINCT FROM after::text;
    END IF;
    IF FOUND THEN PERFORM events_mark_transaction(); END IF;
    RETURN NULL;
END
$$;
CREATE FUNCTION vehicles_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO pending_events (type, enterprise_id, subject_type, subject_id, after)
        SELECT 'vehicle.created', n.enterprise_id, 'vehicle', n.id, render_vehicles(n)
        FROM new_rows AS n WHERE n.deleted_at IS NULL;
    ELSE
        INSERT INTO pending_events (type, enterprise_id, subject_type, subject_id, before, after)
        SELECT CASE WHEN deleted THEN 'vehicle.deleted' ELSE 'vehicle.updated' END,
               enterprise_id, 'vehicle', id, before, CASE WHEN deleted THEN NULL ELSE after END
        FROM (
            SELECT n.id, n.enterprise_id, n.deleted_at IS NOT NULL AS deleted, render_vehicles(o) AS before,
                   render_vehicles(n) AS after
            FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE o.deleted_at IS NULL
        ) AS changes WHERE deleted OR before::text IS DISTINCT FROM after::text;
    END IF;
    IF FOUND THEN PERFORM events_mark_transaction(); END IF;
    RETURN NULL;
END
$$;
CREATE FUNCTION devices_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO pending_events (type, enterprise_id, subject_type, subject_id, after)
        SELECT 'device.created', n.enterprise_id, 'device', n.id, render_devices(n)
        FROM new_rows AS n WHERE n.deleted_at IS NULL;
    ELSE
        INSERT INTO pending_events (type, enterprise_id, subject_type, subject_id, before, after)
        SELECT CASE WHEN deleted THEN 'device.deleted' ELSE 'device.updated' END,
               enterprise_id, 'device', id, before, CASE WHEN deleted THEN NULL ELSE after END
        FROM (
            SELECT n.id, n.enterprise_id, n.deleted_at IS NOT NULL AS deleted, render_devices(o) AS before,
                   render_devices(n) AS after
            FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE o.deleted_at IS NULL
        ) AS changes WHERE deleted OR before::text IS DISTINCT FROM after::text;
    END IF;
    IF FOUND THEN PERFORM events_mark_transaction(); END IF;
    RETURN NULL;
END
$$;

-- A chip's tenant: the enterprise of the device holding it (after the change, else before).
-- A change of device_id is installed/removed, with updated beside it only when other members changed.
CREATE FUNCTION chips_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO pending_events (type, enterprise_id, subject_type, subject_id, after)
        SELECT 'chip.created', d.enterprise_id, 'chip', n.id, render_chips(n)
        FROM new_rows AS n LEFT JOIN devices AS d ON d.id = n.device_id;
    ELSIF TG_OP = 'DELETE' THEN
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
        ORDER BY changes.id, kind.position;
    END IF;
    IF FOUND THEN PERFORM events_mark_transaction(); END IF;
    RETURN NULL;
END
$$;

-- started / ended / main_changed (one per association whose is_main_device changed), and the
-- replacement announced by events_replacing: its end is silent, its start is association.replaced.
CREATE FUNCTION device_associations_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    replacing text := coalesce(current_setting('fleetreg.replacing', true), '');
    replaced_before text := coalesce(current_setting('fleetreg.replaced_before', true), '');
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO pending_events (type, enterprise_id, subject_type, subject_id, before, after)
        SELECT CASE WHEN replaced_before <> '' AND position = 1 THEN 'association.replaced' ELSE 'association.started' END,
               enterprise_id, 'device_association', id,
               CASE WHEN replaced_before <> '' AND position = 1 THEN replaced_before::json END, after
        FROM (
            SELECT n.enterprise_id, n.id, render_device_associations(n) AS after, row_number() OVER () AS position
            FROM new_rows AS n
        ) AS started;
        IF replaced_before <> '' THEN
            PERFORM set_config('fleetreg.replaced_before', '', true), set_config('fleetreg.replacing', '', true);
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        IF replacing <> '' THEN
            PERFORM set_config('fleetreg.replaced_before', render_device_associations(o)::text, true)
            FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
            WHERE o.id = replacing AND o.ended_at IS NULL AND n.ended_at IS NOT NULL;
        END IF;
        INSERT INTO pending_events (type, enterprise_id, subject_type, subject_id, before, after)
        SELECT CASE WHEN o.ended_at IS NULL AND n.ended_at IS NOT NULL THEN 'association.ended'
                    ELSE 'association.main_changed' END,
               n.enterprise_id, 'device_association', n.id, render_device_associations(o),
               render_device_associations(n)
        FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
        WHERE ((o.ended_at IS NULL AND n.ended_at IS NOT NULL) OR o.is_main_device IS DISTINCT FROM n.is_main_device)
          AND NOT (o.id = replacing AND o.ended_at IS NULL AND n.ended_at IS NOT NULL);
    END IF;
    IF FOUND THEN PERFORM events_mark_transaction(); END IF;
    RETURN NULL;
END
$$;
""")
    for table in TABLES:
        operations = ["INSERT", "UPDATE"] + ([] if table == "device_associations" else ["DELETE"])
        for operation in operations:
            tables = {
                "INSERT": "NEW TABLE AS new_rows",
                "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                "DELETE": "OLD TABLE AS old_rows",
            }[operation]
            op.execute(
                f"CREATE TRIGGER {table}_events_{operation.lower()} AFTER {operation} ON {table} "
                f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {table}_events()"
            )


def downgrade() -> None:
    op.execute("DROP FUNCTION event_json(events)")
    for table in TABLES:
        op.execute(f"DROP FUNCTION {table}_events() CASCADE")
        op.execute(f"DROP FUNCTION render_{table}({table})")
    op.execute("""
DROP TABLE events, events_pruned, pending_events, event_commit_marks;
DROP SEQUENCE events_sequence;
DROP FUNCTION events_mark_transaction(), events_sequence_at_commit(), events_replacing(text), api_time(timestamptz);
""")
