from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.vehicle_out import VehicleOut


T = TypeVar("T", bound="VehicleResource")


@_attrs_define
class VehicleResource:
    """
    Attributes:
        type_ (Literal['vehicle']):
        id (str):
        attributes (VehicleOut):
    """

    type_: Literal["vehicle"]
    id: str
    attributes: VehicleOut
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        id = self.id

        attributes = self.attributes.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "id": id,
                "attributes": attributes,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.vehicle_out import VehicleOut  # noqa: PLC0415

        d = dict(src_dict)
        type_ = cast(Literal["vehicle"], d.pop("type"))
        if type_ != "vehicle":
            raise ValueError(f"type must match const 'vehicle', got '{type_}'")

        id = d.pop("id")

        attributes = VehicleOut.from_dict(d.pop("attributes"))

        vehicle_resource = cls(
            type_=type_,
            id=id,
            attributes=attributes,
        )

        vehicle_resource.additional_properties = d
        return vehicle_resource

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
