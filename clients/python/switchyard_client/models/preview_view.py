from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.preview_view_headers import PreviewViewHeaders


T = TypeVar("T", bound="PreviewView")


@_attrs_define
class PreviewView:
    """A rendered payload.

    Attributes:
        body (str): Exactly the bytes that would be sent.
        content_type (str):
        event (Any): The event that was rendered.
        headers (PreviewViewHeaders):
    """

    body: str
    content_type: str
    event: Any
    headers: PreviewViewHeaders
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        body = self.body

        content_type = self.content_type

        event = self.event

        headers = self.headers.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "body": body,
                "content_type": content_type,
                "event": event,
                "headers": headers,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.preview_view_headers import PreviewViewHeaders

        d = dict(src_dict)
        body = d.pop("body")

        content_type = d.pop("content_type")

        event = d.pop("event")

        headers = PreviewViewHeaders.from_dict(d.pop("headers"))

        preview_view = cls(
            body=body,
            content_type=content_type,
            event=event,
            headers=headers,
        )

        preview_view.additional_properties = d
        return preview_view

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
