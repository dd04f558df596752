from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.bearer_auth_type import BearerAuthType

T = TypeVar("T", bound="BearerAuth")


@_attrs_define
class BearerAuth:
    """
    Attributes:
        token (str): Not empty; without control characters.
        type_ (BearerAuthType):
    """

    token: str
    type_: BearerAuthType

    def to_dict(self) -> dict[str, Any]:
        token = self.token

        type_ = self.type_.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "token": token,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        token = d.pop("token")

        type_ = BearerAuthType(d.pop("type"))

        bearer_auth = cls(
            token=token,
            type_=type_,
        )

        return bearer_auth
