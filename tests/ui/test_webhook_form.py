"""The webhook form in a real browser: every setting the API takes, the
template editor with its merge tags and live preview, refusals next to
their fields, and the same form without JavaScript. Each test checks
what was saved through the JSON API, not only what the page says."""

import json
import re
import uuid

from playwright.sync_api import expect

from conftest import api, sign_in
from test_admin_ui import FlakyReceiver, add_stage, unique


def webhook_named(server, key, name):
    found = [hook for hook in api(server, key, "GET", "/api/v1/webhooks")["data"]
             if hook["name"] == name]
    assert len(found) == 1, f"one webhook named {name!r}: {found}"
    return found[0]


def test_journey_create_a_webhook_with_a_template_watch_the_preview_test_and_resend(
        page, server, key, shot):
    with FlakyReceiver(failures=1) as receiver:
        sign_in(page, key)
        add_stage(page, "Inquiry")
        page.get_by_role("link", name="Webhooks").click()
        page.get_by_role("link", name="New webhook").click()
        name = unique("Template hook")
        page.get_by_label("Name", exact=True).fill(name)
        page.get_by_label("URL", exact=True).fill(receiver.url)
        page.locator("input[name=events][value='lead.created']").check()
        page.get_by_label("Payload format").select_option("template")
        editor = page.get_by_label("Template body")
        # The preview follows the typing (htmx), rendered by the template plugin.
        editor.fill('{"who": "{{lead.full_name}}", "mail": "')
        page.get_by_role("button", name="Insert {{lead.email}}").click()
        editor.press("End")
        editor.press_sequentially('"}')
        preview = page.locator("#preview-body")
        expect(preview).to_have_text('{"who": "Ada Lovelace", "mail": "ada.lovelace@example.com"}')
        shot("live-preview")
        # An unknown merge tag is flagged before saving, and saving is refused.
        editor.fill('{"who": "{{lead.nickname}}"}')
        expect(page.locator("#preview-error")).to_contain_text("lead.nickname")
        page.get_by_role("button", name="Create webhook").click()
        expect(page.locator("#payload-error")).to_contain_text("lead.nickname")
        expect(page.get_by_label("Template body")).to_have_value('{"who": "{{lead.nickname}}"}')
        expect(page.get_by_label("Name", exact=True)).to_have_value(name)
        shot("unknown-tag-refused")
        page.get_by_label("Template body").fill('{"email": "{{ lead.email }}", "stage": "{{lead.funnel_stage}}"}')
        page.get_by_role("button", name="Create webhook").click()
        expect(page.get_by_role("status")).to_contain_text(f"Webhook “{name}” created")
        saved = webhook_named(server, key, name)
        assert saved["url"] == receiver.url
        assert sorted(saved["events"]) == ["lead.created", "lead.stage_changed"]
        assert saved["payload_format"] == "template"
        assert saved["payload_config"] == {
            "body": '{"email": "{{ lead.email }}", "stage": "{{lead.funnel_stage}}"}',
            "format": "json", "stage_as_id": False}
        shot("created")

        # Send a test to the real receiver: it answers 500, shown as a warning.
        page.get_by_role("button", name="Send test").click()
        expect(page.locator(".flash.warn[role=alert]")).to_contain_text(
            "Test failed: the receiver answered HTTP 500")
        attempt = page.locator(".attempt").first
        expect(attempt).to_contain_text("HTTP 500")
        assert json.loads(receiver.received[0]) == {
            "email": "ada.lovelace@example.com", "stage": "Inquiry"}
        shot("test-refused")
        page.get_by_role("button", name="Resend").click()
        expect(page.get_by_role("status")).to_contain_text("Queued to be sent again")
        for _ in range(100):
            if page.locator(".attempt").count() == 2:
                break
            page.wait_for_timeout(100)
            page.reload()
        expect(page.locator(".attempt").nth(1)).to_contain_text("HTTP 200")
        assert receiver.received[1] == receiver.received[0]
        shot("resent")
        # A test the receiver accepts is a success.
        page.goto(f"/webhooks/{saved['id']}")
        page.get_by_role("button", name="Send test").click()
        expect(page.get_by_role("status")).to_contain_text("the receiver answered HTTP 200")


