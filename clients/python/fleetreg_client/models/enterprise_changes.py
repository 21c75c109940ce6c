from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="EnterpriseChanges")


@_attrs_define
class EnterpriseChanges:
    """
    Attributes:
        name (str | Unset):
        cnpj (str | Unset):
    """

    name: str | Unset = UNSET
    cnpj: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        cnpj = self.cnpj

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if cnpj is not UNSET:
            field_dict["cnpj"] = cnpj

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name", UNSET)

        cnpj = d.pop("cnpj", UNSET)

        enterprise_changes = cls(
            name=name,
            cnpj=cnpj,
        )

        return enterprise_changes
