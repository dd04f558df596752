/* An inbound transform in C: the request body's `lead` moves to the config's
 * `stage`. Config {"stage": "Won"}, body {"lead": "lead_..."} gives
 * [{"lead_profile_uid": "lead_...", "funnel_stage": "Won"}].
 * Build: see switchyard_plugin.h; run: switchyard plugin run example.wasm ... */
#include "switchyard_plugin.h"

SWITCHYARD_EXPORT("transform") int64_t transform(const char *input, int32_t len) {
    const char *lead, *stage;
    int32_t lead_len = switchyard_find_string(input, (uint32_t)len, "lead", &lead);
    int32_t stage_len = switchyard_find_string(input, (uint32_t)len, "stage", &stage);
    switchyard_buffer out = {0};
    if (lead_len < 0 || stage_len < 0) {
        switchyard_append_str(&out, "{\"err\":\"the body needs a `lead` and the config a `stage`\"}");
        return switchyard_result(out.data, out.len);
    }
    switchyard_log("moving a lead", 13);
    switchyard_append_str(&out, "{\"ok\":[{\"lead_profile_uid\":\"");
    switchyard_append(&out, lead, (uint32_t)lead_len);
    switchyard_append_str(&out, "\",\"funnel_stage\":\"");
    switchyard_append(&out, stage, (uint32_t)stage_len);
    switchyard_append_str(&out, "\"}]}");
    return switchyard_result(out.data, out.len);
}
