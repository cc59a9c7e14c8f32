/*
 * sega.c -- SEGA, variance reduction via gradient sketching (Hanzely, Mishchenko, Richtarik 2018; METHODS.md,
 * "Variance reduction", and the slides of seed 004), on a single node.  Each iteration reads the sketched gradient
 * S_k^T grad f(x^k) only (a coordinate sketch: rand-1, rand-k, importance-1 or Bernoulli, layer by layer; the
 * trace's coords_sent counts the oracle's entries) and keeps a gradient estimate h:
 *   h^{k+1} = h^k + Z_k (grad f(x^k) - h^k),   Z = the projection onto the kept coordinates,
 *   g^k = h^k + theta_k (h^{k+1} - h^k) = h^k + S_k (grad f(x^k) - h^k)   (S = theta Z, E[theta Z] = I),
 *   x^{k+1} = prox_{gamma R}(x^k - gamma g^k)
 * (sega-estimator plain: g^k = S_k grad f(x^k), randomized coordinate descent with the same prox, the baseline that
 * keeps the sketch's noise at x* when grad f(x*) != 0).  theta_j is the sketch's scale of coordinate j (m/k for
 * rand-k, 1/p_j for importance-1, 1/p for Bernoulli), so E[Z] = Diag(1/theta) and C = E[theta^2 Z] = Diag(theta).
 * Theory [slides, V]: E Phi^k <= (1 - gamma mu)^k Phi^0, Phi = ||x - x*||^2 + sigma gamma ||h - grad f(x*)||^2, when
 *   (i)  gamma (2 (C - I) + sigma mu I) <= sigma E[Z]:  gamma <= sigma / (theta_j (2 (theta_j - 1) + sigma mu)) for every j,
 *   (ii) 2 gamma C + sigma E[Z] <= L^{-1}:  lambda_max(L^{1/2} (2 gamma Theta + sigma Theta^{-1}) L^{1/2}) <= 1,
 * with L the problem's block bound Blockdiag(L_i).  For a sigma, (i) bounds gamma from above and grows with sigma,
 * (ii) bounds it (bisection) and shrinks with sigma: the largest gamma over sigma in (0, 1 / lambda_max(L^{1/2}
 * Theta^{-1} L^{1/2})) is found by a golden-section search on log sigma [derived here: the 1-D search]; the
 * summary gives gamma, sigma and both conditions' values at them (the certificate).
 * sega-sketch gaussian: per layer i one direction s_i ~ N(0, I_{m_i}) at (seed, k) instead (Box-Muller from the shared
 * Philox stream, drawn on the host and uploaded: d values a round), the oracle s_i^T grad f one value per layer,
 * Z_i = s_i s_i^T / ||s_i||^2 the projection onto it, E[Z_i] = I / m_i by symmetry, so theta_j = m_i and the same
 * conditions hold with C = Diag(m_i I) [slides: any sketch with E[theta Z] = I].
 */
#include <math.h>
#include <stdlib.h>
#include "linalg.h"
#include "method.h"
#include "options.h"
#include "problem.h"
#include "philox.h"
#include "prox.h"

typedef struct SegaState {
  DcVec* h;      /* the estimate h (NULL: plain) */
  DcVec* diff;   /* grad f - h */
  DcVec* u;      /* S (grad f - h) */
  DcVec* vals;   /* the sketched values */
  DcBlocks* Zs;  /* Diag(1 / theta): Z (grad f - h) = Zs u */
  /* gaussian: the directions (host, then on the backend), s_i^T (grad f - h) per layer, views of one layer */
  double* dir_host;
  DcVec *dir, *dots, *Sv, *Dv, *Uv;
  const DcLayout* lay; /* borrowed */
  int value_bits;
  DcProx prox;
  double gamma, sigma, mu, cond_i, cond_ii, theta_max;
  const char* source;
  char prox_text[128];
} SegaState;

