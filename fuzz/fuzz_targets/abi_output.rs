//! libFuzzer entry for `switchyard::fuzzing::abi_output` (its properties are
//! documented there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| switchyard::fuzzing::abi_output(data));
