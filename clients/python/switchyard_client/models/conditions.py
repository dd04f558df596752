from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="Conditions")


@_attrs_define
class Conditions:
    """Optional conditions on an event; every condition set must hold.

    Attributes:
        funnel_stage_in (list[str] | Unset): The lead's funnel stage (after the change) is one of these stage ids.
        funnel_stage_not_in (list[str] | Unset): The lead's funnel stage (after the change) is none of these stage
            ids; a lead outside the funnel passes.
        stage_changed_to (list[str] | Unset): The event is a `lead.stage_changed` to one of these stage ids; other
            events do not pass.
    """

    funnel_stage_in: list[str] | Unset = UNSET
    funnel_stage_not_in: list[str] | Unset = UNSET
    stage_changed_to: list[str] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        funnel_stage_in: list[str] | Unset = UNSET
        if not isinstance(self.funnel_stage_in, Unset):
            funnel_stage_in = self.funnel_stage_in

        funnel_stage_not_in: list[str] | Unset = UNSET
        if not isinstance(self.funnel_stage_not_in, Unset):
            funnel_stage_not_in = self.funnel_stage_not_in

        stage_changed_to: list[str] | Unset = UNSET
        if not isinstance(self.stage_changed_to, Unset):
            stage_changed_to = self.stage_changed_to

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if funnel_stage_in is not UNSET:
            field_dict["funnel_stage_in"] = funnel_stage_in
        if funnel_stage_not_in is not UNSET:
            field_dict["funnel_stage_not_in"] = funnel_stage_not_in
        if stage_changed_to is not UNSET:
            field_dict["stage_changed_to"] = stage_changed_to

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        funnel_stage_in = cast(list[str], d.pop("funnel_stage_in", UNSET))

        funnel_stage_not_in = cast(list[str], d.pop("funnel_stage_not_in", UNSET))

        stage_changed_to = cast(list[str], d.pop("stage_changed_to", UNSET))

        conditions = cls(
            funnel_stage_in=funnel_stage_in,
            funnel_stage_not_in=funnel_stage_not_in,
            stage_changed_to=stage_changed_to,
        )

        return conditions
