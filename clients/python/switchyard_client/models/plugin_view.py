from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.plugin_kind import PluginKind
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.plugin_limits import PluginLimits


T = TypeVar("T", bound="PluginView")


@_attrs_define
class PluginView:
    """A plugin: built in (id `builtin:NAME`) or uploaded.

    Attributes:
        builtin (bool):
        id (str):
        kind (PluginKind): What a plugin does, which decides the entry point it must export.
        limits (PluginLimits): Fuel, memory, time and output limits of a call. The Wasm stack limit is
            the engine's (`plugins::runtime::MAX_WASM_STACK_BYTES`), the same for
            every call.
        name (str):
        sha256 (str): SHA-256 of the module, hex.
        size_bytes (int):
        created_at (None | str | Unset): Upload time; null for built-ins.
        filename (None | str | Unset): The script's file name, as its stack traces show it.
        language (None | str | Unset): `javascript` or `typescript` for a plugin built from a script
            (`GET /api/v1/plugins/{id}/source` returns it); null for Wasm.
    """

    builtin: bool
    id: str
    kind: PluginKind
    limits: PluginLimits
    name: str
    sha256: str
    size_bytes: int
    created_at: None | str | Unset = UNSET
    filename: None | str | Unset = UNSET
    language: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        builtin = self.builtin

        id = self.id

        kind = self.kind.value

        limits = self.limits.to_dict()

        name = self.name

        sha256 = self.sha256

        size_bytes = self.size_bytes

        created_at: None | str | Unset
        if isinstance(self.created_at, Unset):
            created_at = UNSET
        else:
            created_at = self.created_at

        filename: None | str | Unset
        if isinstance(self.filename, Unset):
            filename = UNSET
        else:
            filename = self.filename

        language: None | str | Unset
        if isinstance(self.language, Unset):
            language = UNSET
        else:
            language = self.language

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "builtin": builtin,
                "id": id,
                "kind": kind,
                "limits": limits,
                "name": name,
                "sha256": sha256,
                "size_bytes": size_bytes,
            }
        )
        if created_at is not UNSET:
            field_dict["created_at"] = created_at
        if filename is not UNSET:
            field_dict["filename"] = filename
        if language is not UNSET:
            field_dict["language"] = language

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.plugin_limits import PluginLimits

        d = dict(src_dict)
        builtin = d.pop("builtin")

        id = d.pop("id")

        kind = PluginKind(d.pop("kind"))

        limits = PluginLimits.from_dict(d.pop("limits"))

        name = d.pop("name")

        sha256 = d.pop("sha256")

        size_bytes = d.pop("size_bytes")

        def _parse_created_at(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        created_at = _parse_created_at(d.pop("created_at", UNSET))

        def _parse_filename(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        filename = _parse_filename(d.pop("filename", UNSET))

        def _parse_language(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        language = _parse_language(d.pop("language", UNSET))

        plugin_view = cls(
            builtin=builtin,
            id=id,
            kind=kind,
            limits=limits,
            name=name,
            sha256=sha256,
            size_bytes=size_bytes,
            created_at=created_at,
            filename=filename,
            language=language,
        )

        plugin_view.additional_properties = d
        return plugin_view

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
