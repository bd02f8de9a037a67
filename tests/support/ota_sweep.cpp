// Tests of the firmware's config-update module (firmware-template/espmqtt/
// config_update.cpp), built by tests/it/ota_firmware.rs with g++ and run
// under ASan/UBSan:
//   unit      every check of CONFIG_FORMAT.md "Config updates over MQTT" in turn
//   corrupt   every byte of a valid message flipped, zeroed, set, every
//             truncation, insertion and extension: never a crash, never
//             staged unless the HMAC verifies; nothing written on rejection
//   junk      authenticated messages with corrupted blobs (MAC recomputed)
//   powercut  a RAM model of the two sectors; every scripted apply (stage,
//             commit, rollback, both slots, floor log) is cut before each
//             erase/write step and torn in the middle of it; after the cut the
//             module must boot a config that connected before, reach a
//             committed one within its tries, and never accept an update
//             number it had acknowledged
// Prints "<suite>: ok …" lines; the first failure prints "FAIL: …" and exits 1.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <set>
#include <string>
#include <vector>

#include "config_blob.h"
#include "config_update.h"

using namespace espmqtt;

typedef std::vector<uint8_t> Bytes;

namespace {

int g_checks = 0;

#define CHECK(cond, ...)                                  \
  do {                                                    \
    g_checks++;                                           \
    if (!(cond)) {                                        \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                       \
      fprintf(stderr, "\n");                              \
      exit(1);                                            \
    }                                                     \
  } while (0)

const uint32_t kB = 0xFA000;
const uint32_t kA = 0xFB000;

Bytes key_bytes(uint8_t start) {
  Bytes k(32);
  for (int i = 0; i < 32; i++) k[i] = (uint8_t)(start + i);
  return k;
}

struct BlobSpec {
  std::string ssid = "home";
  std::string client = "sensor-001";
  uint8_t trust = 2;
  std::vector<Bytes> fps = std::vector<Bytes>(1, Bytes(20, 7));
  uint32_t cv = 0;
  bool has_key = true;
  Bytes key = key_bytes(0);
  size_t total = 0;  // pad with an unknown entry to exactly this length
};

void put16(Bytes& b, uint16_t v) {
  b.push_back((uint8_t)v);
  b.push_back((uint8_t)(v >> 8));
}
void put32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; i++) b.push_back((uint8_t)(v >> (8 * i)));
}
void entry(Bytes& b, uint8_t t, const Bytes& v) {
  b.push_back(t);
  put16(b, (uint16_t)v.size());
  b.insert(b.end(), v.begin(), v.end());
}
Bytes str(const std::string& s) {
  Bytes v(s.begin(), s.end());
  v.push_back(0);
  return v;
}

void fix_crc(Bytes& b) {
  uint32_t c = crc32_update(0, b.data(), 8);
  c = crc32_update(c, b.data() + 12, b.size() - 12);
  for (int i = 0; i < 4; i++) b[8 + i] = (uint8_t)(c >> (8 * i));
}

Bytes make_blob(const BlobSpec& s) {
  Bytes b = {'E', 'M', 'Q', 'C', 1, 0, 0, 0, 0, 0, 0, 0};
  entry(b, 1, str(s.ssid));
  entry(b, 3, str("broker.example"));
  entry(b, 6, str(s.client));
  entry(b, 9, str("espmqtt"));
  entry(b, 10, Bytes(1, s.trust));
  for (size_t i = 0; i < s.fps.size(); i++) entry(b, 11, s.fps[i]);
  if (s.cv != 0) {
    Bytes v;
    put32(v, s.cv);
    entry(b, 22, v);
  }
  if (s.has_key) entry(b, 23, s.key);
  if (s.total > b.size()) {
    size_t pad = s.total - b.size() - 3;
    entry(b, 200, Bytes(pad, 0x5a));
  }
  b[6] = (uint8_t)b.size();
  b[7] = (uint8_t)(b.size() >> 8);
  fix_crc(b);
  return b;
}

Bytes make_msg(uint32_t n, const Bytes& blob, const std::string& client = "sensor-001",
               const Bytes& key = key_bytes(0)) {
  Bytes m = {'E', 'M', 'Q', 'U', 1, (uint8_t)client.size()};
  m.insert(m.end(), client.begin(), client.end());
  put32(m, n);
  put16(m, (uint16_t)blob.size());
  m.insert(m.end(), blob.begin(), blob.end());
  uint8_t mac[32];
  hmac_sha256(key.data(), key.size(), m.data(), m.size(), mac);
  m.insert(m.end(), mac, mac + 32);
  return m;
}

// The two sectors in RAM, NOR rules. A cut: the `budget`-th mutating
// operation (0-based) is applied torn according to `torn` and it and every
// later operation fail.
class SimFlash : public FlashIo {
 public:
  uint8_t mem[2 * kSlotSize];
  long budget;
  int torn;  // 0: not at all, 1: first half, 2: every bit half-way (weak)
  long ops;
  bool dead;

  SimFlash() : budget(-1), torn(0), ops(0), dead(false) { memset(mem, 0xff, sizeof(mem)); }

