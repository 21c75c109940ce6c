from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.new_connector_type import NewConnectorType
from ..types import UNSET, Unset

T = TypeVar("T", bound="NewConnector")


@_attrs_define
class NewConnector:
    """A connector to add to the partner's pool: every member of a connector except ``id``.

    Attributes:
        hardware_version (str):
        name (str): Unique within the partner.
        software_version (str):
        type_ (NewConnectorType):
        customer_id (None | Unset | UUID): A customer to assign it to at once (default none).
        pin (None | str | Unset): Five digits, or null (the default).
    """

    hardware_version: str
    name: str
    software_version: str
    type_: NewConnectorType
    customer_id: None | Unset | UUID = UNSET
    pin: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        hardware_version = self.hardware_version

        name = self.name

        software_version = self.software_version

        type_ = self.type_.value

        customer_id: None | str | Unset
        if isinstance(self.customer_id, Unset):
            customer_id = UNSET
        elif isinstance(self.customer_id, UUID):
            customer_id = str(self.customer_id)
        else:
            customer_id = self.customer_id

        pin: None | str | Unset
        if isinstance(self.pin, Unset):
            pin = UNSET
        else:
            pin = self.pin

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "hardware_version": hardware_version,
                "name": name,
                "software_version": software_version,
                "type": type_,
            }
        )
        if customer_id is not UNSET:
            field_dict["customer_id"] = customer_id
        if pin is not UNSET:
            field_dict["pin"] = pin

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        hardware_version = d.pop("hardware_version")

        name = d.pop("name")

        software_version = d.pop("software_version")

        type_ = NewConnectorType(d.pop("type"))

        def _parse_customer_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                customer_id_type_0 = UUID(data)

                return customer_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        customer_id = _parse_customer_id(d.pop("customer_id", UNSET))

        def _parse_pin(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        pin = _parse_pin(d.pop("pin", UNSET))

        new_connector = cls(
            hardware_version=hardware_version,
            name=name,
            software_version=software_version,
            type_=type_,
            customer_id=customer_id,
            pin=pin,
        )

        return new_connector
