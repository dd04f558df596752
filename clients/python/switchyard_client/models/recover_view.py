from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="RecoverView")


@_attrs_define
class RecoverView:
    """What a recovery found and did.

    Attributes:
        failed (int): Failed deliveries since `since`, before this call.
        remaining (int): Still failed after this call: recover again to queue them.
        requeued (int): Queued to be sent again now (0 for a dry run).
        since (str):
    """

    failed: int
    remaining: int
    requeued: int
    since: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        failed = self.failed

        remaining = self.remaining

        requeued = self.requeued

        since = self.since

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "failed": failed,
                "remaining": remaining,
                "requeued": requeued,
                "since": since,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        failed = d.pop("failed")

        remaining = d.pop("remaining")

        requeued = d.pop("requeued")

        since = d.pop("since")

        recover_view = cls(
            failed=failed,
            remaining=remaining,
            requeued=requeued,
            since=since,
        )

        recover_view.additional_properties = d
        return recover_view

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
