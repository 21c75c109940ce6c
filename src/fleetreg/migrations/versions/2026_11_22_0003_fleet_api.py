"""Fleet API: enterprises, vehicles, devices, chips and vehicle-device associations.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

The four invariants of docs/api.md, each held by the database itself:

1. a device has at most one active association:     unique index on device_id WHERE ended_at IS NULL
2. a vehicle with active associations has exactly one main device:
   at most one  — unique index on vehicle_id WHERE ended_at IS NULL AND is_main_device;
   at least one — a deferred constraint trigger, checked at commit after locking the vehicle row,
                  so that two transactions on one vehicle are checked one after the other
3. vehicle and device of an association are of the same enterprise:
   foreign keys (vehicle_id, enterprise_id) and (device_id, enterprise_id)
4. associations are never erased: triggers refuse DELETE, and an UPDATE may only end an active
   association or change its is_main_device; an ended one never changes again

Vehicles, devices and enterprises are deleted softly (deleted_at), so that the history that names
them stays whole; their business keys (CNPJ, IMEI) are unique among the live ones only. Chips are
referenced by nothing and are deleted for real.

Lists are ordered by (created_at, id) and served by partial indexes on the live rows; ``search`` is a
case-insensitive "contains" over each table's text fields, served by a trigram index on one
expression per table (``<kind>_search_text``). List totals without a search come from
``fleet_totals``, kept exact by statement-level triggers in the same transaction as every write
(API, imports and plain SQL alike): live enterprises and chips overall, live vehicles and devices per
enterprise.
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(r"""
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Luhn check (IMEI, ICCID): from the right, every second digit doubled, digit sum divisible by 10.
CREATE FUNCTION luhn_valid(digits text) RETURNS boolean LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT digits ~ '^[0-9]+$' AND (
        SELECT sum(CASE WHEN position % 2 = 1 THEN (digit * 2) / 10 + (digit * 2) % 10 ELSE digit END) % 10 = 0
        FROM (
            SELECT position, substr(reverse(digits), position + 1, 1)::int AS digit
            FROM generate_series(0, length(digits) - 1) AS position
        ) AS digits_from_right
    )
$$;

