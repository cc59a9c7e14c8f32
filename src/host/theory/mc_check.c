/*
 * mc_check.c -- a stepsize's certificate from Monte Carlo moments, next to the
 * closed forms: E[S_i A_i S_i] with A_i = D_i L_i D_i (condition (7)) or
 * A_i = L_i (condition (8)) is estimated for every layer from N draws on the
 * backend in one pass, compared entry by entry with the closed form in
 * standard errors, and the certificate is recomputed from the estimate.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "linalg.h"
#include "problem.h"
#include "compressor.h"
#include "stepsize.h"
#include "method.h"

/* Every layer's matrix, its Monte Carlo moment and standard errors (blocks at moff[i]). */
typedef struct McLayers {
  const DetcgdProblem* p;
  const DcSketchSpec* sp;
  const DcStepsize* st;
  int det2;
  double *A, *mean, *se; /* moff[l] each */
  double* z;             /* l: each layer's largest z-score */
} McLayers;

/* A_i = D_i L_i D_i (det-CGD1, GD) or L_i (det-CGD2); scratch w[0] = D_i, w[1], w[2] = L_i. */
static int layer_matrix(void* ctx, int i, double** w, double* unused) {
  const McLayers* c = (const McLayers*)ctx;
  int m = c->p->layout.size[i];
  double* Ai = c->A + c->p->layout.moff[i];
  (void)unused;
  if (c->det2) { dc_problem_L_get(c->p, i, Ai); return DETCGD_OK; }
  dc_problem_L_get(c->p, i, w[2]);
  dc_blocks_get_dense(&c->st->D, i, w[0]);
  dc_matmul(w[0], w[2], m, w[1]);
  dc_matmul(w[1], w[0], m, Ai);
  return DETCGD_OK;
}

/* Layer i's certificate from the estimate (value) and z_i = max_e |mean_e - exact_e| / se_e (an entry
 * with se = 0 must match to rounding); scratch w[0] = D_i, w[1] = exact, w[2] = D_i^{-1}. */
static int layer_check(void* ctx, int i, double** w, double* cert) {
  const McLayers* c = (const McLayers*)ctx;
  int m = c->p->layout.size[i], st;
  int64_t off = c->p->layout.moff[i], e;
  const double *mean = c->mean + off, *se = c->se + off;
  double z = 0.0;
  dc_sketch_second_moment(c->sp, i, c->A + off, w[1]);
  for (e = 0; e < (int64_t)m * m; ++e) {
    double diff = fabs(mean[e] - w[1][e]);
    double ze = se[e] > 0 ? diff / se[e] : (diff <= 1e-12 * (1 + fabs(w[1][e])) ? 0.0 : INFINITY);
    if (ze > z) z = ze;
  }
  c->z[i] = z;
  dc_blocks_get_dense(&c->st->D, i, w[0]);
  if (!c->det2) return dc_gen_lambda_max(mean, w[0], m, cert);
  st = dc_spd_inverse(w[0], m, w[2]);
  return st ? st : dc_gen_lambda_max(mean, w[2], m, cert);
}

static int check_layers(McLayers* c, DcBackend* be, int64_t N, uint64_t seed, DetcgdMcCheck* out) {
  const DcLayout* lay = &c->p->layout;
  int64_t mm = lay->moff[lay->nblocks];
  double* cert = (double*)dc_calloc((size_t)lay->nblocks + 1, sizeof(double));
  int st;
  c->z = (double*)dc_calloc((size_t)lay->nblocks + 1, sizeof(double));
  c->A = (double*)dc_calloc((size_t)mm + 1, sizeof(double));
  c->mean = (double*)dc_calloc((size_t)mm + 1, sizeof(double));
  c->se = (double*)dc_calloc((size_t)mm + 1, sizeof(double));
  st = cert && c->z && c->A && c->mean && c->se ? DETCGD_OK : DETCGD_ERR_ALLOC;
  if (st == DETCGD_OK) st = dc_for_each_block(lay->nblocks, lay->max_size, 3, layer_matrix, c, NULL);
  if (st == DETCGD_OK) st = be->ops->mc_moments(be, c->sp, c->A, N, seed, c->mean, c->se);
  if (st == DETCGD_OK) st = dc_for_each_block(lay->nblocks, lay->max_size, 3, layer_check, c, cert);
  if (st == DETCGD_OK) {
    out->certificate_mc = dc_max_of(cert, lay->nblocks);
    out->max_z = dc_max_of(c->z, lay->nblocks);
  }
  free(cert); free(c->z); free(c->A); free(c->mean); free(c->se);
  return st;
}

int detcgd_theory_mc(const DetcgdProblem* p, const DetcgdSettings* set, int64_t nsamples, uint64_t seed,
                     DetcgdMcCheck* out) {
  DetcgdSettings c;
  DcSketchSpec sp;
  DcStepsize st;
  DcBackend be;
  McLayers layers;
  int rc;
  if (!p || !set || !out || nsamples < 2) return dc_fail(DETCGD_ERR_ARG, "detcgd_theory_mc: bad argument (nsamples >= 2)");
  if (p->nclients > 0) return dc_fail(DETCGD_ERR_ARG, "detcgd_theory_mc: single-node stepsizes only");
  if ((rc = detcgd_settings_validate(set)) != DETCGD_OK) return rc;
  c = *set;
  c.stepsize.force = 1;
  rc = dc_method_sketch_spec(&sp, dc_method_type(c.method), &c, p);
  if (rc != DETCGD_OK) return rc;
  if ((rc = dc_stepsize_build(&st, p, &c, &sp, NULL, NULL, NULL)) != DETCGD_OK) { dc_sketch_spec_free(&sp); return rc; }
  memset(&layers, 0, sizeof layers);
  layers.p = p;
  layers.sp = &sp;
  layers.st = &st;
  layers.det2 = dc_method_type(c.method)->condition == 8;
  out->certificate = st.certificate;
  out->certificate_mc = out->max_z = 0.0;
  rc = dc_backend_open(&be, c.backend);
  if (rc == DETCGD_OK) {
    rc = check_layers(&layers, &be, nsamples, seed, out);
    dc_backend_close(&be);
  }
  dc_stepsize_free(&st);
  dc_sketch_spec_free(&sp);
  return rc;
}
