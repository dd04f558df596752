from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="DryRunResult")


@_attrs_define
class DryRunResult:
    """What a dry run did.

    Attributes:
        duration_ms (float):
        fuel_used (int):
        logs (list[str]):
        ok (bool): Whether the plugin returned `ok`.
        error (None | str | Unset): The named error the call ended in.
        output (Any | Unset): The plugin's `ok` value.
    """

    duration_ms: float
    fuel_used: int
    logs: list[str]
    ok: bool
    error: None | str | Unset = UNSET
    output: Any | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        duration_ms = self.duration_ms

        fuel_used = self.fuel_used

        logs = self.logs

        ok = self.ok

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        output = self.output

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "duration_ms": duration_ms,
                "fuel_used": fuel_used,
                "logs": logs,
                "ok": ok,
            }
        )
        if error is not UNSET:
            field_dict["error"] = error
        if output is not UNSET:
            field_dict["output"] = output

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
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

        output = d.pop("output", UNSET)

        dry_run_result = cls(
            duration_ms=duration_ms,
            fuel_used=fuel_used,
            logs=logs,
            ok=ok,
            error=error,
            output=output,
        )

        dry_run_result.additional_properties = d
        return dry_run_result

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
