from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="VehicleAttributes")


@_attrs_define
class VehicleAttributes:
    """
    Attributes:
        enterprise_id (str):
        name (str):
        plate (None | str | Unset):
        vin (None | str | Unset): 17 letters or digits without I, O, Q; stored in upper case.
    """

    enterprise_id: str
    name: str
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

        field_dict.update(
            {
                "enterprise_id": enterprise_id,
                "name": name,
            }
        )
        if plate is not UNSET:
            field_dict["plate"] = plate
        if vin is not UNSET:
            field_dict["vin"] = vin

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        enterprise_id = d.pop("enterprise_id")

        name = d.pop("name")

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

        vehicle_attributes = cls(
            enterprise_id=enterprise_id,
            name=name,
            plate=plate,
            vin=vin,
        )

        return vehicle_attributes