-- CNPJ, numeric or alphanumeric (in force since July 2026): 12 characters 0-9 A-Z and two mod-11
-- check digits; a character weighs its ASCII code minus 48.
CREATE FUNCTION cnpj_valid(cnpj text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    weights int[] := '{6,5,4,3,2,9,8,7,6,5,4,3,2}';
    total int;
    remainder int;
    check_digit int;
BEGIN
    IF cnpj !~ '^[0-9A-Z]{12}[0-9]{2}$' THEN
        RETURN false;
    END IF;
    FOR position IN 13..14 LOOP
        total := 0;
        FOR i IN 1..position - 1 LOOP
            total := total + (ascii(substr(cnpj, i, 1)) - 48) * weights[i + 14 - position];
        END LOOP;
        remainder := total % 11;
        check_digit := CASE WHEN remainder < 2 THEN 0 ELSE 11 - remainder END;
        IF ascii(substr(cnpj, position, 1)) - 48 <> check_digit THEN
            RETURN false;
        END IF;
    END LOOP;
    RETURN true;
END
$$;

CREATE TABLE enterprises (
    id          text PRIMARY KEY CONSTRAINT enterprises_id_check CHECK (id ~ '^[A-Za-z0-9]{15}$'),
    name        text NOT NULL CONSTRAINT enterprises_name_check CHECK (length(name) BETWEEN 1 AND 200),
    cnpj        text NOT NULL CONSTRAINT enterprises_cnpj_check CHECK (cnpj_valid(cnpj)),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);
CREATE UNIQUE INDEX enterprises_cnpj_key ON enterprises (cnpj) WHERE deleted_at IS NULL;
CREATE INDEX enterprises_list_idx ON enterprises (created_at, id) WHERE deleted_at IS NULL;

CREATE TABLE vehicles (
    id             text PRIMARY KEY CONSTRAINT vehicles_id_check CHECK (id ~ '^[A-Za-z0-9]{15}$'),
    enterprise_id  text NOT NULL REFERENCES enterprises (id),
    name           text NOT NULL CONSTRAINT vehicles_name_check CHECK (length(name) BETWEEN 1 AND 200),
    plate          text CONSTRAINT vehicles_plate_check CHECK (length(plate) BETWEEN 1 AND 20),
    vin            text CONSTRAINT vehicles_vin_check CHECK (vin ~ '^[A-HJ-NPR-Z0-9]{17}$'),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    deleted_at     timestamptz,
    CONSTRAINT vehicles_id_enterprise_id_key UNIQUE (id, enterprise_id)
);
CREATE INDEX vehicles_enterprise_idx ON vehicles (enterprise_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX vehicles_list_idx ON vehicles (created_at, id) WHERE deleted_at IS NULL;

CREATE TABLE devices (
    id             text PRIMARY KEY CONSTRAINT devices_id_check CHECK (id ~ '^[A-Za-z0-9]{15}$'),
    enterprise_id  text NOT NULL REFERENCES enterprises (id),
    name           text NOT NULL CONSTRAINT devices_name_check CHECK (length(name) BETWEEN 1 AND 200),
    imei           text NOT NULL CONSTRAINT devices_imei_check CHECK (imei ~ '^[0-9]{15}$' AND luhn_valid(imei)),
    code           text NOT NULL CONSTRAINT devices_code_check CHECK (length(code) BETWEEN 1 AND 100),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    deleted_at     timestamptz,
    CONSTRAINT devices_id_enterprise_id_key UNIQUE (id, enterprise_id)
);
CREATE UNIQUE INDEX devices_imei_key ON devices (imei) WHERE deleted_at IS NULL;
CREATE INDEX devices_enterprise_idx ON devices (enterprise_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX devices_list_idx ON devices (created_at, id) WHERE deleted_at IS NULL;

CREATE TABLE chips (
    id                text PRIMARY KEY CONSTRAINT chips_id_check CHECK (id ~ '^[A-Za-z0-9]{15}$'),
    serial            text NOT NULL
        CONSTRAINT chips_serial_check CHECK (serial ~ '^[0-9]{19,20}$' AND luhn_valid(serial)),
    number            text NOT NULL CONSTRAINT chips_number_check CHECK (number ~ '^\+[1-9][0-9]{1,14}$'),
    carrier           text NOT NULL CONSTRAINT chips_carrier_check CHECK (length(carrier) BETWEEN 1 AND 100),
    service_provider  text NOT NULL
        CONSTRAINT chips_service_provider_check CHECK (length(service_provider) BETWEEN 1 AND 100),
    batch             text NOT NULL CONSTRAINT chips_batch_check CHECK (length(batch) BETWEEN 1 AND 100),
    device_id         text REFERENCES devices (id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT chips_serial_key UNIQUE (serial),
    CONSTRAINT chips_device_id_key UNIQUE (device_id)
);
CREATE INDEX chips_list_idx ON chips (created_at, id);

-- search: one text per row (fields joined by a unit separator, which no search matches across), and
-- a trigram index on it so that "contains" does not scan the table.
CREATE FUNCTION enterprise_search_text(name text, cnpj text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT name || E'\x1f' || cnpj $$;
CREATE FUNCTION vehicle_search_text(name text, plate text, vin text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT name || E'\x1f' || coalesce(plate, '') || E'\x1f' || coalesce(vin, '') $$;
CREATE FUNCTION device_search_text(name text, imei text, code text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT name || E'\x1f' || imei || E'\x1f' || code $$;
CREATE FUNCTION chip_search_text(serial text, number text, carrier text, service_provider text, batch text)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT serial || E'\x1f' || number || E'\x1f' || carrier || E'\x1f' || service_provider || E'\x1f' || batch $$;
CREATE INDEX enterprises_search_idx ON enterprises USING gin (enterprise_search_text(name, cnpj) gin_trgm_ops)
    WHERE deleted_at IS NULL;
CREATE INDEX vehicles_search_idx ON vehicles USING gin (vehicle_search_text(name, plate, vin) gin_trgm_ops)
    WHERE deleted_at IS NULL;
CREATE INDEX devices_search_idx ON devices USING gin (device_search_text(name, imei, code) gin_trgm_ops)
    WHERE deleted_at IS NULL;
CREATE INDEX chips_search_idx ON chips
    USING gin (chip_search_text(serial, number, carrier, service_provider, batch) gin_trgm_ops);

-- Exact list totals: kind 'enterprises' and 'chips' with enterprise_id '', kinds 'vehicles' and
-- 'devices' per enterprise. Counter rows change in key order, by one INSERT ... ON CONFLICT with
-- signed deltas, so concurrent writers queue on them instead of deadlocking.
CREATE TABLE fleet_totals (
    kind           text NOT NULL,
    enterprise_id  text NOT NULL,
    n              bigint NOT NULL,
    PRIMARY KEY (kind, enterprise_id)
);

-- One statement's changes of live rows as signed deltas. The per-enterprise branch names
-- enterprise_id and deleted_at, the others only what their tables have: PL/pgSQL plans a statement
-- when it first runs it, separately for each table a trigger function serves.
CREATE FUNCTION fleet_keep_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME IN ('vehicles', 'devices') THEN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO fleet_totals AS t (kind, enterprise_id, n)
            SELECT TG_TABLE_NAME, enterprise_id, count(*) FROM new_rows WHERE deleted_at IS NULL
            GROUP BY 2 ORDER BY 2
            ON CONFLICT (kind, enterprise_id) DO UPDATE SET n = t.n + excluded.n;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO fleet_totals AS t (kind, enterprise_id, n)
            SELECT TG_TABLE_NAME, enterprise_id, -count(*) FROM old_rows WHERE deleted_at IS NULL
            GROUP BY 2 ORDER BY 2
            ON CONFLICT (kind, enterprise_id) DO UPDATE SET n = t.n + excluded.n;
        ELSE
            INSERT INTO fleet_totals AS t (kind, enterprise_id, n)
            SELECT TG_TABLE_NAME, enterprise_id, sum(delta) FROM (
                SELECT enterprise_id, 1 AS delta FROM new_rows WHERE deleted_at IS NULL
                UNION ALL
                SELECT enterprise_id, -1 FROM old_rows WHERE deleted_at IS NULL
            ) AS d
            GROUP BY 2 HAVING sum(delta) <> 0 ORDER BY 2
            ON CONFLICT (kind, enterprise_id) DO UPDATE SET n = t.n + excluded.n;
        END IF;
    ELSIF TG_TABLE_NAME = 'enterprises' THEN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO fleet_totals AS t (kind, enterprise_id, n)
            SELECT 'enterprises', '', count(*) FROM new_rows WHERE deleted_at IS NULL
            ON CONFLICT (kind, enterprise_id) DO UPDATE SET n = t.n + excluded.n;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO fleet_totals AS t (kind, enterprise_id, n)
            SELECT 'enterprises', '', -count(*) FROM old_rows WHERE deleted_at IS NULL
            ON CONFLICT (kind, enterprise_id) DO UPDATE SET n = t.n + excluded.n;
        ELSE
            -- a rename changes no total: leave the counter row (and its lock) alone
            INSERT INTO fleet_totals AS t (kind, enterprise_id, n)
            SELECT 'enterprises', '', delta FROM (
                SELECT (SELECT count(*) FROM new_rows WHERE deleted_at IS NULL)
                       - (SELECT count(*) FROM old_rows WHERE deleted_at IS NULL) AS delta
            ) AS d
            WHERE delta <> 0
            ON CONFLICT (kind, enterprise_id) DO UPDATE SET n = t.n + excluded.n;
        END IF;
    ELSIF TG_OP = 'INSERT' THEN  -- chips, deleted for real
        INSERT INTO fleet_totals AS t (kind, enterprise_id, n)
        SELECT 'chips', '', count(*) FROM new_rows
        ON CONFLICT (kind, enterprise_id) DO UPDATE SET n = t.n + excluded.n;
    ELSE
        INSERT INTO fleet_totals AS t (kind, enterprise_id, n)
        SELECT 'chips', '', -count(*) FROM old_rows
        ON CONFLICT (kind, enterprise_id) DO UPDATE SET n = t.n + excluded.n;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER enterprises_totals_insert AFTER INSERT ON enterprises
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fleet_keep_totals();
CREATE TRIGGER enterprises_totals_update AFTER UPDATE ON enterprises
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fleet_keep_totals();
CREATE TRIGGER enterprises_totals_delete AFTER DELETE ON enterprises
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fleet_keep_totals();
CREATE TRIGGER vehicles_totals_insert AFTER INSERT ON vehicles
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fleet_keep_totals();
CREATE TRIGGER vehicles_totals_update AFTER UPDATE ON vehicles
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fleet_keep_totals();
CREATE TRIGGER vehicles_totals_delete AFTER DELETE ON vehicles
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fleet_keep_totals();
CREATE TRIGGER devices_totals_insert AFTER INSERT ON devices
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fleet_keep_totals();
CREATE TRIGGER devices_totals_update AFTER UPDATE ON devices
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fleet_keep_totals();
CREATE TRIGGER devices_totals_delete AFTER DELETE ON devices
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fleet_keep_totals();
CREATE TRIGGER chips_totals_insert AFTER INSERT ON chips
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fleet_keep_totals();
CREATE TRIGGER chips_totals_delete AFTER DELETE ON chips
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fleet_keep_totals();

ALTER TABLE oauth_clients
    ADD CONSTRAINT oauth_clients_enterprise_fkey FOREIGN KEY (enterprise_id) REFERENCES enterprises (id);

CREATE TABLE device_associations (
    id              text PRIMARY KEY CONSTRAINT device_associations_id_check CHECK (id ~ '^[A-Za-z0-9]{15}$'),
    enterprise_id   text NOT NULL,
    vehicle_id      text NOT NULL,
    device_id       text NOT NULL,
    is_main_device  boolean NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    ended_at        timestamptz,
    CONSTRAINT device_associations_period_check CHECK (ended_at >= created_at),
    -- invariant 3: both ends in the association's enterprise
    CONSTRAINT device_associations_vehicle_fkey FOREIGN KEY (vehicle_id, enterprise_id)
        REFERENCES vehicles (id, enterprise_id),
    CONSTRAINT device_associations_device_fkey FOREIGN KEY (device_id, enterprise_id)
        REFERENCES devices (id, enterprise_id)
);
-- invariant 1
CREATE UNIQUE INDEX device_associations_active_device_key ON device_associations (device_id)
    WHERE ended_at IS NULL;
-- invariant 2, "at most one main"
CREATE UNIQUE INDEX device_associations_active_main_key ON device_associations (vehicle_id)
    WHERE ended_at IS NULL AND is_main_device;
CREATE INDEX device_associations_active_vehicle_idx ON device_associations (vehicle_id, is_main_device DESC, created_at, id)
    WHERE ended_at IS NULL;
CREATE INDEX device_associations_vehicle_history_idx ON device_associations (vehicle_id, created_at);
CREATE INDEX device_associations_device_history_idx ON device_associations (device_id, created_at DESC, id DESC);

-- invariant 2, "at least one main": checked at commit, once the vehicle row is locked.
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

-- invariant 4
CREATE FUNCTION device_associations_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER device_associations_history
    BEFORE UPDATE OR DELETE ON device_associations
    FOR EACH ROW EXECUTE FUNCTION device_associations_keep_history();
CREATE TRIGGER device_associations_no_truncate
    BEFORE TRUNCATE ON device_associations
    FOR EACH STATEMENT EXECUTE FUNCTION device_associations_keep_history();
""")


def downgrade() -> None:
    op.execute("""
DROP TABLE device_associations;
ALTER TABLE oauth_clients DROP CONSTRAINT oauth_clients_enterprise_fkey;
DROP TABLE fleet_totals, chips, devices, vehicles, enterprises;
DROP FUNCTION device_associations_check_main(), device_associations_keep_history(), cnpj_valid(text),
    luhn_valid(text), fleet_keep_totals(), enterprise_search_text(text, text),
    vehicle_search_text(text, text, text), device_search_text(text, text, text),
    chip_search_text(text, text, text, text, text);
DROP EXTENSION IF EXISTS pg_trgm;
""")
