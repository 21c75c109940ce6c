"""SQL of the fleet API.

The four entity tables share one shape (text id, text attributes, created_at/updated_at, soft delete
except chips), so their statements are built once per table from a ``Table`` description; only
names from these descriptions are ever put into SQL text, every value is a parameter.

Visibility: a caller bound to an enterprise sees only that enterprise's rows. Each statement that
reads a table takes the caller's enterprise id as a parameter (NULL: every enterprise) in the
table's ``scope`` condition.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fleetreg.db import Connection


@dataclass(frozen=True)
class Table:
    kind: str
    """The resource's ``type``: "vehicle"."""
    name: str
    attributes: tuple[str, ...]
    """The columns rendered as attributes (all text), besides created_at and updated_at."""
    soft_delete: bool
    search_text: str
    """The text ``search`` looks into, over alias ``t`` (the expression of the trigram index)."""
    scope: str
    """Condition over alias ``t``: the row is seen by a caller bound to ``{enterprise}``."""
    total_kind: str
    """Kind of the counter rows in fleet_totals."""

    @property
    def live(self) -> str:
        return "t.deleted_at IS NULL" if self.soft_delete else "true"

    @property
    def columns(self) -> str:
        """The rendered columns, and ``version``: the row's version (xmin), its ETag."""
        attributes = (f"t.{name}" for name in self.attributes)
        return ", ".join(["t.id", *attributes, "t.created_at", "t.updated_at", "t.xmin::text AS version"])

    def visible_to(self, placeholder: str) -> str:
        """The row is seen by the caller whose enterprise is ``placeholder`` (NULL: every row)."""
        return f"({placeholder}::text IS NULL OR {self.scope.format(enterprise=placeholder)})"

    def scoped_to(self, placeholder: str) -> str:
        """The row is seen by a caller bound to the enterprise ``placeholder`` (never NULL)."""
        return self.scope.format(enterprise=placeholder)


ENTERPRISES = Table(
    kind="enterprise",
    name="enterprises",
    attributes=("name", "cnpj"),
    soft_delete=True,
    search_text="enterprise_search_text(t.name, t.cnpj)",
    scope="t.id = {enterprise}",
    total_kind="enterprises",
)
VEHICLES = Table(
    kind="vehicle",
    name="vehicles",
    attributes=("enterprise_id", "name", "plate", "vin"),
    soft_delete=True,
    search_text="vehicle_search_text(t.name, t.plate, t.vin)",
    scope="t.enterprise_id = {enterprise}",
    total_kind="vehicles",
)
DEVICES = Table(
    kind="device",
    name="devices",
    attributes=("enterprise_id", "name", "imei", "code"),
    soft_delete=True,
    search_text="device_search_text(t.name, t.imei, t.code)",
    scope="t.enterprise_id = {enterprise}",
    total_kind="devices",
)
# A chip belongs to no enterprise: a bound caller sees it while it sits in one of its live devices.
CHIPS = Table(
    kind="chip",
    name="chips",
    attributes=("serial", "number", "carrier", "service_provider", "batch", "device_id"),
    soft_delete=False,
    search_text="chip_search_text(t.serial, t.number, t.carrier, t.service_provider, t.batch)",
    scope="t.device_id IN (SELECT d.id FROM devices AS d "
    "WHERE d.enterprise_id = {enterprise} AND d.deleted_at IS NULL)",
    total_kind="chips",
)


# -- one table's rows ---------------------------------------------------------------------------------


@functools.cache
def rows_by_ids(table: Table, lock: str | None = None) -> str:
    """The live rows visible to $1 among the ids $2, in id order, locked when ``lock`` is given."""
    locking = f" FOR {lock} OF t" if lock else ""
    return f"""
SELECT {table.columns} FROM {table.name} AS t
WHERE t.id = ANY($2::text[]) AND {table.live} AND {table.visible_to("$1")}
ORDER BY t.id{locking}
"""


