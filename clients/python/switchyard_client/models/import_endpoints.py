from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ImportEndpoints")


@_attrs_define
class ImportEndpoints:
    """The URLs a CRM sends funnel updates to.

    Attributes:
        batch_update (str): `POST` or `PATCH` `{"records": [...]}`, at most 100 records.
        update (str): `POST` or `PATCH` one `{lead_profile_uid, funnel_stage}` record.
    """

    batch_update: str
    update: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        batch_update = self.batch_update

        update = self.update

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "batch_update": batch_update,
                "update": update,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        batch_update = d.pop("batch_update")

        update = d.pop("update")

        import_endpoints = cls(
            batch_update=batch_update,
            update=update,
        )

        import_endpoints.additional_properties = d
        return import_endpoints

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
