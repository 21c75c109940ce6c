from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.device_patch_data import DevicePatchData


T = TypeVar("T", bound="DevicePatch")


@_attrs_define
class DevicePatch:
    """
    Attributes:
        data (DevicePatchData):
    """

    data: DevicePatchData

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
        from ..models.device_patch_data import DevicePatchData  # noqa: PLC0415

        d = dict(src_dict)
        data = DevicePatchData.from_dict(d.pop("data"))

        device_patch = cls(
            data=data,
        )

        return device_patch
