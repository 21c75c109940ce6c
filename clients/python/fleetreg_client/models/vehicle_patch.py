from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.vehicle_patch_data import VehiclePatchData


T = TypeVar("T", bound="VehiclePatch")


@_attrs_define
class VehiclePatch:
    """
    Attributes:
        data (VehiclePatchData):
    """

    data: VehiclePatchData

    def to_dict(self) -> dict[str, Any]:
        data = self.data.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "data": data,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.vehicle_patch_data import VehiclePatchData  # noqa: PLC0415

        d = dict(src_dict)
        data = VehiclePatchData.from_dict(d.pop("data"))

        vehicle_patch = cls(
            data=data,
        )

        return vehicle_patch
