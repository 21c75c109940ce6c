"""CSV imports of a partner's customers and connectors (``fleetreg import customers|connectors``).

Parameters of the SQL: $1 is the partner's id.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fleetreg.importer import ImportSpec, RowError

_PIN = re.compile(r"[0-9]{5}")
_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
CONNECTOR_TYPES = ("physical", "virtual")


def optional_uuid(row: Mapping[str, str], column: str) -> uuid.UUID | str | None:
    """The column's UUID, or None when it is empty. A UUID in its usual spelling stays text, which
    the COPY encodes (building a uuid.UUID per row was a fifth of a million-row import); other
    spellings Python accepts are parsed."""
    text = row.get(column, "").strip()
    if not text:
        return None
    if _CANONICAL_UUID.fullmatch(text):
        return text
    try:
        return uuid.UUID(text)
    except ValueError as error:
        raise RowError(f"{column} {text!r} is not a UUID") from error


def text_of(row: Mapping[str, str], column: str, *, longest: int) -> str:
    value = row.get(column, "")
    if not value:
        raise RowError(f"{column} is empty")
    if len(value) > longest:
        raise RowError(f"{column} is longer than {longest} characters")
    return value


def _same_value_twice(column: str) -> str:
    """Lines whose ``column`` repeats the value of an earlier line of the file."""
    return f"""
SELECT line, format('{column} %s appears again (first on line %s)', {column}, first_line)
FROM (SELECT line, {column}, min(line) OVER (PARTITION BY {column}) AS first_line
      FROM import_rows WHERE {column} IS NOT NULL) AS numbered
WHERE line <> first_line
"""


def _parse_customer(row: Mapping[str, str]) -> tuple[Any, ...]:
    return (optional_uuid(row, "id"), text_of(row, "name", longest=200))


CUSTOMERS = ImportSpec(
    entity="customers",
    columns=("id", "name"),
    required=frozenset({"name"}),
    staging=(("id", "uuid"), ("name", "text")),
    parse=_parse_customer,
    checks=(
        _same_value_twice("id"),
        """
SELECT r.line, format('a customer with id %s exists already', r.id)
FROM import_rows AS r JOIN customers AS c ON c.id = r.id
""",
    ),
    # A row without an id gets a new one.
    apply="""
INSERT INTO customers (id, partner_id, name)
SELECT coalesce(id, gen_random_uuid()), $1, name FROM import_rows ORDER BY line
""",
)


def _parse_connector(row: Mapping[str, str]) -> tuple[Any, ...]:
    connector_type = row.get("type", "")
    if connector_type not in CONNECTOR_TYPES:
        raise RowError(f"type must be physical or virtual, not {connector_type!r}")
    pin = row.get("pin", "") or None
    if pin is not None and not _PIN.fullmatch(pin):
        raise RowError(f"pin must be five digits, not {pin!r}")
    return (
        optional_uuid(row, "id"),
        text_of(row, "name", longest=200),
        connector_type,
        text_of(row, "hardware_version", longest=100),
        text_of(row, "software_version", longest=100),
        pin,
        optional_uuid(row, "customer_id"),
    )


def _connector_parser(header: Sequence[str]) -> Callable[[list[str]], tuple[Any, ...]]:
    """``_parse_connector`` on a row's fields by position: the same checks, in the same order."""
    at = {name: header.index(name) for name in header}
    type_at, name_at = at["type"], at["name"]
    hardware_at, software_at = at["hardware_version"], at["software_version"]
    pin_at, id_at, customer_at = at.get("pin"), at.get("id"), at.get("customer_id")
    pin_ok, canonical = _PIN.fullmatch, _CANONICAL_UUID.fullmatch

    def text(value: str, column: str, longest: int) -> str:
        if not value:
            raise RowError(f"{column} is empty")
        if len(value) > longest:
            raise RowError(f"{column} is longer than {longest} characters")
        return value

    def identifier(fields: list[str], index: int | None, column: str) -> uuid.UUID | str | None:
        if index is None:
            return None
        value = fields[index].strip()
        if not value:
            return None
        if canonical(value):
            return value
        return optional_uuid({column: value}, column)

    def parse(fields: list[str]) -> tuple[Any, ...]:
        connector_type = fields[type_at]
        if connector_type not in CONNECTOR_TYPES:
            raise RowError(f"type must be physical or virtual, not {connector_type!r}")
        pin = (fields[pin_at] if pin_at is not None else "") or None
        if pin is not None and not pin_ok(pin):
            raise RowError(f"pin must be five digits, not {pin!r}")
        connector_id = identifier(fields, id_at, "id")
        name, hardware, software = fields[name_at], fields[hardware_at], fields[software_at]
        return (
            connector_id,
            name if name and len(name) <= 200 else text(name, "name", 200),
            connector_type,
            hardware if hardware and len(hardware) <= 100 else text(hardware, "hardware_version", 100),
            software if software and len(software) <= 100 else text(software, "software_version", 100),
            pin,
            identifier(fields, customer_at, "customer_id"),
        )

    return parse


CONNECTORS = ImportSpec(
    entity="connectors",
    columns=("id", "name", "type", "hardware_version", "software_version", "pin", "customer_id"),
    required=frozenset({"name", "type", "hardware_version", "software_version"}),
    staging=(
        ("id", "uuid"),
        ("name", "text"),
        ("type", "text"),
        ("hardware_version", "text"),
        ("software_version", "text"),
        ("pin", "text"),
        ("customer_id", "uuid"),
    ),
    parse=_parse_connector,
    positional=_connector_parser,
    referenced=("customers",),
    checks=(
        _same_value_twice("id"),
        _same_value_twice("name"),
        """
SELECT r.line, format('a connector with id %s exists already', r.id)
FROM import_rows AS r JOIN connectors AS c ON c.id = r.id
""",
        """
SELECT r.line, format('the partner has a connector named %s already', r.name)
FROM import_rows AS r JOIN connectors AS c ON c.partner_id = $1 AND c.name = r.name
""",
        """
SELECT r.line, format('customer_id %s is not a customer of this partner', r.customer_id)
FROM import_rows AS r
WHERE r.customer_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM customers AS c WHERE c.partner_id = $1 AND c.id = r.customer_id)
""",
    ),
    apply="""
INSERT INTO connectors (id, partner_id, customer_id, name, type, hardware_version, software_version, pin)
SELECT coalesce(id, gen_random_uuid()), $1, customer_id, name, type, hardware_version, software_version, pin
FROM import_rows ORDER BY line
""",
)
