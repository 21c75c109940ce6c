from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.association_out import AssociationOut


T = TypeVar("T", bound="AssociationResource")


@_attrs_define
class AssociationResource:
    """
    Attributes:
        type_ (Literal['device_association']):
        id (str):
        attributes (AssociationOut):
    """

    type_: Literal["device_association"]
    id: str
    attributes: AssociationOut
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
        from ..models.association_out import AssociationOut  # noqa: PLC0415

        d = dict(src_dict)
        type_ = cast(Literal["device_association"], d.pop("type"))
        if type_ != "device_association":
            raise ValueError(f"type must match const 'device_association', got '{type_}'")

        id = d.pop("id")

        attributes = AssociationOut.from_dict(d.pop("attributes"))

        association_resource = cls(
            type_=type_,
            id=id,
            attributes=attributes,
        )

        association_resource.additional_properties = d
        return association_resource

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
