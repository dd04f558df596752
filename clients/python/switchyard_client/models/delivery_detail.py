from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.delivery_status import DeliveryStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.attempt_view import AttemptView


T = TypeVar("T", bound="DeliveryDetail")


@_attrs_define
class DeliveryDetail:
    """A delivery with its payload and every attempt, oldest first.

    Attributes:
        attempt_count (int):
        created_at (str):
        event (str): The event name, `batch` for a batch of messages, or `test` for a
            test send (a sample `lead.stage_changed`).
        id (str): The message id: the `webhook-id` header of every attempt.
        status (DeliveryStatus): Where a delivery stands.
        updated_at (str):
        webhook_id (str):
        attempts (list[AttemptView]):
        messages (list[str]): For a batch: the messages it carries.
        batch_id (None | str | Unset):
        event_id (None | str | Unset): Null for a batch.
        last_error (None | str | Unset):
        last_response_status (int | None | Unset):
        lead_profile_uid (None | str | Unset):
        next_attempt_at (None | str | Unset):
        payload_body (None | str | Unset): The rendered payload (null until the first attempt, and for
            lightweight-log webhooks).
        payload_content_type (None | str | Unset):
    """

    attempt_count: int
    created_at: str
    event: str
    id: str
    status: DeliveryStatus
    updated_at: str
    webhook_id: str
    attempts: list[AttemptView]
    messages: list[str]
    batch_id: None | str | Unset = UNSET
    event_id: None | str | Unset = UNSET
    last_error: None | str | Unset = UNSET
    last_response_status: int | None | Unset = UNSET
    lead_profile_uid: None | str | Unset = UNSET
    next_attempt_at: None | str | Unset = UNSET
    payload_body: None | str | Unset = UNSET
    payload_content_type: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempt_count = self.attempt_count

        created_at = self.created_at

        event = self.event

        id = self.id

        status = self.status.value

        updated_at = self.updated_at

        webhook_id = self.webhook_id

        attempts = []
        for attempts_item_data in self.attempts:
            attempts_item = attempts_item_data.to_dict()
            attempts.append(attempts_item)

        messages = self.messages

        batch_id: None | str | Unset
        if isinstance(self.batch_id, Unset):
            batch_id = UNSET
        else:
            batch_id = self.batch_id

        event_id: None | str | Unset
        if isinstance(self.event_id, Unset):
            event_id = UNSET
        else:
            event_id = self.event_id

        last_error: None | str | Unset
        if isinstance(self.last_error, Unset):
            last_error = UNSET
        else:
            last_error = self.last_error

        last_response_status: int | None | Unset
        if isinstance(self.last_response_status, Unset):
            last_response_status = UNSET
        else:
            last_response_status = self.last_response_status

        lead_profile_uid: None | str | Unset
        if isinstance(self.lead_profile_uid, Unset):
            lead_profile_uid = UNSET
        else:
            lead_profile_uid = self.lead_profile_uid

        next_attempt_at: None | str | Unset
        if isinstance(self.next_attempt_at, Unset):
            next_attempt_at = UNSET
        else:
            next_attempt_at = self.next_attempt_at

        payload_body: None | str | Unset
        if isinstance(self.payload_body, Unset):
            payload_body = UNSET
        else:
            payload_body = self.payload_body

        payload_content_type: None | str | Unset
        if isinstance(self.payload_content_type, Unset):
            payload_content_type = UNSET
        else:
            payload_content_type = self.payload_content_type

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempt_count": attempt_count,
                "created_at": created_at,
                "event": event,
                "id": id,
                "status": status,
                "updated_at": updated_at,
                "webhook_id": webhook_id,
                "attempts": attempts,
                "messages": messages,
            }
        )
        if batch_id is not UNSET:
            field_dict["batch_id"] = batch_id
        if event_id is not UNSET:
            field_dict["event_id"] = event_id
        if last_error is not UNSET:
            field_dict["last_error"] = last_error
        if last_response_status is not UNSET:
            field_dict["last_response_status"] = last_response_status
        if lead_profile_uid is not UNSET:
            field_dict["lead_profile_uid"] = lead_profile_uid
        if next_attempt_at is not UNSET:
            field_dict["next_attempt_at"] = next_attempt_at
        if payload_body is not UNSET:
            field_dict["payload_body"] = payload_body
        if payload_content_type is not UNSET:
            field_dict["payload_content_type"] = payload_content_type

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.attempt_view import AttemptView

        d = dict(src_dict)
        attempt_count = d.pop("attempt_count")

        created_at = d.pop("created_at")

        event = d.pop("event")

        id = d.pop("id")

        status = DeliveryStatus(d.pop("status"))

        updated_at = d.pop("updated_at")

        webhook_id = d.pop("webhook_id")

        attempts = []
        _attempts = d.pop("attempts")
        for attempts_item_data in _attempts:
            attempts_item = AttemptView.from_dict(attempts_item_data)

            attempts.append(attempts_item)

        messages = cast(list[str], d.pop("messages"))

        def _parse_batch_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        batch_id = _parse_batch_id(d.pop("batch_id", UNSET))

        def _parse_event_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        event_id = _parse_event_id(d.pop("event_id", UNSET))

        def _parse_last_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        last_error = _parse_last_error(d.pop("last_error", UNSET))

        def _parse_last_response_status(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        last_response_status = _parse_last_response_status(
            d.pop("last_response_status", UNSET)
        )

        def _parse_lead_profile_uid(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        lead_profile_uid = _parse_lead_profile_uid(d.pop("lead_profile_uid", UNSET))

        def _parse_next_attempt_at(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        next_attempt_at = _parse_next_attempt_at(d.pop("next_attempt_at", UNSET))

        def _parse_payload_body(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        payload_body = _parse_payload_body(d.pop("payload_body", UNSET))

        def _parse_payload_content_type(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        payload_content_type = _parse_payload_content_type(
            d.pop("payload_content_type", UNSET)
        )

        delivery_detail = cls(
            attempt_count=attempt_count,
            created_at=created_at,
            event=event,
            id=id,
            status=status,
            updated_at=updated_at,
            webhook_id=webhook_id,
            attempts=attempts,
            messages=messages,
            batch_id=batch_id,
            event_id=event_id,
            last_error=last_error,
            last_response_status=last_response_status,
            lead_profile_uid=lead_profile_uid,
            next_attempt_at=next_attempt_at,
            payload_body=payload_body,
            payload_content_type=payload_content_type,
        )

        delivery_detail.additional_properties = d
        return delivery_detail

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
