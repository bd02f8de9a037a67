// Decoder of the espmqtt device config blob (format: ../CONFIG_FORMAT.md).
//
// Plain C++11 with no Arduino headers and no heap, so the same file runs in
// the sketch and in the host tool host/blobdump.cpp (which the tests compile
// with g++, also under -fsanitize=address,undefined). The decoder never copies:
// strings are stored NUL-terminated inside the blob, so the fields below point
// into the caller's buffer, which must outlive the ConfigBlob.
//
// The rules mirror the Rust decoder (src/device/blob.rs) exactly; the shared
// test vectors in tests/data/blobs/ keep them in step.

#ifndef ESPMQTT_CONFIG_BLOB_H
#define ESPMQTT_CONFIG_BLOB_H

#include <stddef.h>
#include <stdint.h>

namespace espmqtt {

static const uint16_t kBlobFormatVersion = 1;
static const size_t kBlobHeaderLen = 12;
static const size_t kBlobMaxLen = 4096;

static const size_t kMaxFingerprints = 2;
static const size_t kMaxTrustAnchors = 8;
static const size_t kMaxClientCerts = 4;
static const size_t kMaxNtpServers = 3;
static const size_t kUpdateKeyLen = 32;

static const uint16_t kTls10 = 0x0301;
static const uint16_t kTls11 = 0x0302;
static const uint16_t kTls12 = 0x0303;

enum TrustMode { TRUST_CA = 0, TRUST_PUBKEY = 1, TRUST_FINGERPRINT = 2, TRUST_INSECURE = 3 };

// Result of decode_config_blob; blob_status_code() gives the stable text code
// shared with the Rust decoder and the firmware's `unprovisioned reason=` line.
enum BlobStatus {
  BLOB_OK = 0,
  BLOB_TRUNCATED,
  BLOB_BAD_MAGIC,
  BLOB_BAD_VERSION,
  BLOB_BAD_LENGTH,
  BLOB_BAD_CRC,
  BLOB_BAD_ENTRY,
  BLOB_BAD_VALUE,
  BLOB_DUPLICATE,
  BLOB_TOO_MANY,
  BLOB_MISSING_FIELD
};

// A binary value inside the blob.
struct BlobBytes {
  const uint8_t* data;
  uint16_t len;
};

struct ConfigBlob {
  uint16_t format_version;
  uint16_t length;
  const char* device_name;    // NULL when absent
  const char* wifi_ssid;
  const char* wifi_password;  // NULL: open network
  const char* broker_host;
  uint16_t broker_port;
  const char* broker_sni;     // NULL: same as broker_host
  const char* client_id;
  const char* username;       // NULL when absent
  const char* password;       // NULL when absent
  const char* topic_prefix;
  TrustMode trust_mode;
  const uint8_t* fingerprints[kMaxFingerprints];  // 20 bytes each
  uint8_t fingerprint_count;
  BlobBytes pubkey;                                // len 0 when absent
  BlobBytes trust_anchors[kMaxTrustAnchors];
  uint8_t trust_anchor_count;
  BlobBytes client_certs[kMaxClientCerts];
  uint8_t client_cert_count;
  BlobBytes client_key;                            // len 0 when absent
  uint16_t tls_rx_buffer;
  uint16_t tls_tx_buffer;
  uint16_t tls_min_version;
  uint16_t tls_max_version;
  const char* ntp_servers[kMaxNtpServers];
  uint8_t ntp_server_count;
  uint32_t heartbeat;
  uint16_t keepalive;
  uint32_t config_version;    // update number that produced this config; 0 = serial
  const uint8_t* update_key;  // kUpdateKeyLen bytes; NULL: no updates over the air
};

// Decode `len` bytes at `buf` (may be a whole 4 KB sector: bytes after the
// header's length are ignored). On failure `out` is unspecified and, when
// `why` is non-NULL, a one-line explanation is written there (NUL-terminated,
// at most why_len bytes).
BlobStatus decode_config_blob(const uint8_t* buf, size_t len, ConfigBlob* out, char* why,
                              size_t why_len);

// Stable code: "ok", "truncated", "bad_magic", …
const char* blob_status_code(BlobStatus s);

// "ca", "pubkey", "fingerprint", "insecure".
const char* trust_mode_name(TrustMode m);

// "1.0" / "1.1" / "1.2" / "?".
const char* tls_version_name(uint16_t v);

// zlib-compatible CRC-32; start with crc = 0.
uint32_t crc32_update(uint32_t crc, const uint8_t* data, size_t len);

// The pinned key of `pubkey` mode and the core's key decoder (docs/DEVICE.md,
// "pubkey mode: EC keys and the core's key decoder"). The BearSSL fork in
// the ESP8266 core 3.1.x reads the 0x04 that starts an uncompressed EC point
// as a tag and keeps the rest: the point comes out one byte short and never
// matches the server's key.

// True when an EC key on `curve` (BearSSL curve id: 23 P-256, 24 P-384,
// 25 P-521) came out of a decoder with a point of `qlen` bytes, one short
// of an uncompressed point: that decoder has the quirk.
bool ec_point_one_byte_short(int curve, size_t qlen);

// Largest result of ec_key_der_with_04_doubled for a named curve (P-521's
// SubjectPublicKeyInfo is 158 bytes).
static const size_t kEcKeyDerMax = 160;

// `der`, an EC SubjectPublicKeyInfo (id-ecPublicKey, BIT STRING 00 04 X Y),
// rewritten with the point's 0x04 doubled (00 04 04 X Y) and the BIT STRING
// and outer SEQUENCE lengths adjusted, into `out`: the quirky decoder then
// yields exactly 04 X Y. Returns the length written; 0 (out untouched) when
// `der` is not such a key or `out_len` is too small. No heap.
size_t ec_key_der_with_04_doubled(const uint8_t* der, size_t len, uint8_t* out, size_t out_len);

}  // namespace espmqtt

#endif  // ESPMQTT_CONFIG_BLOB_H
