// espmqtt firmware for ESP8266 (ESP-07 / ESP-07S): MQTT over TLS with every
// device-specific setting read from a config blob in flash.
//
// The logic lives in this plain C++ file rather than in espmqtt.ino so the
// Arduino builder's prototype generation never touches it (it mis-handles
// functions in namespaces); espmqtt.ino only calls app_setup() / app_loop().
//
// Built for the esp8266/Arduino core 3.1.x and PubSubClient 2.8. One image
// serves a whole fleet: Wi-Fi, broker, credentials and trust material come
// from the blob that `espmqtt flash` writes to the Arduino EEPROM sector
// (format: ../CONFIG_FORMAT.md). Each state change prints one status line in
// the format of ../STATUS_LINES.md, which `espmqtt monitor` explains.
//
// Facts about the core, BearSSL and PubSubClient cited below are sections of
// the espmqtt repository's docs/DEVICE.md.

#include <ESP8266WiFi.h>
#include <PubSubClient.h>
#include <WiFiClientSecure.h>
#include <time.h>

#include <new>

#include "app.h"
#include "build_info.h"
#include "config_blob.h"
#include "config_update.h"

using espmqtt::ConfigBlob;

// Start of the Arduino EEPROM sector, from the linker script; the core's
// EEPROM library computes its sector the same way (flash offset =
// address - 0x40200000). DEVICE.md "Flash layout": flash_size - 0x5000.
extern "C" uint32_t _EEPROM_start;

namespace {

const uint32_t kSectorSize = 4096;
const uint32_t kFlashMapBase = 0x40200000;
const uint32_t kWifiTimeoutMs = 20000;
const uint32_t kNtpTimeoutMs = 20000;
const uint32_t kUnprovisionedRepeatMs = 60000;
// PubSubClient keeps a whole incoming PUBLISH in its buffer and drops longer
// ones: the largest update message (4268) + fixed header (5) + topic length
// and topic (2 + 64 + 1 + 128 + 7) + packet id (2), rounded up
// (CONFIG_FORMAT.md, "Buffer sizes in the firmware").
const uint16_t kMqttBufferSize = 4608;
// 2021-01-01: before the first SNTP sync time() counts seconds since boot
// ("Clock"), which never reaches this.
const time_t kClockSetAfter = 1609459200;
// BR_ERR_X509_NOT_TRUSTED: what a fingerprint mismatch reports ("Fingerprint rules").
const int kSslNotTrusted = 62;
// BR_ERR_X509_EXPIRED: validity check failed, typically an unset clock ("Clock").
const int kSslExpired = 54;

// The blob stays in RAM for the program's lifetime: the decoded strings point
// into it, and PubSubClient keeps the server-name pointer ("PubSubClient 2.8").
// At boot it is also the config store's scratch buffer.
uint8_t g_blob[espmqtt::kSlotSize] __attribute__((aligned(4)));
ConfigBlob g_cfg;
bool g_provisioned = false;
uint32_t g_sector_offset = 0;
espmqtt::BlobStatus g_blob_status = espmqtt::BLOB_TRUNCATED;
char g_blob_why[96];
bool g_flash_read_failed = false;

// Trust material must outlive the client: the setters keep pointers
// ("Trust modes and the calls behind them").
BearSSL::X509List* g_anchors = nullptr;
BearSSL::PublicKey* g_pubkey = nullptr;
BearSSL::X509List* g_client_chain = nullptr;
BearSSL::PrivateKey* g_client_key = nullptr;

// The two config slots (CONFIG_FORMAT.md, "Two slots") through the core's
// flash API, which wants 4-byte-aligned RAM buffers: bounce through one.
class EspFlash : public espmqtt::FlashIo {
 public:
  bool erase_sector(uint32_t addr) override { return ESP.flashEraseSector(addr / kSectorSize); }
  bool write(uint32_t addr, const uint8_t* data, size_t len) override {
    while (len > 0) {
      size_t n = len < sizeof(buf_) ? len : sizeof(buf_);
      memcpy(buf_, data, n);
      if (!ESP.flashWrite(addr, buf_, n)) return false;
      addr += n;
      data += n;
      len -= n;
    }
    return true;
  }
  bool read(uint32_t addr, uint8_t* data, size_t len) override {
    while (len > 0) {
      size_t n = len < sizeof(buf_) ? len : sizeof(buf_);
      if (!ESP.flashRead(addr, buf_, n)) return false;
      memcpy(data, buf_, n);
      addr += n;
      data += n;
      len -= n;
    }
    return true;
  }

