from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.association_with_chip_out import AssociationWithChipOut
    from ..models.included_device import IncludedDevice
    from ..models.included_enterprise import IncludedEnterprise


T = TypeVar("T", bound="VehicleAssociationResource")


@_attrs_define
class VehicleAssociationResource:
    """
    Attributes:
        type_ (Literal['device_association']):
        id (str):
        attributes (AssociationWithChipOut):
        device (IncludedDevice | None | Unset): Present with includes[device].
        enterprise (IncludedEnterprise | None | Unset): Present with includes[enterprise].
    """

    type_: Literal["device_association"]
    id: str
    attributes: AssociationWithChipOut
    device: IncludedDevice | None | Unset = UNSET
    enterprise: IncludedEnterprise | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.included_device import IncludedDevice  # noqa: PLC0415
        from ..models.included_enterprise import IncludedEnterprise  # noqa: PLC0415

        type_ = self.type_

        id = self.id

        attributes = self.attributes.to_dict()

        device: dict[str, Any] | None | Unset
        if isinstance(self.device, Unset):
            device = UNSET
        elif isinstance(self.device, IncludedDevice):
            device = self.device.to_dict()
        else:
            device = self.device

        enterprise: dict[str, Any] | None | Unset
        if isinstance(self.enterprise, Unset):
            enterprise = UNSET
        elif isinstance(self.enterprise, IncludedEnterprise):
            enterprise = self.enterprise.to_dict()
        else:
            enterprise = self.enterprise

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "id": id,
                "attributes": attributes,
            }
        )
        if device is not UNSET:
            field_dict["device"] = device
        if enterprise is not UNSET:
            field_dict["enterprise"] = enterprise

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.association_with_chip_out import AssociationWithChipOut  # noqa: PLC0415
        from ..models.included_device import IncludedDevice  # noqa: PLC0415
        from ..models.included_enterprise import IncludedEnterprise  # noqa: PLC0415

        d = dict(src_dict)
        type_ = cast(Literal["device_association"], d.pop("type"))
        if type_ != "device_association":
            raise ValueError(f"type must match const 'device_association', got '{type_}'")

        id = d.pop("id")

        attributes = AssociationWithChipOut.from_dict(d.pop("attributes"))

        def _parse_device(data: object) -> IncludedDevice | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                device_type_0 = IncludedDevice.from_dict(data)

                return device_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(IncludedDevice | None | Unset, data)

        device = _parse_device(d.pop("device", UNSET))

        def _parse_enterprise(data: object) -> IncludedEnterprise | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                enterprise_type_0 = IncludedEnterprise.from_dict(data)

                return enterprise_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(IncludedEnterprise | None | Unset, data)

        enterprise = _parse_enterprise(d.pop("enterprise", UNSET))

        vehicle_association_resource = cls(
            type_=type_,
            id=id,
            attributes=attributes,
            device=device,
            enterprise=enterprise,
        )

        vehicle_association_resource.additional_properties = d
        return vehicle_association_resource

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
