from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.dry_run_request_headers import DryRunRequestHeaders


T = TypeVar("T", bound="DryRunRequest")


@_attrs_define
class DryRunRequest:
    """A dry run: what to call the plugin with.

    Attributes:
        input_ (Any): A transform: the request body a CRM would send (JSON, or a string for
            other content types). A payload builder: the event.
        config (Any | Unset): The plugin's config.
        content_type (None | str | Unset): Transforms only; default `application/json`.
        headers (DryRunRequestHeaders | Unset): Transforms only: request headers.
    """

    input_: Any
    config: Any | Unset = UNSET
    content_type: None | str | Unset = UNSET
    headers: DryRunRequestHeaders | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        input_ = self.input_

        config = self.config

        content_type: None | str | Unset
        if isinstance(self.content_type, Unset):
            content_type = UNSET
        else:
            content_type = self.content_type

        headers: dict[str, Any] | Unset = UNSET
        if not isinstance(self.headers, Unset):
            headers = self.headers.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "input": input_,
            }
        )
        if config is not UNSET:
            field_dict["config"] = config
        if content_type is not UNSET:
            field_dict["content_type"] = content_type
        if headers is not UNSET:
            field_dict["headers"] = headers

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.dry_run_request_headers import DryRunRequestHeaders

        d = dict(src_dict)
        input_ = d.pop("input")

        config = d.pop("config", UNSET)

        def _parse_content_type(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        content_type = _parse_content_type(d.pop("content_type", UNSET))

        _headers = d.pop("headers", UNSET)
        headers: DryRunRequestHeaders | Unset
        if isinstance(_headers, Unset):
            headers = UNSET
        else:
            headers = DryRunRequestHeaders.from_dict(_headers)

        dry_run_request = cls(
            input_=input_,
            config=config,
            content_type=content_type,
            headers=headers,
        )

        return dry_run_request
