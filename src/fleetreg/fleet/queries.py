"""SQL of the fleet API.

The four entity tables share one shape (text id, text attributes, created_at/updated_at, soft delete
except chips), so their statements are built once per kind from its declaration (``fleet.kinds``);
only names from these declarations are ever put into SQL text, every value is a parameter.

Visibility: a caller bound to an enterprise sees only that enterprise's rows. Each statement that
reads a table takes the caller's enterprise id as a parameter (NULL: every enterprise) in the
table's ``scope`` condition.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fleetreg.db import Connection

if TYPE_CHECKING:
    from fleetreg.fleet.kinds import Kind


# -- one table's rows ---------------------------------------------------------------------------------


@functools.cache
def rows_by_ids(kind: Kind, lock: str | None = None) -> str:
    """The live rows visible to $1 among the ids $2, in id order, locked when ``lock`` is given."""
    locking = f" FOR {lock} OF t" if lock else ""
    return f"""
SELECT {kind.columns} FROM {kind.plural} AS t
WHERE t.id = ANY($2::text[]) AND {kind.live} AND {kind.visible_to("$1")}
ORDER BY t.id{locking}
"""


@functools.cache
def live_rows_where(kind: Kind, column: str) -> str:
    """The live rows whose ``column`` is among $1, oldest first (every enterprise's)."""
    assert column in ("id", *kind.attribute_names)
    return f"""
SELECT {kind.columns} FROM {kind.plural} AS t
WHERE t.{column} = ANY($1::text[]) AND {kind.live}
ORDER BY t.created_at, t.id
"""


@functools.cache
def existing_ids(kind: Kind) -> str:
    """Which of the ids $1 are taken, by live or deleted rows alike."""
    return f"SELECT id FROM {kind.plural} WHERE id = ANY($1::text[])"


@functools.cache
def rows_holding(kind: Kind, column: str) -> str:
    """(value, id) of the live rows whose ``column`` is among $1, other than the rows $2."""
    live = "deleted_at IS NULL" if kind.soft_delete else "true"
    return f"""
SELECT {column} AS value, id FROM {kind.plural}
WHERE {column} = ANY($1::text[]) AND {live} AND id <> ALL($2::text[])
"""


@functools.cache
def insert_rows(kind: Kind) -> str:
    """Insert one row per element of the arrays $1 (ids), $2... (attributes in the kind's order)."""
    arrays = ", ".join(f"${number}::text[]" for number in range(1, len(kind.attribute_names) + 2))
    return f"""
INSERT INTO {kind.plural} AS t (id, {", ".join(kind.attribute_names)})
SELECT * FROM unnest({arrays})
RETURNING {kind.columns}
"""


def update_row(kind: Kind, columns: Sequence[str]) -> str:
    """Set ``columns`` of the row $1 to $2...; ``columns`` come from ``kind.attribute_names`` only."""
    assert set(columns) <= set(kind.attribute_names)
    assignments = "".join(f"{column} = ${number}, " for number, column in enumerate(columns, start=2))
    return f"UPDATE {kind.plural} AS t SET {assignments}updated_at = now() WHERE t.id = $1 RETURNING {kind.columns}"


@functools.cache
def delete_row(kind: Kind) -> str:
    if kind.soft_delete:
        return f"UPDATE {kind.plural} SET deleted_at = now(), updated_at = now() WHERE id = $1"
    return f"DELETE FROM {kind.plural} WHERE id = $1"


@dataclass(frozen=True)
class ListQuery:
    """The shape of one list request: which conditions and which total it has."""

    kind: Kind
    search: bool
    filter_column: str | None
    bound: bool
    count: bool


@functools.cache
def list_rows(query: ListQuery) -> str:
    """One page of the table's visible live rows in (created_at, id) order, and the total.

    Parameters: $1 caller's enterprise, $2 limit, $3 offset, then the search pattern (for ILIKE) and
    the filter's value when the query has them. The result has one row per item, each with the
    total (NULL unless counted), or exactly one row of NULLs but the total when the page is empty.
    The total comes from fleet_totals unless a search (or a bound caller of a table counted
    overall) makes it a count of the matches.
    """
    kind = query.kind
    # Two shapes rather than "$1 IS NULL OR ...", so that each plan can use the enterprise's index.
    conditions = [kind.live, kind.scoped_to("$1") if query.bound else "$1::text IS NULL"]
    number = 3
    if query.search:
        number += 1
        conditions.append(f"{kind.search_text} ILIKE ${number}")
    if query.filter_column is not None:
        number += 1
        conditions.append(f"t.{query.filter_column} = ${number}")
        filter_param = f"${number}"
    where = " AND ".join(conditions)
    if not query.count:
        total = "NULL::bigint"
    elif query.search or (query.bound and not kind.counted_per_enterprise):
        total = f"(SELECT count(*) FROM {kind.plural} AS t WHERE {where})"
    elif kind.counted_per_enterprise:
        scope = " AND ($1::text IS NULL OR enterprise_id = $1)"
        if query.filter_column is not None:
            scope += f" AND enterprise_id = {filter_param}"
        total = f"(SELECT coalesce(sum(n), 0)::bigint FROM fleet_totals WHERE kind = '{kind.plural}'{scope})"
    else:
        total = f"(SELECT coalesce(sum(n), 0)::bigint FROM fleet_totals WHERE kind = '{kind.plural}')"
    return f"""
WITH page AS (
    SELECT {kind.columns} FROM {kind.plural} AS t
    WHERE {where}
    ORDER BY t.created_at, t.id
    LIMIT $2 OFFSET $3
)
SELECT {total} AS total, page.* FROM (SELECT 1) AS one LEFT JOIN page ON true
ORDER BY page.created_at, page.id
"""


# -- what still needs a row -----------------------------------------------------------------------

ENTERPRISE_HAS_LIVE_MEMBERS = """
SELECT EXISTS (SELECT 1 FROM vehicles WHERE enterprise_id = $1 AND deleted_at IS NULL) AS vehicles,
       EXISTS (SELECT 1 FROM devices WHERE enterprise_id = $1 AND deleted_at IS NULL) AS devices
"""
VEHICLE_ASSOCIATION_COUNTS = """
SELECT count(*) FILTER (WHERE ended_at IS NULL) AS active, count(*) AS ever
FROM device_associations WHERE vehicle_id = $1
"""
DEVICE_ASSOCIATIONS_AND_CHIP = """
SELECT (SELECT vehicle_id FROM device_associations WHERE device_id = $1 AND ended_at IS NULL) AS active_vehicle,
       EXISTS (SELECT 1 FROM device_associations WHERE device_id = $1) AS ever,
       (SELECT id FROM chips WHERE device_id = $1) AS chip_id
"""


async def fetch_by_ids(
    connection: Connection, kind: Kind, enterprise: str | None, ids: Sequence[str], lock: str | None = None
) -> dict[str, Any]:
    """id -> row of the live rows visible to ``enterprise`` among ``ids`` (locked in id order)."""
    rows = await connection.fetch(rows_by_ids(kind, lock), enterprise, list(ids))
    return {row["id"]: row for row in rows}


def like_pattern(text: str, *, prefix: bool, suffix: bool) -> str:
    """An ILIKE pattern matching ``text`` literally (its % and _ and \\ escaped)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return ("%" if prefix else "") + escaped + ("%" if suffix else "")
