/*
 * philox.h -- Philox4x32-10 counter-based RNG (Salmon et al., SC'11), shared
 * verbatim by the CPU backend and the CUDA kernels, so that both draw the same
 * sketches for the same (seed, iteration, client, layer, slot).
 *
 * Keying used throughout detcgd:
 *   key     = (seed low 32 bits, seed high 32 bits)
 *   counter = (slot, layer, client, iteration)
 * No hidden state: every draw is a pure function of these words.
 *
 * Known answers (Random123 kat_vectors, "philox4x32 10" lines):
 *   ctr 0 0 0 0, key 0 0                      -> 6627e8d5 e169c58d bc57ac4c 9b00dbd8
 *   ctr ffffffff x4, key ffffffff x2          -> 408f276d 41c83b0e a20bc7c6 6d5451fd
 *   ctr 243f6a88 85a308d3 13198a2e 03707344,
 *   key a4093822 299f31d0                     -> d16cfe09 94fdcceb 5001e420 24126ea1
 */
#ifndef DETCGD_PHILOX_H
#define DETCGD_PHILOX_H

#include <stdint.h>

#ifdef __CUDACC__
#define DETCGD_HD __host__ __device__ __forceinline__
#else
#define DETCGD_HD static inline
#endif

typedef struct DcPhiloxOut { uint32_t v[4]; } DcPhiloxOut;

#define DC_PHILOX_M0 0xD2511F53u
#define DC_PHILOX_M1 0xCD9E8D57u
#define DC_PHILOX_W0 0x9E3779B9u
#define DC_PHILOX_W1 0xBB67AE85u

/* hi:lo = a * b (64-bit product of two 32-bit words) */
DETCGD_HD void dc_mulhilo32(uint32_t a, uint32_t b, uint32_t* hi, uint32_t* lo) {
  uint64_t p = (uint64_t)a * (uint64_t)b;
  *hi = (uint32_t)(p >> 32);
  *lo = (uint32_t)p;
}

/* Philox4x32 with 10 rounds: S-box round, then key bump (Weyl sequence). */
DETCGD_HD DcPhiloxOut dc_philox4x32_10(const uint32_t ctr_in[4], const uint32_t key_in[2]) {
  uint32_t c0 = ctr_in[0], c1 = ctr_in[1], c2 = ctr_in[2], c3 = ctr_in[3];
  uint32_t k0 = key_in[0], k1 = key_in[1];
  DcPhiloxOut out;
  int r;
  for (r = 0; r < 10; ++r) {
    uint32_t hi0, lo0, hi1, lo1;
    dc_mulhilo32(DC_PHILOX_M0, c0, &hi0, &lo0);
    dc_mulhilo32(DC_PHILOX_M1, c2, &hi1, &lo1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += DC_PHILOX_W0;
    k1 += DC_PHILOX_W1;
  }
  out.v[0] = c0; out.v[1] = c1; out.v[2] = c2; out.v[3] = c3;
  return out;
}

/* The detcgd keying: (seed; slot, layer, client, iteration). */
DETCGD_HD DcPhiloxOut dc_philox_draw(uint64_t seed, uint32_t iter, uint32_t client,
                                     uint32_t layer, uint32_t slot) {
  uint32_t ctr[4], key[2];
  ctr[0] = slot; ctr[1] = layer; ctr[2] = client; ctr[3] = iter;
  key[0] = (uint32_t)seed; key[1] = (uint32_t)(seed >> 32);
  return dc_philox4x32_10(ctr, key);
}

/* Uniform double in [0, 1) with 53 random bits from words v[0] (high), v[1] (low). */
DETCGD_HD double dc_uniform53(DcPhiloxOut r) {
  uint64_t bits = ((uint64_t)r.v[0] << 32) | (uint64_t)r.v[1];
  return (double)(bits >> 11) * (1.0 / 9007199254740992.0);
}

/* Second independent uniform from words v[2], v[3]. */
DETCGD_HD double dc_uniform53_b(DcPhiloxOut r) {
  uint64_t bits = ((uint64_t)r.v[2] << 32) | (uint64_t)r.v[3];
  return (double)(bits >> 11) * (1.0 / 9007199254740992.0);
}

#endif /* DETCGD_PHILOX_H */
