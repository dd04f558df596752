from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="CreateFunnelStage")


@_attrs_define
class CreateFunnelStage:
    """
    Attributes:
        title (str): Unique in the account, ignoring case, spaces, `_` and `-`; at most
            200 characters, with something besides spaces, `_` and `-`.
        position (int | None | Unset): 1-based place to insert at; the end of the funnel when omitted or
            past the end.
    """

    title: str
    position: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        title = self.title

        position: int | None | Unset
        if isinstance(self.position, Unset):
            position = UNSET
        else:
            position = self.position

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "title": title,
            }
        )
        if position is not UNSET:
            field_dict["position"] = position

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        title = d.pop("title")

        def _parse_position(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        position = _parse_position(d.pop("position", UNSET))

        create_funnel_stage = cls(
            title=title,
            position=position,
        )

        return create_funnel_stage
