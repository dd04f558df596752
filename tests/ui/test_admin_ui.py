"""Journeys through the admin UI in a real browser. Each test leaves
screenshots in the output folder (see conftest.py)."""

import http.server
import json
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from playwright.sync_api import expect

from conftest import api, free_port, sign_in


def unique(name):
    return f"{name} {uuid.uuid4().hex[:6]}"


def add_stage(page, title):
    page.goto("/stages")
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_role("button", name="Add stage").click()
    expect(page.get_by_role("status")).to_contain_text(f"Stage “{title}” added")


def test_wrong_key_is_refused_and_the_printed_key_signs_in(page, server, shot):
    page.goto("/")
    expect(page).to_have_url(f"{server.url}/sign-in")
    page.get_by_label("Admin API key").fill("sy_admin_not-a-real-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not a valid admin API key")
    shot("refused")
    sign_in(page, server.api_key)
    expect(page.get_by_role("status")).to_contain_text("Signed in")
    # The session cookie is out of reach of page scripts.
    cookie = next(c for c in page.context.cookies() if c["name"] == "switchyard_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""
    assert server.api_key not in page.content()
    shot("signed-in")


def test_journey_import_token_mapping_activation_and_pushed_update(page, server, key, shot):
    sign_in(page, key)
    suffix = uuid.uuid4().hex[:6]
    stages = [f"Inquiry {suffix}", f"Reviewed {suffix}", f"Interview {suffix}", f"Enrolled {suffix}"]
    for title in stages:
        add_stage(page, title)
    # Up/down controls reorder the funnel.
    page.get_by_role("button", name=f"Move “{stages[3]}” up").click()
    expect(page.get_by_role("status")).to_contain_text(f"“{stages[3]}” moved to position 3")
    expect(page.get_by_label("Title of stage 3")).to_have_value(stages[3])
    page.get_by_role("button", name=f"Move “{stages[3]}” down").click()
    expect(page.get_by_role("status")).to_contain_text(f"“{stages[3]}” moved to position 4")
    expect(page.get_by_label("Title of stage 4")).to_have_value(stages[3])
    shot("stages")

    # A lead at the first stage.
    page.goto("/leads/new")
    email = f"ada.{suffix}@example.com"
    page.get_by_label("Email (required)").fill(email)
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Funnel stage").select_option(label=stages[0])
    page.get_by_role("button", name="Create lead").click()
    expect(page.get_by_role("status")).to_contain_text("Lead Ada Lovelace created")
    lead_uid = page.url.rsplit("/", 1)[-1]
    assert lead_uid.startswith("lead_")

    # Create an import: its token is shown once, with a Copy button.
    page.goto("/imports")
    page.get_by_label("Name", exact=True).fill(f"HubSpot {suffix}")
    page.get_by_role("button", name="Create import").click()
    token_field = page.locator("#token")
    expect(token_field).to_be_visible()
    token = token_field.input_value()
    assert token.startswith("sy_import_")
    page.locator("[data-copy=token]").click()
    expect(page.locator("[data-copy=token]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == token
    expect(page.locator("#update-url")).to_have_value(f"{server.url}/api/v1/webhook-import/update")
    shot("token-shown-once")

    # Map the CRM's "qualified lead" to the third stage, and activate.
    import_url = page.locator("a", has_text="Regenerate token").get_attribute("href").rsplit("/", 1)[0]
    page.goto(import_url)
    expect(page.locator("#token")).to_have_count(0)  # never shown again
    page.get_by_label("Name the CRM sends, row 1").fill("qualified lead")
    page.get_by_label("Funnel stage, row 1").select_option(label=stages[2])
    page.get_by_role("button", name="Save mappings").click()
    expect(page.get_by_role("status")).to_contain_text("Mappings saved: 1 name")
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("status")).to_contain_text("is active")
    shot("mapped-and-active")

    # The CRM pushes an update with the token over HTTP.
    request = urllib.request.Request(
        f"{server.url}/api/v1/webhook-import/update",
        data=json.dumps({"lead_profile_uid": lead_uid, "funnel_stage": "Qualified_Lead"}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        body = json.load(answer)
    assert body["success"] is True, body

    # The lead's page shows the new stage and the backfilled history.
    page.goto(f"/leads/{lead_uid}")
    expect(page.locator(".title-row .badge")).to_have_text(stages[2])
    rows = page.locator("table.history tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text(stages[0])
    expect(rows.nth(1)).to_contain_text(stages[1])
    expect(rows.nth(1)).to_contain_text("backfilled")
    expect(rows.nth(2)).to_contain_text(stages[2])
    expect(rows.nth(2)).to_contain_text(f"webhook import “HubSpot {suffix}”")
    shot("lead-history")

    # Moving it back in the UI archives the later events, shown on request.
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Funnel stage").select_option(label=stages[0])
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text("saved")
    expect(page.locator("table.history tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Show archived events").click()
    expect(page.locator("table.history tbody tr.archived")).to_have_count(2)
    shot("archived-history")

    # Regenerating asks first and says the old token stops at once.
    page.goto(import_url)
    page.get_by_role("link", name="Regenerate token").click()
    expect(page.get_by_text("stops working at once")).to_be_visible()
    page.get_by_role("button", name="Regenerate token").click()
    new_token = page.locator("#token").input_value()
    assert new_token != token
    try:
        urllib.request.urlopen(urllib.request.Request(
            f"{server.url}/api/v1/webhook-import/update",
            data=json.dumps({"lead_profile_uid": lead_uid, "funnel_stage": stages[1]}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST"), timeout=10)
        raise AssertionError("the old token still works")
    except urllib.error.HTTPError as refused:
        assert refused.code == 401


def test_a_transform_is_attached_and_tried_on_a_sample_body(page, server, key, shot):
    sign_in(page, key)
    add_stage(page, "Inquiry")
    add_stage(page, "Enrolled")
    lead = api(server, key, "POST", "/api/v1/leads", {"email": "t@example.com"})["lead_profile_uid"]
    page.goto("/imports")
    page.get_by_label("Name", exact=True).fill("HubSpot workflows")
    page.get_by_role("button", name="Create import").click()
    import_url = page.locator("a", has_text="Regenerate token").get_attribute("href").rsplit("/", 1)[0]
    page.goto(import_url)
    page.get_by_label("Plugin", exact=True).select_option(label="json-mapper (built in)")
    page.get_by_label("Config (JSON").fill('{"records_pointer": ""')
    page.get_by_role("button", name="Save transform").click()
    expect(page.locator("#transform-error")).to_contain_text("not valid JSON")
    page.get_by_label("Config (JSON").fill(
        '{"records_pointer": "", "uid_pointer": "/objectId", "stage_pointer": "/propertyValue"}')
    page.get_by_role("button", name="Save transform").click()
    expect(page.get_by_role("status")).to_contain_text("builtin:json-mapper attached")
    page.get_by_label("A body the CRM would send").fill(
        json.dumps([{"objectId": lead, "propertyName": "lifecyclestage", "propertyValue": "enrolled"}]))
    page.get_by_role("button", name="Run the transform").click()
    result = page.locator("#try-result")
    expect(result).to_contain_text("ok")
    expect(result).to_contain_text(lead)
    expect(result).to_contain_text("fuel")
    shot("tried")
    # A dry run writes nothing.
    assert api(server, key, "GET", f"/api/v1/leads/{lead}")["funnel_stage"] is None


def test_journey_upload_a_plugin_dry_run_it_and_attach_it(page, server, key, shot):
    target = Path(server.binary).resolve().parent.parent
    module = target / "wasm-plugins" / "wasm32-unknown-unknown" / "release" / "pipedrive_deal_stage.wasm"
    assert module.exists(), f"build the plugins first (cargo build): {module}"
    sign_in(page, key)
    page.get_by_role("link", name="Plugins").click()
    expect(page.get_by_role("link", name="json-mapper")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("pipedrive")
    page.get_by_label("Kind").select_option("inbound-transform")
    page.get_by_label("Module (.wasm").set_input_files(str(module))
    page.get_by_role("button", name="Upload plugin").click()
    expect(page.get_by_role("status")).to_contain_text("uploaded, validated and compiled")
    plugin_url = page.url
    page.get_by_label("Config (JSON)").fill(
        '{"lead_uid_field": "switchyard_uid", "stages": {"3": "Enrolled"}}')
    page.get_by_label("Input (JSON)").fill(json.dumps({
        "event": "updated.deal", "current": {"stage_id": 3, "switchyard_uid": "lead_demo"},
        "previous": {"stage_id": 1}}))
    page.get_by_role("button", name="Run").click()
    result = page.locator("#run-result")
    expect(result).to_contain_text("ok")
    expect(result).to_contain_text("lead_demo")
    expect(result).to_contain_text("Enrolled")
    shot("dry-run")

    page.goto("/imports")
    page.get_by_label("Name", exact=True).fill("Pipedrive")
    page.get_by_role("button", name="Create import").click()
    import_url = page.locator("a", has_text="Regenerate token").get_attribute("href").rsplit("/", 1)[0]
    page.goto(import_url)
    page.get_by_label("Plugin", exact=True).select_option(label="pipedrive")
    page.get_by_label("Config (JSON").fill('{"lead_uid_field": "switchyard_uid", "stages": {"3": "Enrolled"}}')
    page.get_by_role("button", name="Save transform").click()
    expect(page.get_by_role("status")).to_contain_text("attached")
    page.goto(plugin_url)
    expect(page.get_by_role("link", name="webhook import “Pipedrive” (transform)")).to_be_visible()
    page.get_by_role("link", name="Delete…").click()
    page.get_by_role("button", name="Delete plugin").click()
    expect(page.get_by_role("alert")).to_contain_text("remove it there first")
    shot("delete-refused")


def test_api_keys_are_shown_once_and_revoked(page, server, key, shot):
    sign_in(page, key)
    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_text("this session")).to_be_visible()
    expect(page.get_by_text("The last key cannot be revoked")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("CI")
    page.get_by_role("button", name="Create key").click()
    new_key = page.locator("#new-key").input_value()
    assert new_key.startswith("sy_admin_")
    shot("created")
    page.goto("/keys")
    expect(page.locator("#new-key")).to_have_count(0)  # shown once
    assert new_key not in page.content()
    # Revoking the key this session was opened with signs it out.
    page.locator("tr", has_text="this session").get_by_role("link", name="Revoke").click()
    expect(page.get_by_text("you will be signed out")).to_be_visible()
    page.get_by_role("button", name="Revoke key").click()
    expect(page.get_by_role("status")).to_contain_text("sign in with another key")
    try:
        api(server, key, "GET", "/api/v1/api-keys")
        raise AssertionError("the revoked key still works")
    except urllib.error.HTTPError as refused:
        assert refused.code == 401
    sign_in(page, new_key)
    shot("signed-in-with-the-new-key")


def test_refusals_are_explained(page, server, key, shot):
    sign_in(page, key)
    title = unique("Busy")
    add_stage(page, title)
    page.goto("/leads/new")
    page.get_by_label("Email (required)").fill(f"{uuid.uuid4().hex[:8]}@example.com")
    page.get_by_label("Funnel stage").select_option(label=title)
    page.get_by_role("button", name="Create lead").click()
    expect(page.get_by_role("status")).to_contain_text("created")
    page.goto("/stages")
    page.get_by_role("link", name=f"Delete “{title}”").click()
    page.get_by_role("button", name="Delete stage").click()
    expect(page.get_by_role("alert")).to_contain_text("1 lead is at this stage")
    shot("stage-delete-refused")

    # Two mapping rows whose names are equal once normalised: the second row is at fault.
    page.goto("/imports")
    page.get_by_label("Name", exact=True).fill(unique("Pipedrive"))
    page.get_by_role("button", name="Create import").click()
    import_url = page.locator("a", has_text="Regenerate token").get_attribute("href").rsplit("/", 1)[0]
    page.goto(import_url)
    page.get_by_label("Name the CRM sends, row 1").fill("Won Deal")
    page.get_by_label("Funnel stage, row 1").select_option(label=title)
    page.get_by_label("Name the CRM sends, row 2").fill("won_deal")
    page.get_by_label("Funnel stage, row 2").select_option(label=title)
    page.get_by_label("Name the CRM sends, row 3").fill("no stage chosen")
    page.get_by_role("button", name="Save mappings").click()
    expect(page.locator("#error_2")).to_contain_text("Choose the stage")
    page.get_by_label("Name the CRM sends, row 3").fill("")
    page.get_by_role("button", name="Save mappings").click()
    expect(page.locator("#error_1")).to_contain_text("duplicates row 1")
    shot("mapping-refused")


def test_sign_out_ends_the_session(page, server, key, shot):
    sign_in(page, key)
    secret = next(c["value"] for c in page.context.cookies() if c["name"] == "switchyard_session")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("Signed out")
    page.goto("/stages")
    expect(page).to_have_url(f"{server.url}/sign-in")
    shot("signed-out")
    # The old cookie, replayed by hand, no longer opens anything.
    replay = urllib.request.Request(f"{server.url}/stages",
                                    headers={"Cookie": f"switchyard_session={secret}"})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        urllib.request.build_opener(NoRedirect).open(replay, timeout=10)
        raise AssertionError("the ended session still opened /stages")
    except urllib.error.HTTPError as answer:
        assert answer.code == 303
        assert answer.headers["Location"] == "/sign-in"


def test_hostile_lead_name_renders_as_text(page, server, key, shot):
    sign_in(page, key)
    hostile = "<script>alert(1)</script>"
    page.goto("/leads/new")
    page.get_by_label("Email (required)").fill(f"x{uuid.uuid4().hex[:8]}@example.com")
    page.get_by_label("First name").fill(hostile)
    page.get_by_label("Company").fill('"><img src=x onerror=alert(2)>')
    page.get_by_role("button", name="Create lead").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(hostile)
    expect(page.get_by_text('"><img src=x onerror=alert(2)>')).to_be_visible()
    assert page.locator("img").count() == 0
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.content()
    page.goto("/leads?q=" + "alert")
    expect(page.get_by_role("link", name=hostile)).to_be_visible()
    shot("hostile-name")
    # The page fixture fails the test if any dialog opened.


def test_cross_site_form_post_is_refused(page, server, key, shot, output_dir):
    sign_in(page, key)
    title = unique("Injected")
    attacker_page = f"""<!doctype html><html lang="en"><title>Win a prize</title>
<form id="f" method="post" action="{server.url}/stages">
<input name="title" value="{title}"><button>Claim</button></form>
<script>document.getElementById("f").submit()</script></html>""".encode()

    class Attacker(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(attacker_page)

        def log_message(self, *args):
            pass

    port = free_port()
    attacker = http.server.ThreadingHTTPServer(("127.0.0.1", port), Attacker)
    threading.Thread(target=attacker.serve_forever, daemon=True).start()
    try:
        # "localhost" is another site than "127.0.0.1".
        with page.expect_response(f"{server.url}/stages") as answer:
            page.goto(f"http://localhost:{port}/")
        assert answer.value.status == 403
        expect(page.get_by_role("alert")).to_contain_text("sent from another site")
        shot("refused")
    finally:
        attacker.shutdown()
    page.errors.clear()  # the attacker's page is not ours to judge
    page.goto("/stages")
    expect(page.get_by_text(title)).to_have_count(0)


def test_deliveries_show_their_attempts_and_resend(page, server, key, shot):
    replies = [500]
    received = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(self.rfile.read(int(self.headers["Content-Length"] or 0)))
            self.send_response(replies.pop(0) if replies else 200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": true}')

        def log_message(self, *args):
            pass

    port = free_port()
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        name = unique("CRM sync")
        api(server, key, "POST", "/api/v1/webhooks", {
            "name": name, "url": f"http://127.0.0.1:{port}/hook",
            "events": ["lead.created"], "retry_schedule_seconds": []})
        email = f"grace.{uuid.uuid4().hex[:6]}@example.com"
        api(server, key, "POST", "/api/v1/leads", {"email": email, "first_name": "Grace"})
        sign_in(page, key)
        page.get_by_role("link", name="Webhooks").click()
        row = page.locator("tr", has_text=name)
        for _ in range(100):  # the first attempt is made within moments
            if "HTTP 500" in row.inner_text():
                break
            page.wait_for_timeout(100)
            page.reload()
        expect(row).to_contain_text("HTTP 500")
        shot("webhooks")
        row.get_by_role("link", name=name).click()
        page.get_by_label("Status").select_option("failed")
        page.get_by_role("button", name="Filter").click()
        page.locator("table a.mono").first.click()
        expect(page.locator(".attempt")).to_have_count(1)
        expect(page.locator(".attempt").first).to_contain_text("HTTP 500")
        expect(page.locator("pre.code").first).to_contain_text(email)
        shot("failed-delivery")
        page.get_by_role("button", name="Resend").click()
        expect(page.get_by_role("status")).to_contain_text("Queued to be sent again")
        for _ in range(100):
            if page.locator(".attempt").count() == 2:
                break
            page.wait_for_timeout(100)
            page.reload()
        expect(page.locator(".attempt")).to_have_count(2)
        expect(page.locator(".attempt").nth(1)).to_contain_text("HTTP 200")
        assert len(received) == 2
        shot("resent")
        page.goto("/webhooks")
        page.get_by_role("link", name="All deliveries").click()
        page.get_by_label("Webhook").select_option(label=name)
        page.get_by_label("Status").select_option("succeeded")
        page.get_by_role("button", name="Filter").click()
        # The filter is a GET form: wait for its page before using it
        # again, or a busy machine applies the next choice to the old one.
        expect(page).to_have_url(re.compile(r"status=succeeded"))
        expect(page.locator("table tbody tr")).to_have_count(1)
        expect(page.locator("table tbody tr")).to_contain_text(name)
        page.get_by_label("Status").select_option("failed")
        page.get_by_role("button", name="Filter").click()
        expect(page).to_have_url(re.compile(r"status=failed"))
        expect(page.get_by_text("No delivery matches these filters")).to_be_visible()
        shot("delivery-log")
    finally:
        receiver.shutdown()


class FlakyReceiver:
    """A local webhook receiver that answers 500 to its first `failures`
    requests and 200 after; `received` holds the bodies."""

    def __init__(self, failures):
        replies = [500] * failures
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                received.append(self.rfile.read(int(self.headers["Content-Length"] or 0)))
                self.send_response(replies.pop(0) if replies else 200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.server.shutdown()


def reload_until(page, locator, text, tries=100):
    """Reloads until `locator` shows `text` (deliveries are sent by the
    worker, a moment after the change that made them)."""
    for _ in range(tries):
        if text in locator.inner_text():
            return
        page.wait_for_timeout(100)
        page.reload()
    expect(locator).to_contain_text(text)


def test_failed_deliveries_are_recovered_and_the_secret_regenerated(page, server, key, shot):
    with FlakyReceiver(failures=2) as receiver:
        name = unique("Billing sync")
        webhook = api(server, key, "POST", "/api/v1/webhooks", {
            "name": name, "url": receiver.url, "events": ["lead.created"],
            "retry_schedule_seconds": []})
        for person in ["ada", "grace"]:
            api(server, key, "POST", "/api/v1/leads",
                {"email": f"{person}.{uuid.uuid4().hex[:6]}@example.com"})
        sign_in(page, key)
        page.goto(f"/webhooks/{webhook['id']}?status=failed")
        reload_until(page, page.locator("table"), "HTTP 500")
        expect(page.locator("table tbody tr")).to_have_count(2)

        page.get_by_role("link", name="Recover failed…").click()
        since = page.get_by_label("Failed since (UTC)")
        expect(since).not_to_have_value("")
        hour_ago = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() - 3600))
        since.fill(hour_ago)
        page.get_by_role("button", name="Count failed deliveries").click()
        expect(page.get_by_role("heading", name=re.compile("2 failed deliveries since"))).to_be_visible()
        assert len(receiver.received) == 2, "counting sends nothing"
        shot("recover-count")
        page.get_by_role("button", name="Send 2 again").click()
        expect(page.get_by_role("status")).to_contain_text("2 of 2 failed deliveries since")
        shot("recovered")
        page.get_by_label("Status").select_option("succeeded")
        page.get_by_role("button", name="Filter").click()
        expect(page).to_have_url(re.compile(r"status=succeeded"))
        reload_until(page, page.locator("main"), "HTTP 200")
        for _ in range(100):
            if page.locator("table tbody tr").count() == 2:
                break
            page.wait_for_timeout(100)
            page.reload()
        expect(page.locator("table tbody tr")).to_have_count(2)
        assert len(receiver.received) == 4

        page.locator("summary", has_text="Signing secret").click()
        old_secret = page.locator("#signing-secret").input_value()
        assert old_secret == webhook["signing_secret"]
        page.get_by_role("link", name="Regenerate…").click()
        expect(page.get_by_text("The old secret stops working now")).to_be_visible()
        page.get_by_role("button", name="Regenerate secret").click()
        expect(page.get_by_role("status")).to_contain_text("New signing secret")
        expect(page.locator("#signing-secret")).to_be_visible()
        new_secret = page.locator("#signing-secret").input_value()
        assert new_secret.startswith("whsec_") and new_secret != old_secret
        assert api(server, key, "GET", f"/api/v1/webhooks/{webhook['id']}")["signing_secret"] == new_secret
        shot("secret-regenerated")


def test_journey_send_a_test_see_its_attempt_and_resend_it(page, server, key, shot):
    with FlakyReceiver(failures=1) as receiver:
        name = unique("Test target")
        webhook = api(server, key, "POST", "/api/v1/webhooks", {
            "name": name, "url": receiver.url, "events": ["lead.created"]})
        sign_in(page, key)
        page.goto(f"/webhooks/{webhook['id']}")
        page.get_by_role("button", name="Send test").click()
        # A refused test is a warning, never a success banner.
        warning = page.locator(".flash.warn[role=alert]")
        expect(warning).to_contain_text("Test failed: the receiver answered HTTP 500")
        expect(page.get_by_role("status")).to_have_count(0)
        expect(page.locator(".attempt")).to_have_count(1)
        attempt = page.locator(".attempt").first
        expect(attempt).to_contain_text("test")
        expect(attempt).to_contain_text("HTTP 500")
        expect(attempt.locator("pre.code").first).to_contain_text("webhook-signature")
        expect(page.locator("pre.code", has_text="ada.lovelace@example.com").first).to_be_visible()
        shot("test-sent")
        page.get_by_role("button", name="Resend").click()
        expect(page.get_by_role("status")).to_contain_text("Queued to be sent again")
        for _ in range(100):
            if page.locator(".attempt").count() == 2:
                break
            page.wait_for_timeout(100)
            page.reload()
        expect(page.locator(".attempt")).to_have_count(2)
        expect(page.locator(".attempt").nth(1)).to_contain_text("HTTP 200")
        assert len(receiver.received) == 2 and receiver.received[0] == receiver.received[1]
        shot("test-resent")
        page.goto(f"/deliveries?event=test&webhook={webhook['id']}")
        expect(page.locator("table tbody tr")).to_have_count(1)


def test_screens_fit_a_phone(page, server, key, shot):
    sign_in(page, key)
    page.set_viewport_size({"width": 390, "height": 844})
    for path, name in [("/stages", "stages"), ("/imports", "imports"), ("/leads", "leads"),
                       ("/leads/new", "new-lead"), ("/webhooks", "webhooks"),
                       ("/webhooks/new", "new-webhook"),
                       ("/plugins", "plugins"), ("/keys", "keys")]:
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than a 390px screen"
        shot(name)
