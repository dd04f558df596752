from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="TestSendView")


@_attrs_define
class TestSendView:
    """What a test send got back.

    Attributes:
        duration_ms (float):
        message_id (str): The `webhook-id` the test was sent with: the id of its delivery
            (event `test`) in the webhook's log.
        success (bool): True when the receiver answered 2xx.
        body_excerpt (None | str | Unset): The start of the response body (at most 1 KiB).
        error (None | str | Unset):
        status (int | None | Unset):
    """

    duration_ms: float
    message_id: str
    success: bool
    body_excerpt: None | str | Unset = UNSET
    error: None | str | Unset = UNSET
    status: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        duration_ms = self.duration_ms

        message_id = self.message_id

        success = self.success

        body_excerpt: None | str | Unset
        if isinstance(self.body_excerpt, Unset):
            body_excerpt = UNSET
        else:
            body_excerpt = self.body_excerpt

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        status: int | None | Unset
        if isinstance(self.status, Unset):
            status = UNSET
        else:
            status = self.status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "duration_ms": duration_ms,
                "message_id": message_id,
                "success": success,
            }
        )
        if body_excerpt is not UNSET:
            field_dict["body_excerpt"] = body_excerpt
        if error is not UNSET:
            field_dict["error"] = error
        if status is not UNSET:
            field_dict["status"] = status

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        duration_ms = d.pop("duration_ms")

        message_id = d.pop("message_id")

        success = d.pop("success")

        def _parse_body_excerpt(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        body_excerpt = _parse_body_excerpt(d.pop("body_excerpt", UNSET))

        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        def _parse_status(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        status = _parse_status(d.pop("status", UNSET))

        test_send_view = cls(
            duration_ms=duration_ms,
            message_id=message_id,
            success=success,
            body_excerpt=body_excerpt,
            error=error,
            status=status,
        )

        test_send_view.additional_properties = d
        return test_send_view

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
