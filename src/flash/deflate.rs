//! The compressed stream FLASH_DEFL_DATA carries, computed once per image.
//!
//! The stub inflates any valid zlib stream (docs/DEVICE.md, "Compressed
//! writes"), so the encoder is free to spend CPU for fewer bytes on the
//! wire. libdeflate at level 12 (near-optimal parsing) was measured against
//! flate2/miniz at level 9 (esptool's choice) and zopfli on the 1 MiB image of
//! `scripts/bench-flash`:
//!
//! | encoder | bytes | CPU (release) |
//! |---|---|---|
//! | flate2 level 9 | 586 506 | 0.11 s |
//! | libdeflate level 12 | 576 444 | 0.36 s |
//! | zopfli, 15 iterations | 574 884 | 8.6 s |
//!
//! At 460800 baud 10 KB less is 0.22 s less on the wire. libdeflate's extra
//! CPU is spent while the module is being connected and the stub uploaded
//! (about 1 s of wire time at the ROM's 115200 baud, [`prefetch`]), so it
//! costs no wall time; zopfli's 1.6 KB more would cost 8 s of CPU for 0.03 s
//! of wire, and even cached it would only pay off after hundreds of flashes.
//!
//! A fleet run writes the same image to every module: [`compressed`] keeps
//! each stream keyed by the SHA-256 of its input, so the image is
//! compressed once per process, not once per module, and workers asking for
//! the same image at once wait for the one computation. The streams are not
//! kept on disk: at 0.36 s of CPU hidden behind the stub upload, a cache
//! under `.espmqtt/` would save no wall time and add a file to keep fresh.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};

/// libdeflate's strongest level.
const LEVEL: i32 = 12;
/// Streams kept (a fleet run needs one; tests and the demo a few).
const CACHE_ENTRIES: usize = 8;

type Slot = Arc<OnceLock<Arc<Vec<u8>>>>;

fn cache() -> &'static Mutex<HashMap<[u8; 32], Slot>> {
    static CACHE: OnceLock<Mutex<HashMap<[u8; 32], Slot>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The zlib stream of `data`, from the cache or computed now (once, even
/// when several threads ask at the same time).
pub fn compressed(data: &[u8]) -> Arc<Vec<u8>> {
    let key: [u8; 32] = Sha256::digest(data).into();
    let slot = {
        let mut map = cache().lock().unwrap_or_else(|e| e.into_inner());
        if !map.contains_key(&key) && map.len() >= CACHE_ENTRIES {
            map.clear();
        }
        map.entry(key).or_default().clone()
    };
    slot.get_or_init(|| Arc::new(zlib(data))).clone()
}

/// The stream of `data` if it was computed already (never computes).
pub fn cached(data: &[u8]) -> Option<Arc<Vec<u8>>> {
    let key: [u8; 32] = Sha256::digest(data).into();
    let map = cache().lock().unwrap_or_else(|e| e.into_inner());
    map.get(&key).and_then(|slot| slot.get().cloned())
}

/// Start compressing `data` on another thread, so the stream is ready by
/// the time the stub runs. Small inputs are not worth a thread.
pub fn prefetch(data: &[u8]) {
    if data.len() < 64 * 1024 {
        return;
    }
    let owned = data.to_vec();
    std::thread::spawn(move || {
        compressed(&owned);
    });
}

/// One zlib stream (header and Adler-32 trailer, as the stub expects).
pub fn zlib(data: &[u8]) -> Vec<u8> {
    let level = libdeflater::CompressionLvl::new(LEVEL).unwrap_or_default();
    let mut c = libdeflater::Compressor::new(level);
    let mut out = vec![0u8; c.zlib_compress_bound(data.len())];
    match c.zlib_compress(data, &mut out) {
        Ok(n) => {
            out.truncate(n);
            out
        }
        // The bound is always enough; fall back to miniz rather than fail.
        Err(_) => miniz(data),
    }
}

/// zlib level 9 with flate2 (esptool's `zlib.compress(data, 9)`).
pub fn miniz(data: &[u8]) -> Vec<u8> {
    use flate2::{write::ZlibEncoder, Compression};
    use std::io::Write as _;
    let mut enc = ZlibEncoder::new(Vec::with_capacity(data.len() / 2), Compression::best());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    fn inflate(z: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(z)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    fn sample() -> Vec<u8> {
        let mut x = 7u32;
        (0..200_000)
            .map(|i| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                if i % 3 == 0 {
                    (x >> 24) as u8
                } else {
                    b"mqtt_publish "[i % 13]
                }
            })
            .collect()
    }

    #[test]
    fn stream_inflates_and_beats_level_9() {
        let data = sample();
        let z = zlib(&data);
        assert_eq!(inflate(&z), data);
        assert!(z.len() <= miniz(&data).len());
        assert_eq!(inflate(&zlib(&[])), Vec::<u8>::new());
    }

    #[test]
    fn one_computation_per_content() {
        let data = sample();
        let a = compressed(&data);
        let b = compressed(&data.clone());
        assert!(Arc::ptr_eq(&a, &b));
        let mut other = data.clone();
        other[0] ^= 1;
        assert!(!Arc::ptr_eq(&a, &compressed(&other)));
    }
}
