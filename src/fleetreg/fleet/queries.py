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


# -- associations ---------------------------------------------------------------------------------------

ASSOCIATION_COLUMNS = "a.id, a.vehicle_id, a.device_id, a.is_main_device, a.created_at, a.ended_at"

ACTIVE_ASSOCIATIONS_OF_DEVICES = """
SELECT device_id, vehicle_id FROM device_associations WHERE device_id = ANY($1::text[]) AND ended_at IS NULL
"""
ACTIVE_ASSOCIATIONS_OF_VEHICLES = """
SELECT id, vehicle_id, is_main_device FROM device_associations
WHERE vehicle_id = ANY($1::text[]) AND ended_at IS NULL
"""
# Each association starts at the clock's time, taken once its vehicle and device are locked: a
# device's next association therefore starts after its previous one ended, so that ``as_of`` finds
# at most one (now(), the transaction's start, could be earlier than an end committed meanwhile).
INSERT_ASSOCIATIONS = f"""
INSERT INTO device_associations AS a (id, enterprise_id, vehicle_id, device_id, is_main_device, created_at)
SELECT id, enterprise_id, vehicle_id, device_id, is_main_device, clock_timestamp()
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[])
    AS item (id, enterprise_id, vehicle_id, device_id, is_main_device)
RETURNING {ASSOCIATION_COLUMNS}
"""
# The associations among $1 visible to the caller $2 (ended ones too: the caller learns "not found").
ASSOCIATIONS_BY_IDS = f"""
SELECT {ASSOCIATION_COLUMNS} FROM device_associations AS a
WHERE a.id = ANY($1::text[]) AND ($2::text IS NULL OR a.enterprise_id = $2)
"""
END_ASSOCIATIONS = f"""
UPDATE device_associations AS a SET ended_at = clock_timestamp()
WHERE a.id = ANY($1::text[]) AND a.ended_at IS NULL
RETURNING {ASSOCIATION_COLUMNS}
"""
ACTIVE_ASSOCIATION_OF_VEHICLE = f"""
SELECT {ASSOCIATION_COLUMNS} FROM device_associations AS a
WHERE a.id = $1 AND a.vehicle_id = $2 AND a.ended_at IS NULL
"""
# Two statements, in this order: the unique index "one active main per vehicle" is checked row by row.
DEMOTE_MAIN_OF_VEHICLE = """
UPDATE device_associations SET is_main_device = false
WHERE vehicle_id = $1 AND ended_at IS NULL AND is_main_device
"""
PROMOTE_ASSOCIATION = f"""
UPDATE device_associations AS a SET is_main_device = true WHERE a.id = $1 RETURNING {ASSOCIATION_COLUMNS}
"""


def active_at(as_of: str | None) -> str:
    """Condition over alias ``a``: active now, or at the instant ``as_of`` (a placeholder)."""
    if as_of is None:
        return "a.ended_at IS NULL"
    return f"a.created_at <= {as_of} AND (a.ended_at IS NULL OR a.ended_at > {as_of})"


@functools.cache
def device_history(*, as_of: bool, count: bool) -> str:
    """The associations of the device $2 (live, visible to $1), newest first: a page ($3 limit,
    $4 offset), each row with the total (NULL unless counted); one row of NULLs but the total when the
    page is empty; no row when the device is not found. With ``as_of``, $5 is the instant."""
    total = "(SELECT count(*) FROM matches)" if count else "NULL::bigint"
    return f"""
WITH device AS (
    SELECT t.id FROM devices AS t WHERE t.id = $2 AND t.deleted_at IS NULL AND {DEVICES.visible_to("$1")}
),
matches AS (
    SELECT {ASSOCIATION_COLUMNS} FROM device_associations AS a JOIN device ON a.device_id = device.id
    WHERE {active_at("$5") if as_of else "true"}
),
page AS (
    SELECT * FROM matches ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4
)
SELECT {total} AS total, page.* FROM device LEFT JOIN page ON true
ORDER BY page.created_at DESC, page.id DESC
"""


