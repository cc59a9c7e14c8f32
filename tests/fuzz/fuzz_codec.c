/* libFuzzer target: the decoder of a message of a compressor of the values (codec.c).  Byte 0 picks the
 * compressor (bits 0-2) and the value width (bit 3) on layers of 5, 1 and 40; the rest is the message.  Nothing may
 * crash or read past it; a message it accepts, encoded again, decodes to the same values (identity, top-k, sign,
 * scaled sign, natural: their messages carry everything). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "codec.h"
#include "compressor.h"
#include "problem.h"

static const char* const NAMES[8] = {"top-k", "rand-k-c", "rand-k-c", "sign", "scaled-sign", "qsgd", "natural", "identity"};

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static DetcgdProblem p;
  static const int sizes[3] = {5, 1, 40};
  DetcgdSettings s;
  DcSketchSpec sp;
  double y[46], back[46];
  unsigned char mark[40] = {0}, again[46 * 8 + 8];
  int idx[46], count[3];
  double scale[46];
  DcSketchDraw room = {idx, scale, count}; /* rand-k-c's own draw with a shared seed */
  int kind;
  const char* why;
  if (size < 1) return 0;
  if (!p.layout.nblocks && dc_layout_init(&p.layout, 3, sizes) != DETCGD_OK) abort();
  kind = data[0] & 7;
  detcgd_settings_default(&s);
  if (detcgd_settings_set(&s, "sketch", NAMES[kind]) != DETCGD_OK || detcgd_settings_set(&s, "k", "1") != DETCGD_OK ||
      detcgd_settings_set(&s, "levels", "5") != DETCGD_OK ||
      detcgd_settings_set(&s, "value-bits", data[0] & 8 ? "64" : "32") != DETCGD_OK ||
      detcgd_settings_set(&s, "shared-seed", kind == 2 ? "1" : "0") != DETCGD_OK)
    abort();
  if (dc_sketch_spec_build(&sp, &s.sketch, &s.comm, &p) != DETCGD_OK) abort();
  why = dc_codec_decode(&sp, data + 1, (int64_t)size - 1, 7, 3, 2, &room, mark, y);
  if (!why && kind != 1 && kind != 2 && kind != 5) {
    if (dc_codec_encode(&sp, y, NULL, again) != DETCGD_OK) abort();
    if (dc_codec_decode(&sp, again, dc_codec_bytes(&sp), 7, 3, 2, &room, mark, back) || memcmp(y, back, sizeof y)) abort();
  }
  dc_sketch_spec_free(&sp);
  return 0;
}