  void revive() {
    budget = -1;
    torn = 0;
    ops = 0;
    dead = false;
  }

  bool erase_sector(uint32_t addr) override {
    if (!ok_range(addr, kSlotSize) || addr % kSlotSize != 0) return false;
    uint8_t* p = mem + (addr - kB);
    if (cut_now()) {
      if (torn == 1) memset(p, 0xff, kSlotSize / 2);
      if (torn == 2) memset(p + kSlotSize / 2, 0xff, kSlotSize / 2);
      return false;
    }
    if (dead) return false;
    memset(p, 0xff, kSlotSize);
    return true;
  }

  bool write(uint32_t addr, const uint8_t* data, size_t len) override {
    CHECK(addr % 4 == 0 && len % 4 == 0, "unaligned write 0x%x+%zu", addr, len);
    if (!ok_range(addr, len)) return false;
    uint8_t* p = mem + (addr - kB);
    if (cut_now()) {
      if (torn == 1) {
        for (size_t i = 0; i < len / 2 + (len == 1); i++) p[i] &= data[i];
      }
      if (torn == 2) {
        for (size_t i = 0; i < len; i++) p[i] &= (uint8_t)(data[i] | 0x55);
      }
      return false;
    }
    if (dead) return false;
    for (size_t i = 0; i < len; i++) p[i] &= data[i];
    return true;
  }

  bool read(uint32_t addr, uint8_t* data, size_t len) override {
    CHECK(addr % 4 == 0 && len % 4 == 0, "unaligned read 0x%x+%zu", addr, len);
    if (dead || !ok_range(addr, len)) return false;
    memcpy(data, mem + (addr - kB), len);
    return true;
  }

  void init_bare(const Bytes& blob) {
    memset(mem, 0xff, sizeof(mem));
    memcpy(mem + kSlotSize, blob.data(), blob.size());
  }

 private:
  bool ok_range(uint32_t addr, size_t len) const {
    return addr >= kB && len <= sizeof(mem) && addr - kB <= sizeof(mem) - len;
  }
  bool cut_now() {
    if (dead) return false;
    long n = ops++;
    if (budget >= 0 && n == budget) {
      dead = true;
      return true;
    }
    return false;
  }
};

uint8_t g_scratch[kSlotSize];
uint8_t g_current[kSlotSize];

Bytes slot_blob(SimFlash& f, uint32_t addr) {
  const uint8_t* p = f.mem + (addr - kB);
  uint16_t len = (uint16_t)(p[6] | (p[7] << 8));
  if (len > kSlotSize) len = kSlotSize;
  return Bytes(p, p + len);
}

// One boot: the store plus the committed config decoded.
struct Device {
  SimFlash& f;
  ConfigStore store;
  ConfigBlob cfg;
  bool ok;
  explicit Device(SimFlash& fl) : f(fl), store(fl, kA, kB), ok(false) {
    UpdateAck pending;
    ok = store.boot(g_scratch, &pending);
    if (ok) {
      memcpy(g_current, f.mem + (store.committed_addr() - kB), kSlotSize);
      ok = decode_config_blob(g_current, kSlotSize, &cfg, NULL, 0) == BLOB_OK;
    }
  }
  UpdateAck receive(const Bytes& m) {
    // An exact-size heap copy, so ASan sees any read past the message.
    uint8_t* copy = static_cast<uint8_t*>(malloc(m.size() ? m.size() : 1));
    if (!m.empty()) memcpy(copy, m.data(), m.size());
    UpdateAck ack;
    store.receive(copy, m.size(), cfg, &ack);
    free(copy);
    return ack;
  }
};

std::string ack_text(const UpdateAck& a) {
  char line[160];
  format_update_ack(a, line, sizeof(line));
  return line;
}

void expect_ack(const UpdateAck& a, const char* want, const char* what) {
  std::string got = ack_text(a);
  CHECK(got == want, "%s: got %s, want %s", what, got.c_str(), want);
}

// ---------------------------------------------------------------------------

