from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.connector_type import ConnectorType

T = TypeVar("T", bound="Connector")


@_attrs_define
class Connector:
    """A connector: hardware that talks to a customer's vehicle (also known as a 'remote').

    Attributes:
        id (UUID): Connector identifier.
        customer_id (None | UUID): The customer the connector is assigned to, or null.
        hardware_version (str): The connector's hardware version.
        name (str): Human-readable connector identifier, unique within the partner.
        pin (None | str): The connector's pin code: five digits, or null.
        software_version (str): The connector's software version.
        type_ (ConnectorType): physical or virtual.
    """

    id: UUID
    customer_id: None | UUID
    hardware_version: str
    name: str
    pin: None | str
    software_version: str
    type_: ConnectorType
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        customer_id: None | str
        if isinstance(self.customer_id, UUID):
            customer_id = str(self.customer_id)
        else:
            customer_id = self.customer_id

        hardware_version = self.hardware_version

        name = self.name

        pin: None | str
        pin = self.pin

        software_version = self.software_version

        type_ = self.type_.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "customer_id": customer_id,
                "hardware_version": hardware_version,
                "name": name,
                "pin": pin,
                "software_version": software_version,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        def _parse_customer_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                customer_id_type_0 = UUID(data)

                return customer_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        customer_id = _parse_customer_id(d.pop("customer_id"))

        hardware_version = d.pop("hardware_version")

        name = d.pop("name")

        def _parse_pin(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        pin = _parse_pin(d.pop("pin"))

        software_version = d.pop("software_version")

        type_ = ConnectorType(d.pop("type"))

        connector = cls(
            id=id,
            customer_id=customer_id,
            hardware_version=hardware_version,
            name=name,
            pin=pin,
            software_version=software_version,
            type_=type_,
        )

        connector.additional_properties = d
        return connector

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