def test_every_setting_is_saved_and_edited(page, server, key, shot):
    sign_in(page, key)
    stage = unique("Qualified")
    add_stage(page, stage)
    stage_id = next(s["id"] for s in api(server, key, "GET", "/api/v1/funnel-stages")["data"]
                    if s["title"] == stage)
    page.goto("/webhooks/new")
    name = unique("Everything")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("URL", exact=True).fill("http://127.0.0.1:9/everything")
    page.get_by_label("Method").select_option("PUT")
    # Batching is offered only where it can work, with the reason elsewhere.
    expect(page.locator("#batching-blocked")).to_contain_text("needs method POST")
    expect(page.locator("#batching-options")).to_be_hidden()
    page.locator("input[name=events][value='lead.stage_changed']").uncheck()
    page.locator("input[name=events][value='lead.saved']").check()
    page.locator("fieldset.inner", has_text="is one of").get_by_label(stage).check()
    page.get_by_label("Authentication", exact=True).select_option("basic")
    expect(page.get_by_label("Bearer token")).to_be_hidden()
    page.get_by_label("Basic: user name").fill("ada")
    page.get_by_label("Basic: password").fill("s3cret")
    page.get_by_label("Payload format").select_option("full")
    page.get_by_label("Timeout (seconds, 1–60)").fill("99")
    page.get_by_label("Retry after (seconds, comma-separated)").fill("10, 60")
    page.get_by_label("X-Webhook-Secret").check()
    page.get_by_label("X-Hmac-Signature").check()
    page.get_by_label("Lightweight logs").check()
    page.get_by_label("Active: send deliveries").uncheck()
    page.get_by_role("button", name="Create webhook").click()
    # Refused next to its field, with everything typed kept.
    expect(page.locator("#timeout-error")).to_contain_text("between 1 and 60")
    expect(page.get_by_label("Timeout (seconds, 1–60)")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Retry after (seconds, comma-separated)")).to_have_value("10, 60")
    shot("refused")
    page.get_by_label("Timeout (seconds, 1–60)").fill("5")
    page.get_by_label("Basic: password").fill("s3cret")
    page.get_by_role("button", name="Create webhook").click()
    expect(page.get_by_role("status")).to_contain_text("created")
    saved = webhook_named(server, key, name)
    assert saved["method"] == "PUT"
    assert saved["events"] == ["lead.saved"]
    assert saved["conditions"] == {"funnel_stage_in": [stage_id]}
    assert saved["auth"] == {"type": "basic", "username": "ada", "password": "[redacted]"}
    assert saved["payload_format"] == "full"
    assert saved["timeout_seconds"] == 5
    assert saved["retry_schedule_seconds"] == [10, 60]
    assert saved["send_secret_header"] is True and saved["send_hmac_header"] is True
    assert saved["lightweight_logs"] is True
    assert saved["active"] is False
    assert saved["batch_mode"] == "none"
    # The webhook's page names the auth without its secret.
    expect(page.locator("dl.fields")).to_contain_text("HTTP Basic as “ada”")
    expect(page.locator("dl.fields")).to_contain_text(f"stage is one of “{stage}”")
    assert "s3cret" not in page.content()

    # Edit: the password is never shown and an empty field keeps it; switch
    # to POST and small so batching opens up, and to bearer auth.
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Basic: password")).to_have_value("")
    page.get_by_label("Method").select_option("POST")
    page.get_by_label("Payload format").select_option("small")
    expect(page.locator("#batching-options")).to_be_visible()
    page.get_by_label("Send events together").select_option("same_event")
    page.get_by_label("Wait for more events").fill("30")
    page.get_by_label("Send at once when a batch holds").fill("50")
    page.get_by_label("Basic: user name").fill("grace")
    page.get_by_label("Active: send deliveries").check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text(f"Webhook “{name}” saved")
    edited = webhook_named(server, key, name)
    assert edited["method"] == "POST" and edited["payload_format"] == "small"
    assert edited["batch_mode"] == "same_event"
    assert edited["batch_wait_seconds"] == 30 and edited["max_items_per_batch"] == 50
    assert edited["auth"]["username"] == "grace" and edited["active"] is True
    shot("edited")

    # Switching to a bearer token without typing one is refused at the field.
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Authentication", exact=True).select_option("bearer")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#auth-error")).to_contain_text("bearer token")
    page.get_by_label("Bearer token").fill("tok-123")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text("saved")
    assert webhook_named(server, key, name)["auth"] == {"type": "bearer", "token": "[redacted]"}


