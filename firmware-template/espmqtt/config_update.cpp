// Config updates over MQTT; see config_update.h and ../CONFIG_FORMAT.md,
// "Config updates over MQTT" (message, checks, slot state record).
//
// Power-cut safety rests on three rules, each checked by the tests' power-cut
// sweep (tests/it/ota_firmware.rs):
// 1. The committed slot is never erased or rewritten; only the other slot is.
// 2. A record is written header first, blob second, so a slot is only ever
//    used when its header and the CRC of its blob both check out; a cut
//    anywhere in between leaves a slot that is ignored.
// 3. Every later state change (try, commit, rollback, acknowledged) clears
//    one 32-bit word of the record from 0xffffffff: any other value counts
//    as set, so a write cut short is either not done or done.

#include "config_update.h"

#include <stdio.h>
#include <string.h>

// The core ships BearSSL under tools/sdk/include/bearssl/; Debian's
// libbearssl-dev installs the same headers under /usr/include/bearssl/.
#include <bearssl/bearssl_hmac.h>

namespace espmqtt {

namespace {

const uint32_t kRecordMagic = 0x53514d45;  // "EMQS"
const uint32_t kUnset = 0xffffffffu;

// Offsets inside the 128-byte record at the end of the sector.
const uint32_t R_MAGIC = 0;
const uint32_t R_SEQ = 4;
const uint32_t R_NUMBER = 8;
const uint32_t R_BLOB_LEN = 12;
const uint32_t R_BLOB_CRC = 16;
const uint32_t R_BASE_LEN = 20;
const uint32_t R_BASE_CRC = 24;
const uint32_t R_CHECK = 28;
const uint32_t R_HEADER_LEN = 32;
const uint32_t R_TRY1 = 32;  // R_TRY1 + 4·k for try k+1
const uint32_t R_COMMIT = 44;
const uint32_t R_ROLLBACK = 48;
const uint32_t R_ACK = 52;
const uint32_t R_FLOOR = 64;  // kFloorLogEntries × (number, ~number)

// Rollback reasons as stored in the R_ROLLBACK word: kind << 24 | value.
enum ReasonKind { RK_TLS = 1, RK_MQTT = 2, RK_WIFI = 3, RK_TIMEOUT = 4, RK_RESET = 5, RK_OTHER = 6 };

uint32_t rd32(const uint8_t* p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint16_t rd16(const uint8_t* p) { return (uint16_t)(p[0] | ((uint16_t)p[1] << 8)); }

void wr32(uint8_t* p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

bool parse_int(const char* s, long* out) {
  if (*s == '\0') return false;
  bool neg = false;
  if (*s == '-') {
    neg = true;
    s++;
  }
  long v = 0;
  if (*s == '\0') return false;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || v > 1000000) return false;
    v = v * 10 + (*s - '0');
  }
  *out = neg ? -v : v;
  return true;
}

uint32_t encode_reason(const char* r) {
  long v = 0;
  uint32_t kind = RK_OTHER;
  if (strncmp(r, "tls:", 4) == 0 && parse_int(r + 4, &v)) {
    kind = RK_TLS;
  } else if (strncmp(r, "mqtt:", 5) == 0 && parse_int(r + 5, &v)) {
    kind = RK_MQTT;
  } else if (strcmp(r, "wifi") == 0) {
    kind = RK_WIFI;
  } else if (strcmp(r, "timeout") == 0) {
    kind = RK_TIMEOUT;
  } else if (strcmp(r, "reset") == 0) {
    kind = RK_RESET;
  }
  return (kind << 24) | ((uint32_t)v & 0xffffffu);
}

void decode_reason(uint32_t w, char* out, size_t out_len) {
  long v = (long)(w & 0xffffffu);
  if (v & 0x800000L) v -= 0x1000000L;
  switch (w >> 24) {
    case RK_TLS: snprintf(out, out_len, "tls:%ld", v); break;
    case RK_MQTT: snprintf(out, out_len, "mqtt:%ld", v); break;
    case RK_WIFI: snprintf(out, out_len, "wifi"); break;
    case RK_TIMEOUT: snprintf(out, out_len, "timeout"); break;
    case RK_RESET: snprintf(out, out_len, "reset"); break;
    default: snprintf(out, out_len, "unknown"); break;
  }
}

void set_ack(UpdateAck* ack, UpdateResult r, uint32_t number, const char* reason) {
  ack->result = r;
  ack->number = number;
  snprintf(ack->reason, sizeof(ack->reason), "%s", reason != NULL ? reason : "");
}

bool all_ff(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (p[i] != 0xff) return false;
  }
  return true;
}

}  // namespace

