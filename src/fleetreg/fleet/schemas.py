"""Request bodies (validated, unknown members refused) and response documents (for OpenAPI) of the
fleet API's kinds, in the envelope ``{"data": {"id", "attributes": {...}}}`` in, ``{"data", "meta"}``
out, derived from each kind's declaration (``fleet.kinds``). Formats are checked here (``fleet.fields``);
what only the database can tell is the service's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from fleetreg.fleet.fields import FleetId, NotNull, StrictModel, one_or_many
from fleetreg.fleet.kinds import KINDS, Kind


class Timestamps(BaseModel):
    created_at: datetime
    updated_at: datetime


class ListMeta(BaseModel):
    page: int
    limit: int
    count: int | None = Field(None, description="The total of matches; present only with count=true.")


@dataclass(frozen=True)
class KindModels:
    attributes: type[StrictModel]
    """A new resource's attributes, all checked."""
    create: type[StrictModel]
    """POST body: one item or up to 1000."""
    patch: type[StrictModel]
    """PATCH body: the attributes given change, the others stay."""
    document: type[BaseModel]
    """One resource (or those created), for OpenAPI."""
    list: type[BaseModel]
    """A page of them, for OpenAPI."""


def _models(kind: Kind) -> KindModels:
    title = kind.title
    type_name: Any = Literal[kind.name]
    attributes: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    rendered: dict[str, Any] = {}
    for attribute in kind.attributes:
        annotation = attribute.format.annotation
        if attribute.optional:
            attributes[attribute.name] = (annotation | None, Field(None, description=attribute.description))
        else:
            attributes[attribute.name] = (annotation, Field(description=attribute.description))
        changes[attribute.name] = (annotation | None, Field(None, description=attribute.change_description))
        rendered[attribute.name] = (str | None if attribute.optional else str, ...)
    not_null = tuple(a.name for a in kind.attributes if not a.optional)
    changes_base = type(f"{title}NotNull", (NotNull,), {"not_null": not_null, "__module__": __name__})

    changes_model: Any = create_model(f"{title}Changes", __base__=changes_base, **changes)
    new_attributes = create_model(f"{title}Attributes", __base__=StrictModel, **attributes)
    new_item = create_model(
        f"New{title}",
        __base__=StrictModel,
        type=(type_name | None, None),
        id=(FleetId | None, Field(None, description="Generated when absent.")),
        attributes=(new_attributes, ...),
    )
    patch_data = create_model(
        f"{title}PatchData",
        __base__=StrictModel,
        type=(type_name | None, None),
        id=(FleetId | None, None),
        attributes=(changes_model | None, None),
    )
    resource = create_model(
        f"{title}Resource",
        type=(type_name, ...),
        id=(str, ...),
        attributes=(create_model(f"{title}Out", __base__=Timestamps, **rendered), ...),
    )
    return KindModels(
        attributes=new_attributes,
        create=create_model(f"{title}Create", __base__=StrictModel, data=(one_or_many(new_item), ...)),
        patch=create_model(f"{title}Patch", __base__=StrictModel, data=(patch_data, ...)),
        document=create_model(f"{title}Document", data=(resource | list[resource], ...), meta=(dict[str, Any], ...)),
        list=create_model(f"{title}List", data=(list[resource], ...), meta=(ListMeta, ...)),
    )


MODELS = {kind: _models(kind) for kind in KINDS}
