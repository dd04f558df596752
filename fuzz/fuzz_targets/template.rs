//! libFuzzer entry for `switchyard::fuzzing::template` (its properties are
//! documented there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| switchyard::fuzzing::template(data));