class Arguments:
    """Positional parameters of a statement built piece by piece: ``args.add(value)`` gives "$n"."""

    def __init__(self, *initial: Any) -> None:
        self.values: list[Any] = list(initial)

    def add(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


# The filterable fields of the vehicle's association list, as columns of the query below.
ASSOCIATION_LIST_FIELDS = {
    "chips.serial": "c.serial",
    "chips.number": "c.number",
    "chips.carrier": "c.carrier",
    "chips.service_provider": "c.service_provider",
    "chips.batch": "c.batch",
    "device.name": "d.name",
    "device.imei": "d.imei",
    "device.code": "d.code",
    "enterprise.name": "e.name",
    "enterprise.cnpj": "e.cnpj",
}
ASSOCIATION_LIST_SORTS = {"number": "number", "serial": "serial"}


def like_pattern(text: str, *, prefix: bool, suffix: bool) -> str:
    """An ILIKE pattern matching ``text`` literally (its % and _ and \\ escaped)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return ("%" if prefix else "") + escaped + ("%" if suffix else "")


def vehicle_associations(
    *,
    enterprise: str | None,
    vehicle_id: str,
    as_of: Any,
    filters: Sequence[tuple[str, str, str]],
    search: str | None,
    sort: Sequence[tuple[str, int]],
    limit: int,
    offset: int,
    count: bool,
) -> tuple[str, list[Any]]:
    """One statement for the whole list request: the vehicle's associations active now (or at
    ``as_of``) matching every filter and the search, one page of them in the requested order, with
    chip, device and enterprise fields, and the total when ``count``.

    Rows: none when the vehicle is not found; else one per item, or one row of NULLs but the total
    when the page is empty. ``filters`` are (field, op, value) with fields of
    ``ASSOCIATION_LIST_FIELDS``; ``sort`` keys are from ``ASSOCIATION_LIST_SORTS``.
    """
    args = Arguments(enterprise, vehicle_id)
    conditions = [active_at(args.add(as_of) if as_of is not None else None)]
    for name, op, value in filters:
        column = ASSOCIATION_LIST_FIELDS[name]
        if op == "eq":
            conditions.append(f"{column} = {args.add(value)}")
        elif op == "neq":
            conditions.append(f"{column} IS DISTINCT FROM {args.add(value)}")
        else:
            pattern = like_pattern(value, prefix=op in ("ilk", "ew"), suffix=op in ("ilk", "sw"))
            conditions.append(f"{column} ILIKE {args.add(pattern)}")
    if search is not None:
        pattern = args.add(like_pattern(search, prefix=True, suffix=True))
        conditions.append(
            "(" + " OR ".join(f"{column} ILIKE {pattern}" for column in ASSOCIATION_LIST_FIELDS.values()) + ")"
        )
    order = [
        f"m.{ASSOCIATION_LIST_SORTS[key]} {'ASC' if direction > 0 else 'DESC'} NULLS LAST" for key, direction in sort
    ]
    order += ["m.is_main_device DESC", "m.created_at", "m.id"]
    total = "(SELECT count(*) FROM matches)" if count else "NULL::bigint"
    sql = f"""
WITH vehicle AS (
    SELECT t.id FROM vehicles AS t WHERE t.id = $2 AND t.deleted_at IS NULL AND {VEHICLES.visible_to("$1")}
),
matches AS (
    SELECT {ASSOCIATION_COLUMNS},
           c.id AS chip_id, c.serial, c.number, c.carrier, c.service_provider, c.batch,
           d.name AS device_name, d.imei AS device_imei, d.code AS device_code,
           e.name AS enterprise_name, e.cnpj AS enterprise_cnpj
    FROM vehicle AS v
    JOIN device_associations AS a ON a.vehicle_id = v.id
    JOIN devices AS d ON d.id = a.device_id
    JOIN enterprises AS e ON e.id = a.enterprise_id
    LEFT JOIN chips AS c ON c.device_id = a.device_id
    WHERE {" AND ".join(conditions)}
),
page AS (
    SELECT m.*, row_number() OVER (ORDER BY {", ".join(order)}) AS position FROM matches AS m
    ORDER BY position LIMIT {args.add(limit)} OFFSET {args.add(offset)}
)
SELECT {total} AS total, page.* FROM vehicle LEFT JOIN page ON true
ORDER BY page.position
"""
    return sql, args.values
