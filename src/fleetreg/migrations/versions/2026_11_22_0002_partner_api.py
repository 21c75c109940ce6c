"""Partner API: partners, OAuth clients, customers, connectors, and exact totals kept by triggers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Every row is owned by a partner. A connector can only point at a customer of its own partner: the
foreign key goes through (partner_id, customer_id). List totals come from counter tables that
statement-level triggers keep exact in the same transaction as every write (API calls, imports and
plain SQL alike), so a total never costs a scan of a million rows.

Counter rows are changed in key order (partner-level first, then customer-level), always by one
INSERT ... ORDER BY ... ON CONFLICT DO UPDATE with signed deltas, so concurrent writers queue on them
instead of deadlocking. (No CHECK (n >= 0) on the counters: PostgreSQL checks it against the
proposed row, a negative delta, before ON CONFLICT turns it into an update. The tests prove the
totals exact instead.)

Names sort in the "C" collation (Unicode code point order): lists are ordered by name, and that order
must be the same on every deployment whatever its default locale, and must not change under an
index when the C library's collation rules do.

Connector lists are filtered by type and by assignment. Each (type, assigned) pair has a partial
index on (partner_id, name): a filter on either reads one or two of them in name order (two merged
by a Merge Append), never the partner's other connectors, however rare the matches. Each row is in
exactly one of the four, so a write maintains one more index entry.
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(r"""
CREATE TABLE partners (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CONSTRAINT partners_name_check CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT partners_name_key UNIQUE (name)
);

CREATE TABLE oauth_clients (
    id             text PRIMARY KEY,
    partner_id     uuid REFERENCES partners (id),
    enterprise_id  text CONSTRAINT oauth_clients_enterprise_id_check CHECK (enterprise_id ~ '^[A-Za-z0-9]{15}$'),
    secret_hash    text NOT NULL,
    scope          text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz
);
CREATE INDEX oauth_clients_revoked_idx ON oauth_clients (id) WHERE revoked_at IS NOT NULL;

CREATE TABLE customers (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partner_id  uuid NOT NULL REFERENCES partners (id),
    name        text COLLATE "C" NOT NULL CONSTRAINT customers_name_check CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- the target of connectors' tenant-safe foreign key
    CONSTRAINT customers_partner_id_id_key UNIQUE (partner_id, id)
);
CREATE INDEX customers_partner_name_idx ON customers (partner_id, name, id);

CREATE TABLE connectors (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partner_id        uuid NOT NULL REFERENCES partners (id),
    customer_id       uuid,
    name              text COLLATE "C" NOT NULL CONSTRAINT connectors_name_check CHECK (length(name) BETWEEN 1 AND 200),
    type              text NOT NULL CONSTRAINT connectors_type_check CHECK (type IN ('physical', 'virtual')),
    hardware_version  text NOT NULL
        CONSTRAINT connectors_hardware_version_check CHECK (length(hardware_version) BETWEEN 1 AND 100),
    software_version  text NOT NULL
        CONSTRAINT connectors_software_version_check CHECK (length(software_version) BETWEEN 1 AND 100),
    pin               text CONSTRAINT connectors_pin_check CHECK (pin ~ '^[0-9]{5}$'),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT connectors_partner_id_name_key UNIQUE (partner_id, name),
    CONSTRAINT connectors_customer_fkey FOREIGN KEY (partner_id, customer_id)
        REFERENCES customers (partner_id, id)
);
-- the customer_id filter, in list order; also serves the foreign key when a customer is deleted
CREATE INDEX connectors_partner_customer_name_idx ON connectors (partner_id, customer_id, name);
-- the type and assigned filters, in list order: one partial index per (type, assigned) pair
CREATE INDEX connectors_physical_unassigned_name_idx ON connectors (partner_id, name)
    WHERE type = 'physical' AND customer_id IS NULL;
CREATE INDEX connectors_physical_assigned_name_idx ON connectors (partner_id, name)
    WHERE type = 'physical' AND customer_id IS NOT NULL;
CREATE INDEX connectors_virtual_unassigned_name_idx ON connectors (partner_id, name)
    WHERE type = 'virtual' AND customer_id IS NULL;
CREATE INDEX connectors_virtual_assigned_name_idx ON connectors (partner_id, name)
    WHERE type = 'virtual' AND customer_id IS NOT NULL;

