"""An import's transform tested on a sample body before it is saved:
"Test with sample" shows the records, what each would do, and the
plugin's error, with everything typed kept and nothing saved; saving with
a sample refuses a transform that fails on it."""

import json

from playwright.sync_api import expect

from conftest import api, sign_in
from test_admin_ui import add_stage, unique

MAPPER = '{"records_pointer": "", "uid_pointer": "/objectId", "stage_pointer": "/propertyValue"}'


def test_a_transform_is_tested_on_a_sample_before_it_is_saved(page, server, key, shot):
    sign_in(page, key)
    add_stage(page, "Inquiry")
    add_stage(page, "Enrolled")
    lead = api(server, key, "POST", "/api/v1/leads", {"email": "s@example.com"})["lead_profile_uid"]
    page.goto("/imports")
    name = unique("Sampled")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("button", name="Create import").click()
    import_url = page.locator("a", has_text="Regenerate token").get_attribute("href").rsplit("/", 1)[0]
    import_id = import_url.rsplit("/", 1)[1]
    page.goto(import_url)
    page.get_by_label("Plugin", exact=True).select_option(label="json-mapper (built in)")
    page.get_by_label("Config (JSON").fill(MAPPER)
    sample = json.dumps([{"objectId": lead, "propertyValue": "enrolled"},
                         {"objectId": lead, "propertyValue": "graduated"}])
    page.get_by_label("Sample body the CRM would send").fill(sample)
    page.get_by_role("button", name="Test with sample").click()
    result = page.locator("#sample-result")
    expect(result).to_contain_text("ok")
    expect(result).to_contain_text("nothing was saved")
    expect(result.locator("tbody tr").nth(0)).to_contain_text("moves the lead to “Enrolled”")
    expect(result.locator("tbody tr").nth(1)).to_contain_text("fail: Invalid funnel stage")
    expect(result.locator("pre.code").first).to_contain_text(lead)
    # Everything typed is kept, and nothing was saved.
    expect(page.get_by_label("Config (JSON")).to_have_value(MAPPER)
    expect(page.get_by_label("Sample body the CRM would send")).to_have_value(sample)
    assert api(server, key, "GET", f"/api/v1/webhook-imports/{import_id}")["transform"] is None
    assert api(server, key, "GET", f"/api/v1/leads/{lead}")["funnel_stage"] is None
    shot("tested")

    # A config the plugin refuses shows its named error.
    page.get_by_label("Config (JSON").fill('{"uid": "/objectId"}')
    page.get_by_role("button", name="Test with sample").click()
    expect(result).to_contain_text("error")
    expect(result.get_by_role("alert")).to_contain_text("plugin error")
    shot("plugin-error")
    # Saving with the sample refuses it too, and attaches nothing.
    page.get_by_role("button", name="Save transform").click()
    expect(page.locator("#transform-error")).to_contain_text("Transform failed on the sample: plugin error")
    expect(page.get_by_label("Config (JSON")).to_have_value('{"uid": "/objectId"}')
    assert api(server, key, "GET", f"/api/v1/webhook-imports/{import_id}")["transform"] is None
    shot("refused")
    page.get_by_label("Config (JSON").fill(MAPPER)
    page.get_by_role("button", name="Save transform").click()
    expect(page.get_by_role("status")).to_contain_text("builtin:json-mapper attached")
    saved = api(server, key, "GET", f"/api/v1/webhook-imports/{import_id}")["transform"]
    assert saved["plugin_id"] == "builtin:json-mapper"
    assert saved["config"] == json.loads(MAPPER)
