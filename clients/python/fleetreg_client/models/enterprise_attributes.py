from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="EnterpriseAttributes")


@_attrs_define
class EnterpriseAttributes:
    """
    Attributes:
        name (str):
        cnpj (str): Accepted with or without . / - and in lower case; stored bare, upper case.
    """

    name: str
    cnpj: str

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        cnpj = self.cnpj

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "cnpj": cnpj,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        cnpj = d.pop("cnpj")

        enterprise_attributes = cls(
            name=name,
            cnpj=cnpj,
        )

        return enterprise_attributes
