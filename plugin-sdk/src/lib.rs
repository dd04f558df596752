//! The Switchyard plugin SDK: what a plugin author depends on to write an
//! inbound transform or a payload builder as one typed Rust function.
//!
//! The ABI it implements (exports `memory`, `alloc`, and `transform` or
//! `build_payload`; JSON in, JSON out) is fixed in the project's DESIGN.md and
//! will be documented in `ABI.md` beside this crate together with the runtime
//! that hosts it. Until then this crate exports nothing.
