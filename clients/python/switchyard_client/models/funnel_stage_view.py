from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="FunnelStageView")


@_attrs_define
class FunnelStageView:
    """A stage of the funnel.

    Attributes:
        created_at (str):
        id (str): Stable id: unchanged by rename and reorder.
        position (int): 1-based place in the funnel.
        title (str):
        updated_at (str):
    """

    created_at: str
    id: str
    position: int
    title: str
    updated_at: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at

        id = self.id

        position = self.position

        title = self.title

        updated_at = self.updated_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "id": id,
                "position": position,
                "title": title,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        created_at = d.pop("created_at")

        id = d.pop("id")

        position = d.pop("position")

        title = d.pop("title")

        updated_at = d.pop("updated_at")

        funnel_stage_view = cls(
            created_at=created_at,
            id=id,
            position=position,
            title=title,
            updated_at=updated_at,
        )

        funnel_stage_view.additional_properties = d
        return funnel_stage_view

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
