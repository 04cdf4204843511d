#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pitlane_core::http1::fuzz(data));
