from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="StageMappingItem")


@_attrs_define
class StageMappingItem:
    """One stage-name mapping, as sent.

    Attributes:
        external_name (str): The stage name the CRM sends, compared ignoring case, spaces, `_`
            and `-`; unique in the import by that comparison.
        funnel_stage_id (str): A stage of the account's funnel.
    """

    external_name: str
    funnel_stage_id: str

    def to_dict(self) -> dict[str, Any]:
        external_name = self.external_name

        funnel_stage_id = self.funnel_stage_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "external_name": external_name,
                "funnel_stage_id": funnel_stage_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        external_name = d.pop("external_name")

        funnel_stage_id = d.pop("funnel_stage_id")

        stage_mapping_item = cls(
            external_name=external_name,
            funnel_stage_id=funnel_stage_id,
        )

        return stage_mapping_item
