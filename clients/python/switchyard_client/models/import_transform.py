from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ImportTransform")


@_attrs_define
class ImportTransform:
    """A transform attached to an import.

    Attributes:
        plugin_id (str): An uploaded `inbound-transform` plugin's id, or `builtin:json-mapper`.
        config (Any | Unset): Passed to the plugin on every call.
    """

    plugin_id: str
    config: Any | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        plugin_id = self.plugin_id

        config = self.config

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "plugin_id": plugin_id,
            }
        )
        if config is not UNSET:
            field_dict["config"] = config

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        plugin_id = d.pop("plugin_id")

        config = d.pop("config", UNSET)

        import_transform = cls(
            plugin_id=plugin_id,
            config=config,
        )

        return import_transform
