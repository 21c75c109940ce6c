from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.replacement import Replacement


T = TypeVar("T", bound="AssociationReplace")


@_attrs_define
class AssociationReplace:
    """
    Attributes:
        data (Replacement):
    """

    data: Replacement

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
        from ..models.replacement import Replacement  # noqa: PLC0415

        d = dict(src_dict)
        data = Replacement.from_dict(d.pop("data"))

        association_replace = cls(
            data=data,
        )

        return association_replace
