from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.headers_auth_type import HeadersAuthType

if TYPE_CHECKING:
    from ..models.headers_auth_headers import HeadersAuthHeaders


T = TypeVar("T", bound="HeadersAuth")


@_attrs_define
class HeadersAuth:
    """Headers sent as they are, e.g. `{"X-Api-Key": "..."}`.

    Attributes:
        headers (HeadersAuthHeaders):
        type_ (HeadersAuthType):
    """

    headers: HeadersAuthHeaders
    type_: HeadersAuthType
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        headers = self.headers.to_dict()

        type_ = self.type_.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "headers": headers,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.headers_auth_headers import HeadersAuthHeaders

        d = dict(src_dict)
        headers = HeadersAuthHeaders.from_dict(d.pop("headers"))

        type_ = HeadersAuthType(d.pop("type"))

        headers_auth = cls(
            headers=headers,
            type_=type_,
        )

        headers_auth.additional_properties = d
        return headers_auth

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
