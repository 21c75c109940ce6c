from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.vehicle_changes import VehicleChanges


T = TypeVar("T", bound="VehiclePatchData")


@_attrs_define
class VehiclePatchData:
    """
    Attributes:
        type_ (Literal['vehicle'] | None | Unset):
        id (None | str | Unset):
        attributes (None | Unset | VehicleChanges):
    """

    type_: Literal["vehicle"] | None | Unset = UNSET
    id: None | str | Unset = UNSET
    attributes: None | Unset | VehicleChanges = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.vehicle_changes import VehicleChanges  # noqa: PLC0415

        type_: Literal["vehicle"] | None | Unset
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
        elif isinstance(self.attributes, VehicleChanges):
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
        from ..models.vehicle_changes import VehicleChanges  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_type_(data: object) -> Literal["vehicle"] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            type_type_0 = cast(Literal["vehicle"], data)
            if type_type_0 != "vehicle":
                raise ValueError(f"type_type_0 must match const 'vehicle', got '{type_type_0}'")
            return type_type_0
            return cast(Literal["vehicle"] | None | Unset, data)

        type_ = _parse_type_(d.pop("type", UNSET))

        def _parse_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        id = _parse_id(d.pop("id", UNSET))

        def _parse_attributes(data: object) -> None | Unset | VehicleChanges:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                attributes_type_0 = VehicleChanges.from_dict(data)

                return attributes_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | VehicleChanges, data)

        attributes = _parse_attributes(d.pop("attributes", UNSET))

        vehicle_patch_data = cls(
            type_=type_,
            id=id,
            attributes=attributes,
        )

        return vehicle_patch_data
