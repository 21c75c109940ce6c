from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="DeviceOut")


@_attrs_define
class DeviceOut:
    """
    Attributes:
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        enterprise_id (str):
        name (str):
        imei (str):
        code (str):
    """

    created_at: datetime.datetime
    updated_at: datetime.datetime
    enterprise_id: str
    name: str
    imei: str
    code: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        enterprise_id = self.enterprise_id

        name = self.name

        imei = self.imei

        code = self.code

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "updated_at": updated_at,
                "enterprise_id": enterprise_id,
                "name": name,
                "imei": imei,
                "code": code,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        enterprise_id = d.pop("enterprise_id")

        name = d.pop("name")

        imei = d.pop("imei")

        code = d.pop("code")

        device_out = cls(
            created_at=created_at,
            updated_at=updated_at,
            enterprise_id=enterprise_id,
            name=name,
            imei=imei,
            code=code,
        )

        device_out.additional_properties = d
        return device_out

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
