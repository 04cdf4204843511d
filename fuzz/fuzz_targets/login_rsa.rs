#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| motorcity::fuzzing::login_rsa(data));
