// Decoder of the espmqtt device config blob; see config_blob.h and
// ../CONFIG_FORMAT.md. Every read is bounds-checked against the header's
// length, which is itself checked against the buffer, so no input can make it
// read outside [buf, buf + len).

#include "config_blob.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

namespace espmqtt {

namespace {

enum EntryType {
  E_WIFI_SSID = 1,
  E_WIFI_PASSWORD = 2,
  E_BROKER_HOST = 3,
  E_BROKER_PORT = 4,
  E_BROKER_SNI = 5,
  E_CLIENT_ID = 6,
  E_USERNAME = 7,
  E_PASSWORD = 8,
  E_TOPIC_PREFIX = 9,
  E_TRUST_MODE = 10,
  E_FINGERPRINT = 11,
  E_PUBKEY = 12,
  E_TRUST_ANCHOR = 13,
  E_CLIENT_CERT = 14,
  E_CLIENT_KEY = 15,
  E_TLS_BUFFERS = 16,
  E_TLS_VERSIONS = 17,
  E_NTP_SERVER = 18,
  E_HEARTBEAT = 19,
  E_KEEPALIVE = 20,
  E_DEVICE_NAME = 21,
  E_CONFIG_VERSION = 22,
  E_UPDATE_KEY = 23,
  E_LAST_KNOWN = 23
};

const char* field_name(uint8_t t) {
  switch (t) {
    case E_WIFI_SSID: return "wifi_ssid";
    case E_WIFI_PASSWORD: return "wifi_password";
    case E_BROKER_HOST: return "broker_host";
    case E_BROKER_PORT: return "broker_port";
    case E_BROKER_SNI: return "broker_sni";
    case E_CLIENT_ID: return "client_id";
    case E_USERNAME: return "username";
    case E_PASSWORD: return "password";
    case E_TOPIC_PREFIX: return "topic_prefix";
    case E_TRUST_MODE: return "trust_mode";
    case E_FINGERPRINT: return "fingerprint";
    case E_PUBKEY: return "pubkey";
    case E_TRUST_ANCHOR: return "trust_anchor";
    case E_CLIENT_CERT: return "client_cert";
    case E_CLIENT_KEY: return "client_key";
    case E_TLS_BUFFERS: return "tls_buffers";
    case E_TLS_VERSIONS: return "tls_versions";
    case E_NTP_SERVER: return "ntp_server";
    case E_HEARTBEAT: return "heartbeat";
    case E_KEEPALIVE: return "keepalive";
    case E_DEVICE_NAME: return "device_name";
    case E_CONFIG_VERSION: return "config_version";
    case E_UPDATE_KEY: return "update_key";
    default: return "unknown";
  }
}

// String limits in bytes without the NUL (CONFIG_FORMAT.md).
void str_limits(uint8_t t, size_t* min, size_t* max) {
  *min = 1;
  switch (t) {
    case E_WIFI_SSID: *max = 32; break;
    case E_WIFI_PASSWORD: *min = 0; *max = 64; break;
    case E_BROKER_HOST:
    case E_BROKER_SNI: *max = 255; break;
    case E_CLIENT_ID: *max = 128; break;
    case E_USERNAME: *min = 0; *max = 128; break;
    case E_PASSWORD: *min = 0; *max = 256; break;
    case E_TOPIC_PREFIX:
    case E_NTP_SERVER:
    case E_DEVICE_NAME: *max = 64; break;
    default: *min = 0; *max = kBlobMaxLen; break;
  }
}

uint16_t rd16(const uint8_t* p) { return (uint16_t)(p[0] | ((uint16_t)p[1] << 8)); }

uint32_t rd32(const uint8_t* p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
// U+10FFFF. The same set Rust's str::from_utf8 accepts.
bool valid_utf8(const uint8_t* s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t extra;
    uint8_t lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      extra = 1;
    } else if (c == 0xe0) {
      extra = 2; lo = 0xa0;
    } else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) {
      extra = 2;
    } else if (c == 0xed) {
      extra = 2; hi = 0x9f;
    } else if (c == 0xf0) {
      extra = 3; lo = 0x90;
    } else if (c >= 0xf1 && c <= 0xf3) {
      extra = 3;
    } else if (c == 0xf4) {
      extra = 3; hi = 0x8f;
    } else {
      return false;
    }
    if (n - i <= extra) return false;
    // The first continuation byte has the narrowed range; the rest 80..bf.
    if (s[i + 1] < lo || s[i + 1] > hi) return false;
    for (size_t k = 2; k <= extra; k++) {
      if (s[i + k] < 0x80 || s[i + k] > 0xbf) return false;
    }
    i += extra + 1;
  }
  return true;
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
BlobStatus fail(BlobStatus s, char* why, size_t why_len, const char* fmt, ...) {
  if (why != NULL && why_len > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
  }
  return s;
}

}  // namespace

