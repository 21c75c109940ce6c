from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ChipOut")


@_attrs_define
class ChipOut:
    """
    Attributes:
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        serial (str):
        number (str):
        carrier (str):
        service_provider (str):
        batch (str):
        device_id (None | str):
    """

    created_at: datetime.datetime
    updated_at: datetime.datetime
    serial: str
    number: str
    carrier: str
    service_provider: str
    batch: str
    device_id: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        serial = self.serial

        number = self.number

        carrier = self.carrier

        service_provider = self.service_provider

        batch = self.batch

        device_id: None | str
        device_id = self.device_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "updated_at": updated_at,
                "serial": serial,
                "number": number,
                "carrier": carrier,
                "service_provider": service_provider,
                "batch": batch,
                "device_id": device_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        serial = d.pop("serial")

        number = d.pop("number")

        carrier = d.pop("carrier")

        service_provider = d.pop("service_provider")

        batch = d.pop("batch")

        def _parse_device_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        device_id = _parse_device_id(d.pop("device_id"))

        chip_out = cls(
            created_at=created_at,
            updated_at=updated_at,
            serial=serial,
            number=number,
            carrier=carrier,
            service_provider=service_provider,
            batch=batch,
            device_id=device_id,
        )

        chip_out.additional_properties = d
        return chip_out

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
