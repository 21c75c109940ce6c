from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="VehicleChanges")


@_attrs_define
class VehicleChanges:
    """
    Attributes:
        enterprise_id (str | Unset):
        name (str | Unset):
        plate (None | str | Unset):
        vin (None | str | Unset):
    """

    enterprise_id: str | Unset = UNSET
    name: str | Unset = UNSET
    plate: None | str | Unset = UNSET
    vin: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        enterprise_id = self.enterprise_id

        name = self.name

        plate: None | str | Unset
        if isinstance(self.plate, Unset):
            plate = UNSET
        else:
            plate = self.plate

        vin: None | str | Unset
        if isinstance(self.vin, Unset):
            vin = UNSET
        else:
            vin = self.vin

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if enterprise_id is not UNSET:
            field_dict["enterprise_id"] = enterprise_id
        if name is not UNSET:
            field_dict["name"] = name
        if plate is not UNSET:
            field_dict["plate"] = plate
        if vin is not UNSET:
            field_dict["vin"] = vin

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        enterprise_id = d.pop("enterprise_id", UNSET)

        name = d.pop("name", UNSET)

        def _parse_plate(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        plate = _parse_plate(d.pop("plate", UNSET))

        def _parse_vin(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        vin = _parse_vin(d.pop("vin", UNSET))

        vehicle_changes = cls(
            enterprise_id=enterprise_id,
            name=name,
            plate=plate,
            vin=vin,
        )

        return vehicle_changes
