from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.record_check import RecordCheck


T = TypeVar("T", bound="TransformTestResult")


@_attrs_define
class TransformTestResult:
    """What the transform made of the sample. Nothing was written.

    Attributes:
        checks (list[RecordCheck]): Each record checked; empty when the transform failed.
        duration_ms (float):
        fuel_used (int):
        logs (list[str]): What the plugin logged.
        ok (bool): Whether the transform returned a list of records the endpoints
            would take (a record may still fail on its own: see `checks`).
        error (None | str | Unset): The named error the call ended in (`plugin error: ...`, `out of
            fuel ...`, `invalid output: ...`).
        records (list[Any] | None | Unset): The records, as the transform returned them.
    """

    checks: list[RecordCheck]
    duration_ms: float
    fuel_used: int
    logs: list[str]
    ok: bool
    error: None | str | Unset = UNSET
    records: list[Any] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        checks = []
        for checks_item_data in self.checks:
            checks_item = checks_item_data.to_dict()
            checks.append(checks_item)

        duration_ms = self.duration_ms

        fuel_used = self.fuel_used

        logs = self.logs

        ok = self.ok

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        records: list[Any] | None | Unset
        if isinstance(self.records, Unset):
            records = UNSET
        elif isinstance(self.records, list):
            records = self.records

        else:
            records = self.records

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "checks": checks,
                "duration_ms": duration_ms,
                "fuel_used": fuel_used,
                "logs": logs,
                "ok": ok,
            }
        )
        if error is not UNSET:
            field_dict["error"] = error
        if records is not UNSET:
            field_dict["records"] = records

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.record_check import RecordCheck

        d = dict(src_dict)
        checks = []
        _checks = d.pop("checks")
        for checks_item_data in _checks:
            checks_item = RecordCheck.from_dict(checks_item_data)

            checks.append(checks_item)

        duration_ms = d.pop("duration_ms")

        fuel_used = d.pop("fuel_used")

        logs = cast(list[str], d.pop("logs"))

        ok = d.pop("ok")

        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        def _parse_records(data: object) -> list[Any] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                records_type_0 = cast(list[Any], data)

                return records_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[Any] | None | Unset, data)

        records = _parse_records(d.pop("records", UNSET))

        transform_test_result = cls(
            checks=checks,
            duration_ms=duration_ms,
            fuel_used=fuel_used,
            logs=logs,
            ok=ok,
            error=error,
            records=records,
        )

        transform_test_result.additional_properties = d
        return transform_test_result

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