 private:
  uint32_t buf_[64];
};

EspFlash g_flash;
espmqtt::ConfigStore* g_store = nullptr;
uint8_t g_store_space[sizeof(espmqtt::ConfigStore)] __attribute__((aligned(8)));
bool g_attempt_open = false;
bool g_update_restart = false;

BearSSL::WiFiClientSecure g_tls;
PubSubClient g_mqtt(g_tls);

// <prefix>/<client_id>/<leaf>: prefix ≤ 64, client id ≤ 128 (CONFIG_FORMAT.md).
char g_topic_status[64 + 1 + 128 + 12];
char g_topic_cmd[sizeof(g_topic_status)];
char g_topic_heartbeat[sizeof(g_topic_status)];
char g_topic_config[sizeof(g_topic_status)];
char g_topic_config_ack[sizeof(g_topic_status)];

bool g_wifi_up = false;
uint32_t g_wifi_attempt = 0;
uint32_t g_wifi_next_ms = 0;

bool g_mqtt_up = false;
uint32_t g_mqtt_attempt = 0;
uint32_t g_mqtt_next_ms = 0;
uint8_t g_fp_preferred = 0;
bool g_ntp_done = false;

uint32_t g_last_heartbeat_ms = 0;
bool g_heartbeat_now = false;
bool g_restart_requested = false;
uint32_t g_last_unprovisioned_ms = 0;

// ---------------------------------------------------------------------------
// Status lines (STATUS_LINES.md): `espmqtt: <event> key=value …`

class StatusLine {
 public:
  explicit StatusLine(const char* event) {
    Serial.print(F("espmqtt: "));
    Serial.print(event);
  }
  ~StatusLine() { Serial.print(F("\r\n")); }

  StatusLine& str(const char* key, const char* value) {
    begin_key(key);
    if (value == nullptr) value = "";
    bool bare = value[0] != '\0';
    for (const char* p = value; *p && bare; p++) {
      unsigned char c = static_cast<unsigned char>(*p);
      if (c < 0x21 || c > 0x7e || c == '"' || c == '\\' || c == '=') bare = false;
    }
    if (bare) {
      Serial.print(value);
      return *this;
    }
    Serial.print('"');
    for (const char* p = value; *p; p++) {
      unsigned char c = static_cast<unsigned char>(*p);
      if (c == '"' || c == '\\') {
        Serial.print('\\');
        Serial.print(static_cast<char>(c));
      } else if (c < 0x20 || c > 0x7e) {
        static const char kHex[] = "0123456789abcdef";
        Serial.print(F("\\x"));
        Serial.print(kHex[c >> 4]);
        Serial.print(kHex[c & 0x0f]);
      } else {
        Serial.print(static_cast<char>(c));
      }
    }
    Serial.print('"');
    return *this;
  }

  StatusLine& num(const char* key, long value) {
    begin_key(key);
    Serial.print(value);
    return *this;
  }

  StatusLine& unum(const char* key, unsigned long value) {
    begin_key(key);
    Serial.print(value);
    return *this;
  }

  StatusLine& yesno(const char* key, bool value) { return str(key, value ? "yes" : "no"); }

