from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.record_status import RecordStatus

T = TypeVar("T", bound="SingleUpdateResponse")


@_attrs_define
class SingleUpdateResponse:
    """
    Attributes:
        funnel_stage (str): The title of the stage the lead is now at.
        lead_profile_uid (str):
        status (RecordStatus): Whether a record changed the lead.
        success (bool):
    """

    funnel_stage: str
    lead_profile_uid: str
    status: RecordStatus
    success: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        funnel_stage = self.funnel_stage

        lead_profile_uid = self.lead_profile_uid

        status = self.status.value

        success = self.success

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "funnel_stage": funnel_stage,
                "lead_profile_uid": lead_profile_uid,
                "status": status,
                "success": success,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        funnel_stage = d.pop("funnel_stage")

        lead_profile_uid = d.pop("lead_profile_uid")

        status = RecordStatus(d.pop("status"))

        success = d.pop("success")

        single_update_response = cls(
            funnel_stage=funnel_stage,
            lead_profile_uid=lead_profile_uid,
            status=status,
            success=success,
        )

        single_update_response.additional_properties = d
        return single_update_response

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
