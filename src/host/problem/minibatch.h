/*
 * minibatch.h -- which samples a stochastic gradient reads: sample t of client c's minibatch at iteration k is
 * one of its m rows, uniform and with replacement, from the shared Philox stream at the counters
 * (slot t / 2, DC_STREAM_MINIBATCH, c, k) -- the halves of one block for t even and odd.  Compiled into the CPU
 * backend and the CUDA kernels (DETCGD_HD), so both backends read the same rows.  The counter's layer word is
 * reserved (no layout has 2^32 - 256 layers): the sketches' and compressors' draws never meet these.
 */
#ifndef DETCGD_MINIBATCH_H
#define DETCGD_MINIBATCH_H

#include "philox.h"

#define DC_STREAM_MINIBATCH 0xFFFFFF00u

/* The row (0 .. m - 1) of sample t of client `client`'s minibatch at iteration iter. */
DETCGD_HD int64_t dc_minibatch_row(uint64_t seed, uint32_t iter, uint32_t client, int64_t t, int64_t m) {
  DcPhiloxOut r = dc_philox_draw(seed, iter, client, DC_STREAM_MINIBATCH, (uint32_t)(t >> 1));
  double u = (t & 1) ? dc_uniform53_b(r) : dc_uniform53(r);
  int64_t j = (int64_t)(u * (double)m);
  return j < m ? j : m - 1;
}

#endif /* DETCGD_MINIBATCH_H */
