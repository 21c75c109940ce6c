from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.enterprise_patch_data import EnterprisePatchData


T = TypeVar("T", bound="EnterprisePatch")


@_attrs_define
class EnterprisePatch:
    """
    Attributes:
        data (EnterprisePatchData):
    """

    data: EnterprisePatchData

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
        from ..models.enterprise_patch_data import EnterprisePatchData  # noqa: PLC0415

        d = dict(src_dict)
        data = EnterprisePatchData.from_dict(d.pop("data"))

        enterprise_patch = cls(
            data=data,
        )

        return enterprise_patch
