"""SQL of the partner API. Every statement filters by the partner ($1): another partner's rows do not
exist for the caller.

The list statements are one round trip each: the page and its total in one SELECT. The total comes
from the counter tables that migration 0002's triggers keep exact (``connector_totals``,
``customer_connector_totals``, ``customer_totals``), or, when the list is filtered by name, from a
count over the name index (at most one connector; the customers of that name). Never a scan of the
partner's rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asyncpg import Record

from fleetreg.db import Connection, Database
from fleetreg.partner.schemas import CONNECTOR_TYPES

# What a response renders, in its order. Ids leave as text: asyncpg's own UUID type is not one that
# orjson serialises, and PostgreSQL's uuid output is cheaper than converting in Python.
# ``version`` is the row's version (xmin), its ETag (fleetreg.web.conditional); never rendered in a body.
CUSTOMER_FIELDS = ("id", "name", "created_at")
CONNECTOR_COLUMNS = (
    "id::text AS id, customer_id::text AS customer_id, hardware_version, name, pin, software_version, type, "
    "xmin::text AS version"
)
CUSTOMER_COLUMNS = "id::text AS id, name, created_at, xmin::text AS version"

# -- connectors -----------------------------------------------------------------------------------

# The same connector as its JSON object (UTF-8 bytes), as a read renders it (see connector_page_query),
# and its version.
CONNECTOR_JSON_BY_ID = """
SELECT convert_to(row_to_json(c)::text, 'UTF8') AS body, t.xmin::text AS version
FROM connectors AS t
CROSS JOIN LATERAL (
    SELECT t.id, t.customer_id, t.hardware_version, t.name, t.pin, t.software_version, t.type
) AS c
WHERE t.partner_id = $1 AND t.id = $2
"""

# The version of a connector, locked for the write that checks it (If-Match). No row: no such connector.
LOCK_CONNECTOR_VERSION = "SELECT xmin::text FROM connectors WHERE partner_id = $1 AND id = $2 FOR UPDATE"
LOCK_CUSTOMER_VERSION = "SELECT xmin::text FROM customers WHERE partner_id = $1 AND id = $2 FOR UPDATE"

# A name already taken inserts nothing (and returns no row), also when a concurrent insert of the same
# name commits first. A customer_id of no customer of the partner violates connectors_customer_fkey.
INSERT_CONNECTOR = f"""
INSERT INTO connectors (partner_id, customer_id, name, type, hardware_version, software_version, pin)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (partner_id, name) DO NOTHING
RETURNING {CONNECTOR_COLUMNS}
"""

# Assigns ($3 a customer) or unassigns ($3 NULL). No row: no such connector. A customer_id of no
# customer of the partner violates connectors_customer_fkey (the foreign key goes through partner_id).
ASSIGN_CONNECTOR = f"""
UPDATE connectors SET customer_id = $3, updated_at = now()
WHERE partner_id = $1 AND id = $2
RETURNING {CONNECTOR_COLUMNS}
"""

DELETE_CONNECTOR = "DELETE FROM connectors WHERE partner_id = $1 AND id = $2 RETURNING id"


@dataclass(frozen=True)
class ConnectorFilters:
    """What a connector list is filtered by; None means "not filtered by this"."""

    assigned: bool | None = None
    customer_id: uuid.UUID | None = None
    name: str | None = None
    type: str | None = None  # one type; both types is no filter


# The (type, assigned) pairs, each with its partial index on (partner_id, name) (migration 0002). The
# planner uses a partial index only for a query that states its predicate literally, hence constants.
BUCKETS: dict[tuple[str, bool], tuple[str, str]] = {
    # (type, assigned): (its connectors, its connector_totals row)
    ("physical", False): ("type = 'physical' AND customer_id IS NULL", "type = 'physical' AND NOT assigned"),
    ("physical", True): ("type = 'physical' AND customer_id IS NOT NULL", "type = 'physical' AND assigned"),
    ("virtual", False): ("type = 'virtual' AND customer_id IS NULL", "type = 'virtual' AND NOT assigned"),
    ("virtual", True): ("type = 'virtual' AND customer_id IS NOT NULL", "type = 'virtual' AND assigned"),
}
_RAW_CONNECTOR_COLUMNS = "id, customer_id, hardware_version, name, pin, software_version, type"
_INT64_MAX = 2**63 - 1


def connector_page_query(filters: ConnectorFilters, limit: int, offset: int) -> tuple[str, list[Any]]:
    """The statement returning one page of connectors and the total of all matches, and its arguments
    ($1, the partner's id, is left for the caller to fill in).

    It returns one row: ``total`` and ``items``, the page's connectors as JSON objects joined by
    commas (UTF-8 bytes, empty for an empty page) in CONNECTOR_FIELDS order, built by PostgreSQL's
    row_to_json: decoding a thousand rows into Python only to encode them again was the largest part
    of a list request's cost (bench/README.md). The page is not looked for at all when the total
    says it starts past the last match (a one-time filter on ``t.total``, read in the same snapshot as
    the rows). Only the filters in use appear in the SQL, so each combination is its own prepared
    statement with its own plan (a generic ``$n IS NULL OR ...`` would defeat the indexes):

    - by name: the unique (partner_id, name) index, at most one row, counted directly;
    - by customer: the (partner_id, customer_id, name) index, total from customer_connector_totals;
    - by type and/or assigned: the partial index of each (type, assigned) pair that can match, merged
      in name order, total from the same pairs' connector_totals rows;
    - unfiltered: the ids by an index-only scan of the unique (partner_id, name) index (it includes
      them), then their rows; total from connector_totals.
    """
    args: list[Any] = [None, limit, offset]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    starts_before_the_end = "t.total > $3"
    page_order = "ORDER BY name, id LIMIT $2 OFFSET $3"
    if filters.name is not None or filters.customer_id is not None:
        conditions = ["partner_id = $1"]
        if filters.assigned is not None:
            conditions.append("customer_id IS NOT NULL" if filters.assigned else "customer_id IS NULL")
        customer = arg(filters.customer_id) if filters.customer_id is not None else None
        if customer is not None:
            conditions.append(f"customer_id = {customer}")
        if filters.name is not None:
            conditions.append(f"name = {arg(filters.name)}")
        of_type = f" AND type = {arg(filters.type)}" if filters.type is not None else ""
        where = " AND ".join(conditions) + of_type
        if filters.name is not None:
            total = f"SELECT count(*) FROM connectors WHERE {where}"
        elif filters.assigned is False:
            total = "SELECT 0::bigint"  # a customer's connectors are all assigned
        else:
            total = (
                "SELECT coalesce(sum(n), 0)::bigint FROM customer_connector_totals"
                f" WHERE partner_id = $1 AND customer_id = {customer}{of_type}"
            )
        page = f"SELECT {_RAW_CONNECTOR_COLUMNS} FROM connectors WHERE {where} AND {starts_before_the_end} {page_order}"
    else:
        types = CONNECTOR_TYPES if filters.type is None else (filters.type,)
        states = (False, True) if filters.assigned is None else (filters.assigned,)
        buckets = [BUCKETS[kind, state] for kind in types for state in states]
        if len(buckets) == len(BUCKETS):
            total = "SELECT coalesce(sum(n), 0)::bigint FROM connector_totals WHERE partner_id = $1"
            # The page's ids first, by an index-only scan of the unique (partner_id, name) index that
            # includes them (names are unique per partner: name alone orders), then only those rows:
            # a deep offset skips index entries, not table rows. A page in the back half is found
            # from the end, backwards (the exact total says where): the last page costs what the
            # first does, the middle one the most (docs/scaling.md).
            page = (
                f"SELECT {_RAW_CONNECTOR_COLUMNS} FROM connectors WHERE partner_id = $1 AND id IN ("
                f"(SELECT id FROM connectors WHERE partner_id = $1 AND {starts_before_the_end}"
                " AND $3 <= t.total / 2 ORDER BY name LIMIT $2 OFFSET $3)"
                " UNION ALL "
                f"(SELECT id FROM connectors WHERE partner_id = $1 AND {starts_before_the_end}"
                " AND $3 > t.total / 2 ORDER BY name DESC"
                " LIMIT least($2, t.total - least($3, t.total)) OFFSET greatest(t.total - least($3, t.total) - $2, 0)))"
            )
        else:
            counted = " OR ".join(f"({totals_row})" for _, totals_row in buckets)
            total = f"SELECT coalesce(sum(n), 0)::bigint FROM connector_totals WHERE partner_id = $1 AND ({counted})"
            if len(buckets) == 1:
                page = (
                    f"SELECT {_RAW_CONNECTOR_COLUMNS} FROM connectors"
                    f" WHERE partner_id = $1 AND {buckets[0][0]} AND {starts_before_the_end} {page_order}"
                )
            else:
                # Each branch is an ordered scan of one partial index, cut at the page's end; the
                # Merge Append of the branches is in name order. (limit + offset may pass int64.)
                reach = arg(min(limit + offset, _INT64_MAX))
                branches = " UNION ALL ".join(
                    f"(SELECT {_RAW_CONNECTOR_COLUMNS} FROM connectors WHERE partner_id = $1 AND {rows}"
                    f" ORDER BY name, id LIMIT {reach})"
                    for rows, _ in buckets
                )
                page = f"SELECT * FROM ({branches}) AS b WHERE {starts_before_the_end} {page_order}"

    sql = f"""
SELECT t.total, (
    SELECT convert_to(coalesce(string_agg(row_to_json(c)::text, ',' ORDER BY c.name, c.id), ''), 'UTF8')
    FROM ({page}) AS c
) AS items
FROM ({total}) AS t (total)
"""
    return sql, args


# -- customers ------------------------------------------------------------------------------------

CUSTOMER_BY_ID = f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE partner_id = $1 AND id = $2"

INSERT_CUSTOMER = f"INSERT INTO customers (partner_id, name) VALUES ($1, $2) RETURNING {CUSTOMER_COLUMNS}"

RENAME_CUSTOMER = f"UPDATE customers SET name = $3 WHERE partner_id = $1 AND id = $2 RETURNING {CUSTOMER_COLUMNS}"

# Taken before looking for its connectors: a connector being assigned to the customer holds a KEY
# SHARE lock on it (its foreign key check) until it commits, so once this lock is ours every
# assignment is either visible to the next statement or will find the customer gone.
LOCK_CUSTOMER = LOCK_CUSTOMER_VERSION

# No row: the customer still has connectors.
DELETE_CUSTOMER_WITHOUT_CONNECTORS = """
DELETE FROM customers
WHERE partner_id = $1 AND id = $2
  AND NOT EXISTS (SELECT 1 FROM connectors WHERE partner_id = $1 AND customer_id = $2)
RETURNING id
"""

# $1 partner_id, $2 limit, $3 offset. Like the connector pages: (total, customer...) rows, one row of
# NULLs when the page is empty, no scan when the page starts past the end.
CUSTOMER_PAGE = """
SELECT t.total, c.id::text, c.name, c.created_at
FROM (SELECT coalesce((SELECT n FROM customer_totals WHERE partner_id = $1), 0)) AS t (total)
LEFT JOIN LATERAL (
    SELECT id, name, created_at FROM customers WHERE partner_id = $1 AND t.total > $3
    ORDER BY name, id LIMIT $2 OFFSET $3
) AS c ON true
ORDER BY c.name, c.id
"""

# $1 partner_id, $2 limit, $3 offset, $4 name. Customers' names need not be unique: the total is a
# count over the (partner_id, name, id) index, bounded by the customers of that one name.
CUSTOMER_PAGE_BY_NAME = """
SELECT t.total, c.id::text, c.name, c.created_at
FROM (SELECT count(*) FROM customers WHERE partner_id = $1 AND name = $4) AS t (total)
LEFT JOIN LATERAL (
    SELECT id, name, created_at FROM customers WHERE partner_id = $1 AND name = $4 AND t.total > $3
    ORDER BY name, id LIMIT $2 OFFSET $3
) AS c ON true
ORDER BY c.name, c.id
"""


# -- running them ---------------------------------------------------------------------------------


def split_page(rows: Sequence[Record], fields: tuple[str, ...]) -> tuple[list[dict[str, Any]], int]:
    """The rows of a page statement (``total`` then ``fields``) as (the page's items, the total)."""
    if not rows:
        return [], 0
    total = int(rows[0]["total"])
    return [dict(zip(fields, tuple(row)[1:], strict=True)) for row in rows if row["id"] is not None], total


async def connector_page(
    db: Database, partner_id: uuid.UUID, filters: ConnectorFilters, limit: int, offset: int
) -> tuple[bytes, int]:
    """(the page's connectors as comma-joined JSON objects, the total of all matches)."""
    sql, args = connector_page_query(filters, limit, offset)
    args[0] = partner_id
    row = await db.fetchrow(sql, *args)
    assert row is not None  # the totals subquery always gives one row
    return bytes(row["items"]), int(row["total"])


async def customer_page(
    db: Database, partner_id: uuid.UUID, name: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    if name is None:
        rows = await db.fetch(CUSTOMER_PAGE, partner_id, limit, offset)
    else:
        rows = await db.fetch(CUSTOMER_PAGE_BY_NAME, partner_id, limit, offset, name)
    return split_page(rows, CUSTOMER_FIELDS)


async def lock_customer(connection: Connection, partner_id: uuid.UUID, customer_id: uuid.UUID) -> str | None:
    """The customer's version, its row locked; None when there is no such customer."""
    version: str | None = await connection.fetchval(LOCK_CUSTOMER, partner_id, customer_id)
    return version


async def lock_connector(connection: Connection, partner_id: uuid.UUID, connector_id: uuid.UUID) -> str | None:
    """The connector's version, its row locked; None when there is no such connector."""
    version: str | None = await connection.fetchval(LOCK_CONNECTOR_VERSION, partner_id, connector_id)
    return version
