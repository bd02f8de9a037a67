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

}  // namespace espmqtt

#endif  // ESPMQTT_CONFIG_BLOB_H
