// Tests of the pinned-key rewrite of the firmware (ec_point_one_byte_short,
// ec_key_der_with_04_doubled in firmware-template/espmqtt/config_blob.cpp),
// built by tests/it/firmware.rs with g++ and run under ASan/UBSan:
//   pinned-key symptom          the decoder-quirk predicate, every curve and
//                               length around the uncompressed sizes
//   pinned-key fix FILE         FILE (DER) rewritten, as hex; "-" when refused
//   pinned-key sweep FILE       every truncation, byte value and insertion of
//                               FILE through the rewrite, each input and
//                               output in an exact-size heap block; a result
//                               must be what the quirky decoder reads as the
//                               original point, a refusal must not write
// Prints "<suite>: ok …"; the first failure prints "FAIL: …" and exits 1.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "config_blob.h"

using namespace espmqtt;

typedef std::vector<uint8_t> Bytes;

namespace {

#define CHECK(cond, ...)                                  \
  do {                                                    \
    if (!(cond)) {                                        \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                       \
      fprintf(stderr, "\n");                              \
      exit(1);                                            \
    }                                                     \
  } while (0)

Bytes read_file(const char* path) {
  Bytes b;
  FILE* f = fopen(path, "rb");
  CHECK(f != NULL, "cannot open %s", path);
  int c;
  while ((c = fgetc(f)) != EOF) b.push_back((uint8_t)c);
  fclose(f);
  return b;
}

// The BIT STRING content of a SubjectPublicKeyInfo (after its header), the
// way a DER reader that trusts the lengths finds it; empty when the bytes
// do not have that shape.
Bytes bit_string(const Bytes& d) {
  size_t i = 0;
  auto length = [&](size_t* n) -> bool {
    if (i >= d.size()) return false;
    uint8_t b = d[i++];
    if (b < 0x80) {
      *n = b;
      return true;
    }
    size_t k = b & 0x7f;
    if (k == 0 || k > 2 || i + k > d.size()) return false;
    *n = 0;
    while (k--) *n = (*n << 8) | d[i++];
    return true;
  };
  size_t n = 0;
  if (d.empty() || d[i++] != 0x30 || !length(&n) || i + n != d.size()) return Bytes();
  if (i >= d.size() || d[i++] != 0x30 || !length(&n) || i + n > d.size()) return Bytes();
  i += n;
  if (i >= d.size() || d[i++] != 0x03 || !length(&n) || i + n != d.size()) return Bytes();
  return Bytes(d.begin() + (long)i, d.end());
}

// Rewrite `in` with both buffers in exact-size heap blocks; `cap` is the
// output capacity. The output block is checked untouched on refusal.
Bytes rewrite(const Bytes& in, size_t cap) {
  uint8_t* src = static_cast<uint8_t*>(malloc(in.size() ? in.size() : 1));
  if (!in.empty()) memcpy(src, in.data(), in.size());
  uint8_t* out = static_cast<uint8_t*>(malloc(cap ? cap : 1));
  memset(out, 0xa5, cap ? cap : 1);
  size_t n = ec_key_der_with_04_doubled(in.empty() ? NULL : src, in.size(), out, cap);
  CHECK(n <= cap, "wrote %zu bytes into %zu", n, cap);
  Bytes r(out, out + n);
  if (n == 0) {
    for (size_t i = 0; i < cap; i++) CHECK(out[i] == 0xa5, "a refusal wrote byte %zu", i);
  }
  free(src);
  free(out);
  return r;
}

// A result must be well-formed and hold, after "00 04", the original
// point: what the quirky decoder reads. Returns whether it was rewritten.
bool check_one(const Bytes& in) {
  Bytes out = rewrite(in, kEcKeyDerMax);
  if (out.empty()) return false;
  Bytes before = bit_string(in), after = bit_string(out);
  CHECK(before.size() >= 2 && before[0] == 0 && before[1] == 4, "rewrote a non-point");
  CHECK(after.size() == before.size() + 1, "BIT STRING %zu -> %zu", before.size(), after.size());
  CHECK(after[0] == 0 && after[1] == 4, "BIT STRING does not start 00 04");
  CHECK(Bytes(after.begin() + 2, after.end()) == Bytes(before.begin() + 1, before.end()),
        "the quirky decoder would not read the original point");
  CHECK(rewrite(in, out.size()) == out, "exact capacity");
  CHECK(rewrite(in, out.size() - 1).empty(), "one byte short of the capacity");
  return true;
}

int cmd_symptom() {
  struct {
    int curve;
    size_t full;
  } curves[] = {{23, 65}, {24, 97}, {25, 133}};
  int n = 0;
  for (size_t c = 0; c < 3; c++) {
    for (size_t q = 0; q < 200; q++) {
      bool want = q + 1 == curves[c].full;
      CHECK(ec_point_one_byte_short(curves[c].curve, q) == want, "curve %d qlen %zu", curves[c].curve, q);
      n++;
    }
  }
  for (int curve = -1; curve < 40; curve++) {
    if (curve >= 23 && curve <= 25) continue;
    for (size_t q = 0; q < 200; q++) {
      CHECK(!ec_point_one_byte_short(curve, q), "curve %d qlen %zu", curve, q);
      n++;
    }
  }
  printf("symptom: ok (%d cases)\n", n);
  return 0;
}

int cmd_fix(const char* path) {
  Bytes in = read_file(path);
  bool done = check_one(in);
  Bytes out = rewrite(in, kEcKeyDerMax);
  if (!done) {
    puts("-");
    return 0;
  }
  for (size_t i = 0; i < out.size(); i++) printf("%02x", out[i]);
  printf("\n");
  return 0;
}

int cmd_sweep(const char* path) {
  Bytes good = read_file(path);
  size_t n = 0, rewritten = 0;
  for (size_t i = 0; i <= good.size(); i++) {
    Bytes cut(good.begin(), good.begin() + (long)i);
    rewritten += check_one(cut);
    n++;
    if (i == good.size()) break;
    static const uint8_t kValues[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x30, 0x7f, 0x80,
                                      0x81, 0x82, 0x83, 0xff};
    for (size_t v = 0; v < sizeof(kValues); v++) {
      Bytes m = good;
      if (m[i] == kValues[v]) continue;
      m[i] = kValues[v];
      rewritten += check_one(m);
      n++;
    }
    Bytes ins = good;
    ins.insert(ins.begin() + (long)i, 0x04);
    rewritten += check_one(ins);
    n++;
  }
  printf("sweep: ok (%zu inputs, %zu rewritten)\n", n, rewritten);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "symptom" && argc == 2) return cmd_symptom();
  if (cmd == "fix" && argc == 3) return cmd_fix(argv[2]);
  if (cmd == "sweep" && argc == 3) return cmd_sweep(argv[2]);
  fprintf(stderr, "usage: pinned-key symptom | fix FILE | sweep FILE\n");
  return 2;
}
