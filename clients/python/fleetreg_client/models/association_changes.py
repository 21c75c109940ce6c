from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="AssociationChanges")


@_attrs_define
class AssociationChanges:
    """
    Attributes:
        is_main_device (bool | Unset):
    """

    is_main_device: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        is_main_device = self.is_main_device

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if is_main_device is not UNSET:
            field_dict["is_main_device"] = is_main_device

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        is_main_device = d.pop("is_main_device", UNSET)

        association_changes = cls(
            is_main_device=is_main_device,
        )

        return association_changes
