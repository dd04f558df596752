from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.actor import Actor
    from ..models.lead_stage_view import LeadStageView


T = TypeVar("T", bound="FunnelEventView")


@_attrs_define
class FunnelEventView:
    """One event of a lead's funnel history.

    Attributes:
        backfilled (bool): True when the lead skipped this stage and it was filled in.
        funnel_stage (LeadStageView): The stage a lead is at.
        id (str):
        occurred_at (str):
        source (Actor): A caller, by kind, id and display name.
        archived_at (None | str | Unset): Set when a later backward move archived this event.
    """

    backfilled: bool
    funnel_stage: LeadStageView
    id: str
    occurred_at: str
    source: Actor
    archived_at: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        backfilled = self.backfilled

        funnel_stage = self.funnel_stage.to_dict()

        id = self.id

        occurred_at = self.occurred_at

        source = self.source.to_dict()

        archived_at: None | str | Unset
        if isinstance(self.archived_at, Unset):
            archived_at = UNSET
        else:
            archived_at = self.archived_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "backfilled": backfilled,
                "funnel_stage": funnel_stage,
                "id": id,
                "occurred_at": occurred_at,
                "source": source,
            }
        )
        if archived_at is not UNSET:
            field_dict["archived_at"] = archived_at

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.actor import Actor
        from ..models.lead_stage_view import LeadStageView

        d = dict(src_dict)
        backfilled = d.pop("backfilled")

        funnel_stage = LeadStageView.from_dict(d.pop("funnel_stage"))

        id = d.pop("id")

        occurred_at = d.pop("occurred_at")

        source = Actor.from_dict(d.pop("source"))

        def _parse_archived_at(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        archived_at = _parse_archived_at(d.pop("archived_at", UNSET))

        funnel_event_view = cls(
            backfilled=backfilled,
            funnel_stage=funnel_stage,
            id=id,
            occurred_at=occurred_at,
            source=source,
            archived_at=archived_at,
        )

        funnel_event_view.additional_properties = d
        return funnel_event_view

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
