from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="AssociationReference")


@_attrs_define
class AssociationReference:
    """
    Attributes:
        type_ (Literal['device_association']):
        id (str):
    """

    type_: Literal["device_association"]
    id: str

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        id = self.id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "type": type_,
                "id": id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        type_ = cast(Literal["device_association"], d.pop("type"))
        if type_ != "device_association":
            raise ValueError(f"type must match const 'device_association', got '{type_}'")

        id = d.pop("id")

        association_reference = cls(
            type_=type_,
            id=id,
        )

        return association_reference
