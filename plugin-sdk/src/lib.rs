//! The Switchyard plugin SDK: write an inbound transform or a payload
//! builder as one typed Rust function and export it with one macro line.
//!
//! ```ignore
//! use switchyard_plugin_sdk::{export_transform, Error, FunnelUpdate, InboundRequest};
//!
//! #[derive(serde::Deserialize)]
//! struct Config { stage_field: String }
//!
//! #[derive(serde::Deserialize)]
//! struct Body { id: String, properties: std::collections::HashMap<String, String> }
//!
//! fn transform(config: Config, request: InboundRequest<Body>) -> Result<Vec<FunnelUpdate>, Error> {
//!     let stage = request.body.properties.get(&config.stage_field).ok_or("no stage in the body")?;
//!     Ok(vec![FunnelUpdate::new(request.body.id, stage)])
//! }
//!
//! export_transform!(transform);
//! ```
//!
//! A payload builder receives the event typed: [`LeadEvent`] (module
//! [`event`]) is the document ABI.md describes, with the lead, its stages
//! and its funnel history.
//!
//! ```
//! use switchyard_plugin_sdk::{Error, LeadEvent, Payload, export_payload_builder, serde_json::json};
//!
//! fn build(_config: serde::de::IgnoredAny, event: LeadEvent) -> Result<Payload, Error> {
//!     let stage = event.lead.funnel_stage.map(|stage| stage.title);
//!     Payload::json(&json!({"email": event.lead.email, "event": event.event, "stage": stage}))
//! }
//!
//! export_payload_builder!(build);
//! ```
//!
//! The SDK hides the ABI (see `ABI.md` beside this crate): it exports
//! `alloc`, reads the input JSON the host wrote, deserialises it straight
//! into your types, and writes `{"ok": ...}` or `{"err": "..."}` back.
//!
//! Fuel: every Wasm instruction costs fuel, and parsing JSON is most of a
//! typical plugin's work. Deserialise into structs that name only the fields
//! you need (serde skips the rest cheaply) rather than into a generic
//! `serde_json::Value`, which allocates every field of the body. For a
//! payload builder, [`LeadEvent`] reads the whole event and [`Envelope`]
//! only its first six fields.

pub mod event;

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use event::{Envelope, LeadEvent};
pub use serde;
pub use serde_json;

/// An error a plugin returns; the host reports it as `plugin error: <message>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error(message.into())
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Self {
        Error(message.to_owned())
    }
}

impl From<String> for Error {
    fn from(message: String) -> Self {
        Error(message)
    }
}

impl From<serde_json::Error> for Error {
    fn from(error: serde_json::Error) -> Self {
        Error(error.to_string())
    }
}

/// `?` on the standard library's parse and text errors, so that
/// `text.parse::<i64>()?` reads as it would anywhere else; the message is
/// the error's own (`invalid digit found in string`).
macro_rules! error_from_display {
    ($($error:ty),* $(,)?) => {
        $(impl From<$error> for Error {
            fn from(error: $error) -> Self {
                Error(error.to_string())
            }
        })*
    };
}

error_from_display!(
    std::num::ParseIntError,
    std::num::ParseFloatError,
    std::str::ParseBoolError,
    std::str::Utf8Error,
    std::string::FromUtf8Error,
    std::fmt::Error,
);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an inbound transform receives: the CRM's request. `B` is the body's
/// type: a struct of yours for JSON bodies, `serde_json::Value` to take any
/// JSON, or `String` for form-encoded and other text bodies.
#[derive(Debug, Clone, Deserialize)]
pub struct InboundRequest<B = serde_json::Value> {
    /// Request headers, names in lowercase.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub content_type: Option<String>,
    pub body: B,
}

/// One funnel update a transform produces: move this lead to this stage
/// (a stage title or a mapped name, matched like a CRM's own requests).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunnelUpdate {
    pub lead_profile_uid: String,
    pub funnel_stage: String,
}

impl FunnelUpdate {
    pub fn new(lead_profile_uid: impl Into<String>, funnel_stage: impl Into<String>) -> Self {
        Self {
            lead_profile_uid: lead_profile_uid.into(),
            funnel_stage: funnel_stage.into(),
        }
    }
}

/// A lead record (lead sync): find a lead by any of `match`'s keys
/// (`lead_profile_uid`, `external_id`, `email`, tried in that order),
/// create it when nothing matches and the import allows it, set `fields`
/// (absent ones are left alone, `null` clears one), then move it to
/// `funnel_stage` if given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadRecord {
    pub lead: LeadSync,
}

