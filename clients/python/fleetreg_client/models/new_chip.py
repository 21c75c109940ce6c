from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.chip_attributes import ChipAttributes


T = TypeVar("T", bound="NewChip")


@_attrs_define
class NewChip:
    """
    Attributes:
        attributes (ChipAttributes):
        type_ (Literal['chip'] | None | Unset):
        id (None | str | Unset): Generated when absent.
    """

    attributes: ChipAttributes
    type_: Literal["chip"] | None | Unset = UNSET
    id: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        attributes = self.attributes.to_dict()

        type_: Literal["chip"] | None | Unset
        if isinstance(self.type_, Unset):
            type_ = UNSET
        else:
            type_ = self.type_

        id: None | str | Unset
        if isinstance(self.id, Unset):
            id = UNSET
        else:
            id = self.id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "attributes": attributes,
            }
        )
        if type_ is not UNSET:
            field_dict["type"] = type_
        if id is not UNSET:
            field_dict["id"] = id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.chip_attributes import ChipAttributes  # noqa: PLC0415

        d = dict(src_dict)
        attributes = ChipAttributes.from_dict(d.pop("attributes"))

        def _parse_type_(data: object) -> Literal["chip"] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            type_type_0 = cast(Literal["chip"], data)
            if type_type_0 != "chip":
                raise ValueError(f"type_type_0 must match const 'chip', got '{type_type_0}'")
            return type_type_0
            return cast(Literal["chip"] | None | Unset, data)

        type_ = _parse_type_(d.pop("type", UNSET))

        def _parse_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        id = _parse_id(d.pop("id", UNSET))

        new_chip = cls(
            attributes=attributes,
            type_=type_,
            id=id,
        )

        return new_chip
