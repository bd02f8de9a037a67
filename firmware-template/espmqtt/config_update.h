// Config updates over MQTT: message check, HMAC-SHA256 authentication and a
// two-slot store that stages, tries, commits or rolls back a new config blob
// without ever leaving the module without a config that connected before.
// Formats and rules: ../CONFIG_FORMAT.md, "Config updates over MQTT".
//
// Plain C++11, no Arduino headers, no heap: the same files run in the sketch
// (app.cpp, flash through ESP.flashEraseSector / flashWrite / flashRead) and
// in the host tools (host/otaharness.cpp, the tests' power-cut and corruption
// sweeps, a file or RAM standing in for the flash). HMAC-SHA256 comes from
// BearSSL: the core ships it, the host links libbearssl.

#ifndef ESPMQTT_CONFIG_UPDATE_H
#define ESPMQTT_CONFIG_UPDATE_H

#include <stddef.h>
#include <stdint.h>

#include "config_blob.h"

namespace espmqtt {

// Update message (version 1): "EMQU", version, client id, number, blob, MAC.
static const size_t kUpdateFixedLen = 44;  // everything but client id and blob
static const size_t kUpdateMaxClientId = 128;
static const size_t kUpdateMaxMessage = kUpdateFixedLen + kUpdateMaxClientId + kBlobMaxLen;  // 4268
static const size_t kUpdateMacLen = 32;

// A config slot is one 4 KB flash sector: the blob from offset 0, the slot's
// state record (kSlotRecordLen bytes) at the end. A blob written over the air
// must fit in front of the record; a blob written over serial into slot A may
// use the whole sector (it then has no record, which is what "bare" means).
static const uint32_t kSlotSize = 4096;
static const uint32_t kSlotRecordLen = 128;
static const uint32_t kSlotRecordOffset = kSlotSize - kSlotRecordLen;  // 0xF80
static const size_t kSlotBlobMax = kSlotRecordOffset;                 // 3968
static const uint8_t kUpdateMaxTries = 3;
static const uint8_t kFloorLogEntries = 4;

// Slot A is the sector `espmqtt flash --config-only` writes (flash size -
// 0x5000); slot B is the sector below it (flash size - 0x6000).
static const uint32_t kSlotBOffsetBelowA = 0x1000;

// The flash as the store sees it. Addresses are flash offsets; erase works on
// whole 4 KB sectors (addr aligned), write and read on any 4-byte-aligned
// address and length. A write only clears bits (NOR flash); the store never
// relies on more. Return false on failure.
class FlashIo {
 public:
  virtual bool erase_sector(uint32_t addr) = 0;
  virtual bool write(uint32_t addr, const uint8_t* data, size_t len) = 0;
  virtual bool read(uint32_t addr, uint8_t* data, size_t len) = 0;

 protected:
  ~FlashIo() {}
};

enum UpdateResult {
  UPD_NONE = 0,
  UPD_STAGED,
  UPD_COMMITTED,
  UPD_ROLLED_BACK,
  UPD_REJECTED,
  UPD_DUPLICATE  // the update already handled, delivered again: status line only
};

// What to publish on <prefix>/<client_id>/config/ack (and print as a status
// line). UPD_NONE: nothing; UPD_DUPLICATE: a status line, no ack.
struct UpdateAck {
  UpdateResult result;
  uint32_t number;
  char reason[48];
};

// "staged", "committed", "rolled_back", "rejected", "duplicate" ("" for UPD_NONE).
const char* update_result_name(UpdateResult r);

// {"update":N,"result":"…","reason":"…"}; returns the length written (without
// the NUL), 0 when out_len is too small.
size_t format_update_ack(const UpdateAck& ack, char* out, size_t out_len);

// HMAC-SHA256 (BearSSL br_hmac) and a compare whose time does not depend on
// where the inputs differ.
void hmac_sha256(const uint8_t* key, size_t key_len, const uint8_t* data, size_t len,
                 uint8_t out[32]);
bool equal_constant_time(const uint8_t* a, const uint8_t* b, size_t len);

// State of one slot as read from flash (for reports and `flash --read-config`,
// which parses the same record in src/device/slots.rs).
enum SlotKind {
  SLOT_EMPTY = 0,   // erased or unreadable
  SLOT_BARE,        // a valid blob without a state record (written over serial; slot A only)
  SLOT_RECORD,      // a valid state record and the blob it describes
  SLOT_BROKEN       // anything else: a record or blob cut short
};

struct SlotView {
  SlotKind kind;
  bool header_ok;    // the record header is intact (even if the blob is not)
  uint32_t seq;
  uint32_t number;   // update number (bare: the blob's config_version)
  uint32_t blob_len;
  uint32_t blob_crc;
  uint32_t base_len;
  uint32_t base_crc;
  uint8_t tries;
  bool committed;
  bool rolled_back;
  uint32_t rollback_word;
  bool acked;
  uint32_t floor_max;    // highest number in the slot's floor log (0: none)
  uint8_t floor_used;    // entries used (written, valid or not)
  bool floor_writable;   // the record area is free of blob bytes
};

class ConfigStore {
 public:
  // slot_a / slot_b: flash offsets of the two sectors.
  ConfigStore(FlashIo& io, uint32_t slot_a, uint32_t slot_b);

