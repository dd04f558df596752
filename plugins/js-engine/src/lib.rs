//! The JavaScript engine of JS and TypeScript plugins: QuickJS-ng (from the
//! `rquickjs-sys` crate, C compiled with clang for `wasm32-unknown-unknown`)
//! behind the exports of ABI v1 (`plugin-sdk/ABI.md`).
//!
//! The module is never uploaded as it is. `switchyard plugin build` (and the
//! server, for a `.js`/`.ts` upload) instantiates it once, calls
//! `switchyard_js_init` with the user's script, and snapshots the instance
//! with Wizer: the snapshot is an ordinary ABI v1 module whose memory already
//! holds the runtime, the context and the evaluated script, so a call pays
//! only for the user's function. Every call then runs in a fresh instance of
//! the snapshot, like any plugin.
//!
//! - `alloc(len)`: `len` bytes from the C heap (plus a NUL that QuickJS's
//!   parsers expect after the text).
//! - `switchyard_js_init(ptr, len)`: `FILENAME \0 SOURCE`; evaluates the
//!   script as an ES module and remembers its `transform` and `buildPayload`
//!   exports (or globals of those names). Answers `{"ok": {"transform":
//!   bool, "buildPayload": bool}}` or `{"err": "SyntaxError: ... (at
//!   FILE:LINE:COLUMN)"}`.
//! - `transform` / `build_payload`: parse the input document, call
//!   `transform(config, request)` / `buildPayload(config, event)`, await a
//!   promise if one is returned, and answer `{"ok": result}`, or `{"err":
//!   "Name: message (at function (FILE:LINE:COLUMN))"}` for a thrown error.
//! - `console.log`, `info`, `warn`, `error` and `debug` write one line each
//!   to the call's log (`switchyard_v1.log`), the module's only import.
//!
//! Determinism: the C clock the engine reads is this file's
//! `__rquickjs_host_now_us`, which answers 0, so `Date.now()` is 0 and
//! `Math.random()` is seeded identically in every snapshot (its state is part
//! of the snapshot, so each call draws the same sequence). There is no I/O:
//! QuickJS's core has none, and no module loader is installed.
//!
//! Nothing is ever freed: the instance is thrown away after one call.

#![cfg(target_arch = "wasm32")]

use core::ffi::{c_char, c_int};
use core::ptr::null_mut;
use std::alloc::{GlobalAlloc, Layout};

use rquickjs_sys as q;

unsafe extern "C" {
    // From the wasi-libc `libc.a` that rquickjs-sys links (dlmalloc).
    fn malloc(size: usize) -> *mut u8;
    fn free(ptr: *mut u8);
    fn aligned_alloc(align: usize, size: usize) -> *mut u8;
}

#[link(wasm_import_module = "switchyard_v1")]
unsafe extern "C" {
    #[link_name = "log"]
    fn host_log(ptr: *const u8, len: usize);
}

/// Rust's allocations come from the same C heap as QuickJS's: one heap, one
/// `memory.grow` policy, and no second allocator in the module.
struct CHeap;

unsafe impl GlobalAlloc for CHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: plain C allocator calls; sizes come from a valid Layout.
        unsafe {
            if layout.align() <= 8 {
                malloc(layout.size())
            } else {
                aligned_alloc(
                    layout.align(),
                    layout.size().next_multiple_of(layout.align()),
                )
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above.
        unsafe { free(ptr) }
    }
}

#[global_allocator]
static HEAP: CHeap = CHeap;

/// The clock QuickJS's shim would import from the host: defined here, so
/// the import disappears and time stands still at the epoch.
#[unsafe(no_mangle)]
pub extern "C" fn __rquickjs_host_now_us() -> f64 {
    0.0
}

// The engine's state, set by `switchyard_js_init` and kept in the snapshot.
static mut RUNTIME: *mut q::JSRuntime = null_mut();
static mut CONTEXT: *mut q::JSContext = null_mut();
static mut TRANSFORM: q::JSValue = q::JS_UNDEFINED;
static mut BUILD_PAYLOAD: q::JSValue = q::JS_UNDEFINED;

