"""Corrected history of the device associations (API.md §6), and a cheaper "one main" check.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

``created_at`` stays the instant an association began (the API renders it so), which may now be
earlier than when fleetreg learnt of it: ``recorded_at`` says when the start was recorded,
``end_recorded_at`` when the end was. Existing rows were recorded as they happened
(``recorded_at = created_at``, ``end_recorded_at = ended_at``).

At every instant of the past, a device was on at most one vehicle and a vehicle had at most one
main device: two exclusion constraints over ``[created_at, ended_at)`` (btree_gist for the text
column). A vehicle's main device is main over ``[coalesce(main_since, created_at), ended_at)``:
``main_since`` is when a promoted association became main (NULL: since it began; a demoted
association's main period is not kept, the schema records no history of the flag). Existing main
associations that were promoted overlap their predecessors' main periods; their ``main_since`` is
taken as the latest end of an overlapping main association that ended no later than they did
(the earlier of two overlapping periods keeps its start), which leaves the periods disjoint.

"A vehicle with active associations has a main device" was a row-level deferred constraint trigger
that ran three queries for every inserted or updated row: 4.7 of 14.5 ms for 100 rows (issue 13).
Now a statement-level trigger queues, once per statement and only when the statement could break
the rule (new secondary associations; a main one ended or demoted), the vehicles to check in
``association_main_checks``; a deferred constraint trigger on that queue checks them at commit, one
query per statement, and removes the entry.

The change events (migration 0006) render an association as the API does, so
``render_device_associations`` gains ``recorded_at`` and ``end_recorded_at``.
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
CREATE EXTENSION IF NOT EXISTS btree_gist;

DROP TRIGGER device_associations_one_main ON device_associations;
DROP FUNCTION device_associations_check_main();

ALTER TABLE device_associations
    ADD COLUMN recorded_at timestamptz,
    ADD COLUMN end_recorded_at timestamptz,
    ADD COLUMN main_since timestamptz;

-- Existing rows: the history trigger (and any other) must not see these updates as changes.
ALTER TABLE device_associations DISABLE TRIGGER USER;
UPDATE device_associations SET recorded_at = created_at, end_recorded_at = ended_at;
UPDATE device_associations AS a SET main_since = earlier.ended
FROM (
    SELECT a.id, max(o.ended_at) AS ended
    FROM device_associations AS a
    JOIN device_associations AS o
      ON o.vehicle_id = a.vehicle_id AND o.is_main_device AND o.id <> a.id
     AND o.ended_at > a.created_at AND o.created_at < coalesce(a.ended_at, 'infinity')
     AND o.ended_at <= coalesce(a.ended_at, 'infinity')
    WHERE a.is_main_device
    GROUP BY a.id
) AS earlier
WHERE a.id = earlier.id AND earlier.ended > a.created_at;
ALTER TABLE device_associations ENABLE TRIGGER USER;

ALTER TABLE device_associations
    ALTER COLUMN recorded_at SET DEFAULT clock_timestamp(),
    ALTER COLUMN recorded_at SET NOT NULL,
    ADD CONSTRAINT device_associations_end_recorded_check CHECK ((ended_at IS NULL) = (end_recorded_at IS NULL)),
    ADD CONSTRAINT device_associations_main_since_check CHECK (ended_at >= main_since AND main_since >= created_at),
    ADD CONSTRAINT device_associations_device_overlap_excl
        EXCLUDE USING gist (device_id WITH =, tstzrange(created_at, ended_at) WITH &&),
    ADD CONSTRAINT device_associations_main_overlap_excl
        EXCLUDE USING gist (vehicle_id WITH =, tstzrange(coalesce(main_since, created_at), ended_at) WITH &&)
        WHERE (is_main_device);

-- invariant 4, and the recorded instants: an end is stamped when it is recorded (unless the
-- statement stamps it itself), and neither stamp ever changes.
CREATE OR REPLACE FUNCTION device_associations_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE') THEN
        RAISE EXCEPTION 'associations are history and are never deleted; end them instead'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'device_associations_history_check';
    END IF;
    IF OLD.ended_at IS NOT NULL
       OR (NEW.id, NEW.enterprise_id, NEW.vehicle_id, NEW.device_id, NEW.created_at, NEW.recorded_at)
          IS DISTINCT FROM (OLD.id, OLD.enterprise_id, OLD.vehicle_id, OLD.device_id, OLD.created_at, OLD.recorded_at)
    THEN
        RAISE EXCEPTION 'association %: an ended association, and the ends and start of any, never change', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'device_associations_history_check';
    END IF;
    IF NEW.ended_at IS NOT NULL AND NEW.end_recorded_at IS NULL THEN
        NEW.end_recorded_at := clock_timestamp();
    END IF;
    RETURN NEW;
END
$$;

-- invariant 2, "at least one main": the vehicles a statement may have left without a main device,
-- checked at commit (a promotion demotes, then promotes, in two statements).
CREATE TABLE association_main_checks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vehicle_ids text[] NOT NULL
);
CREATE FUNCTION device_associations_queue_main_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    vehicles text[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT n.vehicle_id) INTO vehicles FROM new_rows AS n WHERE NOT n.is_main_device;
    ELSE
        SELECT array_agg(DISTINCT n.vehicle_id) INTO vehicles
        FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
        WHERE o.ended_at IS NULL AND o.is_main_device AND (n.ended_at IS NOT NULL OR NOT n.is_main_device);
    END IF;
    IF vehicles IS NOT NULL THEN
        INSERT INTO association_main_checks (vehicle_ids) VALUES (vehicles);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER device_associations_main_check_insert AFTER INSERT ON device_associations
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION device_associations_queue_main_check();
CREATE TRIGGER device_associations_main_check_update AFTER UPDATE ON device_associations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION device_associations_queue_main_check();

CREATE FUNCTION association_main_checks_run() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    orphan text;
BEGIN
    PERFORM 1 FROM vehicles WHERE id = ANY(NEW.vehicle_ids) ORDER BY id FOR NO KEY UPDATE;
    SELECT a.vehicle_id INTO orphan FROM device_associations AS a
    WHERE a.vehicle_id = ANY(NEW.vehicle_ids) AND a.ended_at IS NULL
    GROUP BY a.vehicle_id HAVING NOT bool_or(a.is_main_device)
    LIMIT 1;
    IF orphan IS NOT NULL THEN
        RAISE EXCEPTION 'vehicle % has active associations but no main device', orphan
            USING ERRCODE = 'check_violation', CONSTRAINT = 'device_associations_one_main_check',
                  TABLE = 'device_associations';
    END IF;
    DELETE FROM association_main_checks WHERE id = NEW.id;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER device_associations_one_main
    AFTER INSERT ON association_main_checks DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION association_main_checks_run();

CREATE OR REPLACE FUNCTION render_device_associations(a device_associations) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object('type', 'device_association', 'id', a.id, 'attributes', json_build_object(
        'vehicle_id', a.vehicle_id, 'device_id', a.device_id, 'is_main_device', a.is_main_device,
        'created_at', api_time(a.created_at), 'ended_at', api_time(a.ended_at),
        'recorded_at', api_time(a.recorded_at), 'end_recorded_at', api_time(a.end_recorded_at)))
$$;
""")


