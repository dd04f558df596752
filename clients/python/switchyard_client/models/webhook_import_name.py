from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.import_rate_limit import ImportRateLimit


T = TypeVar("T", bound="WebhookImportName")


@_attrs_define
class WebhookImportName:
    """
    Attributes:
        name (str): At most 200 characters, not blank.
        create_leads (bool | Unset): Let lead records that match no lead create one (default false).
        rate_limit (ImportRateLimit | None | Unset):
    """

    name: str
    create_leads: bool | Unset = UNSET
    rate_limit: ImportRateLimit | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.import_rate_limit import ImportRateLimit

        name = self.name

        create_leads = self.create_leads

        rate_limit: dict[str, Any] | None | Unset
        if isinstance(self.rate_limit, Unset):
            rate_limit = UNSET
        elif isinstance(self.rate_limit, ImportRateLimit):
            rate_limit = self.rate_limit.to_dict()
        else:
            rate_limit = self.rate_limit

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
            }
        )
        if create_leads is not UNSET:
            field_dict["create_leads"] = create_leads
        if rate_limit is not UNSET:
            field_dict["rate_limit"] = rate_limit

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.import_rate_limit import ImportRateLimit

        d = dict(src_dict)
        name = d.pop("name")

        create_leads = d.pop("create_leads", UNSET)

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

        webhook_import_name = cls(
            name=name,
            create_leads=create_leads,
            rate_limit=rate_limit,
        )

        return webhook_import_name
