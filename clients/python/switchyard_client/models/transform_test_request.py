from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.inbound_sample import InboundSample


T = TypeVar("T", bound="TransformTestRequest")


@_attrs_define
class TransformTestRequest:
    """A transform to try on a sample request.

    Attributes:
        sample (InboundSample): A request a CRM would send, to try a transform on.
        config (Any | Unset): The config to call it with. When absent: the attached transform's
            config if `plugin_id` is absent too, else `null`.
        plugin_id (None | str | Unset): An uploaded `inbound-transform` plugin's id, or
            `builtin:json-mapper`; the import's attached transform when absent.
    """

    sample: InboundSample
    config: Any | Unset = UNSET
    plugin_id: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        sample = self.sample.to_dict()

        config = self.config

        plugin_id: None | str | Unset
        if isinstance(self.plugin_id, Unset):
            plugin_id = UNSET
        else:
            plugin_id = self.plugin_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "sample": sample,
            }
        )
        if config is not UNSET:
            field_dict["config"] = config
        if plugin_id is not UNSET:
            field_dict["plugin_id"] = plugin_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.inbound_sample import InboundSample

        d = dict(src_dict)
        sample = InboundSample.from_dict(d.pop("sample"))

        config = d.pop("config", UNSET)

        def _parse_plugin_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        plugin_id = _parse_plugin_id(d.pop("plugin_id", UNSET))

        transform_test_request = cls(
            sample=sample,
            config=config,
            plugin_id=plugin_id,
        )

        return transform_test_request
