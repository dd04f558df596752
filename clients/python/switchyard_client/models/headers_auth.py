from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.headers_auth_type import HeadersAuthType

if TYPE_CHECKING:
    from ..models.headers_auth_headers import HeadersAuthHeaders


T = TypeVar("T", bound="HeadersAuth")


@_attrs_define
class HeadersAuth:
    """Headers sent as they are, e.g. `{"X-Api-Key": "..."}`.

    Attributes:
        headers (HeadersAuthHeaders): Header name to value. Names are HTTP tokens, other than the headers Switchyard
            sets itself (content-type, content-length, host, user-agent, webhook-id, webhook-timestamp, webhook-signature,
            x-webhook-secret, x-hmac-signature, in any case); values have no control characters.
        type_ (HeadersAuthType):
    """

    headers: HeadersAuthHeaders
    type_: HeadersAuthType

    def to_dict(self) -> dict[str, Any]:
        headers = self.headers.to_dict()

        type_ = self.type_.value

        field_dict: dict[str, Any] = {}

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

        return headers_auth
