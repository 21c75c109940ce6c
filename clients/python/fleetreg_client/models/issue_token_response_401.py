from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.issue_token_response_401_error import IssueTokenResponse401Error
from ..types import UNSET, Unset

T = TypeVar("T", bound="IssueTokenResponse401")


@_attrs_define
class IssueTokenResponse401:
    """
    Attributes:
        error (IssueTokenResponse401Error):
        error_description (str | Unset):
    """

    error: IssueTokenResponse401Error
    error_description: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        error = self.error.value

        error_description = self.error_description

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "error": error,
            }
        )
        if error_description is not UNSET:
            field_dict["error_description"] = error_description

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        error = IssueTokenResponse401Error(d.pop("error"))

        error_description = d.pop("error_description", UNSET)

        issue_token_response_401 = cls(
            error=error,
            error_description=error_description,
        )

        issue_token_response_401.additional_properties = d
        return issue_token_response_401

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
