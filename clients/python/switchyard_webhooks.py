"""Verifying Switchyard's webhook requests in a receiver.

Every request of a webhook with a signing secret carries the Standard
Webhooks headers ``webhook-id``, ``webhook-timestamp`` and
``webhook-signature`` (``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``,
keyed with the bytes the ``whsec_...`` secret encodes). A webhook can also
send the compatibility header ``X-Hmac-Signature`` (hex HMAC-SHA256 of the
body alone, same key). A batching webhook sends a JSON array of single
payloads.

    from switchyard_webhooks import verify_webhook, payloads_of

    verified = verify_webhook(secret, request.headers, request.body)
    for payload in payloads_of(verified):
        handle(payload["event"], payload)

Pass the body exactly as received (bytes), before any JSON parsing.
"""

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping
from typing import Any, Union

__all__ = [
    "WebhookVerificationError",
    "verify_webhook",
    "verify_hmac_signature",
    "payloads_of",
]

Payload = dict[str, Any]
Verified = Union[Payload, list[Payload]]

SECRET_PREFIX = "whsec_"


class WebhookVerificationError(Exception):
    """The request is not from Switchyard (or was changed, or replayed):
    answer it with a 4xx and do not act on it."""


def _key(secret: str) -> bytes:
    encoded = secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error as error:
        raise ValueError(f"{secret[:10]}... is not a whsec_ signing secret") from error


def _header(headers: Mapping[str, str], name: str) -> Union[str, None]:
    getter = getattr(headers, "get", None)
    if getter is not None:
        value = getter(name)
        if value is not None:
            return value
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _bytes(body: Union[bytes, str]) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def verify_webhook(
    secret: str,
    headers: Mapping[str, str],
    body: Union[bytes, str],
    *,
    tolerance_seconds: int = 300,
    now: Union[float, None] = None,
) -> Verified:
    """Checks the Standard Webhooks signature and returns the payload (one,
    or a list of them for a batching webhook: see `payloads_of`). Raises
    `WebhookVerificationError` when a header is missing, the timestamp is
    more than `tolerance_seconds` from `now` (a replay), or no signature
    matches."""
    message_id = _header(headers, "webhook-id")
    timestamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    if not message_id or not timestamp or not signatures:
        raise WebhookVerificationError(
            "missing webhook-id, webhook-timestamp or webhook-signature header")
    if not timestamp.isdigit():
        raise WebhookVerificationError(f"webhook-timestamp {timestamp!r} is not a Unix time")
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance_seconds:
        raise WebhookVerificationError(
            f"webhook-timestamp is more than {tolerance_seconds} s from now: a replay, or a clock off")
    raw = _bytes(body)
    expected = hmac.new(_key(secret), f"{message_id}.{timestamp}.".encode() + raw,
                        hashlib.sha256).digest()
    for entry in signatures.split(" "):
        version, _, signature = entry.partition(",")
        if version != "v1":
            continue
        try:
            candidate = base64.b64decode(signature, validate=True)
        except binascii.Error:
            continue
        if hmac.compare_digest(candidate, expected):
            return json.loads(raw)
    raise WebhookVerificationError(
        "no webhook-signature matches: wrong secret, or the body was changed")


def verify_hmac_signature(secret: str, headers: Mapping[str, str],
                          body: Union[bytes, str]) -> Verified:
    """Checks the compatibility ``X-Hmac-Signature`` header (the webhook's
    ``send_hmac_header`` setting) and returns the payload. It does not
    protect against replays: prefer `verify_webhook`."""
    signature = _header(headers, "x-hmac-signature")
    if not signature:
        raise WebhookVerificationError(
            "missing X-Hmac-Signature header (turn send_hmac_header on for the webhook)")
    raw = _bytes(body)
    expected = hmac.new(_key(secret), raw, hashlib.sha256).hexdigest()
    if not re.fullmatch(r"[0-9a-fA-F]{64}", signature) or not hmac.compare_digest(
            signature.lower(), expected):
        raise WebhookVerificationError(
            "X-Hmac-Signature does not match: wrong secret, or the body was changed")
    return json.loads(raw)


def payloads_of(verified: Verified) -> list[Payload]:
    """The single payloads of a verified request: a batching webhook sends
    a JSON array of them, the others one. Deduplicate on each payload's
    ``id`` (delivery is at least once)."""
    return verified if isinstance(verified, list) else [verified]