/// Stack QuickJS may use before it throws `RangeError` (its frames live on
/// the shadow stack in linear memory; see build.rs for that stack's size).
const JS_STACK_BYTES: usize = 768 * 1024;

#[unsafe(no_mangle)]
pub extern "C" fn alloc(len: i32) -> i32 {
    let len = len.max(0) as usize;
    // SAFETY: a fresh allocation of len + 1 bytes; the last one is the NUL
    // terminator QuickJS's parsers read past the text.
    unsafe {
        let ptr = malloc(len + 1);
        if !ptr.is_null() {
            *ptr.add(len) = 0;
        }
        ptr as i32
    }
}

/// Evaluates the user's script (`FILENAME \0 SOURCE`) and keeps its entry
/// points. Called once, before the snapshot.
#[unsafe(no_mangle)]
pub extern "C" fn switchyard_js_init(ptr: i32, len: i32) -> i64 {
    // SAFETY: the host wrote `len` bytes at `ptr` (from `alloc`, so followed
    // by a NUL); the engine is single-threaded and this runs once.
    unsafe {
        let input = std::slice::from_raw_parts(ptr as *const u8, len as usize);
        let Some(split) = input.iter().position(|byte| *byte == 0) else {
            return error_result("the engine expects `FILENAME \\0 SOURCE`");
        };
        let filename = c_string(&input[..split]);
        let source = input.as_ptr().add(split + 1) as *const c_char;
        let source_len = len as usize - split - 1;

        let runtime = q::JS_NewRuntime();
        if runtime.is_null() {
            return error_result("cannot create the JavaScript runtime");
        }
        q::JS_SetMaxStackSize(runtime, JS_STACK_BYTES as _);
        let context = q::JS_NewContext(runtime);
        if context.is_null() {
            return error_result("cannot create the JavaScript context");
        }
        RUNTIME = runtime;
        CONTEXT = context;
        install_console(context);

        let flags = (q::JS_EVAL_TYPE_MODULE | q::JS_EVAL_FLAG_COMPILE_ONLY) as c_int;
        let module = q::JS_Eval(context, source, source_len as _, filename.as_ptr(), flags);
        if q::JS_IsException(module) {
            return error_result(&pending_exception(context));
        }
        let definition = q::JS_VALUE_GET_PTR(module) as *mut q::JSModuleDef;
        let evaluated = q::JS_EvalFunction(context, module);
        if q::JS_IsException(evaluated) {
            return error_result(&pending_exception(context));
        }
        if let Err(message) = settle(context, evaluated) {
            return error_result(&message);
        }
        let namespace = q::JS_GetModuleNamespace(context, definition);
        let global = q::JS_GetGlobalObject(context);
        TRANSFORM = entry_point(context, namespace, global, c"transform");
        BUILD_PAYLOAD = entry_point(context, namespace, global, c"buildPayload");
        let found = format!(
            "{{\"ok\":{{\"transform\":{},\"buildPayload\":{}}}}}",
            q::JS_IsFunction(context, TRANSFORM),
            q::JS_IsFunction(context, BUILD_PAYLOAD)
        );
        leak_result(found.into_bytes())
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn transform(ptr: i32, len: i32) -> i64 {
    // SAFETY: see `call`.
    unsafe { call(TRANSFORM, "transform", ptr, len) }
}

#[unsafe(no_mangle)]
pub extern "C" fn build_payload(ptr: i32, len: i32) -> i64 {
    // SAFETY: see `call`.
    unsafe { call(BUILD_PAYLOAD, "buildPayload", ptr, len) }
}

/// The module's export `name`, or else the global of that name.
unsafe fn entry_point(
    context: *mut q::JSContext,
    namespace: q::JSValue,
    global: q::JSValue,
    name: &core::ffi::CStr,
) -> q::JSValue {
    // SAFETY: valid context and objects; property reads of plain objects.
    unsafe {
        let exported = q::JS_GetPropertyStr(context, namespace, name.as_ptr());
        if q::JS_IsFunction(context, exported) {
            return exported;
        }
        q::JS_GetPropertyStr(context, global, name.as_ptr())
    }
}

/// One ABI call: the input document's `config` and `input` passed to the
/// user's function, its result (awaited if a promise) as `{"ok": ...}`.
///
/// # Safety
/// `switchyard_js_init` has run (this is a snapshot), and the host wrote
/// `len` bytes at `ptr`, an address `alloc(len)` returned.
unsafe fn call(function: q::JSValue, name: &str, ptr: i32, len: i32) -> i64 {
    unsafe {
        let context = CONTEXT;
        if context.is_null() {
            return error_result("the JavaScript engine was not initialised with a script");
        }
        if !q::JS_IsFunction(context, function) {
            return error_result(&format!("the script does not export a function `{name}`"));
        }
        let document = q::JS_ParseJSON(
            context,
            ptr as *const c_char,
            len.max(0) as _,
            c"input".as_ptr(),
        );
        if q::JS_IsException(document) {
            return error_result(&pending_exception(context));
        }
        let mut arguments = [
            q::JS_GetPropertyStr(context, document, c"config".as_ptr()),
            q::JS_GetPropertyStr(context, document, c"input".as_ptr()),
        ];
        let returned = q::JS_Call(
            context,
            function,
            q::JS_UNDEFINED,
            arguments.len() as c_int,
            arguments.as_mut_ptr(),
        );
        if q::JS_IsException(returned) {
            return error_result(&pending_exception(context));
        }
        let value = match settle(context, returned) {
            Ok(value) => value,
            Err(message) => return error_result(&message),
        };
        if q::JS_IsUndefined(value) {
            return error_result(&format!(
                "{name} returned nothing (undefined); return {}",
                if name == "transform" {
                    "a list of records"
                } else {
                    "{body, content_type, headers}"
                }
            ));
        }
        let wrapper = q::JS_NewObject(context);
        q::JS_SetPropertyStr(context, wrapper, c"ok".as_ptr(), value);
        let json = q::JS_JSONStringify(context, wrapper, q::JS_UNDEFINED, q::JS_UNDEFINED);
        if q::JS_IsException(json) {
            return error_result(&format!(
                "the value {name} returned cannot be turned into JSON: {}",
                pending_exception(context)
            ));
        }
        let mut text_len: usize = 0;
        let text = q::JS_ToCStringLen(context, &mut text_len, json);
        if text.is_null() {
            return error_result(&pending_exception(context));
        }
        pack(text as *const u8, text_len as usize)
    }
}

/// Runs the job queue until `value` (a promise, or any other value) is
/// settled, and returns what it resolved to or the rejection's message.
unsafe fn settle(context: *mut q::JSContext, value: q::JSValue) -> Result<q::JSValue, String> {
    // SAFETY: valid context; the runtime is the one of `context`.
    unsafe {
        if q::JS_PromiseState(context, value) == q::JSPromiseStateEnum_JS_PROMISE_NOT_A_PROMISE {
            return Ok(value);
        }
        let mut job_context: *mut q::JSContext = null_mut();
        loop {
            let ran = q::JS_ExecutePendingJob(RUNTIME, &mut job_context);
            if ran < 0 {
                return Err(pending_exception(context));
            }
            if ran == 0 {
                break;
            }
        }
        match q::JS_PromiseState(context, value) {
            q::JSPromiseStateEnum_JS_PROMISE_FULFILLED => Ok(q::JS_PromiseResult(context, value)),
            q::JSPromiseStateEnum_JS_PROMISE_REJECTED => {
                Err(describe(context, q::JS_PromiseResult(context, value)))
            }
            _ => Err("the promise never settled (nothing is left that could resolve it)".into()),
        }
    }
}

/// The exception pending in `context`, described.
unsafe fn pending_exception(context: *mut q::JSContext) -> String {
    // SAFETY: valid context.
    unsafe { describe(context, q::JS_GetException(context)) }
}

/// `Name: message (at FRAME)` for an Error, with the first line of its
/// stack (where it was thrown, or for a SyntaxError where the text is
/// wrong); the value as text for anything else thrown.
unsafe fn describe(context: *mut q::JSContext, error: q::JSValue) -> String {
    // SAFETY: valid context and value.
    unsafe {
        let text = to_string(context, error).unwrap_or_else(|| "an exception".into());
        if !q::JS_IsError(error) {
            return format!("uncaught {text}");
        }
        let stack = q::JS_GetPropertyStr(context, error, c"stack".as_ptr());
        let first_frame = to_string(context, stack).and_then(|stack| {
            stack
                .lines()
                .map(str::trim)
                .find(|line| !line.is_empty())
                .map(str::to_owned)
        });
        match first_frame {
            Some(frame) => format!("{text} ({frame})"),
            None => text,
        }
    }
}

/// `String(value)`, or None when even that throws.
unsafe fn to_string(context: *mut q::JSContext, value: q::JSValue) -> Option<String> {
    // SAFETY: valid context and value; the C string is read before it is
    // released.
    unsafe {
        if q::JS_IsUndefined(value) {
            return None;
        }
        let mut len: usize = 0;
        let text = q::JS_ToCStringLen(context, &mut len, value);
        if text.is_null() {
            let _ = q::JS_GetException(context);
            return None;
        }
        let bytes = std::slice::from_raw_parts(text as *const u8, len as usize);
        let owned = String::from_utf8_lossy(bytes).into_owned();
        q::JS_FreeCString(context, text);
        Some(owned)
    }
}

/// `console.log` and its siblings, all writing to the call's log.
unsafe fn install_console(context: *mut q::JSContext) {
    // SAFETY: valid context; property sets take ownership of the values.
    unsafe {
        let global = q::JS_GetGlobalObject(context);
        let console = q::JS_NewObject(context);
        for name in [c"log", c"info", c"warn", c"error", c"debug"] {
            let function = q::JS_NewCFunction2(
                context,
                Some(console_log),
                name.as_ptr(),
                1,
                q::JSCFunctionEnum_JS_CFUNC_generic,
                0,
            );
            q::JS_SetPropertyStr(context, console, name.as_ptr(), function);
        }
        q::JS_SetPropertyStr(context, global, c"console".as_ptr(), console);
    }
}

/// One log line: the arguments separated by spaces, strings as they are and
/// other values as JSON (or as text when they have no JSON form).
unsafe extern "C" fn console_log(
    context: *mut q::JSContext,
    _this: q::JSValue,
    argc: c_int,
    argv: *mut q::JSValue,
) -> q::JSValue {
    // SAFETY: QuickJS passes `argc` valid values at `argv`.
    unsafe {
        let mut line = String::new();
        for index in 0..argc.max(0) as usize {
            let value = *argv.add(index);
            if index > 0 {
                line.push(' ');
            }
            let shown = if q::JS_IsString(value) || q::JS_IsUndefined(value) || q::JS_IsError(value)
            {
                to_string(context, value)
            } else {
                let json = q::JS_JSONStringify(context, value, q::JS_UNDEFINED, q::JS_UNDEFINED);
                if q::JS_IsException(json) {
                    let _ = q::JS_GetException(context);
                    to_string(context, value)
                } else {
                    to_string(context, json)
                }
            };
            line.push_str(shown.as_deref().unwrap_or("undefined"));
        }
        host_log(line.as_ptr(), line.len());
        q::JS_UNDEFINED
    }
}

fn c_string(bytes: &[u8]) -> std::ffi::CString {
    let cleaned: Vec<u8> = bytes.iter().copied().filter(|byte| *byte != 0).collect();
    std::ffi::CString::new(cleaned).unwrap_or_default()
}

/// `{"err": message}` as the ABI's result.
fn error_result(message: &str) -> i64 {
    let mut document = String::from("{\"err\":");
    push_json_string(&mut document, message);
    document.push('}');
    leak_result(document.into_bytes())
}

fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            control if (control as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", control as u32));
            }
            other => out.push(other),
        }
    }
    out.push('"');
}

/// Hands a result to the host: it is read after the call and the instance
/// is dropped, so the buffer is never freed.
fn leak_result(bytes: Vec<u8>) -> i64 {
    let bytes = bytes.leak();
    pack(bytes.as_ptr(), bytes.len())
}

fn pack(ptr: *const u8, len: usize) -> i64 {
    (((ptr as u32 as u64) << 32) | len as u32 as u64) as i64
}
