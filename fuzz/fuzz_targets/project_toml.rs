#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| espmqtt::fuzzing::project_toml(data));
