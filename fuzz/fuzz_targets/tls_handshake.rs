#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| espmqtt::fuzzing::tls_handshake(data));
