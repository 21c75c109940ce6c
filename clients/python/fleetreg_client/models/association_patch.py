from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.association_patch_data import AssociationPatchData


T = TypeVar("T", bound="AssociationPatch")


@_attrs_define
class AssociationPatch:
    """
    Attributes:
        data (AssociationPatchData):
    """

    data: AssociationPatchData

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
        from ..models.association_patch_data import AssociationPatchData  # noqa: PLC0415

        d = dict(src_dict)
        data = AssociationPatchData.from_dict(d.pop("data"))

        association_patch = cls(
            data=data,
        )

        return association_patch
