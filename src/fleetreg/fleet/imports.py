"""CSV imports of the fleet (``fleetreg import enterprises|vehicles|devices|chips FILE.csv``).

The columns are the resource's attributes plus an optional ``id`` (kept when given, generated when
empty). Formats (CNPJ, IMEI and ICCID check digits, E.164, VIN) are checked row by row by ``parse``,
with the same functions as the API; what needs the whole file or the database (a value twice in the
file, an id or key that exists already, a reference to no live enterprise or device) is checked in
SQL over the staging table. All rows or none.

Each import locks the table it fills against concurrent writes (SHARE ROW EXCLUSIVE) and the table
its rows refer to against changes (SHARE), so that what the checks saw is what the INSERT meets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fleetreg.fleet import formats
from fleetreg.importer import ImportSpec, RowError


def _checked(row: Mapping[str, str], column: str, check: Callable[[str], str]) -> str:
    value = row.get(column, "")
    if not value:
        raise RowError(f"{column} is empty")
    try:
        return check(value)
    except ValueError as error:
        raise RowError(f"{column} {value!r}: {error}") from None


def _optional(row: Mapping[str, str], column: str, check: Callable[[str], str]) -> str | None:
    return _checked(row, column, check) if row.get(column, "") else None


def _text(longest: int) -> Callable[[str], str]:
    return lambda value: formats.check_text(value, longest=longest)


def _id(row: Mapping[str, str]) -> str:
    return _optional(row, "id", formats.check_id) or formats.new_id()


def _same_value_twice(column: str) -> str:
    """Lines whose ``column`` repeats the value of an earlier line of the file."""
    return f"""
SELECT line, format('{column} %s appears again (first on line %s)', {column}, first_line)
FROM (SELECT line, {column}, min(line) OVER (PARTITION BY {column}) AS first_line
      FROM import_rows WHERE {column} IS NOT NULL) AS numbered
WHERE line <> first_line
"""


def _id_exists(table: str, noun: str) -> str:
    """Lines whose id is taken (by a live or deleted row: ids are never reused)."""
    return f"""
SELECT r.line, format('{noun} with id %s exists already', r.id)
FROM import_rows AS r JOIN {table} AS t ON t.id = r.id
"""


_UNKNOWN_ENTERPRISE = """
SELECT r.line, format('enterprise_id %s is not a live enterprise', r.enterprise_id)
FROM import_rows AS r
WHERE NOT EXISTS (SELECT 1 FROM enterprises AS e WHERE e.id = r.enterprise_id AND e.deleted_at IS NULL)
"""


def _parse_enterprise(row: Mapping[str, str]) -> tuple[Any, ...]:
    return (_id(row), _checked(row, "name", _text(200)), _checked(row, "cnpj", formats.normalize_cnpj))


ENTERPRISES = ImportSpec(
    entity="enterprises",
    columns=("id", "name", "cnpj"),
    required=frozenset({"name", "cnpj"}),
    staging=(("id", "text"), ("name", "text"), ("cnpj", "text")),
    parse=_parse_enterprise,
    lock="LOCK TABLE enterprises IN SHARE ROW EXCLUSIVE MODE",
    checks=(
        _same_value_twice("id"),
        _same_value_twice("cnpj"),
        _id_exists("enterprises", "an enterprise"),
        """
SELECT r.line, format('a live enterprise has the CNPJ %s already', r.cnpj)
FROM import_rows AS r JOIN enterprises AS e ON e.cnpj = r.cnpj AND e.deleted_at IS NULL
""",
    ),
    apply="INSERT INTO enterprises (id, name, cnpj) SELECT id, name, cnpj FROM import_rows ORDER BY line",
)


def _parse_vehicle(row: Mapping[str, str]) -> tuple[Any, ...]:
    return (
        _id(row),
        _checked(row, "enterprise_id", formats.check_id),
        _checked(row, "name", _text(200)),
        _optional(row, "plate", _text(20)),
        _optional(row, "vin", formats.normalize_vin),
    )


VEHICLES = ImportSpec(
    entity="vehicles",
    columns=("id", "enterprise_id", "name", "plate", "vin"),
    required=frozenset({"enterprise_id", "name"}),
    staging=(("id", "text"), ("enterprise_id", "text"), ("name", "text"), ("plate", "text"), ("vin", "text")),
    parse=_parse_vehicle,
    lock="LOCK TABLE enterprises IN SHARE MODE; LOCK TABLE vehicles IN SHARE ROW EXCLUSIVE MODE",
    checks=(_same_value_twice("id"), _id_exists("vehicles", "a vehicle"), _UNKNOWN_ENTERPRISE),
    apply="""
