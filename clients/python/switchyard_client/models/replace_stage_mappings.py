from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.stage_mapping_item import StageMappingItem


T = TypeVar("T", bound="ReplaceStageMappings")


@_attrs_define
class ReplaceStageMappings:
    """
    Attributes:
        mappings (list[StageMappingItem]): The complete new list (at most 1,000); it replaces every existing
            mapping.
    """

    mappings: list[StageMappingItem]

    def to_dict(self) -> dict[str, Any]:
        mappings = []
        for mappings_item_data in self.mappings:
            mappings_item = mappings_item_data.to_dict()
            mappings.append(mappings_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "mappings": mappings,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.stage_mapping_item import StageMappingItem

        d = dict(src_dict)
        mappings = []
        _mappings = d.pop("mappings")
        for mappings_item_data in _mappings:
            mappings_item = StageMappingItem.from_dict(mappings_item_data)

            mappings.append(mappings_item)

        replace_stage_mappings = cls(
            mappings=mappings,
        )

        return replace_stage_mappings
