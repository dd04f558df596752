from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.basic_auth_type import BasicAuthType

T = TypeVar("T", bound="BasicAuth")


@_attrs_define
class BasicAuth:
    """
    Attributes:
        password (str): Without control characters.
        type_ (BasicAuthType):
        username (str): Without `:` (Basic's separator) or control characters.
    """

    password: str
    type_: BasicAuthType
    username: str

    def to_dict(self) -> dict[str, Any]:
        password = self.password

        type_ = self.type_.value

        username = self.username

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "password": password,
                "type": type_,
                "username": username,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        password = d.pop("password")

        type_ = BasicAuthType(d.pop("type"))

        username = d.pop("username")

        basic_auth = cls(
            password=password,
            type_=type_,
            username=username,
        )

        return basic_auth
