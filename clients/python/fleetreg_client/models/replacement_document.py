from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.replaced_associations import ReplacedAssociations
    from ..models.replacement_document_meta import ReplacementDocumentMeta


T = TypeVar("T", bound="ReplacementDocument")


@_attrs_define
class ReplacementDocument:
    """
    Attributes:
        data (ReplacedAssociations):
        meta (ReplacementDocumentMeta):
    """

    data: ReplacedAssociations
    meta: ReplacementDocumentMeta
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = self.data.to_dict()

        meta = self.meta.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "data": data,
                "meta": meta,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.replaced_associations import ReplacedAssociations  # noqa: PLC0415
        from ..models.replacement_document_meta import ReplacementDocumentMeta  # noqa: PLC0415

        d = dict(src_dict)
        data = ReplacedAssociations.from_dict(d.pop("data"))

        meta = ReplacementDocumentMeta.from_dict(d.pop("meta"))

        replacement_document = cls(
            data=data,
            meta=meta,
        )

        replacement_document.additional_properties = d
        return replacement_document

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