/// The body of a [`LeadRecord`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LeadSync {
    #[serde(rename = "match")]
    pub matching: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub fields: serde_json::Map<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funnel_stage: Option<String>,
}

/// Any record a transform may return: a plain funnel update or a lead record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Record {
    Funnel(FunnelUpdate),
    Lead(LeadRecord),
}

impl From<FunnelUpdate> for Record {
    fn from(update: FunnelUpdate) -> Self {
        Record::Funnel(update)
    }
}

impl From<LeadRecord> for Record {
    fn from(record: LeadRecord) -> Self {
        Record::Lead(record)
    }
}

/// What a payload builder returns: the body to send and how to send it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    /// A JSON value, or a string sent as it is.
    pub body: serde_json::Value,
    pub content_type: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

impl Payload {
    /// `body` as JSON, sent as it is serialised here: a struct's fields in
    /// their declared order. The text goes to the host as a JSON string,
    /// which it sends byte for byte; as a JSON object it would be
    /// re-serialised with its keys sorted.
    pub fn json(body: &impl Serialize) -> Result<Self, Error> {
        Ok(Payload {
            body: serde_json::to_string(body)?.into(),
            content_type: "application/json".into(),
            headers: BTreeMap::new(),
        })
    }
}

/// Writes a line to the host's log for this call (shown by dry runs and the
/// CLI). A no-op outside WebAssembly.
pub fn log(message: &str) {
    #[cfg(target_arch = "wasm32")]
    {
        #[link(wasm_import_module = "switchyard_v1")]
        unsafe extern "C" {
            #[link_name = "log"]
            fn host_log(ptr: *const u8, len: usize);
        }
        // SAFETY: the host only reads `len` bytes at `ptr`, which point into
        // `message` for the duration of the call.
        unsafe { host_log(message.as_ptr(), message.len()) }
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = message;
}

/// Exports (on wasm32 only, so native unit tests of the plugin link
/// cleanly) `alloc` and `transform` for a function
/// `fn(Config, InboundRequest<Body>) -> Result<Vec<FunnelUpdate>, Error>`.
#[macro_export]
macro_rules! export_transform {
    ($function:path) => {
        $crate::__export_alloc!();
        #[cfg(target_arch = "wasm32")]
        #[unsafe(export_name = "transform")]
        pub extern "C" fn __switchyard_transform(ptr: i32, len: i32) -> i64 {
            $crate::__private::call(ptr, len, |config, input| $function(config, input))
        }
    };
}

/// Exports (on wasm32 only) `alloc` and `build_payload` for a function
/// `fn(Config, Event) -> Result<Payload, Error>`, where `Event` is usually
/// [`LeadEvent`], or [`Envelope`] when the envelope is all it needs.
#[macro_export]
macro_rules! export_payload_builder {
    ($function:path) => {
        $crate::__export_alloc!();
        #[cfg(target_arch = "wasm32")]
        #[unsafe(export_name = "build_payload")]
        pub extern "C" fn __switchyard_build_payload(ptr: i32, len: i32) -> i64 {
            $crate::__private::call(ptr, len, |config, input| $function(config, input))
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_alloc {
    () => {
        #[cfg(target_arch = "wasm32")]
        #[unsafe(export_name = "alloc")]
        pub extern "C" fn __switchyard_alloc(len: i32) -> i32 {
            $crate::__private::alloc(len)
        }
    };
}

/// The allocator of every plugin built with this SDK (on wasm32): a bump
/// allocator that never frees. Each call runs in a fresh instance whose
/// memory is thrown away afterwards, so freeing would be wasted work; this
/// makes allocation a pointer increment. Memory still counts against the
/// call's memory limit. Disable the `bump-allocator` feature to keep Rust's
/// default allocator, e.g. for a plugin that allocates and frees in a long
/// loop.
#[cfg(all(target_arch = "wasm32", feature = "bump-allocator"))]
mod bump {
    use std::alloc::{GlobalAlloc, Layout};
    use std::cell::Cell;

    const PAGE: usize = 64 * 1024;

    pub struct BumpAllocator {
        next: Cell<usize>,
    }

    // SAFETY: wasm32-unknown-unknown plugins are single-threaded; nothing
    // else can observe `next` concurrently.
    unsafe impl Sync for BumpAllocator {}

    unsafe extern "C" {
        static __heap_base: u8;
    }

    unsafe impl GlobalAlloc for BumpAllocator {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let mut next = self.next.get();
            if next == 0 {
                // SAFETY: the linker defines `__heap_base`; only its address is used.
                next = unsafe { &__heap_base as *const u8 as usize };
            }
            let start = (next + layout.align() - 1) & !(layout.align() - 1);
            let Some(end) = start.checked_add(layout.size()) else {
                return std::ptr::null_mut();
            };
            let available = core::arch::wasm32::memory_size(0) * PAGE;
            if end > available {
                let pages = (end - available).div_ceil(PAGE);
                if core::arch::wasm32::memory_grow(0, pages) == usize::MAX {
                    return std::ptr::null_mut();
                }
            }
            self.next.set(end);
            start as *mut u8
        }

        unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // Grow the newest allocation in place; otherwise allocate and copy.
            if ptr as usize + layout.size() == self.next.get() {
                let end = ptr as usize + new_size;
                let available = core::arch::wasm32::memory_size(0) * PAGE;
                if end <= available
                    || core::arch::wasm32::memory_grow(0, (end - available).div_ceil(PAGE))
                        != usize::MAX
                {
                    self.next.set(end);
                    return ptr;
                }
                return std::ptr::null_mut();
            }
            // SAFETY: the new layout has the old alignment and a valid size.
            let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            // SAFETY: as for `alloc`.
            let new = unsafe { self.alloc(new_layout) };
            if !new.is_null() {
                // SAFETY: both blocks are valid for the smaller size and distinct.
                unsafe { std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
            }
            new
        }
    }

    #[global_allocator]
    static ALLOCATOR: BumpAllocator = BumpAllocator { next: Cell::new(0) };
}

#[doc(hidden)]
pub mod __private {
    use super::*;

    /// The input document of every call.
    #[derive(Deserialize)]
    struct Call<C, I> {
        config: C,
        input: I,
    }

    #[derive(Serialize)]
    enum Outcome<T> {
        #[serde(rename = "ok")]
        Ok(T),
        #[serde(rename = "err")]
        Err(String),
    }

    /// Reserves `len` bytes for the host to write the input into. Every
    /// call runs in a fresh instance, so nothing is ever freed.
    pub fn alloc(len: i32) -> i32 {
        let buffer: Vec<u8> = Vec::with_capacity(len.max(0) as usize);
        let ptr = buffer.as_ptr() as i32;
        std::mem::forget(buffer);
        ptr
    }

    /// Reads the input, runs `function` and packs the written result as
    /// `(ptr << 32) | len`.
    pub fn call<C, I, T, F>(ptr: i32, len: i32, function: F) -> i64
    where
        C: DeserializeOwned,
        I: DeserializeOwned,
        T: Serialize,
        F: FnOnce(C, I) -> Result<T, Error>,
    {
        // SAFETY: the host wrote exactly `len` bytes at `ptr`, a buffer this
        // module handed out from `alloc(len)`.
        let input =
            unsafe { std::slice::from_raw_parts(ptr as usize as *const u8, len.max(0) as usize) };
        let outcome = match serde_json::from_slice::<Call<C, I>>(input) {
            Ok(call) => match function(call.config, call.input) {
                Ok(value) => Outcome::Ok(value),
                Err(error) => Outcome::Err(error.0),
            },
            Err(error) => Outcome::Err(format!("could not read the input: {error}")),
        };
        let output = serde_json::to_vec(&outcome).unwrap_or_else(|error| {
            let failed: Outcome<()> = Outcome::Err(format!("could not write the output: {error}"));
            serde_json::to_vec(&failed).unwrap_or_default()
        });
        let packed = ((output.as_ptr() as usize as i64) << 32) | output.len() as i64;
        std::mem::forget(output);
        packed
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    fn stage_number(text: &str) -> Result<i64, Error> {
        Ok(text.parse::<i64>()?)
    }

    fn ratio(text: &str) -> Result<f64, Error> {
        Ok(text.parse::<f64>()?)
    }

    #[test]
    fn parse_errors_convert_with_their_own_message() {
        assert_eq!(stage_number("42"), Ok(42));
        assert_eq!(
            stage_number("4x"),
            Err(Error::new("invalid digit found in string"))
        );
        assert_eq!(ratio("half"), Err(Error::new("invalid float literal")));
        let not_utf8: Result<String, Error> = String::from_utf8(vec![0xff]).map_err(Error::from);
        assert!(not_utf8.unwrap_err().0.contains("invalid utf-8"));
    }
}