@functools.cache
def existing_ids(table: Table) -> str:
    """Which of the ids $1 are taken, by live or deleted rows alike."""
    return f"SELECT id FROM {table.name} WHERE id = ANY($1::text[])"


@functools.cache
def rows_holding(table: Table, column: str) -> str:
    """(value, id) of the live rows whose ``column`` is among $1, other than the rows $2."""
    live = "deleted_at IS NULL" if table.soft_delete else "true"
    return f"""
SELECT {column} AS value, id FROM {table.name}
WHERE {column} = ANY($1::text[]) AND {live} AND id <> ALL($2::text[])
"""


@functools.cache
def insert_rows(table: Table) -> str:
    """Insert one row per element of the arrays $1 (ids), $2... (attributes in ``table`` order)."""
    arrays = ", ".join(f"${number}::text[]" for number in range(1, len(table.attributes) + 2))
    return f"""
INSERT INTO {table.name} AS t (id, {", ".join(table.attributes)})
SELECT * FROM unnest({arrays})
RETURNING {table.columns}
"""


def update_row(table: Table, columns: Sequence[str]) -> str:
    """Set ``columns`` of the row $1 to $2...; ``columns`` come from ``table.attributes`` only."""
    assert set(columns) <= set(table.attributes)
    assignments = "".join(f"{column} = ${number}, " for number, column in enumerate(columns, start=2))
    return f"UPDATE {table.name} AS t SET {assignments}updated_at = now() WHERE t.id = $1 RETURNING {table.columns}"


@functools.cache
def delete_row(table: Table) -> str:
    if table.soft_delete:
        return f"UPDATE {table.name} SET deleted_at = now(), updated_at = now() WHERE id = $1"
    return f"DELETE FROM {table.name} WHERE id = $1"


@dataclass(frozen=True)
class ListQuery:
    """The shape of one list request: which conditions and which total it has."""

    table: Table
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
    table = query.table
    # Two shapes rather than "$1 IS NULL OR ...", so that each plan can use the enterprise's index.
    conditions = [table.live, table.scoped_to("$1") if query.bound else "$1::text IS NULL"]
    number = 3
    if query.search:
        number += 1
        conditions.append(f"{table.search_text} ILIKE ${number}")
    if query.filter_column is not None:
        number += 1
        conditions.append(f"t.{query.filter_column} = ${number}")
        filter_param = f"${number}"
    where = " AND ".join(conditions)
    if not query.count:
        total = "NULL::bigint"
    elif query.search or (query.bound and table.total_kind in ("enterprises", "chips")):
        total = f"(SELECT count(*) FROM {table.name} AS t WHERE {where})"
    elif table.total_kind in ("vehicles", "devices"):
        scope = " AND ($1::text IS NULL OR enterprise_id = $1)"
        if query.filter_column is not None:
            scope += f" AND enterprise_id = {filter_param}"
        total = f"(SELECT coalesce(sum(n), 0)::bigint FROM fleet_totals WHERE kind = '{table.total_kind}'{scope})"
    else:
        total = f"(SELECT coalesce(sum(n), 0)::bigint FROM fleet_totals WHERE kind = '{table.total_kind}')"
    return f"""
WITH page AS (
    SELECT {table.columns} FROM {table.name} AS t
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
    connection: Connection, table: Table, enterprise: str | None, ids: Sequence[str], lock: str | None = None
) -> dict[str, Any]:
    """id -> row of the live rows visible to ``enterprise`` among ``ids`` (locked in id order)."""
    rows = await connection.fetch(rows_by_ids(table, lock), enterprise, list(ids))
    return {row["id"]: row for row in rows}


def like_pattern(text: str, *, prefix: bool, suffix: bool) -> str:
    """An ILIKE pattern matching ``text`` literally (its % and _ and \\ escaped)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return ("%" if prefix else "") + escaped + ("%" if suffix else "")
