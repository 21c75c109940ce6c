from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="NewAssociation")


@_attrs_define
class NewAssociation:
    """
    Attributes:
        device_id (str):
        vehicle_id (str):
        is_main_device (bool):
        started_at (datetime.datetime | None | Unset): When it began, if earlier than now (not in the future). Absent or
            null: now.
    """

    device_id: str
    vehicle_id: str
    is_main_device: bool
    started_at: datetime.datetime | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        device_id = self.device_id

        vehicle_id = self.vehicle_id

        is_main_device = self.is_main_device

        started_at: None | str | Unset
        if isinstance(self.started_at, Unset):
            started_at = UNSET
        elif isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "device_id": device_id,
                "vehicle_id": vehicle_id,
                "is_main_device": is_main_device,
            }
        )
        if started_at is not UNSET:
            field_dict["started_at"] = started_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        device_id = d.pop("device_id")

        vehicle_id = d.pop("vehicle_id")

        is_main_device = d.pop("is_main_device")

        def _parse_started_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                started_at_type_0 = datetime.datetime.fromisoformat(data)

                return started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        started_at = _parse_started_at(d.pop("started_at", UNSET))

        new_association = cls(
            device_id=device_id,
            vehicle_id=vehicle_id,
            is_main_device=is_main_device,
            started_at=started_at,
        )

        return new_association
