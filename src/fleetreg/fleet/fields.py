"""The value formats of the fleet's attributes, each declared once: its check (``fleet.formats``),
which API bodies run as a Pydantic validator and CSV imports run on each cell, and what OpenAPI says
of it. Also the body models' common base and the "one or up to 1000 items" shape.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar

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


@dataclass(frozen=True)
class Format:
    """A text value's format. ``check`` returns the stored form (CNPJ bare, VIN upper-case) or raises
    ``ValueError`` with the reason; ``schema`` is what a JSON schema can say of it (check digits are
    beyond one, and are in the descriptions)."""

    check: Callable[[str], str]
    code: str
    """The Pydantic error type of a value it refuses."""
    example: str | None = None
    schema: dict[str, Any] = field(default_factory=dict)

    @functools.cached_property
    def annotation(self) -> Any:
        """The type of a body member of this format: a string, checked, described."""

        def validate(value: str) -> str:
            try:
                return self.check(value)
            except ValueError as error:
                raise PydanticCustomError(self.code, str(error)) from None

        described = Field(examples=[self.example] if self.example else None, json_schema_extra=self.schema)
        return Annotated[StrictStr, AfterValidator(validate), described]


def _text(longest: int) -> Format:
    return Format(
        lambda value: formats.check_text(value, longest=longest), "text", schema={"minLength": 1, "maxLength": longest}
    )


ID = Format(formats.check_id, "id", "Ab3dE5gH7jK9mN1", {"pattern": formats.ID_PATTERN})
NAME = _text(200)
SHORT_TEXT = _text(100)
PLATE = _text(20)
CNPJ = Format(
    formats.normalize_cnpj,
    "cnpj",
    "12.ABC.345/01DE-35",
    {"pattern": r"^[./-]*([0-9A-Za-z][./-]*){12}[0-9][./-]*[0-9][./-]*$"},
)
VIN = Format(formats.normalize_vin, "vin", "9BWZZZ377VT004251", {"pattern": r"^[A-HJ-NPR-Za-hj-npr-z0-9]{17}$"})
IMEI = Format(formats.check_imei, "imei", "490154203237518", {"pattern": r"^[0-9]{15}$"})
ICCID = Format(formats.check_iccid, "iccid", "8955010012345678908", {"pattern": r"^[0-9]{19,20}$"})
E164 = Format(formats.check_e164, "e164", "+5511987654321", {"pattern": r"^\+[1-9][0-9]{1,14}$"})

FleetId = ID.annotation


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


class NotNull(StrictModel):
    """A patch: members left out keep their value; the members in ``not_null`` may not be null."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_without_null)
    not_null: ClassVar[tuple[str, ...]] = ()

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.not_null:
            raise PydanticCustomError("not_null", "may not be null")
        return value


def one_or_many(item: type[BaseModel]) -> Any:
    """The type of ``data`` holding one item or an array of 1..1000 items, each error at its true
    JSON pointer (``/data/attributes/name`` or ``/data/3/attributes/name``)."""
    many = Annotated[list[item], Field(min_length=1, max_length=MAX_ITEMS)]  # type: ignore[valid-type]
    single = TypeAdapter(item)
    several: TypeAdapter[list[Any]] = TypeAdapter(many)

    def validate(value: Any, _handler: ValidatorFunctionWrapHandler) -> Any:
        if isinstance(value, list):
            return several.validate_python(value)
        if isinstance(value, dict):
            return single.validate_python(value)
        raise PydanticCustomError("one_or_many", f"must be an object or an array of 1 to {MAX_ITEMS} objects")

    return Annotated[item | many, WrapValidator(validate)]
