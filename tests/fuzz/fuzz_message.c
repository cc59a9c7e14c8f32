/* libFuzzer target: the server's decoder of a client rank's MPI message (dc_dist_absorb_rank), on a
 * simulated run of 4 clients over "2 ranks" (rank 1 hosts clients 2 and 3): ids, per-layer counts, indices
 * and values are each checked; nothing may crash or read past the message.  The corpus holds real messages:
 * rand-k draws, indices sent (shared seed off), float32 values. */
#include <stdint.h>
#include <stdlib.h>
#include "solver.h"

static const char* const OPTIONS[][2] = {{"samples", "40"}, {"features", "12"}, {"layers", "3x4"}, {"lambda", "0.1"},
                                         {"clients", "4"}, {"method", "det-cgd1"}, {"sketch", "rand-k"}, {"k", "2"},
                                         {"stepsize", "cor1"}, {"iters", "1"}, {"f-inf", "0.5"}, {"f-inf-iters", "5"},
                                         {"verbose", "0"}, {"progress", "0"}, {"backend", "cpu"}};

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static DetcgdProblem* p;
  static DetcgdSolver* s;
  if (!s) {
    DetcgdProblemSpec ps;
    DetcgdSettings set;
    size_t i;
    detcgd_problem_spec_default(&ps);
    detcgd_settings_default(&set);
    for (i = 0; i < sizeof OPTIONS / sizeof OPTIONS[0]; ++i)
      if (detcgd_set(&ps, &set, OPTIONS[i][0], OPTIONS[i][1]) != DETCGD_OK) abort();
    if (detcgd_problem_create(&p, &ps) != DETCGD_OK || detcgd_create(&s, p, &set) != DETCGD_OK) abort();
  }
  dc_dist_absorb_rank(s, data, (int64_t)size, 1, 2, 3);
  return 0;
}