def downgrade() -> None:
    op.execute("""
CREATE OR REPLACE FUNCTION render_device_associations(a device_associations) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object('type', 'device_association', 'id', a.id, 'attributes', json_build_object(
        'vehicle_id', a.vehicle_id, 'device_id', a.device_id, 'is_main_device', a.is_main_device,
        'created_at', api_time(a.created_at), 'ended_at', api_time(a.ended_at)))
$$;
DROP TABLE association_main_checks;
DROP TRIGGER device_associations_main_check_insert ON device_associations;
DROP TRIGGER device_associations_main_check_update ON device_associations;
DROP FUNCTION device_associations_queue_main_check(), association_main_checks_run();

ALTER TABLE device_associations
    DROP CONSTRAINT device_associations_device_overlap_excl,
    DROP CONSTRAINT device_associations_main_overlap_excl,
    DROP CONSTRAINT device_associations_main_since_check,
    DROP CONSTRAINT device_associations_end_recorded_check,
    DROP COLUMN main_since,
    DROP COLUMN end_recorded_at,
    DROP COLUMN recorded_at;
DROP EXTENSION IF EXISTS btree_gist;

CREATE OR REPLACE FUNCTION device_associations_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE') THEN
        RAISE EXCEPTION 'associations are history and are never deleted; end them instead'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'device_associations_history_check';
    END IF;
    IF OLD.ended_at IS NOT NULL
       OR (NEW.id, NEW.enterprise_id, NEW.vehicle_id, NEW.device_id, NEW.created_at)
          IS DISTINCT FROM (OLD.id, OLD.enterprise_id, OLD.vehicle_id, OLD.device_id, OLD.created_at) THEN
        RAISE EXCEPTION 'association %: an ended association, and the ends and start of any, never change', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'device_associations_history_check';
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION device_associations_check_main() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM vehicles WHERE id = NEW.vehicle_id FOR NO KEY UPDATE;
    IF EXISTS (SELECT 1 FROM device_associations WHERE vehicle_id = NEW.vehicle_id AND ended_at IS NULL)
       AND NOT EXISTS (SELECT 1 FROM device_associations
                       WHERE vehicle_id = NEW.vehicle_id AND ended_at IS NULL AND is_main_device) THEN
        RAISE EXCEPTION 'vehicle % has active associations but no main device', NEW.vehicle_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'device_associations_one_main_check',
                  TABLE = 'device_associations';
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER device_associations_one_main
    AFTER INSERT OR UPDATE ON device_associations DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION device_associations_check_main();
""")
