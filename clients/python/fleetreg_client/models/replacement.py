from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="Replacement")


@_attrs_define
class Replacement:
    """
    Attributes:
        device_id (str): The device that takes the ended association's place.
        move_chip (bool | Unset): true: the old device's chip is installed in the new one. Default: False.
    """

    device_id: str
    move_chip: bool | Unset = False

    def to_dict(self) -> dict[str, Any]:
        device_id = self.device_id

        move_chip = self.move_chip

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "device_id": device_id,
            }
        )
        if move_chip is not UNSET:
            field_dict["move_chip"] = move_chip

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        device_id = d.pop("device_id")

        move_chip = d.pop("move_chip", UNSET)

        replacement = cls(
            device_id=device_id,
            move_chip=move_chip,
        )

        return replacement
