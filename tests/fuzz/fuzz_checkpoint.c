/* libFuzzer target: a checkpoint file resumed by a run of the configuration that wrote the corpus's seed
 * (quad-nc 2x4, det-CGD2 rand-1, 40 iterations; tests/fuzz/corpus_checkpoint/ holds its checkpoint at 20):
 * a damaged, truncated or foreign file must be refused, never crash, hang or run from garbage.  Inputs of an
 * even length get their last 4 bytes set to the CRC-32 of the rest, so that the reader past the checksum
 * (header, configuration, state vectors) is fuzzed too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>
#include "detcgd.h"

static const char* const OPTIONS[][2] = {{"problem", "quad-nc"}, {"layers", "2x4"}, {"lambda", "0.1"},
                                         {"iters", "40"}, {"f-inf", "0"}, {"verbose", "0"}, {"progress", "0"},
                                         {"backend", "cpu"}};

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static DetcgdProblem* p;
  static DetcgdSettings s;
  static char path[64];
  DetcgdSolver* solver = NULL;
  FILE* f;
  if (!p) {
    DetcgdProblemSpec ps;
    size_t i;
    detcgd_problem_spec_default(&ps);
    detcgd_settings_default(&s);
    for (i = 0; i < sizeof OPTIONS / sizeof OPTIONS[0]; ++i)
      if (detcgd_set(&ps, &s, OPTIONS[i][0], OPTIONS[i][1]) != DETCGD_OK) abort();
    if (detcgd_problem_create(&p, &ps) != DETCGD_OK) abort();
    snprintf(path, sizeof path, "/tmp/detcgd_fuzz_checkpoint_%d.ck", (int)getpid());
    snprintf(s.output.resume_path, sizeof s.output.resume_path, "%s", path);
  }
  if (!(f = fopen(path, "wb"))) return 0;
  if (size >= 4 && size % 2 == 0) {
    uint32_t crc = (uint32_t)crc32(0L, data, (uInt)(size - 4));
    fwrite(data, 1, size - 4, f);
    fwrite(&crc, sizeof crc, 1, f);
  } else {
    fwrite(data, 1, size, f);
  }
  fclose(f);
  if (detcgd_create(&solver, p, &s) == DETCGD_OK) detcgd_run(solver);
  detcgd_destroy(&solver);
  return 0;
}