const char* update_result_name(UpdateResult r) {
  switch (r) {
    case UPD_STAGED: return "staged";
    case UPD_COMMITTED: return "committed";
    case UPD_ROLLED_BACK: return "rolled_back";
    case UPD_REJECTED: return "rejected";
    case UPD_DUPLICATE: return "duplicate";
    case UPD_NONE: break;
  }
  return "";
}

size_t format_update_ack(const UpdateAck& ack, char* out, size_t out_len) {
  // The reason is one of our own codes; escape anyway so any text stays JSON.
  char reason[sizeof(ack.reason) * 6 + 1];
  size_t k = 0;
  for (const char* p = ack.reason; *p && p < ack.reason + sizeof(ack.reason); p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '"' || c == '\\') {
      reason[k++] = '\\';
      reason[k++] = (char)c;
    } else if (c < 0x20) {
      k += (size_t)snprintf(reason + k, sizeof(reason) - k, "\\u%04x", c);
    } else {
      reason[k++] = (char)c;
    }
  }
  reason[k] = '\0';
  int n = snprintf(out, out_len, "{\"update\":%lu,\"result\":\"%s\",\"reason\":\"%s\"}",
                   (unsigned long)ack.number, update_result_name(ack.result), reason);
  if (n < 0 || (size_t)n >= out_len) {
    if (out_len > 0) out[0] = '\0';
    return 0;
  }
  return (size_t)n;
}

void hmac_sha256(const uint8_t* key, size_t key_len, const uint8_t* data, size_t len,
                 uint8_t out[32]) {
  br_hmac_key_context kc;
  br_hmac_context ctx;
  br_hmac_key_init(&kc, &br_sha256_vtable, key, key_len);
  br_hmac_init(&ctx, &kc, 0);
  br_hmac_update(&ctx, data, len);
  br_hmac_out(&ctx, out);
}

bool equal_constant_time(const uint8_t* a, const uint8_t* b, size_t len) {
  volatile uint8_t diff = 0;
  for (size_t i = 0; i < len; i++) diff = (uint8_t)(diff | (a[i] ^ b[i]));
  return diff == 0;
}

ConfigStore::ConfigStore(FlashIo& io, uint32_t slot_a, uint32_t slot_b)
    : io_(io),
      slot_a_(slot_a),
      slot_b_(slot_b),
      committed_(-1),
      staged_(-1),
      active_(-1),
      latest_(-1),
      committed_seq_(0),
      committed_number_(0),
      committed_len_(0),
      committed_crc_(0),
      floor_(0) {
  memset(views_, 0, sizeof(views_));
}

uint32_t ConfigStore::active_blob_len() const {
  return active_ < 0 ? 0 : views_[active_].blob_len;
}

uint32_t ConfigStore::committed_number() const { return committed_number_; }

uint32_t ConfigStore::staged_number() const {
  return staged_ < 0 ? 0 : views_[staged_].number;
}

uint8_t ConfigStore::staged_tries() const { return staged_ < 0 ? 0 : views_[staged_].tries; }

