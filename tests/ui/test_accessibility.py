"""axe-core (from the PyPI package axe-playwright-python) on every screen of
the admin UI, at desktop and phone widths: no serious or critical
violation."""

import json
import urllib.request
import uuid

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from conftest import api, sign_in

AXE = Axe()


def serious_violations(page):
    results = AXE.run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(node["target"][0] for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def test_every_screen_passes_axe(page, server, key, shot):
    page.goto("/sign-in")
    screens = {"sign-in": serious_violations(page)}
    page.get_by_label("Admin API key").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    screens["sign-in refused"] = serious_violations(page)
    sign_in(page, key)

    suffix = uuid.uuid4().hex[:6]
    page.get_by_label("Title", exact=True).fill(f"Axe {suffix}")
    page.get_by_role("button", name="Add stage").click()
    expect(page.get_by_role("status")).to_be_visible()
    screens["stages"] = serious_violations(page)
    page.get_by_role("link", name=f"Delete “Axe {suffix}”").click()
    screens["confirmation"] = serious_violations(page)

    page.goto("/imports")
    screens["imports"] = serious_violations(page)
    page.get_by_label("Name", exact=True).fill(f"Axe CRM {suffix}")
    page.get_by_role("button", name="Create import").click()
    expect(page.locator("#token")).to_be_visible()
    screens["import with its token"] = serious_violations(page)
    page.get_by_label("Name the CRM sends, row 1").fill("orphan")
    page.get_by_role("button", name="Save mappings").click()
    expect(page.locator("#error_0")).to_be_visible()
    screens["import with a refused mapping"] = serious_violations(page)

    page.goto("/leads/new")
    screens["new lead"] = serious_violations(page)
    page.get_by_label("Email (required)").fill(f"axe.{suffix}@example.com")
    page.get_by_label("Funnel stage").select_option(label=f"Axe {suffix}")
    page.get_by_role("button", name="Create lead").click()
    expect(page.get_by_role("status")).to_be_visible()
    screens["lead"] = serious_violations(page)
    page.goto("/leads")
    screens["leads"] = serious_violations(page)
    page.goto("/leads?q=nobody-matches")
    screens["leads, no match"] = serious_violations(page)
    page.goto("/webhooks")
    screens["webhooks"] = serious_violations(page)
    page.goto("/deliveries")
    screens["deliveries"] = serious_violations(page)
    webhook = api(server, key, "POST", "/api/v1/webhooks", {
        "name": f"Axe hook {suffix}", "url": "http://127.0.0.1:9/hook",
        "events": ["lead.deleted"]})
    page.goto(f"/webhooks/{webhook['id']}")
    screens["webhook"] = serious_violations(page)
    page.get_by_role("link", name="Recover failed…").click()
    page.get_by_role("button", name="Count failed deliveries").click()
    expect(page.get_by_role("heading", name="Nothing to recover")).to_be_visible()
    screens["recover failed deliveries"] = serious_violations(page)
    page.goto(f"/webhooks/{webhook['id']}/regenerate-secret")
    screens["regenerate the signing secret"] = serious_violations(page)
    page.goto("/webhooks/new")
    screens["new webhook"] = serious_violations(page)
    page.get_by_label("Name", exact=True).fill(f"Axe form {suffix}")
    page.get_by_label("URL", exact=True).fill("http://127.0.0.1:9/form")
    page.get_by_label("Payload format").select_option("template")
    page.get_by_label("Template body").fill('{"e": "{{lead.nope}}"}')
    page.get_by_role("button", name="Create webhook").click()
    expect(page.locator("#payload-error")).to_be_visible()
    screens["new webhook refused, with a preview error"] = serious_violations(page)
    page.goto(f"/webhooks/{webhook['id']}/edit")
    screens["edit a webhook"] = serious_violations(page)
    page.goto("/plugins")
    screens["plugins"] = serious_violations(page)
    page.goto("/keys")
    page.get_by_label("Name", exact=True).fill("axe")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#new-key")).to_be_visible()
    screens["API keys with a new key"] = serious_violations(page)
    script = urllib.request.Request(
        f"{server.url}/api/v1/plugins?name=axe-script-{suffix}&kind=inbound-transform&language=js",
        method="POST", data=b"export function transform(config, request) { return []; }\n",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "text/javascript"})
    with urllib.request.urlopen(script, timeout=120) as answer:
        script_plugin = json.load(answer)["id"]
    page.goto(f"/plugins/{script_plugin}")
    expect(page.get_by_role("button", name="Save and rebuild")).to_be_visible()
    screens["script plugin with its source"] = serious_violations(page)
    page.goto("/plugins/builtin:json-mapper")
    page.get_by_label("Input (JSON)").fill('{"objectId": "lead_x"}')
    page.get_by_role("button", name="Run").click()
    expect(page.locator("#run-result")).to_be_visible()
    screens["plugin with a dry run"] = serious_violations(page)
    page.goto("/leads/lead_missing")
    screens["not found"] = serious_violations(page)

    page.set_viewport_size({"width": 390, "height": 844})
    for path in ["/stages", "/imports", "/leads", "/webhooks", "/webhooks/new", "/plugins", "/keys"]:
        page.goto(path)
        screens[f"{path} at 390 px"] = serious_violations(page)
    shot("last-screen")
    failing = {screen: found for screen, found in screens.items() if found}
    assert failing == {}, failing


def test_keyboard_alone_signs_in_adds_a_stage_and_reorders_it(page, server, key, shot):
    page.goto("/sign-in")
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Tab")  # the brand link
    page.keyboard.press("Tab")
    expect(page.locator("#api_key")).to_be_focused()
    page.keyboard.type(key)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Funnel stages")).to_be_visible()
    for title in ["First", "Second"]:
        page.locator("#new-title").focus()
        page.keyboard.type(title)
        page.keyboard.press("Enter")
        expect(page.get_by_role("status")).to_contain_text(f"Stage “{title}” added")
    # Tab from the second stage's title field to its Up button, and press it.
    page.get_by_label("Title of stage 2").focus()
    page.keyboard.press("Tab")  # Rename
    page.keyboard.press("Tab")  # Up
    expect(page.get_by_role("button", name="Move “Second” up")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("“Second” moved to position 1")
    shot("reordered-by-keyboard")
