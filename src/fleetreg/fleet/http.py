"""What every fleet route shares: its query parameters and the envelope of its answers,
``{"data": resource | [resources], "meta": {...}}``, a resource being ``{"type", "id", "attributes"}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleetreg.fleet.formats import ID_PATTERN
from fleetreg.problems import BadRequest, entry
from fleetreg.web import params


def fleet_id(description: str) -> params.Param:
    return params.pattern(
        ID_PATTERN.strip("^$"), "must be 15 ASCII letters or digits", description=description, example="Ab3dE5gH7jK9mN1"
    )


LIMIT = params.integer(1, 100, default=25, description="Items per page, 1 to 100.")
# Any page a JSON number of 64 bits can say; one past the data is simply empty.
PAGE = params.integer(0, params.INT64_MAX, default=0, description="Page number, from 0.")
COUNT = params.boolean(default=False, description="true: meta.count gives the total of matches.")
SEARCH = params.text(max_length=100, description="Case-insensitive 'contains' over the text attributes.")
AS_OF = params.instant(description="An RFC 3339 instant: the associations active then, instead of now.")
LISTING = {"limit": LIMIT, "page": PAGE, "count": COUNT, "search": SEARCH}

Row = Mapping[str, Any]


def list_meta(page: int, limit: int, total: int | None) -> dict[str, int]:
    meta = {"page": page, "limit": limit}
    if total is not None:
        meta["count"] = total
    return meta


def changes(path_id: str, data: Any) -> Mapping[str, Any]:
    """The attributes a PATCH body sets (those it leaves out are not there); its ``id``, if any,
    must be the one in the path."""
    if data.id is not None and data.id != path_id:
        raise BadRequest.from_errors([entry("/data/id", f"must be the id in the path, {path_id}")])
    if data.attributes is None:
        return {}
    given: dict[str, Any] = data.attributes.model_dump(include=data.attributes.model_fields_set)
    return given
