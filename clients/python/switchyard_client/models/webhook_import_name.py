from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="WebhookImportName")


@_attrs_define
class WebhookImportName:
    """
    Attributes:
        name (str): At most 200 characters, not blank.
        create_leads (bool | Unset): Let lead records that match no lead create one (default false).
    """

    name: str
    create_leads: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        create_leads = self.create_leads

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
            }
        )
        if create_leads is not UNSET:
            field_dict["create_leads"] = create_leads

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name")

        create_leads = d.pop("create_leads", UNSET)

        webhook_import_name = cls(
            name=name,
            create_leads=create_leads,
        )

        return webhook_import_name