 private:
  void begin_key(const char* key) {
    Serial.print(' ');
    Serial.print(key);
    Serial.print('=');
  }
};

// ---------------------------------------------------------------------------
// Helpers

// Exponential back-off with jitter: base·2^(attempt-1) capped, then a random
// point in its upper half, so a fleet that lost its broker does not come back
// in lockstep.
uint32_t backoff_ms(uint32_t attempt, uint32_t base_ms, uint32_t cap_ms) {
  uint32_t shift = attempt > 0 ? attempt - 1 : 0;
  if (shift > 10) shift = 10;
  uint32_t d = base_ms << shift;
  if (d > cap_ms) d = cap_ms;
  uint32_t half = d / 2;
  return half + ESP.random() % (half + 1);
}

bool due(uint32_t at_ms) { return static_cast<int32_t>(millis() - at_ms) >= 0; }

bool clock_is_set() { return time(nullptr) > kClockSetAfter; }

const char* connect_name() {
  // The core cannot send an SNI that differs from the name it resolves
  // (connect(name) does both, "Trust modes and the calls behind them"), so a
  // configured SNI is the name used.
  return g_cfg.broker_sni != nullptr ? g_cfg.broker_sni : g_cfg.broker_host;
}

void make_topic(char* out, size_t out_len, const char* leaf) {
  snprintf(out, out_len, "%s/%s/%s", g_cfg.topic_prefix, g_cfg.client_id, leaf);
}

// ---------------------------------------------------------------------------
// Configuration

// Pick the config to run from the two slots at `offset` (slot A) and
// offset - 0x1000 (slot B), CONFIG_FORMAT.md "Two slots", and decode it.
bool read_blob_at(uint32_t offset) {
  g_sector_offset = offset;
  g_store = new (g_store_space)
      espmqtt::ConfigStore(g_flash, offset, offset - espmqtt::kSlotBOffsetBelowA);
  g_flash_read_failed = false;
  // A committed or rolled_back ack that a reset kept from being published
  // goes out after the next successful connection (attempt_succeeded).
  if (!g_store->boot(g_blob, nullptr)) {
    // Say why slot A is unusable (what a serial write would fix).
    if (!ESP.flashRead(offset, reinterpret_cast<uint32_t*>(g_blob), sizeof(g_blob))) {
      g_flash_read_failed = true;
      snprintf(g_blob_why, sizeof(g_blob_why), "SPI flash read at 0x%x failed",
               static_cast<unsigned>(offset));
      return false;
    }
    g_blob_status =
        espmqtt::decode_config_blob(g_blob, sizeof(g_blob), &g_cfg, g_blob_why, sizeof(g_blob_why));
    if (g_blob_status == espmqtt::BLOB_OK) {
      g_blob_status = espmqtt::BLOB_BAD_MAGIC;  // a record area that is neither empty nor valid
      snprintf(g_blob_why, sizeof(g_blob_why), "the slot's state record is damaged");
    }
    return false;
  }
  if (!ESP.flashRead(g_store->active_addr(), reinterpret_cast<uint32_t*>(g_blob), sizeof(g_blob))) {
    g_flash_read_failed = true;
    snprintf(g_blob_why, sizeof(g_blob_why), "SPI flash read at 0x%x failed",
             static_cast<unsigned>(g_store->active_addr()));
    return false;
  }
  g_sector_offset = g_store->active_addr();
  g_blob_status =
      espmqtt::decode_config_blob(g_blob, sizeof(g_blob), &g_cfg, g_blob_why, sizeof(g_blob_why));
  return g_blob_status == espmqtt::BLOB_OK;
}

// The sector the linker reserved for EEPROM; if the image was built for a
// smaller flash layout than the chip has, also try flash_size - 0x5000 of the
// real chip (where `espmqtt flash` writes when it detects the size).
bool load_config() {
  uint32_t linker_offset =
      static_cast<uint32_t>(reinterpret_cast<uintptr_t>(&_EEPROM_start)) - kFlashMapBase;
  linker_offset -= linker_offset % kSectorSize;
  bool read_ok = read_blob_at(linker_offset);
  if (read_ok) return true;
  uint32_t real_size = ESP.getFlashChipRealSize();
  if (real_size > 0x5000 && real_size - 0x5000 != linker_offset) {
    espmqtt::BlobStatus first = g_blob_status;
    bool first_read_failed = g_flash_read_failed;
    char first_why[sizeof(g_blob_why)];
    memcpy(first_why, g_blob_why, sizeof(first_why));
    if (read_blob_at(real_size - 0x5000)) return true;
    // Report the sector this image was linked for.
    g_sector_offset = linker_offset;
    g_blob_status = first;
    g_flash_read_failed = first_read_failed;
    memcpy(g_blob_why, first_why, sizeof(g_blob_why));
  }
  return false;
}

void report_unprovisioned() {
  char sector[12];
  snprintf(sector, sizeof(sector), "0x%x", static_cast<unsigned>(g_sector_offset));
  StatusLine("unprovisioned")
      .str("reason", g_flash_read_failed ? "flash_read" : espmqtt::blob_status_code(g_blob_status))
      .str("detail", g_blob_why)
      .str("sector", sector);
  g_last_unprovisioned_ms = millis();
}

void report_config() {
  char tls[8];
  snprintf(tls, sizeof(tls), "%s-%s", espmqtt::tls_version_name(g_cfg.tls_min_version),
           espmqtt::tls_version_name(g_cfg.tls_max_version));
  StatusLine line("config");
  line.unum("version", g_cfg.format_version)
      .unum("length", g_cfg.length)
      .str("device", g_cfg.device_name)
      .str("client_id", g_cfg.client_id)
      .str("host", g_cfg.broker_host)
      .unum("port", g_cfg.broker_port);
  if (g_cfg.broker_sni != nullptr && strcmp(g_cfg.broker_sni, g_cfg.broker_host) != 0) {
    line.str("sni", g_cfg.broker_sni);
  }
  line.str("trust", espmqtt::trust_mode_name(g_cfg.trust_mode))
      .unum("fingerprints", g_cfg.fingerprint_count)
      .unum("anchors", g_cfg.trust_anchor_count)
      .yesno("client_cert", g_cfg.client_cert_count > 0)
      .unum("rx", g_cfg.tls_rx_buffer)
      .unum("tx", g_cfg.tls_tx_buffer)
      .str("tls", tls)
      .str("slot", g_store->active_slot() == 0 ? "A" : "B")
      .str("state", g_store->trying_staged() ? "staged" : "committed")
      .unum("update", g_cfg.config_version)
      .yesno("updates", g_cfg.update_key != nullptr);
}

// The pinned key of `pubkey` mode. The core decodes it with its BearSSL
// fork, which leaves an uncompressed EC point one byte short, so the key
// never matches (ssl_error 27; docs/DEVICE.md, "pubkey mode: EC keys and the
// core's key decoder"). When the decoded point shows it, the key is decoded
// again from a copy with the point's 0x04 doubled, which that decoder turns
// into the right point. A decoder without the quirk never takes this path.
BearSSL::PublicKey* pinned_key() {
  auto* pk = new BearSSL::PublicKey(g_cfg.pubkey.data, g_cfg.pubkey.len);
  if (!pk->isEC() || !espmqtt::ec_point_one_byte_short(pk->getEC()->curve, pk->getEC()->qlen)) {
    return pk;
  }
  static uint8_t fixed[espmqtt::kEcKeyDerMax];
  size_t n = espmqtt::ec_key_der_with_04_doubled(g_cfg.pubkey.data, g_cfg.pubkey.len, fixed,
                                                 sizeof(fixed));
  if (n == 0 || !pk->parse(fixed, n) || !pk->isEC() || pk->getEC()->q[0] != 0x04) {
    pk->parse(g_cfg.pubkey.data, g_cfg.pubkey.len);  // as before: the handshake reports it
  }
  return pk;
}

// Install the trust mode, client certificate and buffer sizes once. The order
// matters only in that each trust setter clears the others (last call wins,
// "Trust modes and the calls behind them") while client credentials survive
// them ("Client certificates").
void configure_tls() {
  switch (g_cfg.trust_mode) {
    case espmqtt::TRUST_CA:
      g_anchors = new BearSSL::X509List();
      for (uint8_t i = 0; i < g_cfg.trust_anchor_count; i++) {
        g_anchors->append(g_cfg.trust_anchors[i].data, g_cfg.trust_anchors[i].len);
      }
      g_tls.setTrustAnchors(g_anchors);
      break;
    case espmqtt::TRUST_PUBKEY:
      g_pubkey = pinned_key();
      g_tls.setKnownKey(g_pubkey);
      break;
    case espmqtt::TRUST_FINGERPRINT:
      // Set per attempt in connect_mqtt(): both fingerprints are tried in turn.
      g_tls.setFingerprint(g_cfg.fingerprints[0]);
      break;
    case espmqtt::TRUST_INSECURE:
      g_tls.setInsecure();
      break;
  }
  if (g_cfg.client_cert_count > 0) {
    g_client_chain = new BearSSL::X509List();
    for (uint8_t i = 0; i < g_cfg.client_cert_count; i++) {
      g_client_chain->append(g_cfg.client_certs[i].data, g_cfg.client_certs[i].len);
    }
    g_client_key = new BearSSL::PrivateKey(g_cfg.client_key.data, g_cfg.client_key.len);
    if (g_client_key->isEC()) {
      // The issuer key type only matters below TLS 1.2 ("Client certificates").
      g_tls.setClientECCert(g_client_chain, g_client_key, BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN,
                            BR_KEYTYPE_EC);
    } else {
      g_tls.setClientRSACert(g_client_chain, g_client_key);
    }
  }
  // Must precede connect(); equal buffers make BearSSL request that MFL
  // ("Buffers and max fragment length").
  g_tls.setBufferSizes(g_cfg.tls_rx_buffer, g_cfg.tls_tx_buffer);
  g_tls.setSSLVersion(g_cfg.tls_min_version, g_cfg.tls_max_version);
}

void on_message(char* topic, uint8_t* payload, unsigned int len);

void configure_mqtt() {
  make_topic(g_topic_status, sizeof(g_topic_status), "status");
  make_topic(g_topic_cmd, sizeof(g_topic_cmd), "cmd");
  make_topic(g_topic_heartbeat, sizeof(g_topic_heartbeat), "heartbeat");
  make_topic(g_topic_config, sizeof(g_topic_config), "config");
  make_topic(g_topic_config_ack, sizeof(g_topic_config_ack), "config/ack");

  // PubSubClient needs the whole CONNECT in its buffer, refuses publishes
  // larger than the buffer and drops incoming messages that do not fit
  // ("PubSubClient 2.8"): the largest config update decides (kMqttBufferSize).
  size_t user_len = g_cfg.username ? strlen(g_cfg.username) : 0;
  size_t pass_len = g_cfg.password ? strlen(g_cfg.password) : 0;
  size_t connect_len = 5 + 7 + 1 + 2 + (2 + strlen(g_cfg.client_id)) +
                       (2 + strlen(g_topic_status)) + (2 + 7) + (2 + user_len) + (2 + pass_len);
  size_t want = kMqttBufferSize;
  if (connect_len + 16 > want) want = connect_len + 16;
  g_mqtt.setBufferSize(static_cast<uint16_t>(want));

  // The domain pointer is kept, not copied ("PubSubClient 2.8"): it points into
  // g_blob.
  g_mqtt.setServer(connect_name(), g_cfg.broker_port);
  g_mqtt.setKeepAlive(g_cfg.keepalive);
  g_mqtt.setCallback(on_message);
}

// ---------------------------------------------------------------------------
// MQTT

void publish_heartbeat() {
  char payload[200];
  snprintf(payload, sizeof(payload),
           "{\"uptime\":%lu,\"heap\":%lu,\"max_block\":%lu,\"frag\":%u,\"rssi\":%d,"
           "\"reset\":\"%s\",\"fw\":\"%s\"}",
           static_cast<unsigned long>(millis() / 1000),
           static_cast<unsigned long>(ESP.getFreeHeap()),
           static_cast<unsigned long>(ESP.getMaxFreeBlockSize()),
           static_cast<unsigned>(ESP.getHeapFragmentation()), static_cast<int>(WiFi.RSSI()),
           ESP.getResetReason().c_str(), ESPMQTT_FW_VERSION);
  if (!g_mqtt.publish(g_topic_heartbeat, payload)) {
    StatusLine("publish_failed").str("topic", g_topic_heartbeat).unum("len", strlen(payload));
  }
  g_last_heartbeat_ms = millis();
}

// `update result=… number=… [reason=…]` and the retained ack
// (CONFIG_FORMAT.md, "Acknowledgement"); remembered once published.
void publish_update_ack(const espmqtt::UpdateAck& ack) {
  if (ack.result == espmqtt::UPD_NONE) return;
  {
    StatusLine line("update");
    line.str("result", espmqtt::update_result_name(ack.result)).unum("number", ack.number);
    if (ack.reason[0] != '\0') line.str("reason", ack.reason);
  }
  // A redelivery: the retained ack already says what became of it.
  if (ack.result == espmqtt::UPD_DUPLICATE) return;
  char json[128];
  size_t n = espmqtt::format_update_ack(ack, json, sizeof(json));
  if (n == 0 || !g_mqtt.publish(g_topic_config_ack, reinterpret_cast<const uint8_t*>(json),
                                static_cast<unsigned int>(n), true)) {
    StatusLine("publish_failed").str("topic", g_topic_config_ack).unum("len", n);
    return;
  }
  g_store->ack_published(ack);
}

void on_config_message(const uint8_t* payload, unsigned int len) {
  espmqtt::UpdateAck ack;
  g_store->receive(payload, len, g_cfg, &ack);
  publish_update_ack(ack);
  // Try the staged config on a fresh connection: a restart runs the same
  // boot path as a power cycle.
  if (ack.result == espmqtt::UPD_STAGED && g_store->staged_number() == ack.number) {
    g_update_restart = true;
  }
}

void on_message(char* topic, uint8_t* payload, unsigned int len) {
  if (strcmp(topic, g_topic_config) == 0) {
    on_config_message(payload, len);
    return;
  }
  if (strcmp(topic, g_topic_cmd) != 0) return;
  char name[33];
  size_t n = len < sizeof(name) - 1 ? len : sizeof(name) - 1;
  memcpy(name, payload, n);
  name[n] = '\0';
  const char* action = "ignored";
  if (strcmp(name, "restart") == 0) {
    action = "restart";
    g_restart_requested = true;  // restart from loop(), not inside the callback
  } else if (strcmp(name, "heartbeat") == 0) {
    action = "heartbeat";
    g_heartbeat_now = true;
  }
  StatusLine("cmd").str("name", name).str("action", action);
}

// Wait (bounded) for SNTP before the first `ca`-mode connection: certificate
// dates are checked against time(), which starts at 1970 ("Clock").
void wait_for_clock() {
  if (g_cfg.trust_mode != espmqtt::TRUST_CA || clock_is_set() || g_ntp_done) return;
  char servers[3 * 65];
  servers[0] = '\0';
  for (uint8_t i = 0; i < g_cfg.ntp_server_count; i++) {
    if (i) strncat(servers, ",", sizeof(servers) - strlen(servers) - 1);
    strncat(servers, g_cfg.ntp_servers[i], sizeof(servers) - strlen(servers) - 1);
  }
  StatusLine("ntp_wait").str("servers", servers).unum("timeout_ms", kNtpTimeoutMs);
  uint32_t start = millis();
  while (!clock_is_set() && millis() - start < kNtpTimeoutMs) {
    delay(250);
  }
  g_ntp_done = true;
  if (clock_is_set()) {
    StatusLine("ntp_synced")
        .unum("epoch", static_cast<unsigned long>(time(nullptr)))
        .unum("waited_ms", millis() - start);
  } else {
    StatusLine("ntp_timeout").unum("waited_ms", millis() - start);
  }
}

// A connection attempt with a staged config spends one of its tries; Wi-Fi
// join and MQTT connect together are one attempt.
void open_attempt() {
  if (g_attempt_open) return;
  g_attempt_open = true;
  g_store->begin_attempt();
}

// The attempt failed. After the staged config's last try the committed one
// takes over: restart into it; the rolled_back ack goes out after the next
// successful connection.
void fail_attempt(const char* reason) {
  g_attempt_open = false;
  espmqtt::UpdateAck ack;
  g_store->attempt_failed(reason, &ack);
  if (ack.result == espmqtt::UPD_ROLLED_BACK) {
    StatusLine("update")
        .str("result", espmqtt::update_result_name(ack.result))
        .unum("number", ack.number)
        .str("reason", ack.reason);
    delay(100);
    ESP.restart();
  }
}

void connect_mqtt() {
  g_mqtt_attempt++;
  open_attempt();
  wait_for_clock();
  bool fingerprint_mode = g_cfg.trust_mode == espmqtt::TRUST_FINGERPRINT;
  uint8_t tries = fingerprint_mode ? g_cfg.fingerprint_count : 1;
  for (uint8_t k = 0; k < tries; k++) {
    uint8_t fp = static_cast<uint8_t>((g_fp_preferred + k) % tries);
    if (fingerprint_mode) g_tls.setFingerprint(g_cfg.fingerprints[fp]);
    {
      StatusLine line("mqtt_connecting");
      line.str("host", connect_name())
          .unum("port", g_cfg.broker_port)
          .str("trust", espmqtt::trust_mode_name(g_cfg.trust_mode));
      if (fingerprint_mode) line.unum("fp", fp + 1);
      line.unum("attempt", g_mqtt_attempt)
          .unum("heap", ESP.getFreeHeap())
          .unum("max_block", ESP.getMaxFreeBlockSize());
    }

    // Last will: <prefix>/<id>/status = "offline", retained (QoS 0).
    bool ok = g_mqtt.connect(g_cfg.client_id, g_cfg.username,
                             g_cfg.username ? g_cfg.password : nullptr, g_topic_status, 0, true,
                             "offline", true);
    if (ok) {
      g_fp_preferred = fp;
      g_mqtt_up = true;
      g_mqtt_attempt = 0;
      {
        StatusLine line("mqtt_connected");
        line.str("host", connect_name())
            .unum("port", g_cfg.broker_port)
            .yesno("mfln", g_tls.getMFLNStatus() != 0);
        if (fingerprint_mode) line.unum("fp", fp + 1);
        line.unum("heap", ESP.getFreeHeap()).unum("max_block", ESP.getMaxFreeBlockSize());
      }
      if (!g_mqtt.publish(g_topic_status, "online", true)) {
        StatusLine("publish_failed").str("topic", g_topic_status).unum("len", 6);
      }
      // CONNACK 0: a staged config is committed now.
      g_attempt_open = false;
      espmqtt::UpdateAck ack;
      g_store->attempt_succeeded(&ack);
      publish_update_ack(ack);
      bool sub = g_mqtt.subscribe(g_topic_cmd);
      StatusLine("subscribed").str("topic", g_topic_cmd).yesno("ok", sub);
      // Also without an update key, so that an update is answered no_update_key.
      sub = g_mqtt.subscribe(g_topic_config, 1);
      StatusLine("subscribed").str("topic", g_topic_config).yesno("ok", sub);
      publish_heartbeat();
      return;
    }

    // Read the BearSSL error now: stop() (ours, or the next connect()) frees
    // the engine and the error with it. PubSubClient does not call stop() on
    // the connect-failed path ("BearSSL error numbers").
    char ssl_text[96];
    ssl_text[0] = '\0';
    int ssl_error = g_tls.getLastSSLError(ssl_text, sizeof(ssl_text));
    int state = g_mqtt.state();
    // A fingerprint mismatch is BearSSL error 62; only then is the other
    // fingerprint worth trying at once (current and next; docs/ARCHITECTURE.md,
    // "Trust modes").
    bool try_next = fingerprint_mode && k + 1 < tries && ssl_error == kSslNotTrusted;
    uint32_t retry = try_next ? 0 : backoff_ms(g_mqtt_attempt, 2000, 300000);
    {
      StatusLine line("mqtt_failed");
      line.num("state", state).num("ssl_error", ssl_error);
      // The core has no text for 0 ("Unknown error code."): TLS was not the problem.
      if (ssl_error != 0) line.str("ssl_text", ssl_text);
      line.str("trust", espmqtt::trust_mode_name(g_cfg.trust_mode));
      if (fingerprint_mode) line.unum("fp", fp + 1);
      line.unum("attempt", g_mqtt_attempt).unum("retry_ms", retry);
    }
    // Error 54 (certificate expired or not yet valid) in ca mode usually
    // means the clock is still unset: wait for NTP again next time ("Clock").
    if (ssl_error == kSslExpired) g_ntp_done = false;
    g_tls.stop();
    if (!try_next) {
      g_mqtt_next_ms = millis() + retry;
      char reason[24];
      if (ssl_error != 0) {
        snprintf(reason, sizeof(reason), "tls:%d", ssl_error);
      } else {
        snprintf(reason, sizeof(reason), "mqtt:%d", state);
      }
      fail_attempt(reason);
      return;
    }
  }
}

// ---------------------------------------------------------------------------
// Wi-Fi

void ensure_wifi() {
  if (WiFi.status() == WL_CONNECTED) {
    if (!g_wifi_up) {
      g_wifi_up = true;
      StatusLine("wifi_connected")
          .str("ip", WiFi.localIP().toString().c_str())
          .num("rssi", WiFi.RSSI())
          .num("channel", WiFi.channel())
          .str("bssid", WiFi.BSSIDstr().c_str())
          .unum("attempt", g_wifi_attempt);
      g_wifi_attempt = 0;
    }
    return;
  }
  if (g_wifi_up) {
    g_wifi_up = false;
    StatusLine("wifi_lost").num("status", static_cast<int>(WiFi.status()));
    if (g_mqtt_up) {
      g_mqtt_up = false;
      StatusLine("mqtt_lost").num("state", g_mqtt.state());
    }
  }
  if (!due(g_wifi_next_ms)) return;
  g_wifi_attempt++;
  open_attempt();
  StatusLine("wifi_connecting").str("ssid", g_cfg.wifi_ssid).unum("attempt", g_wifi_attempt);
  WiFi.begin(g_cfg.wifi_ssid, g_cfg.wifi_password);
  int8_t result = WiFi.waitForConnectResult(kWifiTimeoutMs);
  if (result == WL_CONNECTED) {
    ensure_wifi();  // prints wifi_connected
    return;
  }
  uint32_t retry = backoff_ms(g_wifi_attempt, 1000, 60000);
  StatusLine("wifi_failed")
      .num("status", result)
      .unum("attempt", g_wifi_attempt)
      .unum("retry_ms", retry);
  WiFi.disconnect();
  g_wifi_next_ms = millis() + retry;
  fail_attempt("wifi");
}

}  // namespace

