"""Request bodies and response documents (for OpenAPI) of the device associations, in the fleet's
envelope (``fleet.schemas``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, Field, PlainValidator, StrictBool, WithJsonSchema
from pydantic_core import PydanticCustomError

from fleetreg.fleet.fields import MAX_ITEMS, FleetId, NotNull, StrictModel
from fleetreg.fleet.schemas import ListMeta
from fleetreg.values import parse_instant


def _instant(value: Any) -> datetime:
    if not isinstance(value, str):
        raise PydanticCustomError("instant", "must be an RFC 3339 time (a string), e.g. 2026-11-22T10:00:00Z")
    try:
        return parse_instant(value)
    except ValueError as error:
        raise PydanticCustomError("instant", str(error)) from None


Instant = Annotated[
    datetime,
    PlainValidator(_instant),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2026-11-22T10:00:00Z"]}),
]


class NewAssociation(StrictModel):
    device_id: FleetId
    vehicle_id: FleetId
    is_main_device: StrictBool
    started_at: Instant | None = Field(
        None, description="When it began, if earlier than now (not in the future). Absent or null: now."
    )


class AssociationCreate(StrictModel):
    data: Annotated[list[NewAssociation], Field(min_length=1, max_length=MAX_ITEMS)]


class AssociationReference(StrictModel):
    type: Literal["device_association"]
    id: FleetId
    ended_at: Instant | None = Field(
        None, description="When it ended, if earlier than now: after its start, not in the future. Absent or null: now."
    )


class AssociationEnd(StrictModel):
    data: Annotated[list[AssociationReference], Field(min_length=1, max_length=MAX_ITEMS)]


class AssociationChanges(NotNull):
    not_null: ClassVar[tuple[str, ...]] = ("is_main_device",)
    is_main_device: StrictBool | None = None


class AssociationPatchData(StrictModel):
    type: Literal["device_association"] | None = None
    id: FleetId | None = None
    attributes: AssociationChanges | None = None


class AssociationPatch(StrictModel):
    data: AssociationPatchData


class Replacement(StrictModel):
    device_id: FleetId = Field(description="The device that takes the ended association's place.")
    move_chip: StrictBool = Field(False, description="true: the old device's chip is installed in the new one.")


class AssociationReplace(StrictModel):
    data: Replacement


# -- responses (documentation; the bodies are built directly) -------------------------------------------


class AssociationOut(BaseModel):
    vehicle_id: str
    device_id: str
    is_main_device: bool
    created_at: datetime = Field(description="When it began (a backdated start when one was given).")
    ended_at: datetime | None = Field(description="When it ended; null while active.")
    recorded_at: datetime = Field(description="When fleetreg recorded its start.")
    end_recorded_at: datetime | None = Field(description="When fleetreg recorded its end.")


class AssociationResource(BaseModel):
    type: Literal["device_association"]
    id: str
    attributes: AssociationOut


class AssociationDocument(BaseModel):
    data: AssociationResource
    meta: dict[str, Any]


class ReplacedAssociations(BaseModel):
    ended: AssociationResource
    started: AssociationResource


class ReplacementDocument(BaseModel):
    data: ReplacedAssociations
    meta: dict[str, Any]


class AssociationsDocument(BaseModel):
    data: list[AssociationResource]
    meta: dict[str, Any]


class AssociationHistory(BaseModel):
    data: list[AssociationResource]
    meta: ListMeta


class ChipFields(BaseModel):
    serial: str | None = None
    number: str | None = None
    carrier: str | None = None
    service_provider: str | None = None
    batch: str | None = None


class AssociationWithChipOut(AssociationOut):
    chip: ChipFields | None = Field(description="The fields chosen by `attributes`; null when no chip is installed.")


class IncludedDevice(BaseModel):
    name: str | None = None
    imei: str | None = None
    code: str | None = None


class IncludedEnterprise(BaseModel):
    name: str | None = None
    cnpj: str | None = None


class VehicleAssociationResource(BaseModel):
    type: Literal["device_association"]
    id: str
    attributes: AssociationWithChipOut
    device: IncludedDevice | None = Field(None, description="Present with includes[device].")
    enterprise: IncludedEnterprise | None = Field(None, description="Present with includes[enterprise].")


class VehicleAssociationList(BaseModel):
    data: list[VehicleAssociationResource]
    meta: ListMeta