#define RUNS (DETCGD_CMD_RUN | DETCGD_CMD_EXPERIMENT)
static const char* const ESTIMATOR_NAMES[] = {"sega", "plain", NULL};
static const char* const SKETCH_NAMES[] = {"coordinate", "gaussian", NULL};
static const char* sega_only(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)p;
  return s->method == DETCGD_METHOD_SEGA ? NULL : "read by method sega";
}
static const DcOption OPTIONS[] = {
  {"sega-step", "method", DC_OPT_DOUBLE, DC_SETTINGS_FIELD(sega_step), "0", 0, 1e300, NULL, RUNS | DETCGD_CMD_THEORY, 0,
   sega_only, "sega: gamma, 0 = the largest the two conditions allow (slides; 1-D search derived here)"},
  {"sega-estimator", "method", DC_OPT_ENUM, DC_SETTINGS_FIELD(sega_estimator), "sega", 0, 0, ESTIMATOR_NAMES, RUNS, 0,
   sega_only, "sega: g = h + S (grad f - h) (SEGA), or plain g = S grad f (coordinate descent, same step)"},
  {"sega-sketch", "method", DC_OPT_ENUM, DC_SETTINGS_FIELD(sega_sketch), "coordinate", 0, 0, SKETCH_NAMES,
   RUNS | DETCGD_CMD_THEORY, 0, sega_only, "sega: the oracle reads the sketch's coordinates, or s_i^T grad f for one "
   "Gaussian direction s_i per layer (then the sketch's draws are not used; its tally counts one value per layer)"},
  DC_OPTION_END};

/* The sketch's theta of every coordinate, into theta[0..d): its scale, or m_i (gaussian). */
static void thetas(const DcSketchSpec* sp, int gaussian, double* theta) {
  const DcCompressorType* t = dc_compressor_type(sp->kind);
  int i, j;
  for (i = 0; i < sp->layout->nblocks; ++i)
    for (j = 0; j < sp->layout->size[i]; ++j)
      theta[sp->layout->voff[i] + j] = gaussian ? (double)sp->layout->size[i] : t->scale(sp, i, j);
}

/* lambda_max(L^{1/2} Diag(w) L^{1/2}) = max over the blocks of lambda_max(W_i^{1/2} L_i W_i^{1/2}) */
static int weighted_lmax(const DetcgdProblem* p, const double* w, double* Lb, double* out) {
  const DcLayout* lay = &p->layout;
  int i, r, c, st;
  *out = 0.0;
  for (i = 0; i < lay->nblocks; ++i) {
    int m = lay->size[i];
    const double* wi = w + lay->voff[i];
    double lm;
    dc_problem_L_get(p, i, Lb);
    for (c = 0; c < m; ++c)
      for (r = 0; r < m; ++r) Lb[r + (int64_t)c * m] *= sqrt(wi[r] * wi[c]);
    if ((st = dc_lambda_max(Lb, m, &lm)) != DETCGD_OK) return st;
    if (lm > *out) *out = lm;
  }
  return DETCGD_OK;
}

/* (ii)'s lambda_max at (gamma, sigma): Diag(2 gamma theta + sigma / theta) */
static int condition_ii(const DetcgdProblem* p, const double* theta, double gamma, double sigma, double* w, double* Lb,
                        double* out) {
  int64_t j;
  for (j = 0; j < p->layout.dim; ++j) w[j] = 2.0 * gamma * theta[j] + sigma / theta[j];
  return weighted_lmax(p, w, Lb, out);
}

/* The largest gamma for sigma: min of (i) and of (ii) by bisection (*g = 0 when sigma leaves (ii) no room). */
static int gamma_for(const DetcgdProblem* p, const double* theta, double sigma, double mu, double* w, double* Lb,
                     double* g) {
  int64_t j;
  double g1 = INFINITY, lo = 0.0, hi, v;
  int it, st;
  for (j = 0; j < p->layout.dim; ++j) g1 = fmin(g1, sigma / (theta[j] * (2.0 * (theta[j] - 1.0) + sigma * mu)));
  if ((st = condition_ii(p, theta, 0.0, sigma, w, Lb, &v)) != DETCGD_OK) return st;
  if (v >= 1.0) { *g = 0.0; return DETCGD_OK; }
  hi = g1;
  if ((st = condition_ii(p, theta, hi, sigma, w, Lb, &v)) != DETCGD_OK) return st;
  if (v <= 1.0) { *g = hi; return DETCGD_OK; }
  for (it = 0; it < 60; ++it) {
    double mid = 0.5 * (lo + hi);
    if ((st = condition_ii(p, theta, mid, sigma, w, Lb, &v)) != DETCGD_OK) return st;
    if (v <= 1.0) lo = mid; else hi = mid;
  }
  *g = lo;
  return DETCGD_OK;
}