void unit() {
  BlobSpec dev;
  dev.cv = 3;
  Bytes device = make_blob(dev);
  BlobSpec next = dev;
  next.cv = 4;
  next.ssid = "next";
  Bytes ok_blob = make_blob(next);
  Bytes ok = make_msg(4, ok_blob);
  SimFlash f;
  struct Case {
    const char* name;
    Bytes msg;
    const char* ack;
  };
  std::vector<Case> cases;
  Bytes big(kUpdateMaxMessage + 1, 0);
  cases.push_back({"too-large", big, "{\"update\":0,\"result\":\"rejected\",\"reason\":\"too_large\"}"});
  Bytes bad_magic = ok;
  bad_magic[0] = 'X';
  cases.push_back({"bad-format", bad_magic,
                   "{\"update\":0,\"result\":\"rejected\",\"reason\":\"bad_format\"}"});
  Bytes short_msg(ok.begin(), ok.end() - 1);
  cases.push_back({"bad-format-length", short_msg,
                   "{\"update\":0,\"result\":\"rejected\",\"reason\":\"bad_format\"}"});
  cases.push_back({"wrong-client", make_msg(4, ok_blob, "sensor-002"),
                   "{\"update\":4,\"result\":\"rejected\",\"reason\":\"wrong_client\"}"});
  cases.push_back({"bad-mac", make_msg(4, ok_blob, "sensor-001", key_bytes(1)),
                   "{\"update\":4,\"result\":\"rejected\",\"reason\":\"bad_mac\"}"});
  cases.push_back({"redelivered", make_msg(3, device),
                   "{\"update\":3,\"result\":\"duplicate\",\"reason\":\"\"}"});
  cases.push_back({"replayed-below", make_msg(2, ok_blob),
                   "{\"update\":2,\"result\":\"rejected\",\"reason\":\"replayed\"}"});
  cases.push_back({"empty", Bytes(), "{\"update\":0,\"result\":\"\",\"reason\":\"\"}"});
  Bytes broken = ok_blob;
  broken[8] ^= 1;
  cases.push_back({"bad-blob", make_msg(4, broken),
                   "{\"update\":4,\"result\":\"rejected\",\"reason\":\"bad_blob:bad_crc\"}"});
  BlobSpec s = next;
  s.client = "sensor-002";
  cases.push_back({"blob-client-mismatch", make_msg(4, make_blob(s)),
                   "{\"update\":4,\"result\":\"rejected\",\"reason\":\"blob_client_mismatch\"}"});
  s = next;
  s.has_key = false;
  cases.push_back({"no-update-key-in-blob", make_msg(4, make_blob(s)),
                   "{\"update\":4,\"result\":\"rejected\",\"reason\":\"no_update_key_in_blob\"}"});
  s = next;
  s.trust = 3;
  s.fps.clear();
  cases.push_back({"no-trust-insecure", make_msg(4, make_blob(s)),
                   "{\"update\":4,\"result\":\"rejected\",\"reason\":\"no_trust\"}"});
  s = next;
  s.fps = std::vector<Bytes>(2, Bytes(20, 0));
  cases.push_back({"no-trust-zero-fingerprints", make_msg(4, make_blob(s)),
                   "{\"update\":4,\"result\":\"rejected\",\"reason\":\"no_trust\"}"});
  s = next;
  s.total = kSlotBlobMax + 1;
  cases.push_back({"blob-too-large", make_msg(4, make_blob(s)),
                   "{\"update\":4,\"result\":\"rejected\",\"reason\":\"bad_blob:too_large\"}"});
  s = next;
  s.total = kSlotBlobMax;
  cases.push_back({"blob-max", make_msg(4, make_blob(s)),
                   "{\"update\":4,\"result\":\"staged\",\"reason\":\"\"}"});
  cases.push_back({"ok", ok, "{\"update\":4,\"result\":\"staged\",\"reason\":\"\"}"});
  for (size_t i = 0; i < cases.size(); i++) {
    f.init_bare(device);
    uint8_t before[sizeof(f.mem)];
    memcpy(before, f.mem, sizeof(before));
    Device d(f);
    CHECK(d.ok, "boot");
    UpdateAck a = d.receive(cases[i].msg);
    expect_ack(a, cases[i].ack, cases[i].name);
    if (a.result != UPD_STAGED) {
      CHECK(memcmp(before, f.mem, sizeof(before)) == 0, "%s wrote flash", cases[i].name);
    }
  }

  printf("unit: ok (%zu message cases)\n", cases.size());
}

