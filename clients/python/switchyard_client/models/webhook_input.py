from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.batch_mode import BatchMode
from ..models.event_name import EventName
from ..models.webhook_method import WebhookMethod
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.basic_auth import BasicAuth
    from ..models.bearer_auth import BearerAuth
    from ..models.conditions import Conditions
    from ..models.headers_auth import HeadersAuth
    from ..models.no_auth import NoAuth


T = TypeVar("T", bound="WebhookInput")


@_attrs_define
class WebhookInput:
    """The fields of a webhook. Creating needs `name`, `url` and `events`;
    updating (`PATCH`) changes only the fields given.

        Attributes:
            active (bool | None | Unset):
            auth (BasicAuth | BearerAuth | HeadersAuth | NoAuth | None | Unset):
            batch_mode (BatchMode | None | Unset):
            batch_wait_seconds (int | None | Unset): How long a batch waits for more events, 1 to 900 seconds (default 10).
            conditions (Conditions | None | Unset):
            events (list[EventName] | None | Unset): lead.created, lead.updated, lead.deleted, lead.stage_changed,
                lead.saved (created or updated); at least one.
            lightweight_logs (bool | None | Unset): Keep only status, duration and error of each attempt; such
                deliveries cannot be resent.
            max_in_flight (int | None | Unset): Deliveries of this webhook a worker process sends at once, 1 to
                1000 (default 64): a receiver that hangs holds no more of the
                worker's slots than this, and the other webhooks keep theirs.
            max_items_per_batch (int | None | Unset): A batch goes out at once when it holds this many, 1 to 1000 (default
                100).
            method (None | Unset | WebhookMethod):
            name (None | str | Unset): At most 200 characters, not blank.
            payload_config (Any | Unset): The payload builder's config (for `template`: `{"body", "format",
                "stage_as_id"}`).
            payload_format (None | str | Unset): event-only, small (default), full, template, or an uploaded
                payload-builder plugin's id.
            retry_schedule_seconds (list[int] | None | Unset): Seconds before each retry (default 5, 300, 1800, 7200, 18000,
                36000,
                36000), each with ±20% jitter; a receiver's `Retry-After` replaces it.
                At most 20 retries, each at most 7 days after the attempt before it.
            send_hmac_header (bool | None | Unset):
            send_secret_header (bool | None | Unset):
            timeout_seconds (int | None | Unset): 1 to 60 seconds (default 30).
            url (None | str | Unset): `http://` or `https://`, without credentials (use `auth`); private
                and loopback destinations are refused unless the server allows them
                (`--outbound-allow-cidr`).
    """

    active: bool | None | Unset = UNSET
    auth: BasicAuth | BearerAuth | HeadersAuth | NoAuth | None | Unset = UNSET
    batch_mode: BatchMode | None | Unset = UNSET
    batch_wait_seconds: int | None | Unset = UNSET
    conditions: Conditions | None | Unset = UNSET
    events: list[EventName] | None | Unset = UNSET
    lightweight_logs: bool | None | Unset = UNSET
    max_in_flight: int | None | Unset = UNSET
    max_items_per_batch: int | None | Unset = UNSET
    method: None | Unset | WebhookMethod = UNSET
    name: None | str | Unset = UNSET
    payload_config: Any | Unset = UNSET
    payload_format: None | str | Unset = UNSET
    retry_schedule_seconds: list[int] | None | Unset = UNSET
    send_hmac_header: bool | None | Unset = UNSET
    send_secret_header: bool | None | Unset = UNSET
    timeout_seconds: int | None | Unset = UNSET
    url: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.basic_auth import BasicAuth
        from ..models.bearer_auth import BearerAuth
        from ..models.conditions import Conditions
        from ..models.headers_auth import HeadersAuth
        from ..models.no_auth import NoAuth

        active: bool | None | Unset
        if isinstance(self.active, Unset):
            active = UNSET
        else:
            active = self.active

        auth: dict[str, Any] | None | Unset
        if isinstance(self.auth, Unset):
            auth = UNSET
        elif (
            isinstance(self.auth, NoAuth)
            or isinstance(self.auth, BasicAuth)
            or isinstance(self.auth, BearerAuth)
            or isinstance(self.auth, HeadersAuth)
        ):
            auth = self.auth.to_dict()
        else:
            auth = self.auth

        batch_mode: None | str | Unset
        if isinstance(self.batch_mode, Unset):
            batch_mode = UNSET
        elif isinstance(self.batch_mode, BatchMode):
            batch_mode = self.batch_mode.value
        else:
            batch_mode = self.batch_mode

        batch_wait_seconds: int | None | Unset
        if isinstance(self.batch_wait_seconds, Unset):
            batch_wait_seconds = UNSET
        else:
            batch_wait_seconds = self.batch_wait_seconds

        conditions: dict[str, Any] | None | Unset
        if isinstance(self.conditions, Unset):
            conditions = UNSET
        elif isinstance(self.conditions, Conditions):
            conditions = self.conditions.to_dict()
        else:
            conditions = self.conditions

        events: list[str] | None | Unset
        if isinstance(self.events, Unset):
            events = UNSET
        elif isinstance(self.events, list):
            events = []
            for events_type_0_item_data in self.events:
                events_type_0_item = events_type_0_item_data.value
                events.append(events_type_0_item)

        else:
            events = self.events

        lightweight_logs: bool | None | Unset
        if isinstance(self.lightweight_logs, Unset):
            lightweight_logs = UNSET
        else:
            lightweight_logs = self.lightweight_logs

        max_in_flight: int | None | Unset
        if isinstance(self.max_in_flight, Unset):
            max_in_flight = UNSET
        else:
            max_in_flight = self.max_in_flight

        max_items_per_batch: int | None | Unset
        if isinstance(self.max_items_per_batch, Unset):
            max_items_per_batch = UNSET
        else:
            max_items_per_batch = self.max_items_per_batch

        method: None | str | Unset
        if isinstance(self.method, Unset):
            method = UNSET
        elif isinstance(self.method, WebhookMethod):
            method = self.method.value
        else:
            method = self.method

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        payload_config = self.payload_config

        payload_format: None | str | Unset
        if isinstance(self.payload_format, Unset):
            payload_format = UNSET
        else:
            payload_format = self.payload_format

        retry_schedule_seconds: list[int] | None | Unset
        if isinstance(self.retry_schedule_seconds, Unset):
            retry_schedule_seconds = UNSET
        elif isinstance(self.retry_schedule_seconds, list):
            retry_schedule_seconds = self.retry_schedule_seconds

        else:
            retry_schedule_seconds = self.retry_schedule_seconds

        send_hmac_header: bool | None | Unset
        if isinstance(self.send_hmac_header, Unset):
            send_hmac_header = UNSET
        else:
            send_hmac_header = self.send_hmac_header

        send_secret_header: bool | None | Unset
        if isinstance(self.send_secret_header, Unset):
            send_secret_header = UNSET
        else:
            send_secret_header = self.send_secret_header

        timeout_seconds: int | None | Unset
        if isinstance(self.timeout_seconds, Unset):
            timeout_seconds = UNSET
        else:
            timeout_seconds = self.timeout_seconds

        url: None | str | Unset
        if isinstance(self.url, Unset):
            url = UNSET
        else:
            url = self.url

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if active is not UNSET:
            field_dict["active"] = active
        if auth is not UNSET:
            field_dict["auth"] = auth
        if batch_mode is not UNSET:
            field_dict["batch_mode"] = batch_mode
        if batch_wait_seconds is not UNSET:
            field_dict["batch_wait_seconds"] = batch_wait_seconds
        if conditions is not UNSET:
            field_dict["conditions"] = conditions
        if events is not UNSET:
            field_dict["events"] = events
        if lightweight_logs is not UNSET:
            field_dict["lightweight_logs"] = lightweight_logs
        if max_in_flight is not UNSET:
            field_dict["max_in_flight"] = max_in_flight
        if max_items_per_batch is not UNSET:
            field_dict["max_items_per_batch"] = max_items_per_batch
        if method is not UNSET:
            field_dict["method"] = method
        if name is not UNSET:
            field_dict["name"] = name
        if payload_config is not UNSET:
            field_dict["payload_config"] = payload_config
        if payload_format is not UNSET:
            field_dict["payload_format"] = payload_format
        if retry_schedule_seconds is not UNSET:
            field_dict["retry_schedule_seconds"] = retry_schedule_seconds
        if send_hmac_header is not UNSET:
            field_dict["send_hmac_header"] = send_hmac_header
        if send_secret_header is not UNSET:
            field_dict["send_secret_header"] = send_secret_header
        if timeout_seconds is not UNSET:
            field_dict["timeout_seconds"] = timeout_seconds
        if url is not UNSET:
            field_dict["url"] = url

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.basic_auth import BasicAuth
        from ..models.bearer_auth import BearerAuth
        from ..models.conditions import Conditions
        from ..models.headers_auth import HeadersAuth
        from ..models.no_auth import NoAuth

        d = dict(src_dict)

        def _parse_active(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        active = _parse_active(d.pop("active", UNSET))

        def _parse_auth(
            data: object,
        ) -> BasicAuth | BearerAuth | HeadersAuth | NoAuth | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_webhook_auth_type_0 = NoAuth.from_dict(data)

                return componentsschemas_webhook_auth_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_webhook_auth_type_1 = BasicAuth.from_dict(data)

                return componentsschemas_webhook_auth_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_webhook_auth_type_2 = BearerAuth.from_dict(data)

                return componentsschemas_webhook_auth_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_webhook_auth_type_3 = HeadersAuth.from_dict(data)

                return componentsschemas_webhook_auth_type_3
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(
                BasicAuth | BearerAuth | HeadersAuth | NoAuth | None | Unset, data
            )

        auth = _parse_auth(d.pop("auth", UNSET))

        def _parse_batch_mode(data: object) -> BatchMode | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                batch_mode_type_1 = BatchMode(data)

                return batch_mode_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BatchMode | None | Unset, data)

        batch_mode = _parse_batch_mode(d.pop("batch_mode", UNSET))

        def _parse_batch_wait_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        batch_wait_seconds = _parse_batch_wait_seconds(
            d.pop("batch_wait_seconds", UNSET)
        )

        def _parse_conditions(data: object) -> Conditions | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                conditions_type_1 = Conditions.from_dict(data)

                return conditions_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Conditions | None | Unset, data)

        conditions = _parse_conditions(d.pop("conditions", UNSET))

        def _parse_events(data: object) -> list[EventName] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                events_type_0 = []
                _events_type_0 = data
                for events_type_0_item_data in _events_type_0:
                    events_type_0_item = EventName(events_type_0_item_data)

                    events_type_0.append(events_type_0_item)

                return events_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[EventName] | None | Unset, data)

        events = _parse_events(d.pop("events", UNSET))

        def _parse_lightweight_logs(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        lightweight_logs = _parse_lightweight_logs(d.pop("lightweight_logs", UNSET))

        def _parse_max_in_flight(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_in_flight = _parse_max_in_flight(d.pop("max_in_flight", UNSET))

        def _parse_max_items_per_batch(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_items_per_batch = _parse_max_items_per_batch(
            d.pop("max_items_per_batch", UNSET)
        )

        def _parse_method(data: object) -> None | Unset | WebhookMethod:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                method_type_1 = WebhookMethod(data)

                return method_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | WebhookMethod, data)

        method = _parse_method(d.pop("method", UNSET))

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        payload_config = d.pop("payload_config", UNSET)

        def _parse_payload_format(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        payload_format = _parse_payload_format(d.pop("payload_format", UNSET))

        def _parse_retry_schedule_seconds(data: object) -> list[int] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                retry_schedule_seconds_type_0 = cast(list[int], data)

                return retry_schedule_seconds_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[int] | None | Unset, data)

        retry_schedule_seconds = _parse_retry_schedule_seconds(
            d.pop("retry_schedule_seconds", UNSET)
        )

        def _parse_send_hmac_header(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        send_hmac_header = _parse_send_hmac_header(d.pop("send_hmac_header", UNSET))

        def _parse_send_secret_header(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        send_secret_header = _parse_send_secret_header(
            d.pop("send_secret_header", UNSET)
        )

        def _parse_timeout_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        timeout_seconds = _parse_timeout_seconds(d.pop("timeout_seconds", UNSET))

        def _parse_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        url = _parse_url(d.pop("url", UNSET))

        webhook_input = cls(
            active=active,
            auth=auth,
            batch_mode=batch_mode,
            batch_wait_seconds=batch_wait_seconds,
            conditions=conditions,
            events=events,
            lightweight_logs=lightweight_logs,
            max_in_flight=max_in_flight,
            max_items_per_batch=max_items_per_batch,
            method=method,
            name=name,
            payload_config=payload_config,
            payload_format=payload_format,
            retry_schedule_seconds=retry_schedule_seconds,
            send_hmac_header=send_hmac_header,
            send_secret_header=send_secret_header,
            timeout_seconds=timeout_seconds,
            url=url,
        )

        return webhook_input
