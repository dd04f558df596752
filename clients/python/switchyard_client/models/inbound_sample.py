from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.inbound_sample_headers import InboundSampleHeaders


T = TypeVar("T", bound="InboundSample")


@_attrs_define
class InboundSample:
    """A request a CRM would send, to try a transform on.

    Attributes:
        body (Any): The body: any JSON, or a string for a content type that is not JSON.
        content_type (None | str | Unset): The request's content type; default `application/json`.
        headers (InboundSampleHeaders | Unset): Request headers, as the transform would see them (names in
            lowercase; `Authorization` and `Cookie` are never passed on).
    """

    body: Any
    content_type: None | str | Unset = UNSET
    headers: InboundSampleHeaders | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        body = self.body

        content_type: None | str | Unset
        if isinstance(self.content_type, Unset):
            content_type = UNSET
        else:
            content_type = self.content_type

        headers: dict[str, Any] | Unset = UNSET
        if not isinstance(self.headers, Unset):
            headers = self.headers.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "body": body,
            }
        )
        if content_type is not UNSET:
            field_dict["content_type"] = content_type
        if headers is not UNSET:
            field_dict["headers"] = headers

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.inbound_sample_headers import InboundSampleHeaders

        d = dict(src_dict)
        body = d.pop("body")

        def _parse_content_type(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        content_type = _parse_content_type(d.pop("content_type", UNSET))

        _headers = d.pop("headers", UNSET)
        headers: InboundSampleHeaders | Unset
        if isinstance(_headers, Unset):
            headers = UNSET
        else:
            headers = InboundSampleHeaders.from_dict(_headers)

        inbound_sample = cls(
            body=body,
            content_type=content_type,
            headers=headers,
        )

        return inbound_sample