/* gamma, sigma of the theory, and the certificate: max_j of (i)'s ratio, (ii)'s lambda_max (both <= 1). */
static int theory(SegaState* st, const DcMethodSetup* m, const double* theta) {
  const DetcgdProblem* p = m->problem;
  int64_t d = p->layout.dim, j;
  double *w = (double*)dc_calloc((size_t)d, sizeof(double)), *Lb = NULL, sig_max, a, b, ga, gb;
  const double phi = 0.5 * (sqrt(5.0) - 1.0);
  int it, st_ = DETCGD_OK;
  if (!w || !(Lb = (double*)dc_calloc((size_t)p->layout.max_size * (size_t)p->layout.max_size, sizeof(double)))) {
    free(w);
    return DETCGD_ERR_ALLOC;
  }
  for (j = 0; j < d; ++j) w[j] = 1.0 / theta[j];
  if ((st_ = weighted_lmax(p, w, Lb, &sig_max)) != DETCGD_OK) goto done;
  sig_max = 1.0 / sig_max;
  a = log(sig_max) - 40.0;
  b = log(sig_max);
  for (it = 0; it < 80 && st_ == DETCGD_OK; ++it) { /* golden section on log sigma */
    double x1 = b - phi * (b - a), x2 = a + phi * (b - a);
    if ((st_ = gamma_for(p, theta, exp(x1), st->mu, w, Lb, &ga)) != DETCGD_OK ||
        (st_ = gamma_for(p, theta, exp(x2), st->mu, w, Lb, &gb)) != DETCGD_OK)
      break;
    if (ga >= gb) b = x2; else a = x1;
  }
  st->sigma = exp(0.5 * (a + b));
  if (st_ == DETCGD_OK) st_ = gamma_for(p, theta, st->sigma, st->mu, w, Lb, &st->gamma);
  if (st_ == DETCGD_OK) st_ = condition_ii(p, theta, st->gamma, st->sigma, w, Lb, &st->cond_ii);
  st->cond_i = 0.0;
  for (j = 0; j < d; ++j)
    st->cond_i = fmax(st->cond_i, st->gamma * theta[j] * (2.0 * (theta[j] - 1.0) + st->sigma * st->mu) / st->sigma);
done:
  free(w);
  free(Lb);
  return st_;
}

static int create(DcRound* r, const DcMethodSetup* m) {
  const DcBackendOps* o = r->be->ops;
  SegaState* st = (SegaState*)r->state;
  const DetcgdProblem* p = m->problem;
  int64_t d = p->layout.dim, j;
  DcHostBlocks Z = {0};
  int rc;
  if (r->delivery != DC_DELIVER_IN_PLACE) return dc_fail(DETCGD_ERR_ARG, "method: sega runs on a single node (clients = 0)");
  if (m->spec->kind == DC_SK_IDENTITY)
    return dc_fail(DETCGD_ERR_ARG, "sketch: sega sketches the gradient; with the identity it is GD (use method gd)");
  if ((rc = o->vec_create(r->be, d, &st->diff)) || (rc = o->vec_create(r->be, d, &st->u)) ||
      (rc = o->vec_create(r->be, m->spec->cap_off[p->layout.nblocks], &st->vals)))
    return rc;
  if (m->settings->sega_estimator == 0 && (rc = o->vec_create(r->be, d, &st->h))) return rc;
  if ((rc = dc_blocks_alloc(&Z, &p->layout, DC_BLOCKS_DIAG))) return rc;
  thetas(m->spec, m->settings->sega_sketch == 1, Z.data);
  st->mu = dc_problem_mu(p);
  st->theta_max = 0.0;
  for (j = 0; j < d; ++j) st->theta_max = fmax(st->theta_max, Z.data[j]);
  rc = theory(st, m, Z.data);
  for (j = 0; j < d; ++j) Z.data[j] = 1.0 / Z.data[j];
  if (rc == DETCGD_OK) rc = o->blocks_create(r->be, &Z, &st->Zs);
  dc_blocks_free(&Z);
  if (rc) return rc;
  st->source = "the largest gamma of the slides' two conditions (1-D search over sigma: derived here)";
  if (m->settings->sega_step > 0) {
    if (m->settings->sega_step > st->gamma * (1 + 1e-9) && !m->settings->stepsize.force)
      return dc_fail(DETCGD_ERR_ARG, "sega-step: %g exceeds the largest step %g the two conditions allow; set force = 1 "
                     "to run it anyway", m->settings->sega_step, st->gamma);
    st->source = m->settings->sega_step > st->gamma * (1 + 1e-9) ? "given (sega-step), past the conditions (forced)"
                                                                  : "given (sega-step)";
    st->gamma = m->settings->sega_step;
  }
  if (!st->h) st->source = "SEGA's step (plain: no theory here)";
  if ((rc = dc_prox_open(&st->prox, r->be, m->settings))) return rc;
  dc_prox_describe(&st->prox, st->prox_text, sizeof st->prox_text);
  st->lay = &p->layout;
  st->value_bits = m->spec->value_bits;
  if (m->settings->sega_sketch != 1) return DETCGD_OK;
  if (!(st->dir_host = (double*)dc_calloc((size_t)d, sizeof(double)))) return DETCGD_ERR_ALLOC;
  if ((rc = o->vec_create(r->be, d, &st->dir)) || (rc = o->vec_create(r->be, p->layout.nblocks, &st->dots))) return rc;
  return DETCGD_OK;
}

