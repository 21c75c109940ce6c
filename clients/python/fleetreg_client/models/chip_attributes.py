from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ChipAttributes")


@_attrs_define
class ChipAttributes:
    """
    Attributes:
        serial (str):
        number (str):
        carrier (str):
        service_provider (str):
        batch (str):
        device_id (None | str | Unset): The device the chip is installed in.
    """

    serial: str
    number: str
    carrier: str
    service_provider: str
    batch: str
    device_id: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        serial = self.serial

        number = self.number

        carrier = self.carrier

        service_provider = self.service_provider

        batch = self.batch

        device_id: None | str | Unset
        if isinstance(self.device_id, Unset):
            device_id = UNSET
        else:
            device_id = self.device_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "serial": serial,
                "number": number,
                "carrier": carrier,
                "service_provider": service_provider,
                "batch": batch,
            }
        )
        if device_id is not UNSET:
            field_dict["device_id"] = device_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        serial = d.pop("serial")

        number = d.pop("number")

        carrier = d.pop("carrier")

        service_provider = d.pop("service_provider")

        batch = d.pop("batch")

        def _parse_device_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        device_id = _parse_device_id(d.pop("device_id", UNSET))

        chip_attributes = cls(
            serial=serial,
            number=number,
            carrier=carrier,
            service_provider=service_provider,
            batch=batch,
            device_id=device_id,
        )

        return chip_attributes