bool ConfigStore::read_view(int slot, uint8_t* s, SlotView* v) {
  memset(v, 0, sizeof(*v));
  v->kind = SLOT_EMPTY;
  if (!io_.read(addr(slot), s, kSlotSize)) return false;
  const uint8_t* rec = s + kSlotRecordOffset;
  uint32_t blob_len = rd32(rec + R_BLOB_LEN);
  v->header_ok = rd32(rec + R_MAGIC) == kRecordMagic &&
                 crc32_update(0, rec, R_CHECK) == rd32(rec + R_CHECK) &&
                 blob_len >= kBlobHeaderLen && blob_len <= kSlotBlobMax;
  ConfigBlob cfg;
  if (v->header_ok) {
    v->seq = rd32(rec + R_SEQ);
    v->number = rd32(rec + R_NUMBER);
    v->blob_len = blob_len;
    v->blob_crc = rd32(rec + R_BLOB_CRC);
    v->base_len = rd32(rec + R_BASE_LEN);
    v->base_crc = rd32(rec + R_BASE_CRC);
    for (uint32_t k = 0; k < kUpdateMaxTries; k++) {
      if (rd32(rec + R_TRY1 + 4 * k) != kUnset) v->tries++;
    }
    v->committed = rd32(rec + R_COMMIT) != kUnset;
    v->rollback_word = rd32(rec + R_ROLLBACK);
    v->rolled_back = v->rollback_word != kUnset;
    v->acked = rd32(rec + R_ACK) != kUnset;
    v->floor_writable = true;
    bool blob_ok = crc32_update(0, s, blob_len) == v->blob_crc &&
                   decode_config_blob(s, blob_len, &cfg, NULL, 0) == BLOB_OK &&
                   rd16(s + 6) == blob_len;
    v->kind = blob_ok ? SLOT_RECORD : SLOT_BROKEN;
  } else {
    // No record. Slot A may hold a blob written over serial, which may run
    // over the record area (a blob written over the air never does).
    bool bare = slot == 0 && decode_config_blob(s, kSlotSize, &cfg, NULL, 0) == BLOB_OK &&
                (cfg.length > kSlotRecordOffset || all_ff(rec, R_HEADER_LEN));
    if (bare) {
      v->kind = SLOT_BARE;
      v->number = cfg.config_version;
      v->blob_len = cfg.length;
      v->blob_crc = crc32_update(0, s, cfg.length);
      v->floor_writable = cfg.length <= kSlotRecordOffset;
    } else {
      v->kind = all_ff(s, kSlotSize) ? SLOT_EMPTY : SLOT_BROKEN;
      v->floor_writable = false;
    }
  }
  if (v->floor_writable) {
    for (uint8_t i = 0; i < kFloorLogEntries; i++) {
      uint32_t n = rd32(rec + R_FLOOR + 8 * i);
      uint32_t inv = rd32(rec + R_FLOOR + 8 * i + 4);
      if (n == kUnset && inv == kUnset) continue;
      v->floor_used = (uint8_t)(i + 1);
      if (n == (uint32_t)~inv && n > v->floor_max) v->floor_max = n;
    }
  }
  return true;
}

void ConfigStore::recompute_floor() {
  for (int s = 0; s < 2; s++) {
    const SlotView& v = views_[s];
    if (v.header_ok && v.number > floor_) floor_ = v.number;
    if (v.kind == SLOT_BARE && v.number > floor_) floor_ = v.number;
    if (v.floor_max > floor_) floor_ = v.floor_max;
  }
}

bool ConfigStore::write_marker(int slot, uint32_t offset, uint32_t value) {
  uint8_t w[4];
  wr32(w, value);
  return io_.write(addr(slot) + kSlotRecordOffset + offset, w, sizeof(w));
}

bool ConfigStore::boot(uint8_t* scratch, UpdateAck* pending) {
  if (pending != NULL) set_ack(pending, UPD_NONE, 0, "");
  committed_ = staged_ = active_ = latest_ = -1;
  read_view(0, scratch, &views_[0]);
  read_view(1, scratch, &views_[1]);
  SlotView& a = views_[0];
  SlotView& b = views_[1];

  if (a.kind == SLOT_BARE) {
    // A blob written over serial. It is the committed config unless slot B
    // holds a record staged on top of exactly this blob (the base fields);
    // any other record in B predates the serial write and is ignored.
    committed_ = 0;
    bool b_follows = b.header_ok && b.base_len == a.blob_len && b.base_crc == a.blob_crc;
    if (b_follows) {
      latest_ = 1;
      if (b.kind == SLOT_RECORD && b.committed) {
        committed_ = 1;
      } else if (b.kind == SLOT_RECORD && !b.rolled_back) {
        staged_ = 1;
      }
    }
  } else {
    for (int s = 0; s < 2; s++) {
      const SlotView& v = views_[s];
      if (v.kind == SLOT_RECORD && v.committed &&
          (committed_ < 0 || v.seq > views_[committed_].seq)) {
        committed_ = s;
      }
    }
    if (committed_ >= 0) {
      int o = 1 - committed_;
      const SlotView& v = views_[o];
      latest_ = committed_;
      if (v.header_ok && v.seq > views_[committed_].seq) {
        latest_ = o;
        if (v.kind == SLOT_RECORD && !v.committed && !v.rolled_back) staged_ = o;
      }
    }
  }
  if (committed_ < 0) return false;

  const SlotView& c = views_[committed_];
  committed_seq_ = c.kind == SLOT_BARE ? 0 : c.seq;
  committed_number_ = c.number;
  committed_len_ = c.blob_len;
  committed_crc_ = c.blob_crc;
  recompute_floor();

  if (staged_ >= 0 && views_[staged_].tries >= kUpdateMaxTries) {
    // Every try was spent, the last one ended in a reset: give up on it.
    SlotView& v = views_[staged_];
    v.rollback_word = encode_reason("reset");
    write_marker(staged_, R_ROLLBACK, v.rollback_word);
    v.rolled_back = true;
    staged_ = -1;
  }
  active_ = staged_ >= 0 ? staged_ : committed_;
  if (pending != NULL) pending_ack(pending);
  return true;
}