// The life of updates on one device: stage, commit, key rotation, rollback,
// floor log, serial override.
void unit_cycle() {
  BlobSpec dev;
  dev.cv = 3;
  Bytes device = make_blob(dev);
  BlobSpec next = dev;
  next.cv = 4;
  next.ssid = "next";
  Bytes ok_blob = make_blob(next);
  Bytes ok = make_msg(4, ok_blob);
  SimFlash f;
  // No update key in the committed config.
  BlobSpec nokey = dev;
  nokey.has_key = false;
  f.init_bare(make_blob(nokey));
  {
    Device d(f);
    expect_ack(d.receive(ok), "{\"update\":4,\"result\":\"rejected\",\"reason\":\"no_update_key\"}",
               "no-update-key");
  }
  // Insecure to insecure is fine.
  BlobSpec ins = dev;
  ins.trust = 3;
  ins.fps.clear();
  f.init_bare(make_blob(ins));
  {
    BlobSpec s2 = ins;
    s2.cv = 4;
    Device d(f);
    expect_ack(d.receive(make_msg(4, make_blob(s2))),
               "{\"update\":4,\"result\":\"staged\",\"reason\":\"\"}", "insecure-to-insecure");
  }

  // Full cycle: stage, busy, commit, redelivery, key rotation, rollback.
  f.init_bare(device);
  {
    Device d(f);
    expect_ack(d.receive(ok), "{\"update\":4,\"result\":\"staged\",\"reason\":\"\"}", "stage");
    expect_ack(d.receive(make_msg(5, ok_blob)),
               "{\"update\":5,\"result\":\"rejected\",\"reason\":\"busy\"}", "busy");
    expect_ack(d.receive(ok), "{\"update\":4,\"result\":\"duplicate\",\"reason\":\"\"}", "again");
  }
  {
    Device d(f);
    CHECK(d.store.trying_staged() && d.store.active_slot() == 1, "staged in B");
    d.store.begin_attempt();
    UpdateAck a;
    d.store.attempt_succeeded(&a);
    expect_ack(a, "{\"update\":4,\"result\":\"committed\",\"reason\":\"\"}", "commit");
    d.store.ack_published(a);
  }
  BlobSpec rot = next;
  rot.cv = 5;
  rot.key = key_bytes(100);
  {
    Device d(f);
    CHECK(!d.store.trying_staged() && d.store.active_slot() == 1, "committed B");
    expect_ack(d.receive(ok), "{\"update\":4,\"result\":\"duplicate\",\"reason\":\"\"}",
               "redelivered commit");
    // Key rotation: 5 carries a new key, MACed with the committed (old) one.
    expect_ack(d.receive(make_msg(5, make_blob(rot))),
               "{\"update\":5,\"result\":\"staged\",\"reason\":\"\"}", "rotate");
  }
  for (int i = 0; i < 3; i++) {
    Device d(f);
    CHECK(d.store.trying_staged() && d.store.active_slot() == 0, "try %d in A", i);
    d.store.begin_attempt();
    UpdateAck a;
    d.store.attempt_failed(i == 2 ? "mqtt:-2" : "wifi", &a);
    if (i < 2) {
      CHECK(a.result == UPD_NONE, "no ack before the last try");
    } else {
      expect_ack(a, "{\"update\":5,\"result\":\"rolled_back\",\"reason\":\"mqtt:-2\"}", "rollback");
      d.store.ack_published(a);
    }
  }
  {
    Device d(f);
    CHECK(!d.store.trying_staged() && d.store.active_slot() == 1, "back on B");
    expect_ack(d.receive(make_msg(5, make_blob(rot))),
               "{\"update\":5,\"result\":\"duplicate\",\"reason\":\"\"}", "redelivered rb");
    expect_ack(d.receive(make_msg(3, make_blob(rot))),
               "{\"update\":3,\"result\":\"rejected\",\"reason\":\"replayed\"}", "old replay");
    // Still the old key: the rotated one never committed.
    BlobSpec six = next;
    six.cv = 6;
    expect_ack(d.receive(make_msg(6, make_blob(six), "sensor-001", key_bytes(100))),
               "{\"update\":6,\"result\":\"rejected\",\"reason\":\"bad_mac\"}", "old key");
    expect_ack(d.receive(make_msg(6, make_blob(six))),
               "{\"update\":6,\"result\":\"staged\",\"reason\":\"\"}", "six");
    CHECK(d.store.floor() == 6, "floor %u", (unsigned)d.store.floor());
  }
  {
    // 5's record was erased for 6; the floor log in B keeps it refused.
    Device d(f);
    CHECK(d.store.floor() >= 6, "floor");
    CHECK(d.store.view(1).floor_max == 5, "floor log holds 5: %u",
          (unsigned)d.store.view(1).floor_max);
  }
  // A serial write of slot A wins over any record in B.
  {
    BlobSpec serial = dev;
    serial.ssid = "serial";
    Bytes sb = make_blob(serial);
    memset(f.mem + kSlotSize, 0xff, kSlotSize);
    memcpy(f.mem + kSlotSize, sb.data(), sb.size());
    Device d(f);
    CHECK(d.ok && d.store.active_slot() == 0 && !d.store.trying_staged(), "serial wins");
    CHECK(strcmp(d.cfg.wifi_ssid, "serial") == 0, "serial config");
  }
  // A blob over serial that fills the whole sector.
  {
    BlobSpec full = dev;
    full.total = kSlotSize;
    f.init_bare(make_blob(full));
    Device d(f);
    CHECK(d.ok && d.store.active_slot() == 0, "full-sector serial blob");
    expect_ack(d.receive(ok), "{\"update\":4,\"result\":\"staged\",\"reason\":\"\"}",
               "stage over a full-sector blob");
  }
  // Ack JSON escaping.
  UpdateAck q;
  q.result = UPD_ROLLED_BACK;
  q.number = 7;
  snprintf(q.reason, sizeof(q.reason), "a\"b\\c\n");
  expect_ack(q, "{\"update\":7,\"result\":\"rolled_back\",\"reason\":\"a\\\"b\\\\c\\u000a\"}",
             "escaping");
  printf("unit: ok (update cycle)\n");
}

// The config a device runs after its staged config connected (committed in
// the same session, before any reset): decoded from the active slot.
ConfigBlob running_config(SimFlash& f, const ConfigStore& store, uint8_t* buf) {
  memcpy(buf, f.mem + (store.active_addr() - kB), kSlotSize);
  ConfigBlob c;
  CHECK(decode_config_blob(buf, kSlotSize, &c, NULL, 0) == BLOB_OK, "running config");
  return c;
}

UpdateAck receive_with(ConfigStore& store, const Bytes& m, const ConfigBlob& cfg) {
  UpdateAck ack;
  store.receive(m.data(), m.size(), cfg, &ack);
  return ack;
}

