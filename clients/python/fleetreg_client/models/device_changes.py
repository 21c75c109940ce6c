from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="DeviceChanges")


@_attrs_define
class DeviceChanges:
    """
    Attributes:
        enterprise_id (str | Unset):
        name (str | Unset):
        imei (str | Unset):
        code (str | Unset):
    """

    enterprise_id: str | Unset = UNSET
    name: str | Unset = UNSET
    imei: str | Unset = UNSET
    code: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        enterprise_id = self.enterprise_id

        name = self.name

        imei = self.imei

        code = self.code

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if enterprise_id is not UNSET:
            field_dict["enterprise_id"] = enterprise_id
        if name is not UNSET:
            field_dict["name"] = name
        if imei is not UNSET:
            field_dict["imei"] = imei
        if code is not UNSET:
            field_dict["code"] = code

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        enterprise_id = d.pop("enterprise_id", UNSET)

        name = d.pop("name", UNSET)

        imei = d.pop("imei", UNSET)

        code = d.pop("code", UNSET)

        device_changes = cls(
            enterprise_id=enterprise_id,
            name=name,
            imei=imei,
            code=code,
        )

        return device_changes