void ConfigStore::pending_ack(UpdateAck* ack) const {
  set_ack(ack, UPD_NONE, 0, "");
  if (latest_ < 0) return;
  const SlotView& v = views_[latest_];
  if (!v.header_ok || v.acked) return;
  if (v.committed && latest_ == committed_) {
    set_ack(ack, UPD_COMMITTED, v.number, "");
  } else if (v.rolled_back) {
    char reason[24];
    decode_reason(v.rollback_word, reason, sizeof(reason));
    set_ack(ack, UPD_ROLLED_BACK, v.number, reason);
  }
}

void ConfigStore::begin_attempt() {
  if (!trying_staged()) return;
  SlotView& v = views_[staged_];
  if (v.tries >= kUpdateMaxTries) return;
  write_marker(staged_, R_TRY1 + 4 * v.tries, 0);
  v.tries++;
}

void ConfigStore::attempt_succeeded(UpdateAck* ack) {
  if (!trying_staged()) {
    pending_ack(ack);
    return;
  }
  SlotView& v = views_[staged_];
  write_marker(staged_, R_COMMIT, 0);
  v.committed = true;
  committed_ = staged_;
  latest_ = staged_;
  staged_ = -1;
  active_ = committed_;
  committed_seq_ = v.seq;
  committed_number_ = v.number;
  committed_len_ = v.blob_len;
  committed_crc_ = v.blob_crc;
  set_ack(ack, UPD_COMMITTED, v.number, "");
}

void ConfigStore::attempt_failed(const char* reason, UpdateAck* ack) {
  set_ack(ack, UPD_NONE, 0, "");
  if (!trying_staged()) return;
  SlotView& v = views_[staged_];
  if (v.tries < kUpdateMaxTries) return;
  v.rollback_word = encode_reason(reason != NULL ? reason : "");
  write_marker(staged_, R_ROLLBACK, v.rollback_word);
  v.rolled_back = true;
  latest_ = staged_;
  staged_ = -1;
  active_ = committed_;
  set_ack(ack, UPD_ROLLED_BACK, v.number, reason);
}

void ConfigStore::ack_published(const UpdateAck& ack) {
  if (latest_ < 0) return;
  SlotView& v = views_[latest_];
  if (!v.header_ok || v.acked || ack.number != v.number) return;
  bool terminal = (ack.result == UPD_COMMITTED && v.committed) ||
                  (ack.result == UPD_ROLLED_BACK && v.rolled_back);
  if (!terminal) return;
  write_marker(latest_, R_ACK, 0);
  v.acked = true;
}

// Reads the whole blob even after a difference, so the time it takes does not
// tell where a message first differs from what is in flash.
bool ConfigStore::blob_matches(int slot, const uint8_t* blob, size_t len) {
  uint8_t chunk[64];
  bool same = true;
  for (size_t off = 0; off < len; off += sizeof(chunk)) {
    size_t n = len - off < sizeof(chunk) ? len - off : sizeof(chunk);
    size_t n4 = (n + 3) & ~(size_t)3;
    if (!io_.read(addr(slot) + (uint32_t)off, chunk, n4)) return false;
    same = equal_constant_time(chunk, blob + off, n) && same;
  }
  return same;
}

// The update with this number is the one the device runs, tries or has just
// rolled back: a retained or QoS 1 redelivery of it changes nothing.
bool ConfigStore::handled(uint32_t number) const {
  if (committed_ >= 0 && views_[committed_].number == number) return true;
  if (latest_ >= 0 && views_[latest_].header_ok && views_[latest_].number == number) return true;
  return false;
}

