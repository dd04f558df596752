from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="RecordCheck")


@_attrs_define
class RecordCheck:
    """What one record would do: checked against the import's mappings and
    the account's funnel stages, as the endpoints would check it (whether
    the lead exists is not looked up).

        Attributes:
            index (int): The record's place in `records`, from 0.
            error (None | str | Unset): Why the record would fail.
            funnel_stage (None | str | Unset): The title of the stage the record would move the lead to.
            lead_profile_uid (None | str | Unset):
    """

    index: int
    error: None | str | Unset = UNSET
    funnel_stage: None | str | Unset = UNSET
    lead_profile_uid: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        index = self.index

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        funnel_stage: None | str | Unset
        if isinstance(self.funnel_stage, Unset):
            funnel_stage = UNSET
        else:
            funnel_stage = self.funnel_stage

        lead_profile_uid: None | str | Unset
        if isinstance(self.lead_profile_uid, Unset):
            lead_profile_uid = UNSET
        else:
            lead_profile_uid = self.lead_profile_uid

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "index": index,
            }
        )
        if error is not UNSET:
            field_dict["error"] = error
        if funnel_stage is not UNSET:
            field_dict["funnel_stage"] = funnel_stage
        if lead_profile_uid is not UNSET:
            field_dict["lead_profile_uid"] = lead_profile_uid

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        index = d.pop("index")

        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        def _parse_funnel_stage(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        funnel_stage = _parse_funnel_stage(d.pop("funnel_stage", UNSET))

        def _parse_lead_profile_uid(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        lead_profile_uid = _parse_lead_profile_uid(d.pop("lead_profile_uid", UNSET))

        record_check = cls(
            index=index,
            error=error,
            funnel_stage=funnel_stage,
            lead_profile_uid=lead_profile_uid,
        )

        record_check.additional_properties = d
        return record_check

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
