// The blob as one JSON object on stdout, shared by the host tools blobdump
// and otaharness (format: ../CONFIG_FORMAT.md, "blobdump JSON").

#ifndef ESPMQTT_BLOB_JSON_H
#define ESPMQTT_BLOB_JSON_H

#include <stdio.h>

#include "config_blob.h"

namespace espmqtt {
namespace blob_json {

inline void json_string(const char* s) {
  putchar('"');
  for (const unsigned char* p = reinterpret_cast<const unsigned char*>(s); *p; p++) {
    unsigned char c = *p;
    switch (c) {
      case '"': fputs("\\\"", stdout); break;
      case '\\': fputs("\\\\", stdout); break;
      case '\n': fputs("\\n", stdout); break;
      case '\r': fputs("\\r", stdout); break;
      case '\t': fputs("\\t", stdout); break;
      case '\b': fputs("\\b", stdout); break;
      case '\f': fputs("\\f", stdout); break;
      default:
        if (c < 0x20) {
          printf("\\u%04x", c);
        } else {
          putchar(c);  // UTF-8 passes through; the decoder has validated it
        }
    }
  }
  putchar('"');
}

inline void json_opt_string(const char* s) {
  if (s == NULL) {
    fputs("null", stdout);
  } else {
    json_string(s);
  }
}

inline void json_hex(const uint8_t* data, size_t len) {
  putchar('"');
  for (size_t i = 0; i < len; i++) printf("%02x", data[i]);
  putchar('"');
}

inline void key(const char* k, bool first = false) {
  if (!first) putchar(',');
  printf("\"%s\":", k);
}

}  // namespace blob_json

// No trailing newline.
inline void print_blob_json(const ConfigBlob& b) {
  using namespace blob_json;
  putchar('{');
  key("format_version", true);
  printf("%u", (unsigned)b.format_version);
  key("length");
  printf("%u", (unsigned)b.length);
  key("device_name");
  json_opt_string(b.device_name);
  key("wifi_ssid");
  json_string(b.wifi_ssid);
  key("wifi_password");
  json_opt_string(b.wifi_password);
  key("broker_host");
  json_string(b.broker_host);
  key("broker_port");
  printf("%u", (unsigned)b.broker_port);
  key("broker_sni");
  json_opt_string(b.broker_sni);
  key("client_id");
  json_string(b.client_id);
  key("username");
  json_opt_string(b.username);
  key("password");
  json_opt_string(b.password);
  key("topic_prefix");
  json_string(b.topic_prefix);
  key("trust_mode");
  json_string(trust_mode_name(b.trust_mode));
  key("fingerprints");
  putchar('[');
  for (size_t i = 0; i < b.fingerprint_count; i++) {
    if (i) putchar(',');
    json_hex(b.fingerprints[i], 20);
  }
  putchar(']');
  key("pubkey");
  if (b.pubkey.len) {
    json_hex(b.pubkey.data, b.pubkey.len);
  } else {
    fputs("null", stdout);
  }
  key("trust_anchors");
  putchar('[');
  for (size_t i = 0; i < b.trust_anchor_count; i++) {
    if (i) putchar(',');
    json_hex(b.trust_anchors[i].data, b.trust_anchors[i].len);
  }
  putchar(']');
  key("client_cert");
  putchar('[');
  for (size_t i = 0; i < b.client_cert_count; i++) {
    if (i) putchar(',');
    json_hex(b.client_certs[i].data, b.client_certs[i].len);
  }
  putchar(']');
  key("client_key");
  if (b.client_key.len) {
    json_hex(b.client_key.data, b.client_key.len);
  } else {
    fputs("null", stdout);
  }
  key("tls_rx_buffer");
  printf("%u", (unsigned)b.tls_rx_buffer);
  key("tls_tx_buffer");
  printf("%u", (unsigned)b.tls_tx_buffer);
  key("tls_min_version");
  json_string(tls_version_name(b.tls_min_version));
  key("tls_max_version");
  json_string(tls_version_name(b.tls_max_version));
  key("ntp_servers");
  putchar('[');
  for (size_t i = 0; i < b.ntp_server_count; i++) {
    if (i) putchar(',');
    json_string(b.ntp_servers[i]);
  }
  putchar(']');
  key("heartbeat");
  printf("%lu", (unsigned long)b.heartbeat);
  key("keepalive");
  printf("%u", (unsigned)b.keepalive);
  key("config_version");
  printf("%lu", (unsigned long)b.config_version);
  key("update_key");
  if (b.update_key != NULL) {
    json_hex(b.update_key, kUpdateKeyLen);
  } else {
    fputs("null", stdout);
  }
  putchar('}');
}

}  // namespace espmqtt

#endif  // ESPMQTT_BLOB_JSON_H
