// An inbound transform in AssemblyScript: the request body's `lead` moves to
// the config's `stage`. Build: `npm run build`; run:
// switchyard plugin run example.wasm --kind inbound-transform --config config.json --input body.json
import { input, log, ok, err, quote, findString } from "./switchyard";
export { alloc } from "./switchyard";

export function transform(ptr: usize, len: i32): i64 {
  const document = input(ptr, len);
  const lead = findString(document, "lead");
  const stage = findString(document, "stage");
  if (lead === null || stage === null) {
    return err("the body needs a `lead` and the config a `stage`");
  }
  log("moving a lead");
  return ok('[{"lead_profile_uid":' + quote(lead) + ',"funnel_stage":' + quote(stage) + "}]");
}
