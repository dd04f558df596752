"""Takes the README's screenshots of the admin UI (docs/ui-*.png) on a
fresh server with demo data. Not a test; run it after changing a screen:

    cargo build -p switchyard
    SWITCHYARD_BIN=$CARGO_TARGET_DIR/debug/switchyard \\
        /var/tmp/switchyard-ui-venv/bin/python tests/ui/screenshots.py
"""

import json
import os
import pathlib
import sys
import tempfile
import urllib.request

from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from conftest import ROOT, Server, api, sign_in  # noqa: E402

DOCS = ROOT / "docs"


def main():
    binary = os.environ.get("SWITCHYARD_BIN") or str(
        pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug" / "switchyard")
    with tempfile.TemporaryDirectory(prefix="switchyard-shots-") as workdir:
        server = Server(binary, workdir, pathlib.Path(workdir) / "server.log")
        try:
            take(server)
        finally:
            server.stop()


def take(server):
    key = server.api_key
    stages = [api(server, key, "POST", "/api/v1/funnel-stages", {"title": title})["id"]
              for title in ["Inquiry", "Application Started", "Application Complete", "Enrolled"]]
    lead = api(server, key, "POST", "/api/v1/leads", {
        "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace",
        "company": "Analytical Engines", "funnel_stage_id": stages[0]})["lead_profile_uid"]
    for email, first, last, stage in [("grace@example.com", "Grace", "Hopper", 1),
                                      ("alan@example.com", "Alan", "Turing", 3)]:
        api(server, key, "POST", "/api/v1/leads", {"email": email, "first_name": first,
                                                   "last_name": last, "funnel_stage_id": stages[stage]})
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        page = browser.new_page(base_url=server.url, viewport={"width": 1100, "height": 760})
        sign_in(page, key)
        page.goto("/imports")
        page.get_by_label("Name", exact=True).fill("HubSpot")
        page.get_by_role("button", name="Create import").click()
        expect(page.locator("#token")).to_be_visible()
        token = page.locator("#token").input_value()
        page.get_by_label("Name the CRM sends, row 1").fill("qualified lead")
        page.get_by_label("Funnel stage, row 1").select_option(label="Application Complete")
        page.locator("#stage_0").blur()
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(DOCS / "ui-import.png"))
        page.get_by_role("button", name="Save mappings").click()
        page.get_by_role("button", name="Activate").click()
        expect(page.get_by_role("status")).to_contain_text("is active")
        request = urllib.request.Request(
            f"{server.url}/api/v1/webhook-import/update", method="POST",
            data=json.dumps({"lead_profile_uid": lead, "funnel_stage": "Qualified Lead"}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=10).read()
        page.goto(f"/leads/{lead}")
        page.screenshot(path=str(DOCS / "ui-lead.png"))
        page.goto("/webhooks/new")
        page.get_by_label("Payload format").select_option("template")
        page.get_by_label("Template body").fill(
            '{"text": "{{lead.full_name}} moved to {{lead.funnel_stage}}", "email": "{{lead.email}}"}')
        expect(page.locator("#preview-body")).to_contain_text("Ada Lovelace moved to")
        page.locator("#payload").screenshot(path=str(DOCS / "ui-webhook-template.png"))
        browser.close()


if __name__ == "__main__":
    main()
