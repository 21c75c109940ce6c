"""What must hold in the database whatever the requests did: the association invariants of docs/api.md and
the counter tables kept by triggers."""

from __future__ import annotations

import asyncpg


async def assert_invariants(db: asyncpg.Connection) -> None:
    """The four association invariants of docs/api.md hold in the database."""
    two_active = await db.fetch(
        "SELECT device_id FROM device_associations WHERE ended_at IS NULL GROUP BY device_id HAVING count(*) > 1"
    )
    assert two_active == [], "a device has two active associations"
    mains = await db.fetch(
        """SELECT vehicle_id, count(*) FILTER (WHERE is_main_device) AS mains FROM device_associations
           WHERE ended_at IS NULL GROUP BY vehicle_id HAVING count(*) FILTER (WHERE is_main_device) <> 1"""
    )
    assert mains == [], f"vehicles without exactly one main: {mains}"
    mixed = await db.fetch(
        """SELECT a.id FROM device_associations a JOIN vehicles v ON v.id = a.vehicle_id
           JOIN devices d ON d.id = a.device_id
           WHERE v.enterprise_id <> a.enterprise_id OR d.enterprise_id <> a.enterprise_id"""
    )
    assert mixed == [], "an association crosses enterprises"
    overlapping = await db.fetch(
        """SELECT a.id FROM device_associations a JOIN device_associations b
           ON a.device_id = b.device_id AND a.id < b.id
           AND tstzrange(a.created_at, a.ended_at) && tstzrange(b.created_at, b.ended_at)"""
    )
    assert overlapping == [], "a device's associations overlap in time"


async def assert_totals_exact(db: asyncpg.Connection) -> None:
    """Every counter kept by triggers equals the COUNT(*) it stands for."""
    fleet = await db.fetch(
        """
        WITH counted AS (
            SELECT 'vehicles' AS kind, enterprise_id, count(*) AS n FROM vehicles WHERE deleted_at IS NULL GROUP BY 2
            UNION ALL
            SELECT 'devices', enterprise_id, count(*) FROM devices WHERE deleted_at IS NULL GROUP BY 2
            UNION ALL
            SELECT 'enterprises', '', count(*) FROM enterprises WHERE deleted_at IS NULL
            UNION ALL
            SELECT 'chips', '', count(*) FROM chips
        )
        SELECT coalesce(c.kind, t.kind) AS kind, coalesce(c.enterprise_id, t.enterprise_id) AS enterprise_id,
               coalesce(c.n, 0) AS counted, coalesce(t.n, 0) AS kept
        FROM counted AS c FULL JOIN fleet_totals AS t ON t.kind = c.kind AND t.enterprise_id = c.enterprise_id
        WHERE coalesce(c.n, 0) <> coalesce(t.n, 0)
        """
    )
    assert fleet == [], f"fleet_totals differ from COUNT(*): {[dict(row) for row in fleet]}"
    connectors = await db.fetch(
        """
        WITH counted AS (
            SELECT partner_id, type, customer_id IS NOT NULL AS assigned, count(*) AS n FROM connectors GROUP BY 1, 2, 3
        )
        SELECT coalesce(c.partner_id, t.partner_id) AS partner_id, coalesce(c.type, t.type) AS type,
               coalesce(c.n, 0) AS counted, coalesce(t.n, 0) AS kept
        FROM counted AS c FULL JOIN connector_totals AS t
             ON t.partner_id = c.partner_id AND t.type = c.type AND t.assigned = c.assigned
        WHERE coalesce(c.n, 0) <> coalesce(t.n, 0)
        """
    )
    assert connectors == [], f"connector_totals differ from COUNT(*): {[dict(row) for row in connectors]}"
    by_customer = await db.fetch(
        """
        WITH counted AS (
            SELECT partner_id, customer_id, type, count(*) AS n FROM connectors
            WHERE customer_id IS NOT NULL GROUP BY 1, 2, 3
        )
        SELECT coalesce(c.customer_id, t.customer_id) AS customer_id, coalesce(c.n, 0) AS counted,
               coalesce(t.n, 0) AS kept
        FROM counted AS c FULL JOIN customer_connector_totals AS t
             ON t.partner_id = c.partner_id AND t.customer_id = c.customer_id AND t.type = c.type
        WHERE coalesce(c.n, 0) <> coalesce(t.n, 0)
        """
    )
    assert by_customer == [], f"customer_connector_totals differ: {[dict(row) for row in by_customer]}"
    customers = await db.fetch(
        """
        WITH counted AS (SELECT partner_id, count(*) AS n FROM customers GROUP BY 1)
        SELECT coalesce(c.partner_id, t.partner_id) AS partner_id, coalesce(c.n, 0) AS counted,
               coalesce(t.n, 0) AS kept
        FROM counted AS c FULL JOIN customer_totals AS t ON t.partner_id = c.partner_id
        WHERE coalesce(c.n, 0) <> coalesce(t.n, 0)
        """
    )
    assert customers == [], f"customer_totals differ from COUNT(*): {[dict(row) for row in customers]}"
