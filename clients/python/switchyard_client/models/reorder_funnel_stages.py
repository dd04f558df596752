from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="ReorderFunnelStages")


@_attrs_define
class ReorderFunnelStages:
    """
    Attributes:
        stage_ids (list[str]): Every stage id, once, in the new order.
    """

    stage_ids: list[str]

    def to_dict(self) -> dict[str, Any]:
        stage_ids = self.stage_ids

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "stage_ids": stage_ids,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        stage_ids = cast(list[str], d.pop("stage_ids"))

        reorder_funnel_stages = cls(
            stage_ids=stage_ids,
        )

        return reorder_funnel_stages
