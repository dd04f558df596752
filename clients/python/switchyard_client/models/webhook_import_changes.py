from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="WebhookImportChanges")


@_attrs_define
class WebhookImportChanges:
    """The settings to change; absent ones stay as they are.

    Attributes:
        create_leads (bool | None | Unset): Let lead records that match no lead create one.
        name (None | str | Unset): At most 200 characters, not blank.
    """

    create_leads: bool | None | Unset = UNSET
    name: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        create_leads: bool | None | Unset
        if isinstance(self.create_leads, Unset):
            create_leads = UNSET
        else:
            create_leads = self.create_leads

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if create_leads is not UNSET:
            field_dict["create_leads"] = create_leads
        if name is not UNSET:
            field_dict["name"] = name

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_create_leads(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        create_leads = _parse_create_leads(d.pop("create_leads", UNSET))

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        webhook_import_changes = cls(
            create_leads=create_leads,
            name=name,
        )

        return webhook_import_changes
