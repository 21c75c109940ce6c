from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.new_vehicle import NewVehicle


T = TypeVar("T", bound="VehicleCreate")


@_attrs_define
class VehicleCreate:
    """
    Attributes:
        data (list[NewVehicle] | NewVehicle):
    """

    data: list[NewVehicle] | NewVehicle

    def to_dict(self) -> dict[str, Any]:
        from ..models.new_vehicle import NewVehicle  # noqa: PLC0415

        data: dict[str, Any] | list[dict[str, Any]]
        if isinstance(self.data, NewVehicle):
            data = self.data.to_dict()
        else:
            data = []
            for data_type_1_item_data in self.data:
                data_type_1_item = data_type_1_item_data.to_dict()
                data.append(data_type_1_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "data": data,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.new_vehicle import NewVehicle  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_data(data: object) -> list[NewVehicle] | NewVehicle:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                data_type_0 = NewVehicle.from_dict(data)

                return data_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, list):
                raise TypeError()
            data_type_1 = []
            _data_type_1 = data
            for data_type_1_item_data in _data_type_1:
                data_type_1_item = NewVehicle.from_dict(data_type_1_item_data)

                data_type_1.append(data_type_1_item)

            return data_type_1

        data = _parse_data(d.pop("data"))

        vehicle_create = cls(
            data=data,
        )

        return vehicle_create
