from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="DeviceAttributes")


@_attrs_define
class DeviceAttributes:
    """
    Attributes:
        enterprise_id (str):
        name (str):
        imei (str):
        code (str):
    """

    enterprise_id: str
    name: str
    imei: str
    code: str

    def to_dict(self) -> dict[str, Any]:
        enterprise_id = self.enterprise_id

        name = self.name

        imei = self.imei

        code = self.code

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
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
        enterprise_id = d.pop("enterprise_id")

        name = d.pop("name")

        imei = d.pop("imei")

        code = d.pop("code")

        device_attributes = cls(
            enterprise_id=enterprise_id,
            name=name,
            imei=imei,
            code=code,
        )

        return device_attributes
