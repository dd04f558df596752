from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.import_rate_limit import ImportRateLimit


T = TypeVar("T", bound="WebhookImportChanges")


@_attrs_define
class WebhookImportChanges:
    """The settings to change; absent ones stay as they are.

    Attributes:
        create_leads (bool | None | Unset): Let lead records that match no lead create one.
        name (None | str | Unset): At most 200 characters, not blank.
        rate_limit (ImportRateLimit | None | Unset):
    """

    create_leads: bool | None | Unset = UNSET
    name: None | str | Unset = UNSET
    rate_limit: ImportRateLimit | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.import_rate_limit import ImportRateLimit

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

        rate_limit: dict[str, Any] | None | Unset
        if isinstance(self.rate_limit, Unset):
            rate_limit = UNSET
        elif isinstance(self.rate_limit, ImportRateLimit):
            rate_limit = self.rate_limit.to_dict()
        else:
            rate_limit = self.rate_limit

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if create_leads is not UNSET:
            field_dict["create_leads"] = create_leads
        if name is not UNSET:
            field_dict["name"] = name
        if rate_limit is not UNSET:
            field_dict["rate_limit"] = rate_limit

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.import_rate_limit import ImportRateLimit

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

        def _parse_rate_limit(data: object) -> ImportRateLimit | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                rate_limit_type_1 = ImportRateLimit.from_dict(data)

                return rate_limit_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ImportRateLimit | None | Unset, data)

        rate_limit = _parse_rate_limit(d.pop("rate_limit", UNSET))

        webhook_import_changes = cls(
            create_leads=create_leads,
            name=name,
            rate_limit=rate_limit,
        )

        return webhook_import_changes
