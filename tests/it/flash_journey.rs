//! Integration tests: a demanding user's walk through `espmqtt flash` with
//! mistakes and faults (wrong port, a port that is not an ESP, an image for a
//! bigger flash, a network port closed under the flasher, Ctrl-C in a fleet),
//! against `espmqtt emulate` and plain TCP servers on loopback.

use crate::support::{free_port, Env};

/// Firmware-like bytes: a v1 header whose size nibble is `size_nibble`.
fn image(len: usize, size_nibble: u8) -> Vec<u8> {
    let mut out = vec![0xE9, 0x01, 0x02, size_nibble << 4, 0, 0, 0, 0];
    let mut x: u32 = 12345;
    while out.len() < len {
        x = x.wrapping_mul(1103515245).wrapping_add(12345);
        out.push((x >> 16) as u8);
    }
    out
}

/// Nothing listening: the reason is in words, without `(os error N)`.
#[test]
fn refused_connection_is_said_in_words() {
    let env = Env::new();
    let fw = env.write("fw.bin", image(4096, 2));
    let port = free_port();
    let url = format!("socket://127.0.0.1:{port}");
    let run = env.run(&["flash", "--port", &url, "--firmware", fw.to_str().unwrap()]);
    run.assert_code(3);
    assert!(!run.stderr.contains("os error"), "{}", run.stderr);
    assert!(
        run.stderr.contains("nothing is listening"),
        "{}",
        run.stderr
    );
}