def test_the_cap_on_deliveries_in_flight_round_trips(page, server, key, shot):
    sign_in(page, key)
    page.goto("/webhooks/new")
    cap = page.get_by_label("Deliveries in flight at once (1–1000)")
    # A new webhook shows the domain's default.
    expect(cap).to_have_value("64")
    name = unique("Capped")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("URL", exact=True).fill("http://127.0.0.1:9/capped")
    cap.fill("0")
    page.get_by_role("button", name="Create webhook").click()
    # Refused next to its field, with what was typed kept.
    expect(page.locator("#in-flight-error")).to_contain_text("between 1 and 1000")
    expect(cap).to_have_attribute("aria-invalid", "true")
    expect(cap).to_have_value("0")
    expect(page.get_by_label("Name", exact=True)).to_have_value(name)
    shot("refused")
    assert api(server, key, "GET", "/api/v1/webhooks")["data"] == []
    cap.fill("12")
    page.get_by_role("button", name="Create webhook").click()
    expect(page.get_by_role("status")).to_contain_text(f"Webhook “{name}” created")
    assert webhook_named(server, key, name)["max_in_flight"] == 12
    expect(page.locator("dl.fields")).to_contain_text("at most 12 at once")
    # The edit form shows the stored cap and saves a new one.
    page.get_by_role("link", name="Edit").click()
    expect(cap).to_have_value("12")
    cap.fill("1000")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text(f"Webhook “{name}” saved")
    assert webhook_named(server, key, name)["max_in_flight"] == 1000
    # A cap set through the API shows in the form.
    hook = webhook_named(server, key, name)
    api(server, key, "PATCH", f"/api/v1/webhooks/{hook['id']}", {"max_in_flight": 3})
    page.goto(f"/webhooks/{hook['id']}/edit")
    expect(cap).to_have_value("3")
    shot("edit")


def test_every_listed_merge_tag_renders(page, server, key, shot):
    sign_in(page, key)
    page.goto("/webhooks/new")
    page.get_by_label("Payload format").select_option("template")
    # With JavaScript on, the Preview button also previews (htmx sends the
    # button that submitted the form): nothing is created, though the form
    # would save as it stands.
    page.get_by_label("Name", exact=True).fill(unique("Previewed only"))
    page.get_by_label("URL", exact=True).fill("http://127.0.0.1:9/preview")
    page.get_by_label("Template body").fill('{"n": "{{event.name}}"}')
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview-body")).to_have_text('{"n": "lead.stage_changed"}')
    expect(page).to_have_url(re.compile(r"/webhooks$"))
    assert api(server, key, "GET", "/api/v1/webhooks")["data"] == []
    tags = page.locator(".merge-tags button[data-insert]").evaluate_all(
        "buttons => buttons.map(b => b.getAttribute('data-insert'))")
    assert len(tags) >= 20
    body = json.dumps({tag.strip("{}"): tag for tag in tags})
    page.get_by_label("Template body").fill(body)
    expect(page.locator("#preview-body")).to_contain_text("ada.lovelace@example.com")
    rendered = json.loads(page.locator("#preview-body").inner_text())
    assert rendered["lead.full_name"] == "Ada Lovelace"
    assert rendered["event.name"] == "lead.stage_changed"
    assert not any("{{" in value for value in rendered.values())
    shot("every-tag")


def test_the_form_works_without_javascript(browser, server, key, output_dir, request):
    context = browser.new_context(base_url=server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, key)
        page.goto("/webhooks/new")
        name = unique("No script")
        page.get_by_label("Name", exact=True).fill(name)
        page.get_by_label("URL", exact=True).fill("http://127.0.0.1:9/plain")
        page.get_by_label("Payload format").select_option("template")
        page.get_by_label("Template body").fill("email={{lead.email}}&uid={{lead.lead_profile_uid}}")
        page.get_by_label("a form (").check()
        # The Preview button renders the whole form again, with the preview.
        page.get_by_role("button", name="Preview").click()
        expect(page.locator("#preview-body")).to_have_text(
            "email=ada.lovelace%40example.com&uid=lead_00000000000000000000000000")
        expect(page.get_by_label("Name", exact=True)).to_have_value(name)
        # Batching cannot carry a form template; the page says so.
        expect(page.locator("#batching-blocked")).to_contain_text("this template sends a form")
        page.screenshot(path=str(output_dir / f"{request.node.name}--preview.png"), full_page=True)
        page.get_by_role("button", name="Create webhook").click()
        expect(page.get_by_role("status")).to_contain_text("created")
        saved = webhook_named(server, key, name)
        assert saved["payload_config"]["format"] == "form"
        assert re.match(r"^/webhooks/wh_", page.url.replace(server.url, ""))
    finally:
        context.close()