-- Exact totals. n counts the connectors of a partner by (type, assigned), and of a customer by type.
CREATE TABLE connector_totals (
    partner_id  uuid NOT NULL REFERENCES partners (id),
    type        text NOT NULL,
    assigned    boolean NOT NULL,
    n           bigint NOT NULL,
    PRIMARY KEY (partner_id, type, assigned)
);
CREATE TABLE customer_connector_totals (
    partner_id   uuid NOT NULL,
    customer_id  uuid NOT NULL,
    type         text NOT NULL,
    n            bigint NOT NULL,
    PRIMARY KEY (partner_id, customer_id, type),
    FOREIGN KEY (partner_id, customer_id) REFERENCES customers (partner_id, id) ON DELETE CASCADE
);
CREATE TABLE customer_totals (
    partner_id  uuid PRIMARY KEY REFERENCES partners (id),
    n           bigint NOT NULL
);

-- One statement's changes to connectors, as (partner, customer, type, +1/-1) rows. Transition tables
-- exist only for the operations that have them, hence one branch per operation.
CREATE FUNCTION connectors_keep_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO connector_totals AS t (partner_id, type, assigned, n)
        SELECT partner_id, type, customer_id IS NOT NULL, count(*) FROM new_rows
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (partner_id, type, assigned) DO UPDATE SET n = t.n + excluded.n;
        INSERT INTO customer_connector_totals AS t (partner_id, customer_id, type, n)
        SELECT partner_id, customer_id, type, count(*) FROM new_rows WHERE customer_id IS NOT NULL
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (partner_id, customer_id, type) DO UPDATE SET n = t.n + excluded.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO connector_totals AS t (partner_id, type, assigned, n)
        SELECT partner_id, type, customer_id IS NOT NULL, -count(*) FROM old_rows
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (partner_id, type, assigned) DO UPDATE SET n = t.n + excluded.n;
        INSERT INTO customer_connector_totals AS t (partner_id, customer_id, type, n)
        SELECT partner_id, customer_id, type, -count(*) FROM old_rows WHERE customer_id IS NOT NULL
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (partner_id, customer_id, type) DO UPDATE SET n = t.n + excluded.n;
    ELSE
        INSERT INTO connector_totals AS t (partner_id, type, assigned, n)
        SELECT partner_id, type, assigned, sum(delta) FROM (
            SELECT partner_id, type, customer_id IS NOT NULL AS assigned, 1 AS delta FROM new_rows
            UNION ALL
            SELECT partner_id, type, customer_id IS NOT NULL, -1 FROM old_rows
        ) AS d
        GROUP BY 1, 2, 3 HAVING sum(delta) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (partner_id, type, assigned) DO UPDATE SET n = t.n + excluded.n;
        INSERT INTO customer_connector_totals AS t (partner_id, customer_id, type, n)
        SELECT partner_id, customer_id, type, sum(delta) FROM (
            SELECT partner_id, customer_id, type, 1 AS delta FROM new_rows WHERE customer_id IS NOT NULL
            UNION ALL
            SELECT partner_id, customer_id, type, -1 FROM old_rows WHERE customer_id IS NOT NULL
        ) AS d
        GROUP BY 1, 2, 3 HAVING sum(delta) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (partner_id, customer_id, type) DO UPDATE SET n = t.n + excluded.n;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER connectors_totals_insert AFTER INSERT ON connectors
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION connectors_keep_totals();
CREATE TRIGGER connectors_totals_update AFTER UPDATE ON connectors
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION connectors_keep_totals();
CREATE TRIGGER connectors_totals_delete AFTER DELETE ON connectors
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION connectors_keep_totals();

CREATE FUNCTION customers_keep_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO customer_totals AS t (partner_id, n)
        SELECT partner_id, count(*) FROM new_rows GROUP BY 1 ORDER BY 1
        ON CONFLICT (partner_id) DO UPDATE SET n = t.n + excluded.n;
    ELSE
        INSERT INTO customer_totals AS t (partner_id, n)
        SELECT partner_id, -count(*) FROM old_rows GROUP BY 1 ORDER BY 1
        ON CONFLICT (partner_id) DO UPDATE SET n = t.n + excluded.n;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER customers_totals_insert AFTER INSERT ON customers
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customers_keep_totals();
CREATE TRIGGER customers_totals_delete AFTER DELETE ON customers
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION customers_keep_totals();
""")


def downgrade() -> None:
    op.execute("""
DROP TABLE customer_totals, customer_connector_totals, connector_totals, connectors, customers,
    oauth_clients, partners;
DROP FUNCTION connectors_keep_totals(), customers_keep_totals();
""")