  // Read both slots and decide which config to run. `scratch` (kSlotSize
  // bytes) is used to decode blobs; its contents are unspecified afterwards.
  // May write flash: a staged config whose tries are used up is marked rolled
  // back here. Returns false when neither slot holds a usable config. When
  // `pending` is non-NULL it receives an ack that was decided but never
  // published (after a reset), else UPD_NONE.
  bool boot(uint8_t* scratch, UpdateAck* pending);

  // The slot to run now (0 = A, 1 = B) and its flash offset; the staged slot
  // while one is being tried, else the committed one.
  int active_slot() const { return active_; }
  uint32_t active_addr() const { return addr(active_); }
  uint32_t active_blob_len() const;
  bool trying_staged() const { return staged_ >= 0 && active_ == staged_; }
  int committed_slot() const { return committed_; }
  uint32_t committed_addr() const { return addr(committed_); }
  uint32_t committed_number() const;
  uint32_t staged_number() const;
  uint8_t staged_tries() const;
  // Highest update number ever accepted (staged, committed or rolled back).
  uint32_t floor() const { return floor_; }
  const SlotView& view(int slot) const { return views_[slot]; }

  // Call before each connection attempt (Wi-Fi join included). While a
  // staged config is tried this spends one of its tries (a reset during the
  // attempt counts as a failure).
  void begin_attempt();
  // The broker accepted the device (CONNACK 0). Trying a staged config: it is
  // committed and `ack` says so; else `ack` is the pending one, if any.
  void attempt_succeeded(UpdateAck* ack);
  // The attempt failed (`reason`: "tls:62", "mqtt:5", "wifi", "timeout").
  // After the last try of a staged config it is rolled back: the committed
  // config becomes active again and `ack` says rolled_back.
  void attempt_failed(const char* reason, UpdateAck* ack);
  // `ack` was published. A committed / rolled_back ack of the latest update
  // is remembered across resets (else it is published again after the next
  // connection).
  void ack_published(const UpdateAck& ack);

  // A message from <prefix>/<client_id>/config. `current` is the committed
  // config (the one the device is connected with). Runs the checks of
  // CONFIG_FORMAT.md in order; stages the blob when all pass. The message
  // buffer is not modified. An empty payload (the retained message cleared)
  // gives UPD_NONE, the update already handled delivered again UPD_DUPLICATE.
  void receive(const uint8_t* msg, size_t len, const ConfigBlob& current, UpdateAck* ack);

 private:
  uint32_t addr(int slot) const { return slot == 0 ? slot_a_ : slot_b_; }
  bool read_view(int slot, uint8_t* scratch, SlotView* v);
  bool write_marker(int slot, uint32_t offset, uint32_t value);
  bool blob_matches(int slot, const uint8_t* blob, size_t len);
  bool handled(uint32_t number) const;
  bool redelivered(uint32_t number, const uint8_t* blob, size_t len);
  bool stage(const uint8_t* blob, size_t len, uint32_t number);
  void pending_ack(UpdateAck* ack) const;
  void recompute_floor();

  FlashIo& io_;
  uint32_t slot_a_;
  uint32_t slot_b_;
  SlotView views_[2];
  int committed_;   // -1: none
  int staged_;      // -1: none
  int active_;      // -1: none
  int latest_;      // slot with the newest record whose ack may be pending; -1
  uint32_t committed_seq_;
  uint32_t committed_number_;
  uint32_t committed_len_;
  uint32_t committed_crc_;
  uint32_t floor_;
};

}  // namespace espmqtt

#endif  // ESPMQTT_CONFIG_UPDATE_H
