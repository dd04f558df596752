from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.no_auth_type import NoAuthType

T = TypeVar("T", bound="NoAuth")


@_attrs_define
class NoAuth:
    """
    Attributes:
        type_ (NoAuthType):
    """

    type_: NoAuthType

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        type_ = NoAuthType(d.pop("type"))

        no_auth = cls(
            type_=type_,
        )

        return no_auth
