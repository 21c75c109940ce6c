from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.list_events_response_200_data_item_type import ListEventsResponse200DataItemType

if TYPE_CHECKING:
    from ..models.list_events_response_200_data_item_actor import ListEventsResponse200DataItemActor
    from ..models.list_events_response_200_data_item_data import ListEventsResponse200DataItemData
    from ..models.list_events_response_200_data_item_subject import ListEventsResponse200DataItemSubject
    from ..models.list_events_response_200_data_item_tenant import ListEventsResponse200DataItemTenant


T = TypeVar("T", bound="ListEventsResponse200DataItem")


@_attrs_define
class ListEventsResponse200DataItem:
    """
    Attributes:
        id (str):
        sequence (int):
        type_ (ListEventsResponse200DataItemType):
        occurred_at (datetime.datetime):
        tenant (ListEventsResponse200DataItemTenant):
        actor (ListEventsResponse200DataItemActor):
        subject (ListEventsResponse200DataItemSubject):
        data (ListEventsResponse200DataItemData):
    """

    id: str
    sequence: int
    type_: ListEventsResponse200DataItemType
    occurred_at: datetime.datetime
    tenant: ListEventsResponse200DataItemTenant
    actor: ListEventsResponse200DataItemActor
    subject: ListEventsResponse200DataItemSubject
    data: ListEventsResponse200DataItemData
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        sequence = self.sequence

        type_ = self.type_.value

        occurred_at = self.occurred_at.isoformat()

        tenant = self.tenant.to_dict()

        actor = self.actor.to_dict()

        subject = self.subject.to_dict()

        data = self.data.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "sequence": sequence,
                "type": type_,
                "occurred_at": occurred_at,
                "tenant": tenant,
                "actor": actor,
                "subject": subject,
                "data": data,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.list_events_response_200_data_item_actor import ListEventsResponse200DataItemActor  # noqa: PLC0415
        from ..models.list_events_response_200_data_item_data import ListEventsResponse200DataItemData  # noqa: PLC0415
        from ..models.list_events_response_200_data_item_subject import ListEventsResponse200DataItemSubject  # noqa: PLC0415
        from ..models.list_events_response_200_data_item_tenant import ListEventsResponse200DataItemTenant  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        sequence = d.pop("sequence")

        type_ = ListEventsResponse200DataItemType(d.pop("type"))

        occurred_at = datetime.datetime.fromisoformat(d.pop("occurred_at"))

        tenant = ListEventsResponse200DataItemTenant.from_dict(d.pop("tenant"))

        actor = ListEventsResponse200DataItemActor.from_dict(d.pop("actor"))

        subject = ListEventsResponse200DataItemSubject.from_dict(d.pop("subject"))

        data = ListEventsResponse200DataItemData.from_dict(d.pop("data"))

        list_events_response_200_data_item = cls(
            id=id,
            sequence=sequence,
            type_=type_,
            occurred_at=occurred_at,
            tenant=tenant,
            actor=actor,
            subject=subject,
            data=data,
        )

        list_events_response_200_data_item.additional_properties = d
        return list_events_response_200_data_item

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
