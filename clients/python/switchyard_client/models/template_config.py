from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.template_config_format import TemplateConfigFormat
from ..types import UNSET, Unset

T = TypeVar("T", bound="TemplateConfig")


@_attrs_define
class TemplateConfig:
    """The `template` payload's config. `{{ name }}` in `body` is a merge tag (`lead.email`, `lead.full_name`,
    `event.name`, ...; an unknown one is refused); with `format` `json` (the default) the rendered body must be JSON,
    with `form` it is sent as `application/x-www-form-urlencoded`.

        Attributes:
            body (str):
            format_ (TemplateConfigFormat | Unset):
            stage_as_id (bool | Unset): Send the funnel stage's id instead of its title
    """

    body: str
    format_: TemplateConfigFormat | Unset = UNSET
    stage_as_id: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        body = self.body

        format_: str | Unset = UNSET
        if not isinstance(self.format_, Unset):
            format_ = self.format_.value

        stage_as_id = self.stage_as_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "body": body,
            }
        )
        if format_ is not UNSET:
            field_dict["format"] = format_
        if stage_as_id is not UNSET:
            field_dict["stage_as_id"] = stage_as_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        body = d.pop("body")

        _format_ = d.pop("format", UNSET)
        format_: TemplateConfigFormat | Unset
        if isinstance(_format_, Unset):
            format_ = UNSET
        else:
            format_ = TemplateConfigFormat(_format_)

        stage_as_id = d.pop("stage_as_id", UNSET)

        template_config = cls(
            body=body,
            format_=format_,
            stage_as_id=stage_as_id,
        )

        return template_config