// Key rotation: update 4 carries a new key and is MACed with the old one.
// The broker delivers it again after the commit (same session, and after
// every reset): the device holds the new key, yet the message is a
// duplicate, not bad_mac. Nothing else gets past without a valid MAC.
void unit_rotation() {
  BlobSpec dev;
  dev.cv = 3;
  BlobSpec rot = dev;
  rot.cv = 4;
  rot.ssid = "rotated";
  rot.key = key_bytes(100);
  Bytes rot_blob = make_blob(rot);
  Bytes m4 = make_msg(4, rot_blob);
  static uint8_t buf[kSlotSize];
  SimFlash f;
  f.init_bare(make_blob(dev));
  {
    Device d(f);
    expect_ack(d.receive(m4), "{\"update\":4,\"result\":\"staged\",\"reason\":\"\"}", "stage");
  }
  uint8_t before[sizeof(f.mem)];
  {
    Device d(f);
    CHECK(d.store.trying_staged(), "trying 4");
    d.store.begin_attempt();
    UpdateAck a;
    d.store.attempt_succeeded(&a);
    expect_ack(a, "{\"update\":4,\"result\":\"committed\",\"reason\":\"\"}", "commit");
    d.store.ack_published(a);
    // Same session: subscribed again, the retained message comes back.
    ConfigBlob now = running_config(f, d.store, buf);
    CHECK(now.update_key != NULL && memcmp(now.update_key, rot.key.data(), 32) == 0, "new key");
    memcpy(before, f.mem, sizeof(before));
    expect_ack(receive_with(d.store, m4, now),
               "{\"update\":4,\"result\":\"duplicate\",\"reason\":\"\"}", "same session");
    CHECK(memcmp(before, f.mem, sizeof(before)) == 0, "duplicate wrote flash");
  }
  Device d(f);
  CHECK(!d.store.trying_staged() && d.store.committed_number() == 4, "committed 4");
  CHECK(memcmp(d.cfg.update_key, rot.key.data(), 32) == 0, "booted with the new key");
  struct Case {
    const char* name;
    Bytes msg;
    const char* ack;
  };
  std::vector<Case> cases;
  cases.push_back({"after a reset", m4, "{\"update\":4,\"result\":\"duplicate\",\"reason\":\"\"}"});
  Bytes no_mac = m4;
  for (size_t i = no_mac.size() - 32; i < no_mac.size(); i++) no_mac[i] = 0;
  cases.push_back({"same number and blob, any MAC", no_mac,
                   "{\"update\":4,\"result\":\"duplicate\",\"reason\":\"\"}"});
  BlobSpec other = rot;
  other.ssid = "rotatex";  // same length, another blob
  cases.push_back({"same number, another blob, old key", make_msg(4, make_blob(other)),
                   "{\"update\":4,\"result\":\"rejected\",\"reason\":\"bad_mac\"}"});
  Bytes longer = rot_blob;
  longer.push_back(0);
  cases.push_back({"same number, blob one byte longer, old key", make_msg(4, longer),
                   "{\"update\":4,\"result\":\"rejected\",\"reason\":\"bad_mac\"}"});
  cases.push_back({"the committed blob under another number, old key", make_msg(5, rot_blob),
                   "{\"update\":5,\"result\":\"rejected\",\"reason\":\"bad_mac\"}"});
  cases.push_back({"the base blob under its number, old key", make_msg(3, make_blob(dev)),
                   "{\"update\":3,\"result\":\"rejected\",\"reason\":\"bad_mac\"}"});
  BlobSpec five = rot;
  five.cv = 5;
  cases.push_back({"the next update, old key", make_msg(5, make_blob(five)),
                   "{\"update\":5,\"result\":\"rejected\",\"reason\":\"bad_mac\"}"});
  cases.push_back({"the next update, new key", make_msg(5, make_blob(five), "sensor-001", rot.key),
                   "{\"update\":5,\"result\":\"staged\",\"reason\":\"\"}"});
  for (size_t i = 0; i < cases.size(); i++) {
    memcpy(f.mem, before, sizeof(before));
    Device e(f);
    UpdateAck a = e.receive(cases[i].msg);
    expect_ack(a, cases[i].ack, cases[i].name);
    if (a.result != UPD_STAGED) {
      CHECK(memcmp(before, f.mem, sizeof(before)) == 0, "%s wrote flash", cases[i].name);
    }
  }
  printf("unit: ok (key rotation, %zu redelivery cases)\n", cases.size());
}

// ---------------------------------------------------------------------------

bool mac_verifies(const Bytes& m, const Bytes& key) {
  if (m.size() < 44 + 1) return false;
  uint8_t mac[32];
  hmac_sha256(key.data(), key.size(), m.data(), m.size() - 32, mac);
  return memcmp(mac, m.data() + m.size() - 32, 32) == 0;
}

