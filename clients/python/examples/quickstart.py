"""Creates a webhook, sends it a test event, and lists its deliveries.

    SWITCHYARD_URL=http://127.0.0.1:8080 SWITCHYARD_API_KEY=sy_admin_... \
    RECEIVER_URL=https://crm.example/hooks/switchyard python examples/quickstart.py
"""

import os

from switchyard_client import AuthenticatedClient
from switchyard_client.api.webhooks import create_webhook, list_deliveries, test_webhook
from switchyard_client.models import EventName, NewWebhook, WebhookView

client = AuthenticatedClient(
    base_url=os.environ.get("SWITCHYARD_URL", "http://127.0.0.1:8080"),
    token=os.environ["SWITCHYARD_API_KEY"],
    raise_on_unexpected_status=True,
)

with client:
    created = create_webhook.sync_detailed(client=client, body=NewWebhook(
        name="CRM sync",
        url=os.environ.get("RECEIVER_URL", "https://crm.example/hooks/switchyard"),
        events=[EventName.LEAD_STAGE_CHANGED],
        payload_format="small",
    ))
    webhook = created.parsed
    if not isinstance(webhook, WebhookView):
        raise SystemExit(f"could not create the webhook ({created.status_code}): {webhook}")
    print(f"created webhook {webhook.id}; verify its requests with {webhook.signing_secret}")

    sent = test_webhook.sync(webhook.id, client=client)
    print(f"test event {sent.message_id}: "
          + (f"answered {sent.status}" if sent.success else f"failed: {sent.error}"))

    page = list_deliveries.sync(webhook.id, client=client, limit=10)
    for delivery in page.data:
        print(f"delivery {delivery.id} {delivery.event} {delivery.status} "
              f"after {delivery.attempt_count} attempt(s)")
