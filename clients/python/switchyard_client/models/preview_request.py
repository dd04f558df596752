from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="PreviewRequest")


@_attrs_define
class PreviewRequest:
    """An event to render instead of the sample one.

    Attributes:
        event (Any | Unset): An event document (see plugin-sdk/ABI.md); a sample
            `lead.stage_changed` when absent.
    """

    event: Any | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        event = self.event

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if event is not UNSET:
            field_dict["event"] = event

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        event = d.pop("event", UNSET)

        preview_request = cls(
            event=event,
        )

        return preview_request