static void destroy(DcRound* r) {
  const DcBackendOps* o = r->be->ops;
  SegaState* st = (SegaState*)r->state;
  o->vec_destroy(r->be, &st->h);
  o->vec_destroy(r->be, &st->diff);
  o->vec_destroy(r->be, &st->u);
  o->vec_destroy(r->be, &st->vals);
  o->blocks_destroy(r->be, &st->Zs);
  o->vec_destroy(r->be, &st->dir);
  o->vec_destroy(r->be, &st->dots);
  o->vec_destroy(r->be, &st->Sv);
  o->vec_destroy(r->be, &st->Dv);
  o->vec_destroy(r->be, &st->Uv);
  free(st->dir_host);
  st->dir_host = NULL;
  dc_prox_close(&st->prox, r->be);
}

#define DC_STREAM_SEGA_GAUSS 0xFFFFFF06u /* sega-sketch gaussian's directions at (seed, k), counter = pair of entries */

/* s ~ N(0, I_d) of round iter: entries 2t and 2t + 1 by Box-Muller from block t of the shared stream at (seed, iter) */
void dc_sega_gaussian_direction(uint64_t seed, uint32_t iter, int64_t d, double* s) {
  int64_t t;
  for (t = 0; 2 * t < d; ++t) {
    DcPhiloxOut b = dc_philox_draw(seed, iter, 0u, DC_STREAM_SEGA_GAUSS, (uint32_t)t);
    double radius = sqrt(-2.0 * log(1.0 - dc_uniform53(b))), angle = 6.283185307179586 * dc_uniform53_b(b);
    s[2 * t] = radius * cos(angle);
    if (2 * t + 1 < d) s[2 * t + 1] = radius * sin(angle);
  }
}

/* gaussian: u_i = m_i s_i (s_i^T diff_i) / ||s_i||^2 for every layer, and one value per layer in the tally */
static int gaussian_oracle(DcRound* r) {
  const DcBackendOps* o = r->be->ops;
  SegaState* st = (SegaState*)r->state;
  const DcLayout* lay = st->lay;
  DcScalar zero = {0.0, NULL, 0, 1.0};
  int64_t coords, bits;
  int i, rc;
  dc_sega_gaussian_direction(r->seed, r->iter, r->dim, st->dir_host);
  rc = o->vec_upload(r->be, st->dir, st->dir_host);
  for (i = 0; i < lay->nblocks && rc == DETCGD_OK; ++i) {
    int64_t off = lay->voff[i], m = lay->size[i], j;
    double n2 = 0.0;
    for (j = 0; j < m; ++j) n2 += st->dir_host[off + j] * st->dir_host[off + j];
    rc = o->vec_view(r->be, st->dir, off, m, &st->Sv);
    if (rc == DETCGD_OK) rc = o->vec_view(r->be, st->diff, off, m, &st->Dv);
    if (rc == DETCGD_OK) rc = o->vec_view(r->be, st->u, off, m, &st->Uv);
    if (rc == DETCGD_OK) rc = o->dot(r->be, st->Sv, st->Dv, st->dots, i);
    if (rc == DETCGD_OK) {
      DcScalar a = {(double)m / n2, st->dots, i, 1.0};
      rc = o->axpby(r->be, a, st->Sv, zero, st->Uv);
    }
  }
  if (rc == DETCGD_OK) rc = o->sketch_tally(r->be, r->S, &coords, &bits);
  return rc == DETCGD_OK ? o->sketch_set_tally(r->be, r->S, coords + lay->nblocks,
                                               bits + (int64_t)lay->nblocks * st->value_bits)
                         : rc;
}

