"""The typed clients in clients/ against the real server: their examples
run, and their webhook verification helpers accept real deliveries (single
and batched, Standard Webhooks and X-Hmac-Signature) and refuse changed,
foreign or old ones."""

import os
import subprocess
import sys
import time

import pytest

from server import ROOT

CLIENTS = ROOT / "clients"
sys.path.insert(0, str(CLIENTS / "python"))

from switchyard_client import AuthenticatedClient  # noqa: E402
from switchyard_client.api.leads import create_lead  # noqa: E402
from switchyard_client.api.webhooks import (  # noqa: E402
    create_webhook, list_deliveries, regenerate_secret)
from switchyard_client.models import (  # noqa: E402
    BatchMode, CreateLead, ErrorBody, EventName, NewWebhook, WebhookView)
from switchyard_webhooks import (  # noqa: E402
    WebhookVerificationError, payloads_of, verify_hmac_signature, verify_webhook)

TYPESCRIPT = CLIENTS / "typescript"


def client_for(server, key):
    return AuthenticatedClient(base_url=server.url, token=key, raise_on_unexpected_status=True)


def example_env(server, key, receiver):
    return dict(os.environ, SWITCHYARD_URL=server.url, SWITCHYARD_API_KEY=key,
                RECEIVER_URL=f"{receiver.url}/example", PYTHONPATH=str(CLIENTS / "python"))


@pytest.fixture(scope="session")
def typescript_built():
    """The TypeScript client, its example and tests compiled to dist/."""
    subprocess.run([str(TYPESCRIPT / "node_modules/.bin/tsc"), "-p", "tsconfig.json"],
                   cwd=TYPESCRIPT, check=True, timeout=300)
    return TYPESCRIPT / "dist"


def test_the_python_example_creates_a_webhook_and_lists_its_deliveries(server, key, receiver):
    ran = subprocess.run([sys.executable, str(CLIENTS / "python/examples/quickstart.py")],
                         env=example_env(server, key, receiver), capture_output=True,
                         text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert "created webhook wh_" in ran.stdout
    assert "answered 200" in ran.stdout
    assert " test succeeded after 1 attempt(s)" in ran.stdout, ran.stdout
    [(path, _, _)] = receiver.wait_for(1)
    assert path == "/example"


def test_the_typescript_example_creates_a_webhook_and_lists_its_deliveries(
        server, key, receiver, typescript_built):
    ran = subprocess.run(["node", str(typescript_built / "examples/quickstart.js")],
                         env=example_env(server, key, receiver), capture_output=True,
                         text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert "created webhook wh_" in ran.stdout
    assert "answered 200" in ran.stdout
    assert " test succeeded after 1 attempt(s)" in ran.stdout, ran.stdout


def test_the_typescript_helpers_verify_real_deliveries(server, key, typescript_built):
    ran = subprocess.run(["node", "--test", "--test-reporter=spec",
                          str(typescript_built / "test/receiver.test.js")],
                         env=dict(os.environ, SWITCHYARD_URL=server.url, SWITCHYARD_API_KEY=key),
                         capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "# fail 0" in ran.stdout or "fail 0" in ran.stdout, ran.stdout


def new_webhook(client, receiver, path, **settings):
    made = create_webhook.sync(client=client, body=NewWebhook(
        name=path, url=f"{receiver.url}/{path}", events=[EventName.LEAD_CREATED], **settings))
    assert isinstance(made, WebhookView), made
    return made


def new_lead(client, email):
    made = create_lead.sync(client=client, body=CreateLead(email=email))
    assert not isinstance(made, ErrorBody), made


def test_the_python_helpers_verify_a_real_delivery_and_refuse_a_changed_one(
        server, key, receiver):
    client = client_for(server, key)
    webhook = new_webhook(client, receiver, "single", send_hmac_header=True)
    new_lead(client, "py-single@example.com")
    [(path, headers, body)] = receiver.wait_for(1)
    assert path == "/single"

    verified = verify_webhook(webhook.signing_secret, headers, body)
    [payload] = payloads_of(verified)
    assert payload["event"] == "lead.created"
    assert payload["webhook_id"] == webhook.id
    assert payload["id"] == headers["webhook-id"]
    assert verify_hmac_signature(webhook.signing_secret, headers, body) == verified

    changed = body.replace(b"py-single", b"py-other")
    with pytest.raises(WebhookVerificationError, match="no webhook-signature matches"):
        verify_webhook(webhook.signing_secret, headers, changed)
    with pytest.raises(WebhookVerificationError, match="does not match"):
        verify_hmac_signature(webhook.signing_secret, headers, changed)
    other = regenerate_secret.sync(webhook.id, client=client)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(other.signing_secret, headers, body)
    with pytest.raises(WebhookVerificationError, match="more than 300 s"):
        verify_webhook(webhook.signing_secret, headers, body, now=time.time() + 3600)
    without = {name: value for name, value in headers.items() if name.lower() != "webhook-signature"}
    with pytest.raises(WebhookVerificationError, match="missing"):
        verify_webhook(webhook.signing_secret, without, body)


def test_the_python_helpers_verify_a_real_batch(server, key, receiver):
    client = client_for(server, key)
    webhook = new_webhook(client, receiver, "batch", batch_mode=BatchMode.ANY_EVENT,
                          batch_wait_seconds=1)
    new_lead(client, "py-batch-1@example.com")
    new_lead(client, "py-batch-2@example.com")
    payloads = []
    deadline = time.monotonic() + 30
    while len(payloads) < 2 and time.monotonic() < deadline:
        requests = receiver.wait_for(1)
        payloads = [payload for _, headers, body in requests
                    for payload in payloads_of(verify_webhook(webhook.signing_secret, headers, body))]
        time.sleep(0.1)
    assert isinstance(verify_webhook(webhook.signing_secret, requests[0][1], requests[0][2]), list)
    assert [payload["event"] for payload in payloads] == ["lead.created", "lead.created"]
    assert len({payload["id"] for payload in payloads}) == 2
    page = list_deliveries.sync(webhook.id, client=client)
    assert any(delivery.event == "batch" for delivery in page.data), page


def test_the_python_helper_matches_the_standard_webhooks_example():
    # The example of the Standard Webhooks specification.
    headers = {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
               "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}
    verified = verify_webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", headers,
                              b'{"test": 2432232314}', now=1614265330)
    assert verified == {"test": 2432232314}
