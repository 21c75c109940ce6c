from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.enterprise_changes import EnterpriseChanges


T = TypeVar("T", bound="EnterprisePatchData")


@_attrs_define
class EnterprisePatchData:
    """
    Attributes:
        type_ (Literal['enterprise'] | None | Unset):
        id (None | str | Unset):
        attributes (EnterpriseChanges | None | Unset):
    """

    type_: Literal["enterprise"] | None | Unset = UNSET
    id: None | str | Unset = UNSET
    attributes: EnterpriseChanges | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.enterprise_changes import EnterpriseChanges  # noqa: PLC0415

        type_: Literal["enterprise"] | None | Unset
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
        elif isinstance(self.attributes, EnterpriseChanges):
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
        from ..models.enterprise_changes import EnterpriseChanges  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_type_(data: object) -> Literal["enterprise"] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            type_type_0 = cast(Literal["enterprise"], data)
            if type_type_0 != "enterprise":
                raise ValueError(f"type_type_0 must match const 'enterprise', got '{type_type_0}'")
            return type_type_0
            return cast(Literal["enterprise"] | None | Unset, data)

        type_ = _parse_type_(d.pop("type", UNSET))

        def _parse_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        id = _parse_id(d.pop("id", UNSET))

        def _parse_attributes(data: object) -> EnterpriseChanges | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                attributes_type_0 = EnterpriseChanges.from_dict(data)

                return attributes_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(EnterpriseChanges | None | Unset, data)

        attributes = _parse_attributes(d.pop("attributes", UNSET))

        enterprise_patch_data = cls(
            type_=type_,
            id=id,
            attributes=attributes,
        )

        return enterprise_patch_data