/* the oracle S^T (grad f - h): u = S (grad f - h), drawn for (seed, iter) */
static int sketched_gradient(DcRound* r) {
  const DcBackendOps* o = r->be->ops;
  SegaState* st = (SegaState*)r->state;
  DcScalar one = {1.0, NULL, 0, 1.0}, zero = {0.0, NULL, 0, 1.0};
  int rc = o->axpby(r->be, one, r->at.G, zero, st->diff);
  if (rc == DETCGD_OK && st->h) rc = o->axpy(r->be, -1.0, st->h, st->diff);
  if (rc == DETCGD_OK && st->dir) return gaussian_oracle(r);
  if (rc == DETCGD_OK) rc = dc_round_compress(r, NULL); /* the draw */
  if (rc == DETCGD_OK) rc = o->sketch_compress(r->be, NULL, r->S, st->diff, 0, st->vals);
  if (rc == DETCGD_OK) rc = o->vec_fill(r->be, st->u, 0.0);
  return rc == DETCGD_OK ? o->sketch_accumulate(r->be, r->S, st->vals, 1.0, st->u) : rc;
}

static int nothing(DcRound* r) { (void)r; return DETCGD_OK; }

/* x = prox(x - gamma (h + u)), h += Z (grad f - h) = Diag(1 / theta) u */
static int step(DcRound* r) {
  const DcBackendOps* o = r->be->ops;
  SegaState* st = (SegaState*)r->state;
  int rc = st->h ? o->axpy(r->be, -st->gamma, st->h, r->x) : DETCGD_OK;
  if (rc == DETCGD_OK) rc = o->axpy(r->be, -st->gamma, st->u, r->x);
  if (rc == DETCGD_OK) rc = dc_prox_apply(&st->prox, r->be, st->gamma, r->x);
  if (rc == DETCGD_OK && st->h) rc = o->bd_apply(r->be, st->Zs, DC_SEL_FULL, NULL, st->u, 1.0, st->h);
  return rc;
}

static int facts(const DcRound* r, DcMethodFact* out, int cap) {
  const SegaState* st = (const SegaState*)r->state;
  DcMethodFact f[8] = {{"step", st->gamma, NULL},         {"step_source", 0, st->source},
                       {"sigma", st->sigma, NULL},        {"mu", st->mu, NULL},
                       {"condition_i", st->cond_i, NULL}, {"condition_ii", st->cond_ii, NULL},
                       {"rate", st->mu > 0 && st->h ? 1.0 - st->gamma * st->mu : NAN, NULL},
                       {"prox", 0, st->prox_text}};
  return dc_method_facts_copy(f, 8, out, cap);
}

static int state(const DcRound* r, DcStateVec* out, int cap) {
  const SegaState* st = (const SegaState*)r->state;
  if (!st->h || cap < 1) return 0;
  out[0].name = "sega_h";
  out[0].n = r->dim;
  out[0].v = st->h;
  return 1;
}

const DcMethodType dc_method_sega = {.name = "sega", .id = DETCGD_METHOD_SEGA,
                                     .needs = DC_NEEDS_LINEAR | DC_NEEDS_UNBIASED,
                                     .step_flags = DC_STEP_NO_MATRIX | DC_STEP_PROX, .op_by_op = 1, /* gaussian: host draws */
                                     .client = sketched_gradient,
                                     .absorb = nothing, .server = step, .options = OPTIONS,
                                     .state_size = sizeof(SegaState), .create = create, .destroy = destroy,
                                     .facts = facts, .state = state};
