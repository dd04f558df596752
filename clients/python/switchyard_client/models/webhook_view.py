from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

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


T = TypeVar("T", bound="WebhookView")


@_attrs_define
class WebhookView:
    """A webhook. Auth credentials are shown redacted; the signing secret is
    shown, since receivers need it to verify signatures.

        Attributes:
            active (bool):
            auth (BasicAuth | BearerAuth | HeadersAuth | NoAuth): How Switchyard authenticates to the receiver.
            batch_mode (BatchMode): Which events a webhook sends together in one request.
            batch_wait_seconds (int):
            conditions (Conditions): Optional conditions on an event; every condition set must hold.
            created_at (str):
            events (list[EventName]):
            id (str):
            lightweight_logs (bool):
            max_in_flight (int): Deliveries of this webhook a worker process sends at once.
            max_items_per_batch (int):
            method (WebhookMethod): The methods a webhook can be sent with.
            name (str):
            payload_config (Any):
            payload_format (str): event-only, small, full, template, or an uploaded plugin's id.
            retry_schedule_seconds (list[int]): Seconds before each retry; the first attempt is immediate.
            send_hmac_header (bool): Also send `X-Hmac-Signature`: hex HMAC-SHA256 of the body.
            send_secret_header (bool): Also send the secret itself as `X-Webhook-Secret`.
            signing_secret (str): `whsec_...`: verify `webhook-signature` with it (Standard Webhooks).
            timeout_seconds (int):
            updated_at (str):
            url (str):
            disabled_reason (None | str | Unset): Why Switchyard deactivated the webhook, if it did.
            failing_since (None | str | Unset): Start of the current run of failed attempts.
    """

    active: bool
    auth: BasicAuth | BearerAuth | HeadersAuth | NoAuth
    batch_mode: BatchMode
    batch_wait_seconds: int
    conditions: Conditions
    created_at: str
    events: list[EventName]
    id: str
    lightweight_logs: bool
    max_in_flight: int
    max_items_per_batch: int
    method: WebhookMethod
    name: str
    payload_config: Any
    payload_format: str
    retry_schedule_seconds: list[int]
    send_hmac_header: bool
    send_secret_header: bool
    signing_secret: str
    timeout_seconds: int
    updated_at: str
    url: str
    disabled_reason: None | str | Unset = UNSET
    failing_since: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.basic_auth import BasicAuth
        from ..models.bearer_auth import BearerAuth
        from ..models.no_auth import NoAuth

        active = self.active

        auth: dict[str, Any]
        if (
            isinstance(self.auth, NoAuth)
            or isinstance(self.auth, BasicAuth)
            or isinstance(self.auth, BearerAuth)
        ):
            auth = self.auth.to_dict()
        else:
            auth = self.auth.to_dict()

        batch_mode = self.batch_mode.value

        batch_wait_seconds = self.batch_wait_seconds

        conditions = self.conditions.to_dict()

        created_at = self.created_at

        events = []
        for events_item_data in self.events:
            events_item = events_item_data.value
            events.append(events_item)

        id = self.id

        lightweight_logs = self.lightweight_logs

        max_in_flight = self.max_in_flight

        max_items_per_batch = self.max_items_per_batch

        method = self.method.value

        name = self.name

        payload_config = self.payload_config

        payload_format = self.payload_format

        retry_schedule_seconds = self.retry_schedule_seconds

        send_hmac_header = self.send_hmac_header

        send_secret_header = self.send_secret_header

        signing_secret = self.signing_secret

        timeout_seconds = self.timeout_seconds

        updated_at = self.updated_at

        url = self.url

        disabled_reason: None | str | Unset
        if isinstance(self.disabled_reason, Unset):
            disabled_reason = UNSET
        else:
            disabled_reason = self.disabled_reason

        failing_since: None | str | Unset
        if isinstance(self.failing_since, Unset):
            failing_since = UNSET
        else:
            failing_since = self.failing_since

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "active": active,
                "auth": auth,
                "batch_mode": batch_mode,
                "batch_wait_seconds": batch_wait_seconds,
                "conditions": conditions,
                "created_at": created_at,
                "events": events,
                "id": id,
                "lightweight_logs": lightweight_logs,
                "max_in_flight": max_in_flight,
                "max_items_per_batch": max_items_per_batch,
                "method": method,
                "name": name,
                "payload_config": payload_config,
                "payload_format": payload_format,
                "retry_schedule_seconds": retry_schedule_seconds,
                "send_hmac_header": send_hmac_header,
                "send_secret_header": send_secret_header,
                "signing_secret": signing_secret,
                "timeout_seconds": timeout_seconds,
                "updated_at": updated_at,
                "url": url,
            }
        )
        if disabled_reason is not UNSET:
            field_dict["disabled_reason"] = disabled_reason
        if failing_since is not UNSET:
            field_dict["failing_since"] = failing_since

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.basic_auth import BasicAuth
        from ..models.bearer_auth import BearerAuth
        from ..models.conditions import Conditions
        from ..models.headers_auth import HeadersAuth
        from ..models.no_auth import NoAuth

        d = dict(src_dict)
        active = d.pop("active")

        def _parse_auth(data: object) -> BasicAuth | BearerAuth | HeadersAuth | NoAuth:
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
            if not isinstance(data, dict):
                raise TypeError()
            componentsschemas_webhook_auth_type_3 = HeadersAuth.from_dict(data)

            return componentsschemas_webhook_auth_type_3

        auth = _parse_auth(d.pop("auth"))

        batch_mode = BatchMode(d.pop("batch_mode"))

        batch_wait_seconds = d.pop("batch_wait_seconds")

        conditions = Conditions.from_dict(d.pop("conditions"))

        created_at = d.pop("created_at")

        events = []
        _events = d.pop("events")
        for events_item_data in _events:
            events_item = EventName(events_item_data)

            events.append(events_item)

        id = d.pop("id")

        lightweight_logs = d.pop("lightweight_logs")

        max_in_flight = d.pop("max_in_flight")

        max_items_per_batch = d.pop("max_items_per_batch")

        method = WebhookMethod(d.pop("method"))

        name = d.pop("name")

        payload_config = d.pop("payload_config")

        payload_format = d.pop("payload_format")

        retry_schedule_seconds = cast(list[int], d.pop("retry_schedule_seconds"))

        send_hmac_header = d.pop("send_hmac_header")

        send_secret_header = d.pop("send_secret_header")

        signing_secret = d.pop("signing_secret")

        timeout_seconds = d.pop("timeout_seconds")

        updated_at = d.pop("updated_at")

        url = d.pop("url")

        def _parse_disabled_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        disabled_reason = _parse_disabled_reason(d.pop("disabled_reason", UNSET))

        def _parse_failing_since(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        failing_since = _parse_failing_since(d.pop("failing_since", UNSET))

        webhook_view = cls(
            active=active,
            auth=auth,
            batch_mode=batch_mode,
            batch_wait_seconds=batch_wait_seconds,
            conditions=conditions,
            created_at=created_at,
            events=events,
            id=id,
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
            signing_secret=signing_secret,
            timeout_seconds=timeout_seconds,
            updated_at=updated_at,
            url=url,
            disabled_reason=disabled_reason,
            failing_since=failing_since,
        )

        webhook_view.additional_properties = d
        return webhook_view

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
