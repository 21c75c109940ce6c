"""Request bodies (validated, unknown members refused) and response documents (for OpenAPI) of the
fleet API, in the seed's envelope: ``{"data": {"id", "attributes": {...}}}`` in, ``{"data", "meta"}``
out. Formats are checked here, with ``fleet.formats``; what only the database can tell is the
service's job.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    TypeAdapter,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
)
from pydantic_core import PydanticCustomError

from fleetreg.fleet import formats

MAX_ITEMS = 1000


def _checked(check: Callable[[str], str], kind: str) -> AfterValidator:
    """A format check of ``fleet.formats`` as a validator whose message has no "Value error" prefix."""

    def validate(value: str) -> str:
        try:
            return check(value)
        except ValueError as error:
            raise PydanticCustomError(kind, str(error)) from None

    return AfterValidator(validate)


def _text(longest: int) -> AfterValidator:
    return _checked(lambda value: formats.check_text(value, longest=longest), "text")


def _described(example: str | None = None, **schema: Any) -> Any:
    """What OpenAPI says of a value (length, pattern); the validators above check it, with their own
    messages. Check digits (CNPJ, Luhn) are beyond a JSON schema and are in the descriptions."""
    return Field(examples=[example] if example else None, json_schema_extra=schema)


FleetId = Annotated[
    StrictStr, _checked(formats.check_id, "id"), _described("Ab3dE5gH7jK9mN1", pattern=formats.ID_PATTERN)
]
Name = Annotated[StrictStr, _text(200), _described(minLength=1, maxLength=200)]
ShortText = Annotated[StrictStr, _text(100), _described(minLength=1, maxLength=100)]
Plate = Annotated[StrictStr, _text(20), _described(minLength=1, maxLength=20)]
Cnpj = Annotated[
    StrictStr,
    _checked(formats.normalize_cnpj, "cnpj"),
    _described("12.ABC.345/01DE-35", pattern=r"^[./-]*([0-9A-Za-z][./-]*){12}[0-9][./-]*[0-9][./-]*$"),
]
Vin = Annotated[
    StrictStr,
    _checked(formats.normalize_vin, "vin"),
    _described("9BWZZZ377VT004251", pattern=r"^[A-HJ-NPR-Za-hj-npr-z0-9]{17}$"),
]
Imei = Annotated[StrictStr, _checked(formats.check_imei, "imei"), _described("490154203237518", pattern=r"^[0-9]{15}$")]
Iccid = Annotated[
    StrictStr, _checked(formats.check_iccid, "iccid"), _described("8955010012345678908", pattern=r"^[0-9]{19,20}$")
]
E164 = Annotated[
    StrictStr, _checked(formats.check_e164, "e164"), _described("+5511987654321", pattern=r"^\+[1-9][0-9]{1,14}$")
]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _without_null(schema: dict[str, Any], model: type[Any]) -> None:
    """OpenAPI: a ``not_null`` member of a patch may be left out but not be null."""
    for name in getattr(model, "not_null", ()):
        member = schema.get("properties", {}).get(name, {})
        variants = member.get("anyOf", [])
        if {"type": "null"} in variants:
            kept = [variant for variant in variants if variant != {"type": "null"}]
            del member["anyOf"]
            if len(kept) == 1:
                member.update(kept[0])
            else:
                member["anyOf"] = kept
            if member.get("default", 0) is None:
                del member["default"]


class _NotNull(StrictModel):
    """A patch: members left out keep their value; the members in ``not_null`` may not be null."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_without_null)
    not_null: ClassVar[tuple[str, ...]] = ()

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.not_null:
            raise PydanticCustomError("not_null", "may not be null")
        return value


def one_or_many(item: type[BaseModel]) -> WrapValidator:
    """``data`` as one item or an array of 1..1000 items, each error at its true JSON pointer
    (``/data/attributes/name`` or ``/data/3/attributes/name``)."""
    single = TypeAdapter(item)
    several: TypeAdapter[list[Any]] = TypeAdapter(
        Annotated[list[item], Field(min_length=1, max_length=MAX_ITEMS)]  # type: ignore[valid-type,arg-type]
    )

    def validate(value: Any, _handler: ValidatorFunctionWrapHandler) -> Any:
        if isinstance(value, list):
            return several.validate_python(value)
        if isinstance(value, dict):
            return single.validate_python(value)
        raise PydanticCustomError("one_or_many", f"must be an object or an array of 1 to {MAX_ITEMS} objects")

    return WrapValidator(validate)


# -- enterprises --------------------------------------------------------------------------------------


class EnterpriseAttributes(StrictModel):
    name: Name
    cnpj: Cnpj = Field(description="Accepted with or without . / - and in lower case; stored bare, upper case.")


class EnterpriseChanges(_NotNull):
    not_null: ClassVar[tuple[str, ...]] = ("name", "cnpj")
    name: Name | None = None
    cnpj: Cnpj | None = None


class NewEnterprise(StrictModel):
    type: Literal["enterprise"] | None = None
    id: FleetId | None = Field(None, description="Generated when absent.")
    attributes: EnterpriseAttributes


class EnterpriseCreate(StrictModel):
    data: Annotated[
        NewEnterprise | Annotated[list[NewEnterprise], Field(min_length=1, max_length=MAX_ITEMS)],
        one_or_many(NewEnterprise),
    ]


class EnterprisePatchData(StrictModel):
    type: Literal["enterprise"] | None = None
    id: FleetId | None = None
    attributes: EnterpriseChanges | None = None


class EnterprisePatch(StrictModel):
    data: EnterprisePatchData