// The update in the committed slot, or in the latest one (being tried, or
// just rolled back), delivered again: the same number and, byte for byte,
// the same blob as that slot holds (length and CRC from the slot's view, then
// the bytes in flash).
bool ConfigStore::redelivered(uint32_t number, const uint8_t* blob, size_t len) {
  const int slots[2] = {committed_, latest_};
  uint32_t crc = crc32_update(0, blob, len);
  for (int i = 0; i < 2; i++) {
    int s = slots[i];
    if (s < 0 || (i == 1 && s == committed_)) continue;
    const SlotView& v = views_[s];
    if (v.kind != SLOT_RECORD && v.kind != SLOT_BARE) continue;
    if (v.number != number || v.blob_len != len || v.blob_crc != crc) continue;
    if (blob_matches(s, blob, len)) return true;
  }
  return false;
}

bool ConfigStore::stage(const uint8_t* blob, size_t len, uint32_t number) {
  int t = 1 - committed_;
  SlotView& c = views_[committed_];
  // The target may hold the only record of a rolled-back number: keep the
  // highest number in the committed slot's floor log before erasing it.
  uint32_t kept = committed_number_ > c.floor_max ? committed_number_ : c.floor_max;
  if (floor_ > kept && c.floor_writable && c.floor_used < kFloorLogEntries) {
    uint8_t e[8];
    wr32(e, floor_);
    wr32(e + 4, ~floor_);
    io_.write(addr(committed_) + kSlotRecordOffset + R_FLOOR + 8 * c.floor_used, e, sizeof(e));
    c.floor_used++;
    c.floor_max = floor_;
  }

  uint32_t base = addr(t);
  // Clear the old blob's magic first: an erase cut short must not leave an
  // intact old blob without its record (in slot A that would read as a blob
  // written over serial, and win).
  views_[t].kind = SLOT_BROKEN;
  views_[t].header_ok = false;
  if (latest_ == t) latest_ = -1;
  static const uint8_t kZero[4] = {0, 0, 0, 0};
  io_.write(base, kZero, sizeof(kZero));
  if (!io_.erase_sector(base)) return false;
  uint8_t h[R_HEADER_LEN];
  wr32(h + R_MAGIC, kRecordMagic);
  wr32(h + R_SEQ, committed_seq_ + 1);
  wr32(h + R_NUMBER, number);
  wr32(h + R_BLOB_LEN, (uint32_t)len);
  wr32(h + R_BLOB_CRC, crc32_update(0, blob, len));
  wr32(h + R_BASE_LEN, committed_len_);
  wr32(h + R_BASE_CRC, committed_crc_);
  wr32(h + R_CHECK, crc32_update(0, h, R_CHECK));
  // From here on a reset may leave this header, and so the number, behind.
  if (number > floor_) floor_ = number;
  if (!io_.write(base + kSlotRecordOffset, h, sizeof(h))) return false;
  size_t whole = len & ~(size_t)3;
  if (whole > 0 && !io_.write(base, blob, whole)) return false;
  if (whole < len) {
    uint8_t tail[4] = {0xff, 0xff, 0xff, 0xff};
    memcpy(tail, blob + whole, len - whole);
    if (!io_.write(base + (uint32_t)whole, tail, sizeof(tail))) return false;
  }
  // Read back: what is in flash is what will be booted.
  if (!blob_matches(t, blob, len)) return false;
  uint8_t back[R_HEADER_LEN];
  if (!io_.read(base + kSlotRecordOffset, back, sizeof(back)) || memcmp(back, h, sizeof(h)) != 0) {
    return false;
  }

  SlotView& v = views_[t];
  memset(&v, 0, sizeof(v));
  v.kind = SLOT_RECORD;
  v.header_ok = true;
  v.seq = committed_seq_ + 1;
  v.number = number;
  v.blob_len = (uint32_t)len;
  v.blob_crc = rd32(h + R_BLOB_CRC);
  v.base_len = committed_len_;
  v.base_crc = committed_crc_;
  v.rollback_word = kUnset;
  v.floor_writable = true;
  staged_ = t;
  latest_ = t;
  if (number > floor_) floor_ = number;
  return true;
}

