from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.chip_patch_data import ChipPatchData


T = TypeVar("T", bound="ChipPatch")


@_attrs_define
class ChipPatch:
    """
    Attributes:
        data (ChipPatchData):
    """

    data: ChipPatchData

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
        from ..models.chip_patch_data import ChipPatchData  # noqa: PLC0415

        d = dict(src_dict)
        data = ChipPatchData.from_dict(d.pop("data"))

        chip_patch = cls(
            data=data,
        )

        return chip_patch
