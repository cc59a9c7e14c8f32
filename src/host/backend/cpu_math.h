/*
 * cpu_math.h -- exp for the CPU backend's logistic weights, written so that the compiler puts a loop of it on
 * vectors: additions, multiplications and bit operations only (glibc's exp is a call per value).  Every value gets
 * the same bits wherever it falls -- a vector body or a scalar tail, any vector width -- since the build contracts
 * no multiply-add (DETCGD_C_MATH_FLAGS: -ffp-contract=off).
 */
#ifndef DETCGD_CPU_MATH_H
#define DETCGD_CPU_MATH_H

#include <stdint.h>
#include <string.h>

#define DC_EXP_MAX 708.0 /* |z| of dc_exp's range: 2^k stays a normal number */

/* exp(z) for |z| <= DC_EXP_MAX (NaN stays NaN), within an ulp of glibc's (tests/test_backend_ops.cc):
 *   z = k ln2 + r, |r| <= ln2 / 2 (Cody-Waite with fdlibm's split of ln2), exp(r) by its Taylor series to r^13 (the
 *   remainder below 1e-17 relative), 2^k put into the exponent bits.
 * The clamp to the range is the caller's (dc_exp_clamp), in a loop of its own: inlined here, GCC would evaluate both
 * clamped constants' branches for every value, and their tiny quotients are subnormal (slow on x86). */
static inline double dc_exp(double z) {
  const double round_shift = 6755399441055744.0; /* 1.5 * 2^52: z log2(e) + it rounds to an integer in its low bits */
  const double log2e = 1.4426950408889634, ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  double t = z * log2e + round_shift, k = t - round_shift, r = (z - k * ln2_hi) - k * ln2_lo, p, scale;
  uint64_t tb, sb, shift_bits;
  p = 1.0 / 6227020800.0;        /* 1/13! */
  p = p * r + 1.0 / 479001600.0; /* 1/12! */
  p = p * r + 1.0 / 39916800.0;  /* 1/11! */
  p = p * r + 1.0 / 3628800.0;   /* 1/10! */
  p = p * r + 1.0 / 362880.0;    /* 1/9! */
  p = p * r + 1.0 / 40320.0;     /* 1/8! */
  p = p * r + 1.0 / 5040.0;      /* 1/7! */
  p = p * r + 1.0 / 720.0;       /* 1/6! */
  p = p * r + 1.0 / 120.0;       /* 1/5! */
  p = p * r + 1.0 / 24.0;        /* 1/4! */
  p = p * r + 1.0 / 6.0;         /* 1/3! */
  p = p * r + 0.5;               /* 1/2! */
  p = p * r + 1.0;
  memcpy(&tb, &t, sizeof tb);
  memcpy(&shift_bits, &round_shift, sizeof shift_bits);
  sb = (tb - shift_bits + 1023u) << 52; /* 2^k: k + 1023 in the exponent field */
  memcpy(&scale, &sb, sizeof scale);
  return (p * r + 1.0) * scale;
}

/* z clamped to [-DC_EXP_MAX, DC_EXP_MAX], NaN kept.  Past it nothing a weight 1 / (1 + exp(z)) holds is lost:
 * exp(-708) < 4e-308 adds nothing to 1, and 1 / (1 + exp(708)) < 4e-308 stands for the smaller values beyond. */
static inline double dc_exp_clamp(double z) { return z < -DC_EXP_MAX ? -DC_EXP_MAX : z > DC_EXP_MAX ? DC_EXP_MAX : z; }

#endif
