"""SQL of the device associations: creating, ending, promoting, and the two lists (a vehicle's
associations with chip, device and enterprise fields; a device's history).

Visibility as in ``fleet.queries``: every statement takes the caller's enterprise (NULL: all).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from fleetreg.fleet.kinds import DEVICE, VEHICLE
from fleetreg.fleet.queries import like_pattern

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
    SELECT t.id FROM devices AS t WHERE t.id = $2 AND t.deleted_at IS NULL AND {DEVICE.visible_to("$1")}
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
    SELECT t.id FROM vehicles AS t WHERE t.id = $2 AND t.deleted_at IS NULL AND {VEHICLE.visible_to("$1")}
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
