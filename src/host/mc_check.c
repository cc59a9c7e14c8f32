/*
 * mc_check.c -- a stepsize's certificate from Monte Carlo moments, next to the
 * closed forms: for each layer, E[S_i A_i S_i] with A_i = D_i L_i D_i (condition
 * (7)) or A_i = L_i (condition (8)) is estimated from N draws on the backend,
 * compared entry by entry with the closed form in standard errors, and the
 * certificate is recomputed from the estimate.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "linalg.h"
#include "problem.h"
#include "sketch.h"
#include "stepsize.h"

typedef struct McScratch { double *A, *mean, *se, *exact, *D, *Dinv, *T; } McScratch;

static int scratch_alloc(McScratch* w, int m) {
  size_t n = (size_t)m * m;
  double** all[] = {&w->A, &w->mean, &w->se, &w->exact, &w->D, &w->Dinv, &w->T};
  size_t i;
  memset(w, 0, sizeof *w);
  for (i = 0; i < sizeof all / sizeof all[0]; ++i)
    if (!(*all[i] = (double*)dc_calloc(n, sizeof(double)))) return DETCGD_ERR_ALLOC;
  return DETCGD_OK;
}

static void scratch_free(McScratch* w) {
  free(w->A); free(w->mean); free(w->se); free(w->exact); free(w->D); free(w->Dinv); free(w->T);
}

/* max_e |mean_e - exact_e| / se_e (an entry with se = 0 must match to rounding) */
static double max_z_score(const McScratch* w, int64_t mm) {
  double z = 0.0;
  int64_t e;
  for (e = 0; e < mm; ++e) {
    double diff = fabs(w->mean[e] - w->exact[e]);
    double ze = w->se[e] > 0 ? diff / w->se[e] : (diff <= 1e-12 * (1 + fabs(w->exact[e])) ? 0.0 : INFINITY);
    if (ze > z) z = ze;
  }
  return z;
}

/* Layer i: Monte Carlo moment, z-scores, and this layer's certificate from the estimate. */
static int check_layer(DcBackend* be, const DetcgdProblem* p, const DcSketchSpec* sp, const DcStepsize* st,
                       int det2, int i, int64_t N, uint64_t seed, McScratch* w, double* cert, double* z) {
  int m = p->layout.size[i], rc;
  const double* Li = p->L.data + p->layout.moff[i];
  dc_blocks_get_dense(&st->D, i, w->D);
  if (det2) memcpy(w->A, Li, (size_t)m * m * sizeof(double));
  else {
    dc_matmul(w->D, Li, m, w->T);
    dc_matmul(w->T, w->D, m, w->A); /* D L D */
  }
  rc = be->ops->mc_moment(be, sp, i, w->A, N, seed, w->mean, w->se);
  if (rc != DETCGD_OK) return rc;
  dc_sketch_second_moment(sp, i, w->A, w->exact);
  *z = max_z_score(w, (int64_t)m * m);
  if (!det2) return dc_gen_lambda_max(w->mean, w->D, m, cert);
  rc = dc_spd_inverse(w->D, m, w->Dinv);
  return rc ? rc : dc_gen_lambda_max(w->mean, w->Dinv, m, cert);
}

int detcgd_theory_mc(const DetcgdProblem* p, const DetcgdSettings* set, int64_t nsamples, uint64_t seed,
                     DetcgdMcCheck* out) {
  DetcgdSettings c;
  DcSketchSpec sp;
  DcStepsize st;
  DcBackend be;
  McScratch w;
  int i, rc, det2;
  if (!p || !set || !out || nsamples < 2) return dc_fail(DETCGD_ERR_ARG, "detcgd_theory_mc: bad argument (nsamples >= 2)");
  if (p->nclients > 0) return dc_fail(DETCGD_ERR_ARG, "detcgd_theory_mc: single-node stepsizes only");
  if ((rc = detcgd_settings_validate(set)) != DETCGD_OK) return rc;
  c = *set;
  c.stepsize.force = 1;
  det2 = c.method == DETCGD_METHOD_DET2;
  rc = (c.method == DETCGD_METHOD_GD || c.sketch.kind == DETCGD_SKETCH_IDENTITY)
           ? dc_sketch_spec_identity(&sp, &p->layout, &c.comm) : dc_sketch_spec_build(&sp, &c.sketch, &c.comm, p);
  if (rc != DETCGD_OK) return rc;
  if ((rc = dc_stepsize_build(&st, p, &c, &sp)) != DETCGD_OK) { dc_sketch_spec_free(&sp); return rc; }
  rc = scratch_alloc(&w, p->layout.max_size);
  if (rc == DETCGD_OK) rc = dc_backend_open(&be, c.backend);
  if (rc == DETCGD_OK) {
    out->certificate = st.certificate;
    out->certificate_mc = 0.0;
    out->max_z = 0.0;
    for (i = 0; i < p->layout.nblocks && rc == DETCGD_OK; ++i) {
      double cert = 0.0, z = 0.0;
      rc = check_layer(&be, p, &sp, &st, det2, i, nsamples, seed, &w, &cert, &z);
      if (cert > out->certificate_mc) out->certificate_mc = cert;
      if (z > out->max_z) out->max_z = z;
    }
    dc_backend_close(&be);
  }
  scratch_free(&w);
  dc_stepsize_free(&st);
  dc_sketch_spec_free(&sp);
  return rc;
}
