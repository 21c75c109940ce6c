from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ChipChanges")


@_attrs_define
class ChipChanges:
    """
    Attributes:
        serial (str | Unset):
        number (str | Unset):
        carrier (str | Unset):
        service_provider (str | Unset):
        batch (str | Unset):
        device_id (None | str | Unset): A device id installs the chip there; null removes it.
    """

    serial: str | Unset = UNSET
    number: str | Unset = UNSET
    carrier: str | Unset = UNSET
    service_provider: str | Unset = UNSET
    batch: str | Unset = UNSET
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

        field_dict.update({})
        if serial is not UNSET:
            field_dict["serial"] = serial
        if number is not UNSET:
            field_dict["number"] = number
        if carrier is not UNSET:
            field_dict["carrier"] = carrier
        if service_provider is not UNSET:
            field_dict["service_provider"] = service_provider
        if batch is not UNSET:
            field_dict["batch"] = batch
        if device_id is not UNSET:
            field_dict["device_id"] = device_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        serial = d.pop("serial", UNSET)

        number = d.pop("number", UNSET)

        carrier = d.pop("carrier", UNSET)

        service_provider = d.pop("service_provider", UNSET)

        batch = d.pop("batch", UNSET)

        def _parse_device_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        device_id = _parse_device_id(d.pop("device_id", UNSET))

        chip_changes = cls(
            serial=serial,
            number=number,
            carrier=carrier,
            service_provider=service_provider,
            batch=batch,
            device_id=device_id,
        )

        return chip_changes