# -- vehicles -----------------------------------------------------------------------------------------


class VehicleAttributes(StrictModel):
    enterprise_id: FleetId
    name: Name
    plate: Plate | None = None
    vin: Vin | None = Field(None, description="17 letters or digits without I, O, Q; stored in upper case.")


class VehicleChanges(_NotNull):
    not_null: ClassVar[tuple[str, ...]] = ("enterprise_id", "name")
    enterprise_id: FleetId | None = None
    name: Name | None = None
    plate: Plate | None = None
    vin: Vin | None = None


class NewVehicle(StrictModel):
    type: Literal["vehicle"] | None = None
    id: FleetId | None = Field(None, description="Generated when absent.")
    attributes: VehicleAttributes


class VehicleCreate(StrictModel):
    data: Annotated[
        NewVehicle | Annotated[list[NewVehicle], Field(min_length=1, max_length=MAX_ITEMS)],
        one_or_many(NewVehicle),
    ]


class VehiclePatchData(StrictModel):
    type: Literal["vehicle"] | None = None
    id: FleetId | None = None
    attributes: VehicleChanges | None = None


class VehiclePatch(StrictModel):
    data: VehiclePatchData


# -- devices ------------------------------------------------------------------------------------------


class DeviceAttributes(StrictModel):
    enterprise_id: FleetId
    name: Name
    imei: Imei
    code: ShortText


class DeviceChanges(_NotNull):
    not_null: ClassVar[tuple[str, ...]] = ("enterprise_id", "name", "imei", "code")
    enterprise_id: FleetId | None = None
    name: Name | None = None
    imei: Imei | None = None
    code: ShortText | None = None


class NewDevice(StrictModel):
    type: Literal["device"] | None = None
    id: FleetId | None = Field(None, description="Generated when absent.")
    attributes: DeviceAttributes


class DeviceCreate(StrictModel):
    data: Annotated[
        NewDevice | Annotated[list[NewDevice], Field(min_length=1, max_length=MAX_ITEMS)],
        one_or_many(NewDevice),
    ]


class DevicePatchData(StrictModel):
    type: Literal["device"] | None = None
    id: FleetId | None = None
    attributes: DeviceChanges | None = None


class DevicePatch(StrictModel):
    data: DevicePatchData


# -- chips --------------------------------------------------------------------------------------------


class ChipAttributes(StrictModel):
    serial: Iccid
    number: E164
    carrier: ShortText
    service_provider: ShortText
    batch: ShortText
    device_id: FleetId | None = Field(None, description="The device the chip is installed in.")


class ChipChanges(_NotNull):
    not_null: ClassVar[tuple[str, ...]] = ("serial", "number", "carrier", "service_provider", "batch")
    serial: Iccid | None = None
    number: E164 | None = None
    carrier: ShortText | None = None
    service_provider: ShortText | None = None
    batch: ShortText | None = None
    device_id: FleetId | None = Field(None, description="A device id installs the chip there; null removes it.")


class NewChip(StrictModel):
    type: Literal["chip"] | None = None
    id: FleetId | None = Field(None, description="Generated when absent.")
    attributes: ChipAttributes


class ChipCreate(StrictModel):
    data: Annotated[
        NewChip | Annotated[list[NewChip], Field(min_length=1, max_length=MAX_ITEMS)],
        one_or_many(NewChip),
    ]


class ChipPatchData(StrictModel):
    type: Literal["chip"] | None = None
    id: FleetId | None = None
    attributes: ChipChanges | None = None


class ChipPatch(StrictModel):
    data: ChipPatchData


# -- responses (documentation; the bodies are built directly) -------------------------------------------


class Timestamps(BaseModel):
    created_at: datetime
    updated_at: datetime


class EnterpriseOut(Timestamps):
    name: str
    cnpj: str


class VehicleOut(Timestamps):
    enterprise_id: str
    name: str
    plate: str | None
    vin: str | None


class DeviceOut(Timestamps):
    enterprise_id: str
    name: str
    imei: str
    code: str


class ChipOut(Timestamps):
    serial: str
    number: str
    carrier: str
    service_provider: str
    batch: str
    device_id: str | None


class EnterpriseResource(BaseModel):
    type: Literal["enterprise"]
    id: str
    attributes: EnterpriseOut


class VehicleResource(BaseModel):
    type: Literal["vehicle"]
    id: str
    attributes: VehicleOut


class DeviceResource(BaseModel):
    type: Literal["device"]
    id: str
    attributes: DeviceOut


class ChipResource(BaseModel):
    type: Literal["chip"]
    id: str
    attributes: ChipOut


class ListMeta(BaseModel):
    page: int
    limit: int
    count: int | None = Field(None, description="The total of matches; present only with count=true.")


class EnterpriseDocument(BaseModel):
    data: EnterpriseResource | list[EnterpriseResource]
    meta: dict[str, Any]


class EnterpriseList(BaseModel):
    data: list[EnterpriseResource]
    meta: ListMeta


class VehicleDocument(BaseModel):
    data: VehicleResource | list[VehicleResource]
    meta: dict[str, Any]


class VehicleList(BaseModel):
    data: list[VehicleResource]
    meta: ListMeta


class DeviceDocument(BaseModel):
    data: DeviceResource | list[DeviceResource]
    meta: dict[str, Any]


class DeviceList(BaseModel):
    data: list[DeviceResource]
    meta: ListMeta


class ChipDocument(BaseModel):
    data: ChipResource | list[ChipResource]
    meta: dict[str, Any]


class ChipList(BaseModel):
    data: list[ChipResource]
    meta: ListMeta
