from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ImportRateLimit")


@_attrs_define
class ImportRateLimit:
    """An inbound rate limit: a request over it gets `429 Too Many Requests`
    with `Retry-After`, and nothing is written. Each server process limits
    on its own (N processes accept up to N times the rate).

        Attributes:
            requests_per_second (int): Requests accepted per second, sustained.
            burst (int | None | Unset): Requests accepted at once after a quiet period (default: one
                second's worth, `requests_per_second`).
    """

    requests_per_second: int
    burst: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        requests_per_second = self.requests_per_second

        burst: int | None | Unset
        if isinstance(self.burst, Unset):
            burst = UNSET
        else:
            burst = self.burst

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "requests_per_second": requests_per_second,
            }
        )
        if burst is not UNSET:
            field_dict["burst"] = burst

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        requests_per_second = d.pop("requests_per_second")

        def _parse_burst(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        burst = _parse_burst(d.pop("burst", UNSET))

        import_rate_limit = cls(
            requests_per_second=requests_per_second,
            burst=burst,
        )

        return import_rate_limit
