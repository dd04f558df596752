from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.inbound_sample import InboundSample


T = TypeVar("T", bound="AttachTransform")


@_attrs_define
class AttachTransform:
    """A transform to attach, optionally tried on a sample request first.

    Attributes:
        plugin_id (str): An uploaded `inbound-transform` plugin's id, or `builtin:json-mapper`.
        config (Any | Unset): Passed to the plugin on every call.
        sample (InboundSample | None | Unset):
    """

    plugin_id: str
    config: Any | Unset = UNSET
    sample: InboundSample | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.inbound_sample import InboundSample

        plugin_id = self.plugin_id

        config = self.config

        sample: dict[str, Any] | None | Unset
        if isinstance(self.sample, Unset):
            sample = UNSET
        elif isinstance(self.sample, InboundSample):
            sample = self.sample.to_dict()
        else:
            sample = self.sample

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "plugin_id": plugin_id,
            }
        )
        if config is not UNSET:
            field_dict["config"] = config
        if sample is not UNSET:
            field_dict["sample"] = sample

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.inbound_sample import InboundSample

        d = dict(src_dict)
        plugin_id = d.pop("plugin_id")

        config = d.pop("config", UNSET)

        def _parse_sample(data: object) -> InboundSample | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                sample_type_1 = InboundSample.from_dict(data)

                return sample_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(InboundSample | None | Unset, data)

        sample = _parse_sample(d.pop("sample", UNSET))

        attach_transform = cls(
            plugin_id=plugin_id,
            config=config,
            sample=sample,
        )

        return attach_transform
