"""Request bodies and response documents (for OpenAPI) of the device associations, in the fleet's
envelope (``fleet.schemas``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, Field, StrictBool

from fleetreg.fleet.fields import MAX_ITEMS, FleetId, NotNull, StrictModel
from fleetreg.fleet.schemas import ListMeta


class NewAssociation(StrictModel):
    device_id: FleetId
    vehicle_id: FleetId
    is_main_device: StrictBool


class AssociationCreate(StrictModel):
    data: Annotated[list[NewAssociation], Field(min_length=1, max_length=MAX_ITEMS)]


class AssociationReference(StrictModel):
    type: Literal["device_association"]
    id: FleetId


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


# -- responses (documentation; the bodies are built directly) -------------------------------------------


class AssociationOut(BaseModel):
    vehicle_id: str
    device_id: str
    is_main_device: bool
    created_at: datetime
    ended_at: datetime | None


class AssociationResource(BaseModel):
    type: Literal["device_association"]
    id: str
    attributes: AssociationOut


class AssociationDocument(BaseModel):
    data: AssociationResource
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
