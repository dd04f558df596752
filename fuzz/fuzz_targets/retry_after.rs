//! libFuzzer entry for `switchyard::fuzzing::retry_after` (its properties are
//! documented there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| switchyard::fuzzing::retry_after(data));
