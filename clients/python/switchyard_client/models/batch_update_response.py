from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.record_result import RecordResult


T = TypeVar("T", bound="BatchUpdateResponse")


@_attrs_define
class BatchUpdateResponse:
    """
    Attributes:
        failed (int):
        results (list[RecordResult]):
        success (bool):
        unchanged (int):
        updated (int):
        created (int | None | Unset): Leads created by lead records (present when a transform is attached).
    """

    failed: int
    results: list[RecordResult]
    success: bool
    unchanged: int
    updated: int
    created: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        failed = self.failed

        results = []
        for results_item_data in self.results:
            results_item = results_item_data.to_dict()
            results.append(results_item)

        success = self.success

        unchanged = self.unchanged

        updated = self.updated

        created: int | None | Unset
        if isinstance(self.created, Unset):
            created = UNSET
        else:
            created = self.created

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "failed": failed,
                "results": results,
                "success": success,
                "unchanged": unchanged,
                "updated": updated,
            }
        )
        if created is not UNSET:
            field_dict["created"] = created

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.record_result import RecordResult

        d = dict(src_dict)
        failed = d.pop("failed")

        results = []
        _results = d.pop("results")
        for results_item_data in _results:
            results_item = RecordResult.from_dict(results_item_data)

            results.append(results_item)

        success = d.pop("success")

        unchanged = d.pop("unchanged")

        updated = d.pop("updated")

        def _parse_created(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        created = _parse_created(d.pop("created", UNSET))

        batch_update_response = cls(
            failed=failed,
            results=results,
            success=success,
            unchanged=unchanged,
            updated=updated,
            created=created,
        )

        batch_update_response.additional_properties = d
        return batch_update_response

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