uint32_t crc32_update(uint32_t crc, const uint8_t* data, size_t len) {
  crc = ~crc;
  for (size_t i = 0; i < len; i++) {
    crc ^= data[i];
    for (int k = 0; k < 8; k++) {
      crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
  }
  return ~crc;
}

const char* blob_status_code(BlobStatus s) {
  switch (s) {
    case BLOB_OK: return "ok";
    case BLOB_TRUNCATED: return "truncated";
    case BLOB_BAD_MAGIC: return "bad_magic";
    case BLOB_BAD_VERSION: return "bad_version";
    case BLOB_BAD_LENGTH: return "bad_length";
    case BLOB_BAD_CRC: return "bad_crc";
    case BLOB_BAD_ENTRY: return "bad_entry";
    case BLOB_BAD_VALUE: return "bad_value";
    case BLOB_DUPLICATE: return "duplicate";
    case BLOB_TOO_MANY: return "too_many";
    case BLOB_MISSING_FIELD: return "missing_field";
  }
  return "unknown";
}

const char* trust_mode_name(TrustMode m) {
  switch (m) {
    case TRUST_CA: return "ca";
    case TRUST_PUBKEY: return "pubkey";
    case TRUST_FINGERPRINT: return "fingerprint";
    case TRUST_INSECURE: return "insecure";
  }
  return "?";
}

const char* tls_version_name(uint16_t v) {
  switch (v) {
    case kTls10: return "1.0";
    case kTls11: return "1.1";
    case kTls12: return "1.2";
  }
  return "?";
}

BlobStatus decode_config_blob(const uint8_t* buf, size_t len, ConfigBlob* out, char* why,
                              size_t why_len) {
  if (why != NULL && why_len > 0) why[0] = '\0';
  if (out == NULL || (buf == NULL && len > 0)) {
    return fail(BLOB_TRUNCATED, why, why_len, "no buffer");
  }
  if (len < kBlobHeaderLen) {
    return fail(BLOB_TRUNCATED, why, why_len, "%s %ld bytes, the header alone is 12",
                "truncated:", (long)len);
  }
  if (memcmp(buf, "EMQC", 4) != 0) {
    return fail(BLOB_BAD_MAGIC, why, why_len, "no config blob (magic is not EMQC)");
  }
  uint16_t version = rd16(buf + 4);
  if (version != kBlobFormatVersion) {
    return fail(BLOB_BAD_VERSION, why, why_len, "%s %ld (this build reads version 1)",
                "unsupported config format version", (long)version);
  }
  size_t total = rd16(buf + 6);
  if (total < kBlobHeaderLen || total > kBlobMaxLen) {
    return fail(BLOB_BAD_LENGTH, why, why_len, "%s %ld (must be 12..4096)",
                "invalid blob length", (long)total);
  }
  if (len < total) {
    return fail(BLOB_TRUNCATED, why, why_len, "%s %ld", "truncated: the header says",
                (long)total);
  }
  uint32_t stored = rd32(buf + 8);
  uint32_t computed = crc32_update(0, buf, 8);
  computed = crc32_update(computed, buf + kBlobHeaderLen, total - kBlobHeaderLen);
  if (stored != computed) {
    return fail(BLOB_BAD_CRC, why, why_len, "CRC mismatch");
  }

  memset(out, 0, sizeof(*out));
  out->format_version = version;
  out->length = (uint16_t)total;
  out->broker_port = 8883;
  out->trust_mode = TRUST_CA;
  out->tls_rx_buffer = 512;
  out->tls_tx_buffer = 512;
  out->tls_min_version = kTls10;
  out->tls_max_version = kTls12;
  out->heartbeat = 60;
  out->keepalive = 15;

  bool seen[E_LAST_KNOWN + 1];
  memset(seen, 0, sizeof(seen));

  size_t pos = kBlobHeaderLen;
  while (pos < total) {
    if (total - pos < 3) {
      return fail(BLOB_BAD_ENTRY, why, why_len, "%s %ld runs past the end of the blob",
                  "entry at offset", (long)pos);
    }
    uint8_t t = buf[pos];
    size_t vlen = rd16(buf + pos + 1);
    size_t start = pos + 3;
    if (vlen > total - start) {
      return fail(BLOB_BAD_ENTRY, why, why_len, "%s %ld runs past the end of the blob",
                  "entry at offset", (long)pos);
    }
    const uint8_t* v = buf + start;
    pos = start + vlen;

    if (t == 0 || t > E_LAST_KNOWN) continue;  // unknown: skip (forward compatible)
    const char* field = field_name(t);
    bool repeatable =
        t == E_FINGERPRINT || t == E_TRUST_ANCHOR || t == E_CLIENT_CERT || t == E_NTP_SERVER;
    if (!repeatable) {
      if (seen[t]) {
        return fail(BLOB_DUPLICATE, why, why_len, "%s appears more than once", field);
      }
      seen[t] = true;
    }

    switch (t) {
      case E_WIFI_SSID:
      case E_WIFI_PASSWORD:
      case E_BROKER_HOST:
      case E_BROKER_SNI:
      case E_CLIENT_ID:
      case E_USERNAME:
      case E_PASSWORD:
      case E_TOPIC_PREFIX:
      case E_NTP_SERVER:
      case E_DEVICE_NAME: {
        if (vlen == 0 || v[vlen - 1] != 0) {
          return fail(BLOB_BAD_VALUE, why, why_len, "invalid value for %s: not NUL-terminated",
                      field);
        }
        size_t n = vlen - 1;
        if (memchr(v, 0, n) != NULL) {
          return fail(BLOB_BAD_VALUE, why, why_len, "invalid value for %s: contains a NUL byte",
                      field);
        }
        if (!valid_utf8(v, n)) {
          return fail(BLOB_BAD_VALUE, why, why_len, "invalid value for %s: not valid UTF-8",
                      field);
        }
        size_t mn, mx;
        str_limits(t, &mn, &mx);
        if (n < mn || n > mx) {
          return fail(BLOB_BAD_VALUE, why, why_len, "invalid value for %s: %ld bytes", field,
                      (long)n);
        }
        const char* s = reinterpret_cast<const char*>(v);
        switch (t) {
          case E_WIFI_SSID: out->wifi_ssid = s; break;
          case E_WIFI_PASSWORD: out->wifi_password = s; break;
          case E_BROKER_HOST: out->broker_host = s; break;
          case E_BROKER_SNI: out->broker_sni = s; break;
          case E_CLIENT_ID: out->client_id = s; break;
          case E_USERNAME: out->username = s; break;
          case E_PASSWORD: out->password = s; break;
          case E_TOPIC_PREFIX: out->topic_prefix = s; break;
          case E_DEVICE_NAME: out->device_name = s; break;
          case E_NTP_SERVER:
            if (out->ntp_server_count >= kMaxNtpServers) {
              return fail(BLOB_TOO_MANY, why, why_len, "too many %s entries", field);
            }
            out->ntp_servers[out->ntp_server_count++] = s;
            break;
        }
        break;
      }
      case E_BROKER_PORT:
        if (vlen != 2 || rd16(v) == 0) {
          return fail(BLOB_BAD_VALUE, why, why_len, "invalid value for %s", field);
        }
        out->broker_port = rd16(v);
        break;
      case E_TRUST_MODE:
        if (vlen != 1 || v[0] > 3) {
          return fail(BLOB_BAD_VALUE, why, why_len, "invalid value for %s", field);
        }
        out->trust_mode = static_cast<TrustMode>(v[0]);
        break;
      case E_FINGERPRINT:
        if (vlen != 20) {
          return fail(BLOB_BAD_VALUE, why, why_len, "invalid value for %s: size %ld", field,
                      (long)vlen);
        }
        if (out->fingerprint_count >= kMaxFingerprints) {
          return fail(BLOB_TOO_MANY, why, why_len, "too many %s entries", field);
        }
        out->fingerprints[out->fingerprint_count++] = v;
        break;
      case E_PUBKEY:
      case E_CLIENT_KEY:
      case E_TRUST_ANCHOR:
      case E_CLIENT_CERT: {
        if (vlen == 0) {
          return fail(BLOB_BAD_VALUE, why, why_len, "invalid value for %s: empty", field);
        }
        BlobBytes b;
        b.data = v;
        b.len = (uint16_t)vlen;
        if (t == E_PUBKEY) {
          out->pubkey = b;
        } else if (t == E_CLIENT_KEY) {
          out->client_key = b;
        } else if (t == E_TRUST_ANCHOR) {
          if (out->trust_anchor_count >= kMaxTrustAnchors) {
            return fail(BLOB_TOO_MANY, why, why_len, "too many %s entries", field);
          }
          out->trust_anchors[out->trust_anchor_count++] = b;
        } else {
          if (out->client_cert_count >= kMaxClientCerts) {
            return fail(BLOB_TOO_MANY, why, why_len, "too many %s entries", field);
          }
          out->client_certs[out->client_cert_count++] = b;
        }
        break;
      }
      case E_TLS_BUFFERS: {
        if (vlen != 4) {
          return fail(BLOB_BAD_VALUE, why, why_len, "invalid value for %s: size %ld", field,
                      (long)vlen);
        }
        uint16_t rx = rd16(v), tx = rd16(v + 2);
        if (rx < 512 || rx > 16384 || tx < 512 || tx > 16384) {
          return fail(BLOB_BAD_VALUE, why, why_len,
                      "invalid value for %s: sizes must be 512..16384", field);
        }
        out->tls_rx_buffer = rx;
        out->tls_tx_buffer = tx;
        break;
      }
      case E_TLS_VERSIONS: {
        if (vlen != 4) {
          return fail(BLOB_BAD_VALUE, why, why_len, "invalid value for %s: size %ld", field,
                      (long)vlen);
        }
        uint16_t mn = rd16(v), mx = rd16(v + 2);
        if (mn < kTls10 || mn > kTls12 || mx < kTls10 || mx > kTls12 || mn > mx) {
          return fail(BLOB_BAD_VALUE, why, why_len, "invalid value for %s", field);
        }
        out->tls_min_version = mn;
        out->tls_max_version = mx;
        break;
      }
      case E_HEARTBEAT:
        if (vlen != 4 || rd32(v) == 0) {
          return fail(BLOB_BAD_VALUE, why, why_len, "invalid value for %s", field);
        }
        out->heartbeat = rd32(v);
        break;
      case E_KEEPALIVE:
        if (vlen != 2) {
          return fail(BLOB_BAD_VALUE, why, why_len, "invalid value for %s: size %ld", field,
                      (long)vlen);
        }
        out->keepalive = rd16(v);
        break;
      case E_CONFIG_VERSION:
        if (vlen != 4) {
          return fail(BLOB_BAD_VALUE, why, why_len, "invalid value for %s: size %ld", field,
                      (long)vlen);
        }
        out->config_version = rd32(v);
        break;
      case E_UPDATE_KEY:
        if (vlen != kUpdateKeyLen) {
          return fail(BLOB_BAD_VALUE, why, why_len, "invalid value for %s: size %ld", field,
                      (long)vlen);
        }
        out->update_key = v;
        break;
      default:
        break;
    }
  }

  static const uint8_t required[] = {E_WIFI_SSID, E_BROKER_HOST, E_CLIENT_ID, E_TOPIC_PREFIX,
                                     E_TRUST_MODE};
  for (size_t i = 0; i < sizeof(required); i++) {
    if (!seen[required[i]]) {
      return fail(BLOB_MISSING_FIELD, why, why_len, "missing %s", field_name(required[i]));
    }
  }
  if (out->ntp_server_count == 0) {
    // Defaults, as documented; string literals live for the program's lifetime.
    out->ntp_servers[0] = "pool.ntp.org";
    out->ntp_servers[1] = "time.nist.gov";
    out->ntp_server_count = 2;
  }
  if (out->trust_mode == TRUST_CA && out->trust_anchor_count == 0) {
    return fail(BLOB_MISSING_FIELD, why, why_len, "missing %s (required in ca mode)",
                "trust_anchor");
  }
  if (out->trust_mode == TRUST_PUBKEY && out->pubkey.len == 0) {
    return fail(BLOB_MISSING_FIELD, why, why_len, "missing %s (required in pubkey mode)",
                "pubkey");
  }
  if (out->trust_mode == TRUST_FINGERPRINT && out->fingerprint_count == 0) {
    return fail(BLOB_MISSING_FIELD, why, why_len, "missing %s (required in fingerprint mode)",
                "fingerprint");
  }
  if ((out->client_cert_count == 0) != (out->client_key.len == 0)) {
    return fail(BLOB_MISSING_FIELD, why, why_len,
                "missing %s: client_cert and client_key must be given together",
                "client credentials");
  }
  return BLOB_OK;
}

// ---------------------------------------------------------------------------
// The pinned EC key and the core's key decoder (config_blob.h).

namespace {

// A DER element with tag `tag` at the start of p[0..avail): header length
// and content length (definite lengths up to 0xffff, minimal encoding).
bool der_element(const uint8_t* p, size_t avail, uint8_t tag, size_t* hdr, size_t* n) {
  if (avail < 2 || p[0] != tag) return false;
  if (p[1] < 0x80) {
    *hdr = 2;
    *n = p[1];
  } else if (p[1] == 0x81 && avail >= 3 && p[2] >= 0x80) {
    *hdr = 3;
    *n = p[2];
  } else if (p[1] == 0x82 && avail >= 4 && p[2] != 0) {
    *hdr = 4;
    *n = ((size_t)p[2] << 8) | p[3];
  } else {
    return false;
  }
  return *n <= avail - *hdr;
}

size_t der_length_size(size_t n) { return n < 0x80 ? 1 : n < 0x100 ? 2 : 3; }

uint8_t* der_put_length(uint8_t* o, size_t n) {
  if (n >= 0x100) {
    *o++ = 0x82;
    *o++ = (uint8_t)(n >> 8);
  } else if (n >= 0x80) {
    *o++ = 0x81;
  }
  *o++ = (uint8_t)n;
  return o;
}

}  // namespace

bool ec_point_one_byte_short(int curve, size_t qlen) {
  size_t full = curve == 23 ? 65 : curve == 24 ? 97 : curve == 25 ? 133 : 0;
  return full != 0 && qlen + 1 == full;
}

size_t ec_key_der_with_04_doubled(const uint8_t* der, size_t len, uint8_t* out, size_t out_len) {
  static const uint8_t kEcPublicKeyOid[] = {0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
  size_t h = 0, n = 0, ah = 0, an = 0, bh = 0, bn = 0;
  if (der == NULL || !der_element(der, len, 0x30, &h, &n) || h + n != len) return 0;
  const uint8_t* alg = der + h;
  if (!der_element(alg, n, 0x30, &ah, &an) || an < sizeof(kEcPublicKeyOid) ||
      memcmp(alg + ah, kEcPublicKeyOid, sizeof(kEcPublicKeyOid)) != 0) {
    return 0;
  }
  size_t alg_len = ah + an;
  const uint8_t* bits = alg + alg_len;
  if (!der_element(bits, n - alg_len, 0x03, &bh, &bn) || alg_len + bh + bn != n) return 0;
  // No unused bits, an uncompressed point.
  if (bn < 2 || bits[bh] != 0x00 || bits[bh + 1] != 0x04) return 0;
  size_t bits_len = bn + 1;
  size_t inner = alg_len + 1 + der_length_size(bits_len) + bits_len;
  if (inner > 0xffff || 1 + der_length_size(inner) + inner > out_len) return 0;
  uint8_t* o = out;
  *o++ = 0x30;
  o = der_put_length(o, inner);
  memcpy(o, alg, alg_len);
  o += alg_len;
  *o++ = 0x03;
  o = der_put_length(o, bits_len);
  *o++ = 0x00;
  *o++ = 0x04;
  memcpy(o, bits + bh + 1, bn - 1);  // 04 X Y
  o += bn - 1;
  return (size_t)(o - out);
}

}  // namespace espmqtt
