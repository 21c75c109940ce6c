from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.device_changes import DeviceChanges


T = TypeVar("T", bound="DevicePatchData")


@_attrs_define
class DevicePatchData:
    """
    Attributes:
        type_ (Literal['device'] | None | Unset):
        id (None | str | Unset):
        attributes (DeviceChanges | None | Unset):
    """

    type_: Literal["device"] | None | Unset = UNSET
    id: None | str | Unset = UNSET
    attributes: DeviceChanges | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.device_changes import DeviceChanges  # noqa: PLC0415

        type_: Literal["device"] | None | Unset
        if isinstance(self.type_, Unset):
            type_ = UNSET
        else:
            type_ = self.type_

        id: None | str | Unset
        if isinstance(self.id, Unset):
            id = UNSET
        else:
            id = self.id

        attributes: dict[str, Any] | None | Unset
        if isinstance(self.attributes, Unset):
            attributes = UNSET
        elif isinstance(self.attributes, DeviceChanges):
            attributes = self.attributes.to_dict()
        else:
            attributes = self.attributes

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if type_ is not UNSET:
            field_dict["type"] = type_
        if id is not UNSET:
            field_dict["id"] = id
        if attributes is not UNSET:
            field_dict["attributes"] = attributes

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.device_changes import DeviceChanges  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_type_(data: object) -> Literal["device"] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            type_type_0 = cast(Literal["device"], data)
            if type_type_0 != "device":
                raise ValueError(f"type_type_0 must match const 'device', got '{type_type_0}'")
            return type_type_0
            return cast(Literal["device"] | None | Unset, data)

        type_ = _parse_type_(d.pop("type", UNSET))

        def _parse_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        id = _parse_id(d.pop("id", UNSET))

        def _parse_attributes(data: object) -> DeviceChanges | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                attributes_type_0 = DeviceChanges.from_dict(data)

                return attributes_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(DeviceChanges | None | Unset, data)

        attributes = _parse_attributes(d.pop("attributes", UNSET))

        device_patch_data = cls(
            type_=type_,
            id=id,
            attributes=attributes,
        )

        return device_patch_data