INSERT INTO vehicles (id, enterprise_id, name, plate, vin)
SELECT id, enterprise_id, name, plate, vin FROM import_rows ORDER BY line
""",
)


def _parse_device(row: Mapping[str, str]) -> tuple[Any, ...]:
    return (
        _id(row),
        _checked(row, "enterprise_id", formats.check_id),
        _checked(row, "name", _text(200)),
        _checked(row, "imei", formats.check_imei),
        _checked(row, "code", _text(100)),
    )


DEVICES = ImportSpec(
    entity="devices",
    columns=("id", "enterprise_id", "name", "imei", "code"),
    required=frozenset({"enterprise_id", "name", "imei", "code"}),
    staging=(("id", "text"), ("enterprise_id", "text"), ("name", "text"), ("imei", "text"), ("code", "text")),
    parse=_parse_device,
    lock="LOCK TABLE enterprises IN SHARE MODE; LOCK TABLE devices IN SHARE ROW EXCLUSIVE MODE",
    checks=(
        _same_value_twice("id"),
        _same_value_twice("imei"),
        _id_exists("devices", "a device"),
        """
SELECT r.line, format('a live device has the IMEI %s already', r.imei)
FROM import_rows AS r JOIN devices AS d ON d.imei = r.imei AND d.deleted_at IS NULL
""",
        _UNKNOWN_ENTERPRISE,
    ),
    apply="""
INSERT INTO devices (id, enterprise_id, name, imei, code)
SELECT id, enterprise_id, name, imei, code FROM import_rows ORDER BY line
""",
)


def _parse_chip(row: Mapping[str, str]) -> tuple[Any, ...]:
    return (
        _id(row),
        _checked(row, "serial", formats.check_iccid),
        _checked(row, "number", formats.check_e164),
        _checked(row, "carrier", _text(100)),
        _checked(row, "service_provider", _text(100)),
        _checked(row, "batch", _text(100)),
        _optional(row, "device_id", formats.check_id),
    )


CHIPS = ImportSpec(
    entity="chips",
    columns=("id", "serial", "number", "carrier", "service_provider", "batch", "device_id"),
    required=frozenset({"serial", "number", "carrier", "service_provider", "batch"}),
    staging=(
        ("id", "text"),
        ("serial", "text"),
        ("number", "text"),
        ("carrier", "text"),
        ("service_provider", "text"),
        ("batch", "text"),
        ("device_id", "text"),
    ),
    parse=_parse_chip,
    lock="LOCK TABLE devices IN SHARE MODE; LOCK TABLE chips IN SHARE ROW EXCLUSIVE MODE",
    checks=(
        _same_value_twice("id"),
        _same_value_twice("serial"),
        _same_value_twice("device_id"),
        _id_exists("chips", "a chip"),
        """
SELECT r.line, format('a chip has the serial %s already', r.serial)
FROM import_rows AS r JOIN chips AS c ON c.serial = r.serial
""",
        """
SELECT r.line, format('device_id %s is not a live device', r.device_id)
FROM import_rows AS r
WHERE r.device_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM devices AS d WHERE d.id = r.device_id AND d.deleted_at IS NULL)
""",
        """
SELECT r.line, format('device %s holds chip %s already', r.device_id, c.id)
FROM import_rows AS r JOIN chips AS c ON c.device_id = r.device_id
""",
    ),
    apply="""
INSERT INTO chips (id, serial, number, carrier, service_provider, batch, device_id)
SELECT id, serial, number, carrier, service_provider, batch, device_id FROM import_rows ORDER BY line
""",
)
