//! libFuzzer entry for `switchyard::fuzzing::inbound` (its properties are
//! documented there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| switchyard::fuzzing::inbound(data));
