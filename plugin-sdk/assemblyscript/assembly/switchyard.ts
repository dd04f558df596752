// Switchyard plugin ABI v1 for AssemblyScript (see plugin-sdk/ABI.md).
// Build with `--runtime stub` (a bump allocator without a collector: every
// call is a fresh instance) and `--use abort=assembly/switchyard/abort`, so
// that the module's only import is `switchyard_v1.log`. Re-export `alloc`
// from your entry file: `export { alloc } from "./switchyard"`.

@external("switchyard_v1", "log")
declare function hostLog(ptr: usize, len: i32): void;

/** `alloc(len)`: `len` writable bytes for the host's input. */
export function alloc(len: i32): usize {
  return heap.alloc(<usize>len);
}

/** The input document (UTF-8 JSON) the host wrote at `ptr`. */
export function input(ptr: usize, len: i32): string {
  return String.UTF8.decodeUnsafe(ptr, <usize>len);
}

/** Writes one line to the call's log. */
export function log(line: string): void {
  const bytes = String.UTF8.encode(line);
  hostLog(changetype<usize>(bytes), bytes.byteLength);
}

/** Packs a result document for the host: `(ptr << 32) | len`. */
export function result(document: string): i64 {
  const bytes = String.UTF8.encode(document);
  return (<i64>changetype<usize>(bytes) << 32) | <i64>bytes.byteLength;
}

/** `{"ok": <json>}` for a value already written as JSON text. */
export function ok(json: string): i64 {
  return result('{"ok":' + json + "}");
}

/** `{"err": "<message>"}`. */
export function err(message: string): i64 {
  return result('{"err":' + quote(message) + "}");
}

/** A JSON string literal. */
export function quote(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c == 0x22) out += '\\"';
    else if (c == 0x5c) out += "\\\\";
    else if (c < 0x20) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += String.fromCharCode(c);
  }
  return out + '"';
}

/** The first `"key": "value"` string in a JSON text, or null: a small
 * helper for examples (it does not decode escapes). */
export function findString(json: string, key: string): string | null {
  let from = 0;
  const needle = '"' + key + '"';
  while (true) {
    const at = json.indexOf(needle, from);
    if (at < 0) return null;
    let i = at + needle.length;
    while (i < json.length && (json.charAt(i) == " " || json.charAt(i) == ":")) i++;
    if (i < json.length && json.charAt(i) == '"') {
      const end = json.indexOf('"', i + 1);
      if (end > i) return json.substring(i + 1, end);
    }
    from = at + 1;
  }
}

/** Called on a failed assertion or an error: logs it, then traps. */
export function abort(message: string | null, file: string | null, line: u32, column: u32): void {
  const what = message === null ? "" : message;
  const where = file === null ? "" : file;
  log("abort: " + what + " at " + where + ":" + line.toString() + ":" + column.toString());
  unreachable();
}
