from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="AssociationOut")


@_attrs_define
class AssociationOut:
    """
    Attributes:
        vehicle_id (str):
        device_id (str):
        is_main_device (bool):
        created_at (datetime.datetime): When it began (a backdated start when one was given).
        ended_at (datetime.datetime | None): When it ended; null while active.
        recorded_at (datetime.datetime): When fleetreg recorded its start.
        end_recorded_at (datetime.datetime | None): When fleetreg recorded its end.
    """

    vehicle_id: str
    device_id: str
    is_main_device: bool
    created_at: datetime.datetime
    ended_at: datetime.datetime | None
    recorded_at: datetime.datetime
    end_recorded_at: datetime.datetime | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        vehicle_id = self.vehicle_id

        device_id = self.device_id

        is_main_device = self.is_main_device

        created_at = self.created_at.isoformat()

        ended_at: None | str
        if isinstance(self.ended_at, datetime.datetime):
            ended_at = self.ended_at.isoformat()
        else:
            ended_at = self.ended_at

        recorded_at = self.recorded_at.isoformat()

        end_recorded_at: None | str
        if isinstance(self.end_recorded_at, datetime.datetime):
            end_recorded_at = self.end_recorded_at.isoformat()
        else:
            end_recorded_at = self.end_recorded_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "vehicle_id": vehicle_id,
                "device_id": device_id,
                "is_main_device": is_main_device,
                "created_at": created_at,
                "ended_at": ended_at,
                "recorded_at": recorded_at,
                "end_recorded_at": end_recorded_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        vehicle_id = d.pop("vehicle_id")

        device_id = d.pop("device_id")

        is_main_device = d.pop("is_main_device")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_ended_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                ended_at_type_0 = datetime.datetime.fromisoformat(data)

                return ended_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        ended_at = _parse_ended_at(d.pop("ended_at"))

        recorded_at = datetime.datetime.fromisoformat(d.pop("recorded_at"))

        def _parse_end_recorded_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                end_recorded_at_type_0 = datetime.datetime.fromisoformat(data)

                return end_recorded_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        end_recorded_at = _parse_end_recorded_at(d.pop("end_recorded_at"))

        association_out = cls(
            vehicle_id=vehicle_id,
            device_id=device_id,
            is_main_device=is_main_device,
            created_at=created_at,
            ended_at=ended_at,
            recorded_at=recorded_at,
            end_recorded_at=end_recorded_at,
        )

        association_out.additional_properties = d
        return association_out

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
