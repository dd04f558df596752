from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="PluginLimits")


@_attrs_define
class PluginLimits:
    """Fuel, memory, time and output limits of a call. The Wasm stack limit is
    the engine's (`plugins::runtime::MAX_WASM_STACK_BYTES`), the same for
    every call.

        Attributes:
            fuel (int): Roughly one unit per Wasm instruction.
            memory_bytes (int): Largest linear memory, in bytes.
            output_bytes (int): Largest result, in bytes.
            time_limit_ms (int): Wall-clock backstop, in milliseconds.
    """

    fuel: int
    memory_bytes: int
    output_bytes: int
    time_limit_ms: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        fuel = self.fuel

        memory_bytes = self.memory_bytes

        output_bytes = self.output_bytes

        time_limit_ms = self.time_limit_ms

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "fuel": fuel,
                "memory_bytes": memory_bytes,
                "output_bytes": output_bytes,
                "time_limit_ms": time_limit_ms,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        fuel = d.pop("fuel")

        memory_bytes = d.pop("memory_bytes")

        output_bytes = d.pop("output_bytes")

        time_limit_ms = d.pop("time_limit_ms")

        plugin_limits = cls(
            fuel=fuel,
            memory_bytes=memory_bytes,
            output_bytes=output_bytes,
            time_limit_ms=time_limit_ms,
        )

        plugin_limits.additional_properties = d
        return plugin_limits

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
