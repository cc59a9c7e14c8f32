/*
 * synthetic.c -- logistic rows from a planted model, so that logreg-nc runs
 * at any size without a file (samples = N, features = d, density = rho):
 *
 *   x*_k ~ N(0, 1/(rho d))                       (the planted model)
 *   row j keeps columns k_1 < k_2 < ..., gaps k_{t+1} - k_t - 1 ~ Geometric(rho)
 *   (rho = 1: every column), a_{j,k_t} ~ N(0, 1)
 *   b_j = +1 with probability 1 / (1 + exp(-a_j^T x*)), else -1.
 *
 * Every draw is Philox at (seed; row j, entry t), so rows are built in
 * parallel and the data do not depend on the number of threads; cost O(nnz).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "libsvm.h"
#include "linalg.h"
#include "philox.h"

#define SYNTH_ENTRY 0x5A170001u
#define SYNTH_PLANT 0x5A170002u
#define SYNTH_LABEL 0x5A170003u
#define TWO_M32 2.3283064365386963e-10

/* Entry t of row j: its column after column `prev` (-1 before the first), value into *v. */
static int64_t next_entry(uint64_t seed, int64_t j, uint32_t t, int64_t prev, double rho, double* v) {
  DcPhiloxOut r = dc_philox_draw(seed, (uint32_t)j, SYNTH_ENTRY, t, (uint32_t)(j >> 32));
  int64_t gap = 0;
  if (rho < 1.0) {
    double g = floor(log(1.0 - (double)r.v[0] * TWO_M32) / log1p(-rho)); /* u in (0, 1] */
    gap = g < 4e18 ? (int64_t)g : (int64_t)4e18;
  }
  if (v) *v = sqrt(-2.0 * log(1.0 - dc_uniform53_b(r))) * cos(6.283185307179586 * (double)r.v[1] * TWO_M32);
  return prev + 1 + gap;
}

static int64_t row_count(uint64_t seed, int64_t j, int64_t d, double rho) {
  int64_t k = -1, n = 0;
  if (rho >= 1.0) return d;
  while ((k = next_entry(seed, j, (uint32_t)n, k, rho, NULL)) < d) ++n;
  return n;
}

double dc_synthetic_plant(uint64_t seed, int64_t d, double rho, int64_t k) {
  return dc_gaussian(seed, SYNTH_PLANT, (uint32_t)k) / sqrt(rho * (double)d);
}

int dc_synthetic_logistic(int64_t N, int64_t d, double rho, uint64_t seed, DcLibsvm* out) {
  double* xstar = NULL;
  int64_t j, k;
  memset(out, 0, sizeof *out);
  out->nrows = N;
  out->raw_label[0] = -1.0;
  out->raw_label[1] = 1.0;
  if (!(out->rowptr = (int64_t*)dc_calloc((size_t)N + 1, sizeof(int64_t)))) return DETCGD_ERR_ALLOC;
#pragma omp parallel for schedule(static)
  for (j = 0; j < N; ++j) out->rowptr[j + 1] = row_count(seed, j, d, rho);
  for (j = 0; j < N; ++j) out->rowptr[j + 1] += out->rowptr[j];
  out->nnz = out->rowptr[N];
  out->colidx = (int32_t*)dc_calloc((size_t)out->nnz, sizeof(int32_t));
  out->val = (double*)dc_calloc((size_t)out->nnz, sizeof(double));
  out->label = (double*)dc_calloc((size_t)N, sizeof(double));
  xstar = (double*)dc_calloc((size_t)d, sizeof(double));
  if (!out->colidx || !out->val || !out->label || !xstar) { free(xstar); dc_libsvm_free(out); return DETCGD_ERR_ALLOC; }
  for (k = 0; k < d; ++k) xstar[k] = dc_synthetic_plant(seed, d, rho, k);
#pragma omp parallel for schedule(static)
  for (j = 0; j < N; ++j) {
    int64_t p, col = -1;
    double margin = 0.0, u;
    for (p = out->rowptr[j]; p < out->rowptr[j + 1]; ++p) {
      col = next_entry(seed, j, (uint32_t)(p - out->rowptr[j]), col, rho, &out->val[p]);
      out->colidx[p] = (int32_t)col;
      margin += out->val[p] * xstar[col];
    }
    u = dc_uniform53(dc_philox_draw(seed, (uint32_t)j, SYNTH_LABEL, 0, (uint32_t)(j >> 32)));
    out->label[j] = u < 1.0 / (1.0 + exp(-margin)) ? 1.0 : -1.0;
  }
  for (j = 0; j < N; ++j)
    if (out->rowptr[j + 1] > out->rowptr[j] && out->colidx[out->rowptr[j + 1] - 1] + 1 > out->max_index)
      out->max_index = out->colidx[out->rowptr[j + 1] - 1] + 1;
  free(xstar);
  return DETCGD_OK;
}