void ConfigStore::receive(const uint8_t* m, size_t len, const ConfigBlob& current,
                          UpdateAck* ack) {
  set_ack(ack, UPD_NONE, 0, "");
  if (len == 0) return;  // the retained message was cleared
  // 1. Larger than any message espmqtt sends.
  if (len > kUpdateMaxMessage) {
    set_ack(ack, UPD_REJECTED, 0, "too_large");
    return;
  }
  // 2. Framing.
  if (len < 6 || memcmp(m, "EMQU", 4) != 0 || m[4] != 1) {
    set_ack(ack, UPD_REJECTED, 0, "bad_format");
    return;
  }
  size_t n = m[5];
  if (n == 0 || n > kUpdateMaxClientId || len < 12 + n) {
    set_ack(ack, UPD_REJECTED, 0, "bad_format");
    return;
  }
  size_t blob_len = rd16(m + 10 + n);
  if (blob_len < kBlobHeaderLen || blob_len > kBlobMaxLen ||
      len != kUpdateFixedLen + n + blob_len) {
    set_ack(ack, UPD_REJECTED, 0, "bad_format");
    return;
  }
  uint32_t number = rd32(m + 6 + n);
  const uint8_t* blob = m + 12 + n;
  const uint8_t* mac = blob + blob_len;
  // 3. For this device.
  const char* id = current.client_id != NULL ? current.client_id : "";
  if (strlen(id) != n || memcmp(id, m + 6, n) != 0) {
    set_ack(ack, UPD_REJECTED, number, "wrong_client");
    return;
  }
  // 4-5. Authentic, with the committed config's key.
  if (current.update_key == NULL) {
    set_ack(ack, UPD_REJECTED, number, "no_update_key");
    return;
  }
  // Before 5: the update already handled, delivered again, is recognised
  // without its MAC. After a key rotation the broker still holds the
  // rotating message, MACed with the previous key; the device holds the new
  // one and would answer it bad_mac, overwriting the retained `committed`
  // ack. This needs no authentication: a message reaching this branch only
  // ever gives UPD_DUPLICATE (a status line; no flash write, no ack, no state
  // change), and only when it repeats a number and a blob the device already
  // holds in flash. Every such blob carries an update key (check 4 above, or
  // check 9 when it was staged), so the answer cannot confirm a guessed
  // config either.
  if (number <= floor_ && redelivered(number, blob, blob_len)) {
    set_ack(ack, UPD_DUPLICATE, number, "");
    return;
  }
  uint8_t want[kUpdateMacLen];
  hmac_sha256(current.update_key, kUpdateKeyLen, m, 12 + n + blob_len, want);
  if (!equal_constant_time(want, mac, kUpdateMacLen)) {
    set_ack(ack, UPD_REJECTED, number, "bad_mac");
    return;
  }
  // 6. New. The broker delivers the retained message again after every
  // reconnect: the update already handled is not answered (an ack would
  // overwrite the retained one that says what became of it).
  if (number <= floor_) {
    if (handled(number)) {
      set_ack(ack, UPD_DUPLICATE, number, "");
    } else {
      set_ack(ack, UPD_REJECTED, number, "replayed");
    }
    return;
  }
  // 7-10. A blob this firmware can run and that keeps updates and trust.
  if (blob_len > kSlotBlobMax) {
    set_ack(ack, UPD_REJECTED, number, "bad_blob:too_large");
    return;
  }
  ConfigBlob cfg;
  BlobStatus st = decode_config_blob(blob, blob_len, &cfg, NULL, 0);
  if (st != BLOB_OK) {
    char reason[sizeof(ack->reason)];
    snprintf(reason, sizeof(reason), "bad_blob:%s", blob_status_code(st));
    set_ack(ack, UPD_REJECTED, number, reason);
    return;
  }
  if (strcmp(cfg.client_id, id) != 0) {
    set_ack(ack, UPD_REJECTED, number, "blob_client_mismatch");
    return;
  }
  if (cfg.update_key == NULL) {
    set_ack(ack, UPD_REJECTED, number, "no_update_key_in_blob");
    return;
  }
  bool no_trust = cfg.trust_mode == TRUST_INSECURE && current.trust_mode != TRUST_INSECURE;
  if (cfg.trust_mode == TRUST_FINGERPRINT) {
    bool any = false;
    for (uint8_t i = 0; i < cfg.fingerprint_count; i++) {
      for (int k = 0; k < 20; k++) any = any || cfg.fingerprints[i][k] != 0;
    }
    no_trust = no_trust || !any;
  }
  if (no_trust) {
    set_ack(ack, UPD_REJECTED, number, "no_trust");
    return;
  }
  // 11. One at a time.
  if (staged_ >= 0 || committed_ < 0) {
    set_ack(ack, UPD_REJECTED, number, "busy");
    return;
  }
  if (!stage(blob, blob_len, number)) {
    // The flash refused a write: the spare slot is left unusable, the
    // committed config untouched.
    staged_ = -1;
    set_ack(ack, UPD_REJECTED, number, "flash");
    return;
  }
  set_ack(ack, UPD_STAGED, number, "");
}

}  // namespace espmqtt
