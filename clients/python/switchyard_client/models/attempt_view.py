from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="AttemptView")


@_attrs_define
class AttemptView:
    """One attempt, as logged.

    Attributes:
        attempted_at (str):
        duration_ms (float):
        id (str):
        triggered_by (str): scheduled (first send or retry) or resend.
        error (None | str | Unset):
        method (None | str | Unset):
        request_body (None | str | Unset):
        request_headers (Any | Unset): Secrets and credentials redacted.
        response_body (None | str | Unset): At most 64 KiB.
        response_headers (Any | Unset):
        response_status (int | None | Unset):
        url (None | str | Unset):
    """

    attempted_at: str
    duration_ms: float
    id: str
    triggered_by: str
    error: None | str | Unset = UNSET
    method: None | str | Unset = UNSET
    request_body: None | str | Unset = UNSET
    request_headers: Any | Unset = UNSET
    response_body: None | str | Unset = UNSET
    response_headers: Any | Unset = UNSET
    response_status: int | None | Unset = UNSET
    url: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempted_at = self.attempted_at

        duration_ms = self.duration_ms

        id = self.id

        triggered_by = self.triggered_by

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        method: None | str | Unset
        if isinstance(self.method, Unset):
            method = UNSET
        else:
            method = self.method

        request_body: None | str | Unset
        if isinstance(self.request_body, Unset):
            request_body = UNSET
        else:
            request_body = self.request_body

        request_headers = self.request_headers

        response_body: None | str | Unset
        if isinstance(self.response_body, Unset):
            response_body = UNSET
        else:
            response_body = self.response_body

        response_headers = self.response_headers

        response_status: int | None | Unset
        if isinstance(self.response_status, Unset):
            response_status = UNSET
        else:
            response_status = self.response_status

        url: None | str | Unset
        if isinstance(self.url, Unset):
            url = UNSET
        else:
            url = self.url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempted_at": attempted_at,
                "duration_ms": duration_ms,
                "id": id,
                "triggered_by": triggered_by,
            }
        )
        if error is not UNSET:
            field_dict["error"] = error
        if method is not UNSET:
            field_dict["method"] = method
        if request_body is not UNSET:
            field_dict["request_body"] = request_body
        if request_headers is not UNSET:
            field_dict["request_headers"] = request_headers
        if response_body is not UNSET:
            field_dict["response_body"] = response_body
        if response_headers is not UNSET:
            field_dict["response_headers"] = response_headers
        if response_status is not UNSET:
            field_dict["response_status"] = response_status
        if url is not UNSET:
            field_dict["url"] = url

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        attempted_at = d.pop("attempted_at")

        duration_ms = d.pop("duration_ms")

        id = d.pop("id")

        triggered_by = d.pop("triggered_by")

        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        def _parse_method(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        method = _parse_method(d.pop("method", UNSET))

        def _parse_request_body(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        request_body = _parse_request_body(d.pop("request_body", UNSET))

        request_headers = d.pop("request_headers", UNSET)

        def _parse_response_body(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        response_body = _parse_response_body(d.pop("response_body", UNSET))

        response_headers = d.pop("response_headers", UNSET)

        def _parse_response_status(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        response_status = _parse_response_status(d.pop("response_status", UNSET))

        def _parse_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        url = _parse_url(d.pop("url", UNSET))

        attempt_view = cls(
            attempted_at=attempted_at,
            duration_ms=duration_ms,
            id=id,
            triggered_by=triggered_by,
            error=error,
            method=method,
            request_body=request_body,
            request_headers=request_headers,
            response_body=response_body,
            response_headers=response_headers,
            response_status=response_status,
            url=url,
        )

        attempt_view.additional_properties = d
        return attempt_view

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
