// blobdump: print an espmqtt config blob as one JSON object.
//
// A host-side debugging tool built from the firmware's own decoder
// (espmqtt/config_blob.cpp), so what it prints is what the device would use.
// Secrets are printed: do not paste its output anywhere public.
//
//   g++ -std=c++11 -Ifirmware-template/espmqtt firmware-template/host/blobdump.cpp
//       firmware-template/espmqtt/config_blob.cpp -o blobdump   (one line)
//   ./blobdump sensor-007.bin
//
// Exit status: 0 printed; 1 the decoder refused the blob (reason on stderr as
// "blobdump: <code>: <explanation>"); 2 usage or the file cannot be read.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob_json.h"
#include "config_blob.h"

using namespace espmqtt;

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: blobdump FILE\n");
    return 2;
  }
  FILE* f = fopen(argv[1], "rb");
  if (f == NULL) {
    fprintf(stderr, "blobdump: cannot open %s\n", argv[1]);
    return 2;
  }
  // Read at most one sector plus one byte: more than 4096 bytes is fine (a
  // sector dump with trailing data) and never needs more than the sector.
  static uint8_t buf[kBlobMaxLen + 1];
  size_t n = fread(buf, 1, sizeof(buf), f);
  bool read_error = ferror(f) != 0;
  fclose(f);
  if (read_error) {
    fprintf(stderr, "blobdump: cannot read %s\n", argv[1]);
    return 2;
  }

  // Decode from a heap copy of exactly n bytes, so that a sanitizer build
  // (the tests use -fsanitize=address) flags any read past the data, which
  // the static read buffer above would hide.
  uint8_t* data = static_cast<uint8_t*>(malloc(n > 0 ? n : 1));
  if (data == NULL) {
    fprintf(stderr, "blobdump: out of memory\n");
    return 2;
  }
  memcpy(data, buf, n);

  ConfigBlob b;
  char why[160];
  BlobStatus st = decode_config_blob(data, n, &b, why, sizeof(why));
  if (st != BLOB_OK) {
    fprintf(stderr, "blobdump: %s: %s\n", blob_status_code(st), why);
    free(data);
    return 1;
  }

  print_blob_json(b);
  putchar('\n');
  free(data);
  return 0;
}
