"""CSV imports of the fleet (``fleetreg import enterprises|vehicles|devices|chips FILE.csv``), derived
from each kind's declaration (``fleet.kinds``).

The columns are the kind's attributes plus an optional ``id`` (kept when given, generated when
empty). Formats (CNPJ, IMEI and ICCID check digits, E.164, VIN) are checked row by row by ``parse``,
with the same checks as the API; what needs the whole file or the database (a value twice in the
file, an id or unique value that exists already, a reference to no live row) is checked in SQL over
the staging table. All rows or none.

Each import locks the table it fills against concurrent writes (SHARE ROW EXCLUSIVE) and the tables
its rows refer to against changes (SHARE), so that what the checks saw is what the INSERT meets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fleetreg.fleet import formats
from fleetreg.fleet.kinds import CHIP, DEVICE, ENTERPRISE, VEHICLE, Attribute, Kind
from fleetreg.importer import STAGING_TABLE, ImportSpec, RowError


def _cell(row: Mapping[str, str], attribute: Attribute) -> str | None:
    value = row.get(attribute.name, "")
    if not value:
        if attribute.optional:
            return None
        raise RowError(f"{attribute.name} is empty")
    try:
        return attribute.format.check(value)
    except ValueError as error:
        raise RowError(f"{attribute.name} {value!r}: {error}") from None


def _id(row: Mapping[str, str]) -> str:
    value = row.get("id", "")
    if not value:
        return formats.new_id()
    try:
        return formats.check_id(value)
    except ValueError as error:
        raise RowError(f"id {value!r}: {error}") from None


def _same_value_twice(column: str) -> str:
    """Lines whose ``column`` repeats the value of an earlier line of the file."""
    return f"""
SELECT line, format('{column} %s appears again (first on line %s)', {column}, first_line)
FROM (SELECT line, {column}, min(line) OVER (PARTITION BY {column}) AS first_line
      FROM {STAGING_TABLE} WHERE {column} IS NOT NULL) AS numbered
WHERE line <> first_line
"""


def _a(noun: str) -> str:
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def _id_exists(kind: Kind) -> str:
    """Lines whose id is taken (by a live or deleted row: ids are never reused)."""
    return f"""
SELECT r.line, format('{_a(kind.name)} with id %s exists already', r.id)
FROM {STAGING_TABLE} AS r JOIN {kind.plural} AS t ON t.id = r.id
"""


def _taken(kind: Kind, attribute: Attribute) -> str:
    """Lines whose unique value a live row holds already."""
    unique = attribute.unique
    assert unique is not None
    detail = (
        unique.import_detail
        or f"{'a live' if kind.soft_delete else 'a'} {kind.name} has the {unique.label} {{value}} already"
    )
    values = {"value": f"r.{attribute.name}", "holder": "t.id"}
    arguments = ", ".join(values[name] for name in re.findall(r"\{(\w+)\}", detail))
    live = " AND t.deleted_at IS NULL" if kind.soft_delete else ""
    message = re.sub(r"\{\w+\}", "%s", detail)
    return f"""
SELECT r.line, format('{message}', {arguments})
FROM {STAGING_TABLE} AS r JOIN {kind.plural} AS t ON t.{attribute.name} = r.{attribute.name}{live}
"""


def _unknown(attribute: Attribute) -> str:
    """Lines referring to no live row."""
    assert attribute.reference is not None
    target = attribute.reference.target
    return f"""
SELECT r.line, format('{attribute.name} %s is not a live {target.name}', r.{attribute.name})
FROM {STAGING_TABLE} AS r
WHERE r.{attribute.name} IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM {target.plural} AS t WHERE t.id = r.{attribute.name} AND {target.live})
"""


def _checks(kind: Kind) -> tuple[str, ...]:
    """In the order their errors are listed for one line: repeats in the file, taken ids, taken
    values, then each reference (and what its row must not hold already)."""
    checks = [_same_value_twice("id"), *(_same_value_twice(a.name) for a in kind.unique), _id_exists(kind)]
    checks += [_taken(kind, a) for a in kind.unique if a.reference is None]
    for attribute in kind.references:
        checks.append(_unknown(attribute))
        if attribute.unique is not None:
            checks.append(_taken(kind, attribute))
    return tuple(checks)


def import_spec(kind: Kind) -> ImportSpec:
    names = kind.attribute_names
    targets = dict.fromkeys(a.reference.target.plural for a in kind.references if a.reference)

    def parse(row: Mapping[str, str]) -> tuple[Any, ...]:
        return (_id(row), *(_cell(row, attribute) for attribute in kind.attributes))

    return ImportSpec(
        entity=kind.plural,
        columns=("id", *names),
        required=frozenset(a.name for a in kind.attributes if not a.optional),
        staging=tuple((name, "text") for name in ("id", *names)),
        parse=parse,
        referenced=tuple(targets),
        checks=_checks(kind),
        apply=f"""
INSERT INTO {kind.plural} (id, {", ".join(names)})
SELECT id, {", ".join(names)} FROM {STAGING_TABLE} ORDER BY line
""",
    )


ENTERPRISES, VEHICLES, DEVICES, CHIPS = (import_spec(kind) for kind in (ENTERPRISE, VEHICLE, DEVICE, CHIP))
