// otaharness: the firmware's config-update logic (espmqtt/config_update.cpp,
// the code the sketch runs) on the host, against a file standing in for the
// two config sectors. The tests drive it to check the Rust encoder and the
// push commands against the device side; each call is one boot of the module.
//
//   g++ -std=c++11 -Ifirmware-template/espmqtt firmware-template/host/otaharness.cpp
//       firmware-template/espmqtt/config_update.cpp
//       firmware-template/espmqtt/config_blob.cpp -lbearssl -o otaharness   (one line)
//
//   otaharness FLASH init BLOB             FLASH := 8 KiB: slot B then slot A
//                                          (flash size - 0x6000 .. - 0x4000);
//                                          BLOB bare into slot A, slot B erased
//   otaharness FLASH receive CLIENT MSG    a message on <prefix>/CLIENT/config;
//                                          prints the ack line (nothing for an
//                                          empty message; for a redelivery the
//                                          sketch's status line `update
//                                          result=duplicate number=N` on stderr)
//   otaharness FLASH connect ok|fail:REASON
//                                          outcome of the next connection attempt;
//                                          prints an ack line when that commits,
//                                          rolls back or publishes a pending ack
//   otaharness FLASH boot                  {"slot":"A|B","state":"committed|staged",
//                                           "config":<blobdump JSON>}
//
// Exit status: 0 done (a rejection is a result, not an error); 1 the flash
// holds no usable config or cannot be read or written; 2 usage.
// The flash file follows NOR rules: a write only clears bits.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob_json.h"
#include "config_blob.h"
#include "config_update.h"

using namespace espmqtt;

namespace {

// Slot addresses as on a 1 MB ESP-07 (CONFIG_FORMAT.md); only the offsets
// inside the file matter.
const uint32_t kSlotB = 0xFA000;
const uint32_t kSlotA = 0xFB000;
const size_t kFileLen = 2 * kSlotSize;

class FileFlash : public FlashIo {
 public:
  explicit FileFlash(FILE* f) : f_(f), failed_(false) {}
  bool failed() const { return failed_; }

  bool erase_sector(uint32_t addr) override {
    if (!in_range(addr, kSlotSize) || addr % kSlotSize != 0) return fail();
    uint8_t ff[kSlotSize];
    memset(ff, 0xff, sizeof(ff));
    return put(addr, ff, sizeof(ff));
  }

  bool write(uint32_t addr, const uint8_t* data, size_t len) override {
    if (!in_range(addr, len) || addr % 4 != 0 || len % 4 != 0) return fail();
    uint8_t cur[kSlotSize];
    size_t done = 0;
    while (done < len) {
      size_t n = len - done < sizeof(cur) ? len - done : sizeof(cur);
      if (!read(addr + (uint32_t)done, cur, n)) return false;
      for (size_t i = 0; i < n; i++) cur[i] &= data[done + i];  // NOR: clear bits only
      if (!put(addr + (uint32_t)done, cur, n)) return false;
      done += n;
    }
    return true;
  }

  bool read(uint32_t addr, uint8_t* data, size_t len) override {
    if (!in_range(addr, len)) return fail();
    if (fseek(f_, (long)(addr - kSlotB), SEEK_SET) != 0) return fail();
    if (fread(data, 1, len, f_) != len) return fail();
    return true;
  }

 private:
  bool in_range(uint32_t addr, size_t len) const {
    return addr >= kSlotB && len <= kFileLen && addr - kSlotB <= kFileLen - len;
  }
  bool fail() {
    failed_ = true;
    return false;
  }
  bool put(uint32_t addr, const uint8_t* data, size_t len) {
    if (fseek(f_, (long)(addr - kSlotB), SEEK_SET) != 0) return fail();
    if (fwrite(data, 1, len, f_) != len || fflush(f_) != 0) return fail();
    return true;
  }

