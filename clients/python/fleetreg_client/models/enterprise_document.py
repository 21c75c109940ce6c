from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.enterprise_document_meta import EnterpriseDocumentMeta
    from ..models.enterprise_resource import EnterpriseResource


T = TypeVar("T", bound="EnterpriseDocument")


@_attrs_define
class EnterpriseDocument:
    """
    Attributes:
        data (EnterpriseResource | list[EnterpriseResource]):
        meta (EnterpriseDocumentMeta):
    """

    data: EnterpriseResource | list[EnterpriseResource]
    meta: EnterpriseDocumentMeta
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.enterprise_resource import EnterpriseResource  # noqa: PLC0415

        data: dict[str, Any] | list[dict[str, Any]]
        if isinstance(self.data, EnterpriseResource):
            data = self.data.to_dict()
        else:
            data = []
            for data_type_1_item_data in self.data:
                data_type_1_item = data_type_1_item_data.to_dict()
                data.append(data_type_1_item)

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
        from ..models.enterprise_document_meta import EnterpriseDocumentMeta  # noqa: PLC0415
        from ..models.enterprise_resource import EnterpriseResource  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_data(data: object) -> EnterpriseResource | list[EnterpriseResource]:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                data_type_0 = EnterpriseResource.from_dict(data)

                return data_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, list):
                raise TypeError()
            data_type_1 = []
            _data_type_1 = data
            for data_type_1_item_data in _data_type_1:
                data_type_1_item = EnterpriseResource.from_dict(data_type_1_item_data)

                data_type_1.append(data_type_1_item)

            return data_type_1

        data = _parse_data(d.pop("data"))

        meta = EnterpriseDocumentMeta.from_dict(d.pop("meta"))

        enterprise_document = cls(
            data=data,
            meta=meta,
        )

        enterprise_document.additional_properties = d
        return enterprise_document

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