void app_setup() {
  Serial.begin(115200);
  Serial.println();
  {
    char chip[8];
    snprintf(chip, sizeof(chip), "%06x", static_cast<unsigned>(ESP.getChipId()));
    StatusLine("boot")
        .str("fw", ESPMQTT_FW_VERSION)
        .str("core", ESP.getCoreVersion().c_str())
        .str("reset", ESP.getResetReason().c_str())
        .str("chip", chip)
        .unum("flash", ESP.getFlashChipRealSize())
        .unum("heap", ESP.getFreeHeap());
  }

  g_provisioned = load_config();
  if (!g_provisioned) {
    report_unprovisioned();
    return;
  }
  report_config();
  configure_tls();
  configure_mqtt();

  // Core 3 does not persist Wi-Fi settings by default; say so explicitly so
  // begin() never writes flash ("Wi-Fi status values"). Reconnects are ours, with back-off.
  WiFi.persistent(false);
  WiFi.mode(WIFI_STA);
  WiFi.setAutoReconnect(false);

  if (g_cfg.trust_mode == espmqtt::TRUST_CA) {
    // The server names stay valid for the program's lifetime ("Clock"): g_blob.
    configTime("UTC0", g_cfg.ntp_servers[0],
               g_cfg.ntp_server_count > 1 ? g_cfg.ntp_servers[1] : nullptr,
               g_cfg.ntp_server_count > 2 ? g_cfg.ntp_servers[2] : nullptr);
  }
}

void app_loop() {
  if (!g_provisioned) {
    // Nothing to do without a configuration; remind whoever watches the console.
    if (millis() - g_last_unprovisioned_ms >= kUnprovisionedRepeatMs) report_unprovisioned();
    delay(100);
    return;
  }
  if (g_restart_requested || g_update_restart) {
    // A clean DISCONNECT suppresses the last will: say offline ourselves.
    g_mqtt.publish(g_topic_status, "offline", true);
    g_mqtt.disconnect();
    delay(100);
    ESP.restart();
  }

  ensure_wifi();
  if (!g_wifi_up) {
    delay(10);
    return;
  }

  if (!g_mqtt.connected()) {
    if (g_mqtt_up) {
      g_mqtt_up = false;
      StatusLine("mqtt_lost").num("state", g_mqtt.state());
      g_mqtt_next_ms = millis() + backoff_ms(1, 2000, 300000);
    }
    if (due(g_mqtt_next_ms)) connect_mqtt();
    delay(10);
    return;
  }

  g_mqtt.loop();
  if (g_heartbeat_now || (millis() - g_last_heartbeat_ms) / 1000 >= g_cfg.heartbeat) {
    g_heartbeat_now = false;
    publish_heartbeat();
  }
}
