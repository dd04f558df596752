//! libFuzzer entry for `switchyard::fuzzing::destination` (its properties are
//! documented there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| switchyard::fuzzing::destination(data));
