"""A CSV of associations to create or end, from the console's upload form: all lines or none.

Columns: ``action`` (``create`` or ``end``), ``vehicle_id``, ``device_id`` and, for ``create``,
``is_main_device`` (true/false). Each line is checked as the fleet imports check theirs (the same
header, UTF-8 and field checks, ``importer.parse_csv``, and the API's id format); then the lines go
to the API's services in one transaction, ends first (so one file can move a device), and an error
of a service names the lines it is about. Any bad line: nothing is written (``UploadRefused``,
which rolls the request's transaction back) and every bad line found is listed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fleetreg.console import queries
from fleetreg.db import Database
from fleetreg.fleet import formats
from fleetreg.fleet.associations import service as associations
from fleetreg.importer import ImportSpec, LineError, RowError, parse_csv
from fleetreg.problems import AppError, BadRequest

COLUMNS = ("action", "vehicle_id", "device_id", "is_main_device")
_TRUE = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False, "": False}


class UploadRefused(BadRequest):
    """The uploaded file has bad lines; nothing was written. ``lines`` lists each one."""

    def __init__(self, lines: Sequence[LineError]) -> None:
        super().__init__(f"{len(lines)} bad line(s); nothing was written")
        self.lines = list(lines)


def _id(row: Mapping[str, str], column: str) -> str:
    value = row.get(column, "")
    if not value:
        raise RowError(f"{column} is empty")
    try:
        return formats.check_id(value)
    except ValueError as error:
        raise RowError(f"{column} {value!r}: {error}") from None


def _parse(row: Mapping[str, str]) -> tuple[Any, ...]:
    action = row.get("action", "").strip().lower()
    if action not in ("create", "end"):
        raise RowError(f"action {row.get('action', '')!r} is neither create nor end")
    main_text = row.get("is_main_device", "").strip().lower()
    if main_text not in _TRUE:
        raise RowError(f"is_main_device {row.get('is_main_device', '')!r} is neither true nor false")
    return action, _id(row, "vehicle_id"), _id(row, "device_id"), _TRUE[main_text]


SPEC = ImportSpec(
    entity="association lines",
    columns=COLUMNS,
    required=frozenset({"action", "vehicle_id", "device_id"}),
    staging=(),
    parse=_parse,
    apply="",
)


@dataclass(frozen=True)
class UploadDone:
    created: int
    ended: int


def _line_of_pointer(pointer: str, lines: Sequence[int]) -> int | None:
    """/data/3/device_id -> the line of the 4th item."""
    parts = pointer.split("/")
    if len(parts) > 2 and parts[1] == "data" and parts[2].isdigit() and int(parts[2]) < len(lines):
        return lines[int(parts[2])]
    return None


def _refused_by_service(error: AppError, lines: Sequence[int]) -> UploadRefused:
    found = []
    for entry in error.extensions.get("errors", []):
        line = _line_of_pointer(entry.get("pointer", ""), lines)
        if line is not None:
            found.append(LineError(line, entry["detail"]))
    if not found:  # an error about the whole batch: shown against every line of it
        found = [LineError(line, error.detail or error.title) for line in lines]
    return UploadRefused(sorted(found, key=lambda item: item.line))


async def apply_upload(db: Database, enterprise: str | None, data: bytes) -> UploadDone:
    """Create and end the file's associations, or raise ``UploadRefused`` listing its bad lines.
    Runs inside the request's transaction, which the refusal rolls back."""
    rows, result = parse_csv(SPEC, data)
    if not result.ok:
        raise UploadRefused(result.errors)
    if not rows:
        raise UploadRefused([LineError(1, "the file has no lines after the header")])
    ends = [row for row in rows if row[1] == "end"]
    creates = [row for row in rows if row[1] == "create"]
    bad: list[LineError] = []
    references: list[associations.AssociationReference] = []
    for line, _, vehicle_id, device_id, _ in ends:
        association_id = await db.fetchval(queries.ACTIVE_ASSOCIATION_OF_PAIR, vehicle_id, device_id, enterprise)
        if association_id is None:
            bad.append(LineError(line, f"device {device_id} is not on vehicle {vehicle_id} now"))
        else:
            references.append(associations.AssociationReference(f"/data/{len(references)}", association_id))
    if bad:
        raise UploadRefused(bad)
    if references:
        try:
            await associations.end_associations(db, enterprise, references)
        except AppError as error:
            raise _refused_by_service(error, [row[0] for row in ends]) from error
    items = [
        associations.AssociationItem(f"/data/{index}", vehicle_id, device_id, main)
        for index, (_, _, vehicle_id, device_id, main) in enumerate(creates)
    ]
    if items:
        try:
            await associations.create_associations(db, enterprise, items)
        except AppError as error:
            raise _refused_by_service(error, [row[0] for row in creates]) from error
    return UploadDone(created=len(items), ended=len(references))
