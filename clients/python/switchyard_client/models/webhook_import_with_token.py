from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.import_endpoints import ImportEndpoints
    from ..models.import_rate_limit import ImportRateLimit
    from ..models.import_transform import ImportTransform


T = TypeVar("T", bound="WebhookImportWithToken")


@_attrs_define
class WebhookImportWithToken:
    """An import with its new token, shown this once.

    Attributes:
        active (bool): New imports are inactive; inbound requests are refused until activated.
        create_leads (bool): Whether a transform's lead record that matches no lead creates one
            (off by default: records then only update the leads they match).
        created_at (str):
        endpoints (ImportEndpoints): The URLs a CRM sends funnel updates to.
        id (str):
        name (str):
        updated_at (str):
        token (str): Send as `Authorization: Bearer <token>`. Stored only as a digest:
            copy it now.
        rate_limit (ImportRateLimit | None | Unset):
        transform (ImportTransform | None | Unset):
    """

    active: bool
    create_leads: bool
    created_at: str
    endpoints: ImportEndpoints
    id: str
    name: str
    updated_at: str
    token: str
    rate_limit: ImportRateLimit | None | Unset = UNSET
    transform: ImportTransform | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.import_rate_limit import ImportRateLimit
        from ..models.import_transform import ImportTransform

        active = self.active

        create_leads = self.create_leads

        created_at = self.created_at

        endpoints = self.endpoints.to_dict()

        id = self.id

        name = self.name

        updated_at = self.updated_at

        token = self.token

        rate_limit: dict[str, Any] | None | Unset
        if isinstance(self.rate_limit, Unset):
            rate_limit = UNSET
        elif isinstance(self.rate_limit, ImportRateLimit):
            rate_limit = self.rate_limit.to_dict()
        else:
            rate_limit = self.rate_limit

        transform: dict[str, Any] | None | Unset
        if isinstance(self.transform, Unset):
            transform = UNSET
        elif isinstance(self.transform, ImportTransform):
            transform = self.transform.to_dict()
        else:
            transform = self.transform

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "active": active,
                "create_leads": create_leads,
                "created_at": created_at,
                "endpoints": endpoints,
                "id": id,
                "name": name,
                "updated_at": updated_at,
                "token": token,
            }
        )
        if rate_limit is not UNSET:
            field_dict["rate_limit"] = rate_limit
        if transform is not UNSET:
            field_dict["transform"] = transform

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.import_endpoints import ImportEndpoints
        from ..models.import_rate_limit import ImportRateLimit
        from ..models.import_transform import ImportTransform

        d = dict(src_dict)
        active = d.pop("active")

        create_leads = d.pop("create_leads")

        created_at = d.pop("created_at")

        endpoints = ImportEndpoints.from_dict(d.pop("endpoints"))

        id = d.pop("id")

        name = d.pop("name")

        updated_at = d.pop("updated_at")

        token = d.pop("token")

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

        def _parse_transform(data: object) -> ImportTransform | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                transform_type_1 = ImportTransform.from_dict(data)

                return transform_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ImportTransform | None | Unset, data)

        transform = _parse_transform(d.pop("transform", UNSET))

        webhook_import_with_token = cls(
            active=active,
            create_leads=create_leads,
            created_at=created_at,
            endpoints=endpoints,
            id=id,
            name=name,
            updated_at=updated_at,
            token=token,
            rate_limit=rate_limit,
            transform=transform,
        )

        webhook_import_with_token.additional_properties = d
        return webhook_import_with_token

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
