from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="StageMappingView")


@_attrs_define
class StageMappingView:
    """One stage-name mapping, with its stage's current title.

    Attributes:
        external_name (str):
        funnel_stage_id (str):
        funnel_stage_title (str):
    """

    external_name: str
    funnel_stage_id: str
    funnel_stage_title: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        external_name = self.external_name

        funnel_stage_id = self.funnel_stage_id

        funnel_stage_title = self.funnel_stage_title

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "external_name": external_name,
                "funnel_stage_id": funnel_stage_id,
                "funnel_stage_title": funnel_stage_title,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        external_name = d.pop("external_name")

        funnel_stage_id = d.pop("funnel_stage_id")

        funnel_stage_title = d.pop("funnel_stage_title")

        stage_mapping_view = cls(
            external_name=external_name,
            funnel_stage_id=funnel_stage_id,
            funnel_stage_title=funnel_stage_title,
        )

        stage_mapping_view.additional_properties = d
        return stage_mapping_view

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
