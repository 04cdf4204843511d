#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| micromachines::fuzzing::steam_ticket(data));