void corrupt() {
  BlobSpec dev;
  dev.cv = 3;
  Bytes device = make_blob(dev);
  BlobSpec next = dev;
  next.cv = 4;
  Bytes good = make_msg(4, make_blob(next));
  std::vector<Bytes> cases;
  for (size_t i = 0; i < good.size(); i++) {
    for (int bit = 0; bit < 8; bit++) {
      Bytes m = good;
      m[i] ^= (uint8_t)(1 << bit);
      cases.push_back(m);
    }
    Bytes z = good;
    z[i] = 0;
    cases.push_back(z);
    z[i] = 0xff;
    cases.push_back(z);
    cases.push_back(Bytes(good.begin(), good.begin() + i));
    Bytes ins = good;
    ins.insert(ins.begin() + i, 0xa5);
    cases.push_back(ins);
  }
  for (size_t extra : {1, 3, 4, 200, 4000, 5000}) {
    Bytes m = good;
    m.resize(good.size() + extra, 0);
    cases.push_back(m);
  }
  // Zeroing a zero byte is no corruption.
  std::vector<Bytes> kept;
  for (size_t i = 0; i < cases.size(); i++) {
    if (cases[i] != good) kept.push_back(cases[i]);
  }
  cases.swap(kept);
  SimFlash f;
  f.init_bare(device);
  uint8_t before[sizeof(f.mem)];
  memcpy(before, f.mem, sizeof(before));
  size_t staged = 0;
  for (size_t i = 0; i < cases.size(); i++) {
    memcpy(f.mem, before, sizeof(before));
    Device d(f);
    UpdateAck a = d.receive(cases[i]);
    CHECK(a.result == UPD_STAGED || a.result == UPD_REJECTED || (cases[i].empty() && a.result == UPD_NONE),
          "case %zu: no result", i);
    if (a.result == UPD_STAGED) {
      staged++;
      CHECK(mac_verifies(cases[i], key_bytes(0)), "case %zu staged without a valid MAC", i);
      CHECK(cases[i] == good, "case %zu: a changed message was staged", i);
    } else {
      CHECK(memcmp(before, f.mem, sizeof(before)) == 0, "case %zu: rejection wrote flash", i);
    }
  }
  CHECK(staged == 0, "a mutated message was staged");
  {
    memcpy(f.mem, before, sizeof(before));
    Device d(f);
    CHECK(d.receive(good).result == UPD_STAGED, "the unmodified message is refused");
  }
  printf("corrupt: ok (%zu mutated messages, none staged)\n", cases.size());
}

// The message a device already committed, MACed with a key it no longer
// holds (a key rotation), mutated every way: the unauthenticated duplicate
// test lets through only the exact number and blob it holds (the MAC bytes
// may be anything); every other mutation is refused; nothing ever writes.
void corrupt_redelivered() {
  BlobSpec dev;
  dev.cv = 3;
  BlobSpec rot = dev;
  rot.cv = 4;
  rot.key = key_bytes(100);
  Bytes good = make_msg(4, make_blob(rot));
  SimFlash f;
  f.init_bare(make_blob(dev));
  {
    Device d(f);
    CHECK(d.receive(good).result == UPD_STAGED, "stage");
  }
  {
    Device d(f);
    d.store.begin_attempt();
    UpdateAck a;
    d.store.attempt_succeeded(&a);
    d.store.ack_published(a);
  }
  uint8_t before[sizeof(f.mem)];
  memcpy(before, f.mem, sizeof(before));
  size_t mac_at = good.size() - 32, n = 0, dup = 0;
  for (size_t i = 0; i < good.size(); i++) {
    for (int k = 0; k < 11; k++) {
      Bytes m = good;
      if (k < 8) m[i] ^= (uint8_t)(1 << k);
      if (k == 8) m[i] = (uint8_t)~m[i];
      if (k == 9) m.erase(m.begin() + i, m.end());
      if (k == 10) m.insert(m.begin() + i, 0xa5);
      memcpy(f.mem, before, sizeof(before));
      Device d(f);
      UpdateAck a = d.receive(m);
      n++;
      CHECK(memcmp(before, f.mem, sizeof(before)) == 0, "byte %zu kind %d wrote flash", i, k);
      bool only_mac = k <= 8 && i >= mac_at;
      if (only_mac) {
        dup++;
        CHECK(a.result == UPD_DUPLICATE && a.number == 4, "byte %zu kind %d: %s", i, k,
              ack_text(a).c_str());
      } else {
        CHECK(a.result == UPD_REJECTED || (m.empty() && a.result == UPD_NONE), "byte %zu kind %d: %s",
              i, k, ack_text(a).c_str());
      }
    }
  }
  printf("corrupt: ok (%zu mutated redeliveries, %zu with only the MAC changed: duplicate)\n", n,
         dup);
}

