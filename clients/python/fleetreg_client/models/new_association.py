from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="NewAssociation")


@_attrs_define
class NewAssociation:
    """
    Attributes:
        device_id (str):
        vehicle_id (str):
        is_main_device (bool):
    """

    device_id: str
    vehicle_id: str
    is_main_device: bool

    def to_dict(self) -> dict[str, Any]:
        device_id = self.device_id

        vehicle_id = self.vehicle_id

        is_main_device = self.is_main_device

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "device_id": device_id,
                "vehicle_id": vehicle_id,
                "is_main_device": is_main_device,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        device_id = d.pop("device_id")

        vehicle_id = d.pop("vehicle_id")

        is_main_device = d.pop("is_main_device")

        new_association = cls(
            device_id=device_id,
            vehicle_id=vehicle_id,
            is_main_device=is_main_device,
        )

        return new_association
