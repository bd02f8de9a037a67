#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| espmqtt::fuzzing::slip(data));