// Valid MAC, corrupted blob: the blob decoder is the only guard.
void junk() {
  BlobSpec dev;
  dev.cv = 3;
  Bytes device = make_blob(dev);
  BlobSpec next = dev;
  next.cv = 4;
  next.fps.push_back(Bytes(20, 9));
  Bytes blob = make_blob(next);
  SimFlash f;
  f.init_bare(device);
  uint8_t before[sizeof(f.mem)];
  memcpy(before, f.mem, sizeof(before));
  uint64_t st = 0x9e3779b97f4a7c15ull;
  size_t n = 0, staged = 0;
  for (int it = 0; it < 3000; it++) {
    Bytes b = blob;
    int edits = 1 + (int)(st % 4);
    for (int e = 0; e < edits; e++) {
      st ^= st >> 12;
      st ^= st << 25;
      st ^= st >> 27;
      uint64_t r = st * 0x2545f4914f6cdd1dull;
      size_t pos = (size_t)(r >> 16) % b.size();
      switch (r % 4) {
        case 0: b[pos] ^= (uint8_t)(1 << ((r >> 8) % 8)); break;
        case 1: b[pos] = (uint8_t)(r >> 24); break;
        case 2: if (b.size() > 13) b.erase(b.begin() + pos); break;
        default: b.insert(b.begin() + pos, (uint8_t)(r >> 32)); break;
      }
    }
    if (it % 2 == 0 && b.size() >= 12) fix_crc(b);  // reach the entry parser
    if (b.size() < 1 || b.size() > kBlobMaxLen) continue;
    memcpy(f.mem, before, sizeof(before));
    Device d(f);
    UpdateAck a = d.receive(make_msg(4, b));
    n++;
    ConfigBlob c;
    bool decodes = b.size() >= 12 && decode_config_blob(b.data(), b.size(), &c, NULL, 0) == BLOB_OK;
    if (a.result == UPD_STAGED) {
      staged++;
      CHECK(decodes, "junk %d staged a blob the decoder refuses", it);
      Device again(f);
      CHECK(again.ok && again.store.trying_staged(), "junk %d: staged blob does not boot", it);
    } else {
      CHECK(memcmp(before, f.mem, sizeof(before)) == 0, "junk %d: rejection wrote flash", it);
    }
  }
  printf("junk: ok (%zu authenticated corrupt blobs, %zu still valid and staged)\n", n, staged);
}

// ---------------------------------------------------------------------------
// Power-cut sweep.

struct Msgs {
  Bytes device;
  std::vector<Bytes> msg;   // index = update number
  std::vector<Bytes> blob;  // index = update number
};

Msgs make_msgs() {
  Msgs m;
  BlobSpec dev;
  dev.cv = 3;
  m.device = make_blob(dev);
  m.msg.resize(8);
  m.blob.resize(8);
  for (uint32_t n = 4; n < 8; n++) {
    BlobSpec s = dev;
    s.cv = n;
    s.ssid = "net" + std::to_string(n);
    if (n == 6) s.total = kSlotBlobMax;  // one blob at the maximum size
    m.blob[n] = make_blob(s);
    m.msg[n] = make_msg(n, m.blob[n]);
  }
  return m;
}

// What the outside world saw before the cut.
struct Seen {
  std::set<Bytes> connected;      // blobs the broker accepted
  std::set<uint32_t> acked;       // numbers acknowledged staged or rolled_back
};

// One step of a script; every step starts with a boot, as a reset would.
enum StepKind { RECV, OK, FAIL };
struct Step {
  StepKind kind;
  uint32_t n;
};

void run_step(SimFlash& f, const Msgs& m, const Step& s, Seen* seen) {
  if (f.dead) return;
  Device d(f);
  if (f.dead) return;
  CHECK(d.ok, "boot failed during the script");
  UpdateAck a;
  if (s.kind == RECV) {
    a = d.receive(m.msg[s.n]);
    if (a.result == UPD_STAGED && !f.dead) seen->acked.insert(a.number);
    return;
  }
  Bytes active = slot_blob(f, d.store.active_addr());
  d.store.begin_attempt();
  if (f.dead) return;  // reset before the connection
  if (s.kind == OK) {
    seen->connected.insert(active);
    d.store.attempt_succeeded(&a);
  } else {
    d.store.attempt_failed("tls:62", &a);
  }
  if (f.dead) return;  // the ack was not published
  if (a.result == UPD_ROLLED_BACK) seen->acked.insert(a.number);
  d.store.ack_published(a);
}

