"""A script plugin's source, shown and edited on its page and rebuilt on
save; an import's lead-sync toggle, and a synced lead's external id.
Outcomes are checked through the JSON API and over HTTP."""

import json
import re
import urllib.request
import uuid

from playwright.sync_api import expect

from conftest import api, sign_in
from test_admin_ui import unique

BUILD_TIMEOUT_MS = 90_000

FIRST = """export function transform(config, request) {
  return [{lead_profile_uid: request.body.id, funnel_stage: "Won"}];
}
"""
BROKEN = """export function transform(config, request) {
  return [{lead_profile_uid: request.body.id,
}
"""
SECOND = """export function transform(config, request) {
  return [{lead_profile_uid: request.body.id, funnel_stage: "Lost"}];
}
"""


def source_of(server, key, plugin):
    request = urllib.request.Request(f"{server.url}/api/v1/plugins/{plugin}/source",
                                     headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.read().decode()


def test_a_script_plugins_source_is_edited_and_rebuilt(page, server, key, shot, tmp_path):
    script = tmp_path / "stage.js"
    script.write_text(FIRST)
    sign_in(page, key)
    page.goto("/plugins")
    name = unique("stage script")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Kind").select_option("inbound-transform")
    page.get_by_label("Module (.wasm").set_input_files(str(script))
    page.get_by_role("button", name="Upload plugin").click()
    # Building a script into a module takes seconds (longer in a debug build).
    expect(page.get_by_role("status")).to_contain_text("uploaded, validated and compiled",
                                                       timeout=BUILD_TIMEOUT_MS)
    plugin = page.url.rsplit("/", 1)[-1]
    before = api(server, key, "GET", f"/api/v1/plugins/{plugin}")
    assert before["language"] == "javascript"
    editor = page.get_by_label("stage.js")
    expect(editor).to_have_value(FIRST)
    shot("source")

    # A syntax error: refused with line and column, the typed text kept.
    editor.fill(BROKEN)
    page.get_by_role("button", name="Save and rebuild").click()
    expect(page.locator("#source-error")).to_contain_text(re.compile(r"line \d+, column \d+"),
                                                          timeout=BUILD_TIMEOUT_MS)
    expect(page.get_by_label("stage.js")).to_have_value(BROKEN)
    assert api(server, key, "GET", f"/api/v1/plugins/{plugin}")["sha256"] == before["sha256"]
    assert source_of(server, key, plugin) == FIRST
    shot("syntax-error")

    page.get_by_label("stage.js").fill(SECOND)
    page.get_by_role("button", name="Save and rebuild").click()
    expect(page.get_by_role("status")).to_contain_text("Source saved and rebuilt",
                                                       timeout=BUILD_TIMEOUT_MS)
    after = api(server, key, "GET", f"/api/v1/plugins/{plugin}")
    assert after["sha256"] != before["sha256"] and after["name"] == name
    assert source_of(server, key, plugin) == SECOND
    page.get_by_label("Input (JSON)").fill('{"id": "lead_1"}')
    page.get_by_role("button", name="Run").click()
    expect(page.locator("#run-result")).to_contain_text("Lost")
    shot("rebuilt")


def test_lead_sync_toggle_and_the_leads_external_id(page, server, key, shot):
    sign_in(page, key)
    page.goto("/imports")
    page.get_by_label("Name", exact=True).fill(unique("HubSpot contacts"))
    page.get_by_role("button", name="Create import").click()
    token = page.locator("#token").input_value()
    import_url = page.locator("a", has_text="Regenerate token").get_attribute("href").rsplit("/", 1)[0]
    import_id = import_url.rsplit("/", 1)[-1]
    page.goto(import_url)
    page.get_by_label("Plugin", exact=True).select_option(label="json-mapper (built in)")
    page.get_by_label("Config (JSON").fill(json.dumps({"lead": {
        "external_id": "/vid", "match": ["external_id", "email"],
        "fields": {"email": "/email", "first_name": "/first"}}}))
    page.get_by_role("button", name="Save transform").click()
    expect(page.get_by_role("status")).to_contain_text("attached")
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("status")).to_contain_text("is active")
    toggle = page.get_by_label("Create leads")
    expect(toggle).not_to_be_checked()
    assert api(server, key, "GET", f"/api/v1/webhook-imports/{import_id}")["create_leads"] is False
    toggle.check()
    page.get_by_role("button", name="Save lead sync").click()
    expect(page.get_by_role("status")).to_contain_text("creates leads")
    expect(page.get_by_label("Create leads")).to_be_checked()
    assert api(server, key, "GET", f"/api/v1/webhook-imports/{import_id}")["create_leads"] is True
    shot("lead-sync-on")

    email = f"ada.{uuid.uuid4().hex[:6]}@example.com"
    push = urllib.request.Request(
        f"{server.url}/api/v1/webhook-import/update", method="POST",
        data=json.dumps({"vid": 1201, "email": email, "first": "Ada"}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(push, timeout=10) as answer:
        assert json.load(answer)["success"] is True
    lead = api(server, key, "GET", f"/api/v1/leads?email={email}")["data"][0]["lead_profile_uid"]
    page.goto(f"/leads/{lead}")
    expect(page.locator("#external-id")).to_have_text("1201")
    expect(page.get_by_role("link", name=re.compile("webhook import “HubSpot contacts"))).to_have_attribute(
        "href", f"/imports/{import_id}")
    shot("external-id")
