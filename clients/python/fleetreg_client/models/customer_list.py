from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.customer import Customer
    from ..models.customer_query import CustomerQuery


T = TypeVar("T", bound="CustomerList")


@_attrs_define
class CustomerList:
    """
    Attributes:
        query (CustomerQuery): The applied query parameters, including defaults. Filters appear only when given.
        result (list[Customer]): The customers of this page, ordered by name, then id.
        total (int): Total number of customers matching the query parameters.
    """

    query: CustomerQuery
    result: list[Customer]
    total: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        query = self.query.to_dict()

        result = []
        for result_item_data in self.result:
            result_item = result_item_data.to_dict()
            result.append(result_item)

        total = self.total

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "query": query,
                "result": result,
                "total": total,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.customer import Customer  # noqa: PLC0415
        from ..models.customer_query import CustomerQuery  # noqa: PLC0415

        d = dict(src_dict)
        query = CustomerQuery.from_dict(d.pop("query"))

        result = []
        _result = d.pop("result")
        for result_item_data in _result:
            result_item = Customer.from_dict(result_item_data)

            result.append(result_item)

        total = d.pop("total")

        customer_list = cls(
            query=query,
            result=result,
            total=total,
        )

        customer_list.additional_properties = d
        return customer_list

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