// After a cut: the module must be usable and safe.
void verify_after_cut(const SimFlash& cut, const Msgs& m, const Seen& seen, const char* what) {
  // 1. It boots, into a committed config that connected before (or tries a
  //    staged one with such a fallback).
  SimFlash f = cut;
  f.revive();
  {
    Device d(f);
    CHECK(d.ok, "%s: no usable config after the cut", what);
    Bytes committed = slot_blob(f, d.store.committed_addr());
    CHECK(seen.connected.count(committed), "%s: committed config never connected", what);
    for (std::set<uint32_t>::const_iterator it = seen.acked.begin(); it != seen.acked.end(); ++it) {
      CHECK(d.store.floor() >= *it, "%s: floor %u below acked %u", what,
            (unsigned)d.store.floor(), (unsigned)*it);
    }
  }
  // 2. Failing every attempt: within the tries it is back on a config that
  //    connected, and stays there.
  SimFlash g = f;
  for (int i = 0; i <= kUpdateMaxTries; i++) {
    Device d(g);
    if (!d.store.trying_staged()) break;
    CHECK(i < kUpdateMaxTries, "%s: still trying after %d failures", what, i);
    d.store.begin_attempt();
    UpdateAck a;
    d.store.attempt_failed("wifi", &a);
    d.store.ack_published(a);
  }
  {
    Device d(g);
    CHECK(d.ok && !d.store.trying_staged(), "%s: no rollback", what);
    CHECK(seen.connected.count(slot_blob(g, d.store.active_addr())), "%s: rolled back to a config that never connected", what);
    // 3. No acknowledged number is accepted again.
    for (std::set<uint32_t>::const_iterator it = seen.acked.begin(); it != seen.acked.end(); ++it) {
      SimFlash h = g;
      Device e(h);
      UpdateAck a = e.receive(m.msg[*it]);
      bool unchanged = memcmp(h.mem, g.mem, sizeof(h.mem)) == 0;
      bool refused = a.result != UPD_REJECTED || strcmp(a.reason, "replayed") == 0;
      CHECK(unchanged && refused && a.result != UPD_STAGED,
            "%s: acked update %u accepted again (%s)", what, (unsigned)*it, ack_text(a).c_str());
    }
  }
  // 4. Succeeding: a staged config commits and the result boots.
  SimFlash k = f;
  {
    Device d(k);
    Bytes active = slot_blob(k, d.store.active_addr());
    d.store.begin_attempt();
    UpdateAck a;
    d.store.attempt_succeeded(&a);
    d.store.ack_published(a);
    Device e(k);
    CHECK(e.ok && !e.store.trying_staged(), "%s: not committed after success", what);
    Bytes now = slot_blob(k, e.store.active_addr());
    CHECK(now == active, "%s: a different config after the commit", what);
  }
}

struct Script {
  const char* name;
  std::vector<Step> setup;
  std::vector<Step> steps;
};

long powercut() {
  Msgs m = make_msgs();
  std::vector<Script> scripts = {
      {"stage+commit", {}, {{RECV, 4}, {OK, 0}}},
      {"stage+rollback", {}, {{RECV, 4}, {FAIL, 0}, {FAIL, 0}, {FAIL, 0}, {OK, 0}}},
      {"commit, then stage into A+commit", {{RECV, 4}, {OK, 0}}, {{RECV, 5}, {OK, 0}}},
      {"rollback, then stage+commit (floor log in bare A)",
       {{RECV, 4}, {FAIL, 0}, {FAIL, 0}, {FAIL, 0}},
       {{RECV, 5}, {OK, 0}}},
      {"commit, then stage into A+rollback", {{RECV, 4}, {OK, 0}},
       {{RECV, 5}, {FAIL, 0}, {FAIL, 0}, {FAIL, 0}, {OK, 0}}},
      {"commit, rollback, then a maximum-size blob (floor log in a record)",
       {{RECV, 4}, {OK, 0}, {RECV, 5}, {FAIL, 0}, {FAIL, 0}, {FAIL, 0}},
       {{RECV, 6}, {OK, 0}, {RECV, 7}, {OK, 0}}},
  };
  long points = 0;
  for (size_t si = 0; si < scripts.size(); si++) {
    const Script& sc = scripts[si];
    // Count the operations of the uncut script.
    SimFlash base;
    base.init_bare(m.device);
    Seen seen0;
    seen0.connected.insert(m.device);
    for (size_t i = 0; i < sc.setup.size(); i++) run_step(base, m, sc.setup[i], &seen0);
    CHECK(!base.dead, "setup");
    SimFlash full = base;
    full.ops = 0;
    Seen seen_full = seen0;
    for (size_t i = 0; i < sc.steps.size(); i++) run_step(full, m, sc.steps[i], &seen_full);
    long ops = full.ops;
    CHECK(ops > 0, "%s: no flash operations", sc.name);
    for (long cut = 0; cut <= ops; cut++) {
      for (int torn = 0; torn < (cut < ops ? 3 : 1); torn++) {
        SimFlash f = base;
        f.ops = 0;
        f.budget = cut < ops ? cut : -1;
        f.torn = torn;
        Seen seen = seen0;
        for (size_t i = 0; i < sc.steps.size(); i++) run_step(f, m, sc.steps[i], &seen);
        char what[160];
        snprintf(what, sizeof(what), "%s, cut at op %ld/%ld torn=%d", sc.name, cut, ops, torn);
        verify_after_cut(f, m, seen, what);
        points++;
      }
    }
    printf("powercut: %s: %ld flash operations, %ld cut points ok\n", sc.name, ops, 3 * ops + 1);
  }
  printf("powercut: ok (%ld cut points)\n", points);
  return points;
}

}  // namespace

int main(int argc, char** argv) {
  std::string which = argc > 1 ? argv[1] : "all";
  if (which == "all" || which == "unit") {
    unit();
    unit_cycle();
    unit_rotation();
  }
  if (which == "all" || which == "corrupt") {
    corrupt();
    corrupt_redelivered();
  }
  if (which == "all" || which == "junk") junk();
  if (which == "all" || which == "powercut") powercut();
  printf("checks: %d\n", g_checks);
  return 0;
}