  FILE* f_;
  bool failed_;
};

int usage() {
  fprintf(stderr,
          "usage: otaharness FLASH init BLOB\n"
          "       otaharness FLASH receive CLIENT MSG\n"
          "       otaharness FLASH connect ok|fail:REASON\n"
          "       otaharness FLASH boot\n");
  return 2;
}

// The whole file, in a heap block of exactly its size (so a sanitizer build
// catches any read past the message). NULL when unreadable.
uint8_t* read_file(const char* path, size_t* len) {
  FILE* f = fopen(path, "rb");
  if (f == NULL) return NULL;
  size_t cap = 1024, n = 0;
  uint8_t* buf = static_cast<uint8_t*>(malloc(cap));
  while (buf != NULL) {
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (n < cap) break;
    cap *= 2;
    uint8_t* bigger = static_cast<uint8_t*>(realloc(buf, cap));
    if (bigger == NULL) {
      free(buf);
      buf = NULL;
    }
    buf = bigger;
  }
  bool bad = ferror(f) != 0;
  fclose(f);
  if (buf == NULL || bad) {
    free(buf);
    return NULL;
  }
  uint8_t* exact = static_cast<uint8_t*>(malloc(n > 0 ? n : 1));
  if (exact != NULL) memcpy(exact, buf, n);
  free(buf);
  *len = n;
  return exact;
}

void print_ack(const UpdateAck& ack) {
  char line[160];
  if (ack.result == UPD_DUPLICATE) {
    fprintf(stderr, "update result=duplicate number=%lu\n", (unsigned long)ack.number);
    return;
  }
  if (ack.result == UPD_NONE) return;
  format_update_ack(ack, line, sizeof(line));
  puts(line);
}

int cmd_init(const char* flash_path, const char* blob_path) {
  size_t len = 0;
  uint8_t* blob = read_file(blob_path, &len);
  if (blob == NULL) {
    fprintf(stderr, "otaharness: cannot read %s\n", blob_path);
    return 2;
  }
  if (len > kSlotSize) {
    fprintf(stderr, "otaharness: %s is larger than a sector\n", blob_path);
    free(blob);
    return 2;
  }
  static uint8_t image[kFileLen];
  memset(image, 0xff, sizeof(image));
  memcpy(image + kSlotSize, blob, len);
  free(blob);
  FILE* f = fopen(flash_path, "wb");
  if (f == NULL || fwrite(image, 1, sizeof(image), f) != sizeof(image) || fclose(f) != 0) {
    fprintf(stderr, "otaharness: cannot write %s\n", flash_path);
    return 1;
  }
  return 0;
}

// Decode the blob of `slot` into `buf` / `cfg`.
bool load_slot(FileFlash& io, uint32_t addr, uint8_t* buf, ConfigBlob* cfg) {
  return io.read(addr, buf, kSlotSize) &&
         decode_config_blob(buf, kSlotSize, cfg, NULL, 0) == BLOB_OK;
}

int run(int argc, char** argv) {
  const char* cmd = argv[2];
  FILE* f = fopen(argv[1], "r+b");
  if (f == NULL) {
    fprintf(stderr, "otaharness: cannot open %s\n", argv[1]);
    return 2;
  }
  FileFlash io(f);
  ConfigStore store(io, kSlotA, kSlotB);
  static uint8_t scratch[kSlotSize];
  static uint8_t current[kSlotSize];
  UpdateAck pending;
  int rc = 0;
  if (!store.boot(scratch, &pending)) {
    fprintf(stderr, "otaharness: no usable config in %s\n", argv[1]);
    if (strcmp(cmd, "boot") == 0) puts("{\"slot\":null,\"state\":\"unprovisioned\",\"config\":null}");
    fclose(f);
    return 1;
  }
  ConfigBlob cfg;
  if (strcmp(cmd, "boot") == 0 && argc == 3) {
    if (!load_slot(io, store.active_addr(), current, &cfg)) {
      rc = 1;
    } else {
      printf("{\"slot\":\"%s\",\"state\":\"%s\",\"config\":", store.active_slot() == 0 ? "A" : "B",
             store.trying_staged() ? "staged" : "committed");
      print_blob_json(cfg);
      puts("}");
    }
  } else if (strcmp(cmd, "receive") == 0 && argc == 5) {
    size_t len = 0;
    uint8_t* msg = read_file(argv[4], &len);
    if (msg == NULL) {
      fprintf(stderr, "otaharness: cannot read %s\n", argv[4]);
      fclose(f);
      return 2;
    }
    if (!load_slot(io, store.committed_addr(), current, &cfg)) {
      rc = 1;
    } else if (strcmp(cfg.client_id, argv[3]) != 0) {
      // The device subscribes to its own topic only.
      fprintf(stderr, "otaharness: the device (%s) is not subscribed to %s's topic\n",
              cfg.client_id, argv[3]);
    } else {
      UpdateAck ack;
      store.receive(msg, len, cfg, &ack);
      print_ack(ack);
      store.ack_published(ack);
    }
    free(msg);
  } else if (strcmp(cmd, "connect") == 0 && argc == 4) {
    const char* outcome = argv[3];
    UpdateAck ack;
    if (strcmp(outcome, "ok") == 0) {
      store.begin_attempt();
      store.attempt_succeeded(&ack);
    } else if (strncmp(outcome, "fail:", 5) == 0 && outcome[5] != '\0') {
      store.begin_attempt();
      store.attempt_failed(outcome + 5, &ack);
    } else {
      fclose(f);
      return usage();
    }
    print_ack(ack);
    store.ack_published(ack);
  } else {
    fclose(f);
    return usage();
  }
  if (io.failed()) {
    fprintf(stderr, "otaharness: flash file %s: read or write failed\n", argv[1]);
    rc = 1;
  }
  if (fclose(f) != 0) rc = 1;
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  if (strcmp(argv[2], "init") == 0) {
    if (argc != 4) return usage();
    return cmd_init(argv[1], argv[3]);
  }
  return run(argc, argv);
}
