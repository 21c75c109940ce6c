from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.association_resource import AssociationResource


T = TypeVar("T", bound="ReplacedAssociations")


@_attrs_define
class ReplacedAssociations:
    """
    Attributes:
        ended (AssociationResource):
        started (AssociationResource):
    """

    ended: AssociationResource
    started: AssociationResource
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        ended = self.ended.to_dict()

        started = self.started.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "ended": ended,
                "started": started,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.association_resource import AssociationResource  # noqa: PLC0415

        d = dict(src_dict)
        ended = AssociationResource.from_dict(d.pop("ended"))

        started = AssociationResource.from_dict(d.pop("started"))

        replaced_associations = cls(
            ended=ended,
            started=started,
        )

        replaced_associations.additional_properties = d
        return replaced_associations

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
