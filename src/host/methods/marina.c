/*
 * marina.c -- compressed gradient differences without a stored shift (METHODS.md, "MARINA, DASHA"): MARINA (Gorbunov,
 * Burlachenko, Li, Richtarik 2021) and DASHA (Tyurin, Richtarik 2022), on one node and over n clients (simulated or
 * MPI).  C is unbiased (omega) and independent across clients.  Round k, from the clients' gradients at x^k:
 *
 *   marina  a coin c_k ~ Bernoulli(p), the same on every rank (the shared Philox stream at (seed, k); c_0 = 1, so that
 *           g^0 = grad f(x^0) is an uncompressed round, counted):
 *             c_k = 1: m_c = grad f_c(x^k), d values (a sync round),   g^k = (1/n) sum_c m_c
 *             c_k = 0: m_c = C(grad f_c(x^k) - grad f_c(x^{k-1})),     g^k = g^{k-1} + (1/n) sum_c m_c
 *           x^{k+1} = x^k - gamma g^k.  gamma = 1 / (L (1 + sqrt((1 - p) omega / (p n)))) [METHODS.md: authors' code];
 *           p = marina-p, or the share of a full message's bits that a compressed one costs, bits(C) / (d value-bits)
 *           (derived here: the sync rounds then cost, in expectation, as much as the compressed ones; the paper's
 *           p = zeta / d counts kept coordinates, which is 1 for a quantiser that sends every coordinate).
 *   dasha   m_c = C(grad f_c(x^k) - h_c - a (g_c - h_c)),  g_c += m_c,  h_c = grad f_c(x^k),  g^k = g^{k-1} + (1/n) sum m_c,
 *           x^{k+1} = x^k - gamma g^k;  a = dasha-a or 1 / (2 omega + 1) [authors' code];  gamma = 1 / (L_AM + L~
 *           sqrt(omega (4 omega + 1) / n)), L_AM = mean_c L_c [METHODS.md: the authors' code's, unverified against the
 *           paper, which is remembered with sqrt(16 omega (2 omega + 1) / n)].  Never an uncompressed round: h_c starts
 *           at grad f_c(x^0) (computed where the client is, not sent) and g_c at 0 (dasha-init zero: the paper's first
 *           step x^1 = x^0 - gamma 0 is skipped) or at grad f_c(x^0) sent in full before round 0 (gradient, counted).
 * MARINA's coin is drawn on the host per round, so its iterations are not recorded as replays (op_by_op).
 * VR-MARINA is marina (and det-marina) with minibatches (batch): a compressed round sends C(grad f_c(x^k; xi) -
 * grad f_c(x^{k-1}; xi)) on the same samples xi at both points (each client keeps its x^{k-1}), a sync round the full
 * gradient; its step is MARINA's (no theory for the minibatches here).
 *
 * det-marina and det-dasha step with a diagonal matrix D = gamma W instead, x^{k+1} = x^k - D g^k, W = diag^{-1}(L)
 * (the block bound's diagonal; marina-weight) or I:
 *   det-marina  [METHODS.md, derived there; not the paper's theorem, which was not available]: D^{-1} >= L + ((1 - p) /
 *               (p n)) (1/n) sum_c c_c(D) L_c, c_c(D) = lambda_max(L_c^{1/2} E[(C - I) D (C - I)] L_c^{1/2}), gives
 *               G_{K,D} <= 2 Delta^0 / (det(D)^{1/d} K).  For a compressor whose errors are independent across
 *               coordinates with variance at most omega x_j^2 (natural compression, omega = 1/8; derived here: its
 *               E[(C - I) D (C - I)] is then at most omega Diag(D) = omega D for a diagonal D, as rand-k's M_W = (m/k -
 *               1) W), with D = gamma W:  gamma <= 2 / (a + sqrt(a^2 + 4 b)), a = lambda_max(W^{1/2} L W^{1/2}),
 *               b = ((1 - p) omega / (p n)) (1/n) sum_c lambda_max(W^{1/2} L_c W^{1/2})^2.  The summary gives gamma a +
 *               gamma^2 b (<= 1, the certificate) and the bound.  The sketches qualify (derived here): for a diagonal D
 *               E[(S - I) D (S - I)] = E[S D S] - D is (m/k - 1) D (rand-k), (1/p - 1) D (Bernoulli), (1/q - 1) D
 *               (Bern-q) and Diag((1/p_j - 1) D_jj) <= omega D (importance), by compressor.h's closed forms.
 *   det-dasha   [METHODS.md: I] no stepsize condition is known: D = gamma W with gd-step given, labelled "no theory".
 * Both take a prox (prox.h) in the D^{-1}-norm after x - D g (no theory with it here: the condition is for R = 0).
 * dasha-page (batch required): DASHA whose h_c is PAGE's estimator [METHODS.md: authors' code, unverified here]: with
 *   probability p_c (page-p, or b / (m_c + b), PAGE's choice; a coin of the shared stream at (seed, k, c), drawn where
 *   the client is) h_c = grad f_c(x^k), else h_c += grad f_c(x^k; xi) - grad f_c(x^{k-1}; xi) on the same samples;
 *   DASHA's step and a (no theory for the minibatches here); op by op.
 * Their trace column grad_norm2_Dhat = ||grad f(x^k)||^2 of D / det(D)^{1/d} (G_{K,D}'s terms; the common columns'
 * D is the identity).
 */
#include <math.h>
#include <stdlib.h>
#include "gram.h"
#include "linalg.h"
#include "method.h"
#include "options.h"
#include "philox.h"
#include "problem.h"
#include "prox.h"

#define DC_STREAM_MARINA_COIN 0xFFFFFF03u /* MARINA's coin at (seed, k) */

typedef struct MarinaState {
  DcVec* prev;   /* n rows: grad f_c at the previous round (marina), h_c (dasha) */
  DcVec* Gc;     /* dasha: n rows, the clients' g_c */
  DcVec* M;      /* a chunk's messages */
  DcVec* U;      /* dasha: a chunk's (1 - a) h_c + a g_c */
  DcVec *Hv, *Gv, *Uv; /* dasha: views of the chunk's rows of prev, Gc and U; vr-marina: of x_prev, G and E */
  DcVec *E, *T;  /* vr-marina: a chunk's messages' arguments, one client's gradient; dasha-page: a chunk's new h_c */
  DcVec *Xp, *Xv, *Rv, *Ev; /* dasha-page: n rows, each client's previous x; views of one row of Xp, prev and E */
  double* page_p; /* dasha-page, owns: each client's probability of a full gradient */
  DcVec* sum;    /* sum_c m_c of the round */
  DcVec* g;      /* the server's g */
  DcSketchSpec full_spec; /* marina: the identity's, for the sync rounds' messages */
  DcSketch* full;         /* marina: its draws and tally (moved into the round's after every sync round) */
  double gamma, p, a, omega;
  DcBlocks *D, *Dhat;     /* det-: D = gamma W and D / det(D)^{1/d} (NULL: the scalar step) */
  double cond_a, cond_b, certificate, det_factor, bound;
  const char* weight;
  DcProx prox;            /* det-: R's prox in the D^{-1}-norm after each step */
  char prox_text[160];
  DcSmoothness sm;
  const char *source, *p_source, *a_source, *init;
  int64_t sync_rounds;
} MarinaState;

#define RUNS (DETCGD_CMD_RUN | DETCGD_CMD_EXPERIMENT)
static const char* const DASHA_INIT_NAMES[] = {"zero", "gradient", NULL};
static const char* const WEIGHT_NAMES[] = {"diag-inv", "identity", NULL};
static int is_marina(int m) { return m == DETCGD_METHOD_MARINA || m == DETCGD_METHOD_DET_MARINA; }
static int is_dasha(int m) {
  return m == DETCGD_METHOD_DASHA || m == DETCGD_METHOD_DET_DASHA || m == DETCGD_METHOD_DASHA_PAGE;
}
static const char* page_only(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)p;
  return s->method == DETCGD_METHOD_DASHA_PAGE ? NULL : "read by method dasha-page";
}
static const char* marina_only(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)p;
  return is_marina(s->method) ? NULL : "read by methods marina and det-marina";
}
static const char* dasha_only(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)p;
  return is_dasha(s->method) ? NULL : "read by methods dasha and det-dasha";
}
static const char* step_readers(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)p;
  return is_marina(s->method) || is_dasha(s->method) ? NULL : "read by methods marina, dasha, det-marina and det-dasha";
}
static const char* matrix_readers(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)p;
  return s->method == DETCGD_METHOD_DET_MARINA || s->method == DETCGD_METHOD_DET_DASHA ? NULL
                                                                                      : "read by methods det-marina and det-dasha";
}
static const DcOption OPTIONS[] = {
  {"gd-step", "method", DC_OPT_DOUBLE, DC_SETTINGS_FIELD(gd_step), "0", 0, 1e300, NULL, RUNS | DETCGD_CMD_THEORY, 0,
   step_readers, "marina, dasha: gamma of x - gamma g, 0 = their theory step (marina.c; above it: force = 1)"},
  {"marina-p", "method", DC_OPT_DOUBLE, DC_SETTINGS_FIELD(marina_p), "0", 0, 1, NULL, RUNS | DETCGD_CMD_THEORY, 0,
   marina_only, "marina: probability p of a sync round (every client sends its gradient), 0 = bits(C) / (d value-bits) (derived)"},
  {"dasha-a", "method", DC_OPT_DOUBLE, DC_SETTINGS_FIELD(dasha_a), "0", 0, 1, NULL, RUNS | DETCGD_CMD_THEORY, 0,
   dasha_only, "dasha: a of m_c = C(grad f_c - h_c - a (g_c - h_c)), 0 = 1 / (2 omega + 1) (authors' code)"},
  {"dasha-init", "method", DC_OPT_ENUM, DC_SETTINGS_FIELD(dasha_init), "zero", 0, 0, DASHA_INIT_NAMES, RUNS, 0, dasha_only,
   "dasha: g_c^0 = 0, or grad f_c(x0) sent in full before round 0 (counted)"},
  {"page-p", "method", DC_OPT_DOUBLE, DC_SETTINGS_FIELD(page_p), "0", 0, 1, NULL, RUNS | DETCGD_CMD_THEORY, 0, page_only,
   "dasha-page: probability of a client's full gradient per round, 0 = b / (m_c + b) (PAGE's choice)"},
  {"marina-weight", "method", DC_OPT_ENUM, DC_SETTINGS_FIELD(marina_weight), "diag-inv", 0, 0, WEIGHT_NAMES,
   RUNS | DETCGD_CMD_THEORY, 0, matrix_readers, "det-marina, det-dasha: W of D = gamma W, diag^-1(L) or the identity"},
  DC_OPTION_END};

/* MARINA's coin of round k: 1 at k = 0, else u < p for u of the shared stream at (seed, k) -- what every rank draws. */
int dc_marina_coin(uint64_t seed, uint32_t iter, double p) {
  return iter == 0 || dc_uniform53(dc_philox_draw(seed, iter, 0u, DC_STREAM_MARINA_COIN, 0u)) < p;
}

static int given_or_theory(MarinaState* st, const DcMethodSetup* m, double theory, const char* name, const char* label) {
  const DetcgdSettings* s = m->settings;
  if (!(s->gd_step > 0)) {
    st->gamma = theory;
    st->source = label;
    return DETCGD_OK;
  }
  st->gamma = s->gd_step;
  st->source = "given (gd-step)";
  if (st->gamma > theory * (1 + 1e-12)) {
    if (!s->stepsize.force)
      return dc_fail(DETCGD_ERR_ARG, "gd-step: gamma = %g exceeds %s's theory step %g; set force = 1 to run it anyway",
                     st->gamma, name, theory);
    st->source = "given (gd-step), past the theory step (forced)";
  }
  return DETCGD_OK;
}

/* MARINA's state, p and omega; its scalar step is create_marina's, det-marina's matrix_step's */
static int open_marina(DcRound* r, const DcMethodSetup* m) {
  const DcBackendOps* o = r->be->ops;
  MarinaState* st = (MarinaState*)r->state;
  const DetcgdSettings* s = m->settings;
  int rc;
  if ((rc = o->vec_create(r->be, r->n * r->dim, &st->prev)) || (rc = o->vec_create(r->be, r->chunk * r->dim, &st->M)) ||
      (rc = o->vec_create(r->be, r->dim, &st->sum)) || (rc = o->vec_create(r->be, r->dim, &st->g)))
    return rc;
  if (r->batch > 0 && ((rc = o->vec_create(r->be, r->chunk * r->dim, &st->E)) || (rc = o->vec_create(r->be, r->dim, &st->T))))
    return rc;
  if ((rc = dc_sketch_spec_identity(&st->full_spec, &m->problem->layout, &s->comm)) ||
      (rc = o->sketch_create(r->be, &st->full_spec, r->chunk, &st->full)))
    return rc;
  if ((rc = dc_method_smoothness(m->problem, r->n, &st->sm))) return rc;
  st->omega = dc_sketch_omega(m->spec);
  if (s->marina_p > 0) {
    st->p = s->marina_p;
    st->p_source = "given (marina-p)";
  } else {
    st->p = fmin(1.0, dc_sketch_expected_bits(m->spec) / dc_sketch_expected_bits(&st->full_spec));
    st->p_source = "bits(C) / (d value-bits): a sync round's expected bits = a compressed round's (derived)";
  }
  return DETCGD_OK;
}

static int create_marina(DcRound* r, const DcMethodSetup* m) {
  MarinaState* st = (MarinaState*)r->state;
  int rc = open_marina(r, m);
  if (rc) return rc;
  return given_or_theory(st, m, 1.0 / (st->sm.L * (1.0 + sqrt((1.0 - st->p) * st->omega / (st->p * r->n)))), "marina",
                         r->batch > 0 ? "MARINA's 1 / (L (1 + sqrt((1 - p) omega / (p n)))) (authors' code, full gradients; "
                                        "no theory for VR-MARINA's minibatches here)"
                                      : "1 / (L (1 + sqrt((1 - p) omega / (p n)))) (authors' code)");
}

/* g_c^0 = grad f_c(x^0) for every client, g^0 their mean, sent in full: d values each counted (x is x^0 here). */
static int dasha_start_from_gradients(DcRound* r, int value_bits) {
  const DcBackendOps* o = r->be->ops;
  MarinaState* st = (MarinaState*)r->state;
  int64_t coords, bits;
  int rc = o->vec_copy(r->be, st->Gc, st->prev);
  if (rc == DETCGD_OK) rc = o->rows_sum(r->be, st->Gc, r->n, r->dim, 1.0 / r->n, 1, st->g, 0);
  if (rc == DETCGD_OK) rc = o->sketch_tally(r->be, r->S, &coords, &bits);
  if (rc == DETCGD_OK) rc = o->sketch_set_tally(r->be, r->S, coords + r->n * r->dim, bits + r->n * r->dim * value_bits);
  return rc;
}

#define DC_STREAM_PAGE_COIN 0xFFFFFF05u /* dasha-page's coins at (seed, k, c) */

static int create_dasha(DcRound* r, const DcMethodSetup* m) {
  const DcBackendOps* o = r->be->ops;
  MarinaState* st = (MarinaState*)r->state;
  const DetcgdSettings* s = m->settings;
  int rc, c, page = s->method == DETCGD_METHOD_DASHA_PAGE;
  if (page && r->batch <= 0)
    return dc_fail(DETCGD_ERR_ARG, "batch: dasha-page's estimator works on minibatches; set batch >= 1 (with full "
                   "gradients it is dasha)");
  if ((rc = o->vec_create(r->be, r->n * r->dim, &st->prev)) || (rc = o->vec_create(r->be, r->n * r->dim, &st->Gc)) ||
      (rc = o->vec_create(r->be, r->chunk * r->dim, &st->M)) || (rc = o->vec_create(r->be, r->chunk * r->dim, &st->U)) ||
      (rc = o->vec_create(r->be, r->dim, &st->sum)) || (rc = o->vec_create(r->be, r->dim, &st->g)))
    return rc;
  if ((rc = dc_method_smoothness(m->problem, r->n, &st->sm))) return rc;
  st->omega = dc_sketch_omega(m->spec);
  st->a = s->dasha_a > 0 ? s->dasha_a : 1.0 / (2.0 * st->omega + 1.0);
  st->a_source = s->dasha_a > 0 ? "given (dasha-a)" : "1 / (2 omega + 1) (authors' code)";
  st->init = DASHA_INIT_NAMES[s->dasha_init];
  if (s->method != DETCGD_METHOD_DET_DASHA && /* det-dasha's D = gamma W has no theory step: matrix_step's */
      (rc = given_or_theory(st, m, 1.0 / (st->sm.L_mean + st->sm.L_tilde * sqrt(st->omega * (4.0 * st->omega + 1.0) / r->n)),
                            "dasha", "1 / (L_AM + L~ sqrt(omega (4 omega + 1) / n)) (authors' code; unverified against "
                            "the paper)")))
    return rc;
  if (page) { /* h_c = grad f_c(x^0) in full, x_prev,c = x^0 */
    DcScalar one = {1.0, NULL, 0, 1.0}, zero = {0.0, NULL, 0, 1.0};
    const DetcgdProblem* p = m->problem;
    if ((rc = o->vec_create(r->be, r->n * r->dim, &st->Xp)) || (rc = o->vec_create(r->be, r->chunk * r->dim, &st->E)) ||
        (rc = o->vec_create(r->be, r->dim, &st->T)))
      return rc;
    if (!(st->page_p = (double*)dc_calloc((size_t)r->n, sizeof(double)))) return DETCGD_ERR_ALLOC;
    for (c = 0; c < r->n && rc == DETCGD_OK; ++c) {
      int64_t rows = p->nclients > 0 ? p->client_host[c].nrows : p->host.nrows;
      st->page_p[c] = s->page_p > 0 ? s->page_p : (double)r->batch / (double)(rows + r->batch);
      rc = o->vec_view(r->be, st->prev, (int64_t)c * r->dim, r->dim, &st->Rv);
      if (rc == DETCGD_OK) rc = o->vec_view(r->be, st->Xp, (int64_t)c * r->dim, r->dim, &st->Xv);
      if (rc == DETCGD_OK) rc = dc_round_gradient_at(r, c, r->x, 1, st->Rv);
      if (rc == DETCGD_OK) rc = o->axpby(r->be, one, r->x, zero, st->Xv);
    }
    if (rc) return rc;
  } else if ((rc = dc_round_all_gradients(r, 0, st->prev))) { /* h_c = grad f_c(x^0), where each client is */
    return rc;
  }
  return s->dasha_init == 1 ? dasha_start_from_gradients(r, s->comm.value_bits) : DETCGD_OK;
}

/* lambda_max(W^{1/2} L_c W^{1/2}) of n clients' mean (hosts[0..n)), sqrt_w = W^{1/2} as dense blocks: Lanczos on the
 * rows (logreg-nc), else the problem's blocks (quad-nc, one node) */
static int weighted_lmax(const DetcgdProblem* p, const DcHostProblem* hosts, int n, const DcHostBlocks* sqrt_w, double* out) {
  const DcLayout* lay = &p->layout;
  double* Lb;
  int i, r, c, st = DETCGD_OK;
  if (p->spec.kind == DETCGD_PROBLEM_LOGREG_NC) return dc_gram_lambda_max(hosts, n, lay, sqrt_w->data, DC_RTOL_CONSTANT, out);
  if (!(Lb = (double*)dc_calloc((size_t)lay->max_size * (size_t)lay->max_size, sizeof(double)))) return DETCGD_ERR_ALLOC;
  *out = 0.0;
  for (i = 0; i < lay->nblocks && st == DETCGD_OK; ++i) {
    int mi = lay->size[i];
    const double* s = sqrt_w->data + lay->moff[i];
    double lm;
    dc_problem_L_get(p, i, Lb);
    for (c = 0; c < mi; ++c)
      for (r = 0; r < mi; ++r) Lb[r + (int64_t)c * mi] *= s[r + (int64_t)r * mi] * s[c + (int64_t)c * mi];
    if ((st = dc_lambda_max(Lb, mi, &lm)) == DETCGD_OK && lm > *out) *out = lm;
  }
  free(Lb);
  return st;
}

/* det-: W, the theory of det-marina (its gamma, or the given one for det-dasha), D = gamma W and D / det(D)^{1/d} */
static int matrix_step(DcRound* r, const DcMethodSetup* m, int marina) {
  const DcBackendOps* o = r->be->ops;
  MarinaState* st = (MarinaState*)r->state;
  const DetcgdProblem* p = m->problem;
  const DcLayout* lay = &p->layout;
  DcHostBlocks W = {0}, S = {0};
  double* Lb = NULL, logdet = 0.0, sum_sq = 0.0;
  int i, j, c, rc, n = r->n, hosts_n = p->nclients > 0 ? p->nclients : 1;
  const DcHostProblem* hosts = p->nclients > 0 ? p->client_host : &p->host;
  st->weight = WEIGHT_NAMES[m->settings->marina_weight];
  if ((rc = dc_blocks_alloc(&W, lay, DC_BLOCKS_DIAG)) || (rc = dc_blocks_alloc(&S, lay, DC_BLOCKS_DENSE))) goto done;
  if (!(Lb = (double*)dc_calloc((size_t)lay->max_size * (size_t)lay->max_size, sizeof(double)))) { rc = DETCGD_ERR_ALLOC; goto done; }
  for (i = 0; i < lay->nblocks; ++i) {
    int mi = lay->size[i];
    dc_problem_L_get(p, i, Lb);
    for (j = 0; j < mi; ++j) {
      double w = m->settings->marina_weight == 0 ? 1.0 / Lb[j + (int64_t)j * mi] : 1.0;
      if (!(w > 0) || !isfinite(w)) { rc = dc_fail(DETCGD_ERR_ARG, "marina-weight: diag-inv needs L_jj > 0 (coordinate %d of layer %d is 0: use identity)", j, i); goto done; }
      W.data[lay->voff[i] + j] = w;
      S.data[lay->moff[i] + j + (int64_t)j * mi] = sqrt(w);
    }
  }
  if ((rc = weighted_lmax(p, hosts, hosts_n, &S, &st->cond_a))) goto done;
  for (c = 0; c < hosts_n && hosts_n > 1; ++c) {
    double lc;
    if ((rc = weighted_lmax(p, &hosts[c], 1, &S, &lc))) goto done;
    sum_sq += lc * lc / hosts_n;
  }
  if (hosts_n == 1) sum_sq = st->cond_a * st->cond_a;
  st->cond_b = marina ? (1.0 - st->p) * st->omega / (st->p * n) * sum_sq : NAN;
  if (marina) {
    double theory = 2.0 / (st->cond_a + sqrt(st->cond_a * st->cond_a + 4.0 * st->cond_b));
    if ((rc = given_or_theory(st, m, theory, "det-marina", "2 / (a + sqrt(a^2 + 4 b)) (derived: METHODS.md, marina.c)"))) goto done;
    st->certificate = st->gamma * st->cond_a + st->gamma * st->gamma * st->cond_b;
  } else {
    if (!(m->settings->gd_step > 0)) {
      rc = dc_fail(DETCGD_ERR_ARG, "gd-step: det-dasha has no stepsize condition (no theory): give gamma of D = gamma W");
      goto done;
    }
    st->gamma = m->settings->gd_step;
    st->source = "given (gd-step): no theory";
    st->certificate = NAN;
  }
  for (j = 0; j < lay->dim; ++j) logdet += log(st->gamma * W.data[j]);
  st->det_factor = exp(-logdet / (double)lay->dim); /* det(D)^{-1/d} */
  st->bound = marina && m->settings->term.max_iter > 0 ? 2.0 * m->f0_gap * st->det_factor / (double)m->settings->term.max_iter : NAN;
  for (j = 0; j < lay->dim; ++j) W.data[j] *= st->gamma;
  if ((rc = o->blocks_create(r->be, &W, &st->D))) goto done;
  if ((rc = dc_prox_open_diagonal(&st->prox, r->be, m->settings, st->D, lay, W.data))) goto done;
  dc_prox_describe(&st->prox, st->prox_text, sizeof st->prox_text);
  for (j = 0; j < lay->dim; ++j) W.data[j] *= st->det_factor;
  rc = o->blocks_create(r->be, &W, &st->Dhat);
done:
  free(Lb);
  dc_blocks_free(&W);
  dc_blocks_free(&S);
  return rc;
}

static int create_det_marina(DcRound* r, const DcMethodSetup* m) {
  int rc;
  if (m->spec->kind != DC_SK_IDENTITY && m->spec->kind != DC_SK_NATURAL &&
      !(dc_compressor_type(m->spec->kind)->flags & DC_CF_LINEAR))
    return dc_fail(DETCGD_ERR_ARG, "sketch: det-marina's condition holds for compressors whose errors are independent "
                   "across coordinates with variance <= omega x_j^2 (the sketches, natural, identity); %s is not one here",
                   dc_compressor_type(m->spec->kind)->name);
  if ((rc = open_marina(r, m))) return rc;
  return matrix_step(r, m, 1);
}

static int create_det_dasha(DcRound* r, const DcMethodSetup* m) {
  int rc = create_dasha(r, m);
  return rc ? rc : matrix_step(r, m, 0);
}

static void destroy(DcRound* r) {
  const DcBackendOps* o = r->be->ops;
  MarinaState* st = (MarinaState*)r->state;
  o->blocks_destroy(r->be, &st->D);
  dc_prox_close(&st->prox, r->be);
  o->blocks_destroy(r->be, &st->Dhat);
  o->vec_destroy(r->be, &st->prev);
  o->vec_destroy(r->be, &st->Gc);
  o->vec_destroy(r->be, &st->M);
  o->vec_destroy(r->be, &st->U);
  o->vec_destroy(r->be, &st->Hv);
  o->vec_destroy(r->be, &st->Gv);
  o->vec_destroy(r->be, &st->Uv);
  o->vec_destroy(r->be, &st->E);
  o->vec_destroy(r->be, &st->T);
  o->vec_destroy(r->be, &st->Xp);
  o->vec_destroy(r->be, &st->Xv);
  o->vec_destroy(r->be, &st->Rv);
  o->vec_destroy(r->be, &st->Ev);
  free(st->page_p);
  st->page_p = NULL;
  o->vec_destroy(r->be, &st->sum);
  o->vec_destroy(r->be, &st->g);
  o->sketch_destroy(r->be, &st->full);
  dc_sketch_spec_free(&st->full_spec);
}

static DcVec* messages(DcRound* r) {
  MarinaState* st = (MarinaState*)r->state;
  return r->at.single ? r->at.M : st->M;
}

static int sync_round(const DcRound* r) {
  const MarinaState* st = (const MarinaState*)r->state;
  return dc_marina_coin(r->seed, r->iter, st->p);
}

/* the sync round's full messages went through st->full: its tally joins the round's */
static int move_tally(DcRound* r) {
  const DcBackendOps* o = r->be->ops;
  MarinaState* st = (MarinaState*)r->state;
  int64_t c0, b0, c1, b1;
  int rc = o->sketch_tally(r->be, st->full, &c1, &b1);
  if (rc == DETCGD_OK) rc = o->sketch_tally(r->be, r->S, &c0, &b0);
  if (rc == DETCGD_OK) rc = o->sketch_set_tally(r->be, r->S, c0 + c1, b0 + b1);
  return rc == DETCGD_OK ? o->sketch_set_tally(r->be, st->full, 0, 0) : rc;
}

/* VR-MARINA's and PAGE's new estimate of client c (G's row i of the round's minibatch gradients): out = grad f_c(x)
 * in full, or base (NULL: 0) + grad f_c(x; xi) - grad f_c(x_prev; xi) on the round's samples; then x_prev = x */
static int full_or_difference(DcRound* r, int c, int i, int full, DcVec* x_prev, const DcVec* base, DcVec* out) {
  const DcBackendOps* o = r->be->ops;
  MarinaState* st = (MarinaState*)r->state;
  DcScalar one = {1.0, NULL, 0, 1.0}, zero = {0.0, NULL, 0, 1.0};
  int rc;
  if (full) {
    rc = dc_round_gradient_at(r, c, r->x, 1, out);
  } else {
    rc = base ? o->axpby(r->be, one, base, zero, out) : o->vec_fill(r->be, out, 0.0);
    if (rc == DETCGD_OK) rc = o->vec_view(r->be, r->at.G, (int64_t)i * r->dim, r->dim, &st->Gv);
    if (rc == DETCGD_OK) rc = dc_round_gradient_at(r, c, x_prev, 0, st->T);
    if (rc == DETCGD_OK) rc = o->axpy(r->be, 1.0, st->Gv, out);
    if (rc == DETCGD_OK) rc = o->axpy(r->be, -1.0, st->T, out);
  }
  return rc == DETCGD_OK ? o->axpby(r->be, one, r->x, zero, x_prev) : rc;
}

/* vr-marina (batch): E's rows = grad f_c(x) (sync) or grad f_c(x; xi) - grad f_c(x_prev,c; xi), the same samples
 * (prev holds each client's x of its previous round), then x_prev,c = x */
static int minibatch_differences(DcRound* r, int sync) {
  const DcBackendOps* o = r->be->ops;
  MarinaState* st = (MarinaState*)r->state;
  const DcRoundChunk* a = &r->at;
  int i, rc = DETCGD_OK;
  for (i = 0; i < a->nc && rc == DETCGD_OK; ++i) {
    int c = a->c0 + i;
    rc = o->vec_view(r->be, st->prev, (int64_t)c * r->dim, r->dim, &st->Hv);
    if (rc == DETCGD_OK) rc = o->vec_view(r->be, st->E, (int64_t)i * r->dim, r->dim, &st->Uv);
    if (rc == DETCGD_OK) rc = full_or_difference(r, c, i, sync, st->Hv, NULL, st->Uv);
  }
  return rc;
}

/* marina: m_c = grad f_c (sync) or C(grad f_c - prev_c), then prev_c = grad f_c; vr-marina: from the minibatch
 * differences */
static int marina_messages(DcRound* r) {
  const DcBackendOps* o = r->be->ops;
  MarinaState* st = (MarinaState*)r->state;
  const DcRoundChunk* a = &r->at;
  int64_t off = (int64_t)a->c0 * r->dim;
  DcVec* M = messages(r);
  int rc, sync = sync_round(r);
  if (st->E) {
    rc = minibatch_differences(r, sync);
    if (rc == DETCGD_OK)
      rc = dc_round_dense_messages(r, sync ? st->full : r->S, st->E, NULL, 0, a->nc, a->c0, M);
    return rc == DETCGD_OK && sync ? move_tally(r) : rc;
  }
  if (sync) {
    rc = dc_round_dense_messages(r, st->full, a->G, NULL, 0, a->nc, a->c0, M);
    if (rc == DETCGD_OK) rc = move_tally(r);
  } else {
    rc = dc_round_dense_messages(r, r->S, a->G, st->prev, off, a->nc, a->c0, M);
  }
  return rc == DETCGD_OK ? o->rows_sum(r->be, a->G, 1, a->nc * r->dim, 1.0, 1, st->prev, off) : rc;
}

/* dasha: U = (1 - a) h_c + a g_c, m_c = C(grad f_c - U), g_c += m_c, h_c = grad f_c */
/* dasha-page: E's rows = the clients' new h_c (a full gradient with probability p_c, else h_c plus the minibatch
 * difference between x and the client's previous x on the same samples), then x_prev,c = x */
static int page_estimators(DcRound* r) {
  const DcBackendOps* o = r->be->ops;
  MarinaState* st = (MarinaState*)r->state;
  const DcRoundChunk* a = &r->at;
  int i, rc = DETCGD_OK;
  for (i = 0; i < a->nc && rc == DETCGD_OK; ++i) {
    int c = a->c0 + i;
    rc = o->vec_view(r->be, st->Xp, (int64_t)c * r->dim, r->dim, &st->Xv);
    if (rc == DETCGD_OK) rc = o->vec_view(r->be, st->prev, (int64_t)c * r->dim, r->dim, &st->Rv);
    if (rc == DETCGD_OK) rc = o->vec_view(r->be, st->E, (int64_t)i * r->dim, r->dim, &st->Ev);
    if (rc == DETCGD_OK)
      rc = full_or_difference(r, c, i, dc_uniform53(dc_philox_draw(r->seed, r->iter, (uint32_t)c, DC_STREAM_PAGE_COIN, 0u)) <
                                           st->page_p[c], st->Xv, st->Rv, st->Ev);
  }
  return rc;
}

static int dasha_messages(DcRound* r) {
  const DcBackendOps* o = r->be->ops;
  MarinaState* st = (MarinaState*)r->state;
  const DcRoundChunk* a = &r->at;
  int64_t off = (int64_t)a->c0 * r->dim, n = (int64_t)a->nc * r->dim;
  DcScalar wa = {st->a, NULL, 0, 1.0}, zero = {0.0, NULL, 0, 1.0};
  DcVec* M = messages(r);
  const DcVec* h_new = st->Xp ? st->E : a->G; /* dasha-page's estimator, or the round's gradient */
  int rc = st->Xp ? page_estimators(r) : DETCGD_OK;
  if (rc == DETCGD_OK) rc = o->vec_view(r->be, st->prev, off, n, &st->Hv);
  if (rc == DETCGD_OK) rc = o->vec_view(r->be, st->Gc, off, n, &st->Gv);
  if (rc == DETCGD_OK) rc = o->vec_view(r->be, st->U, 0, n, &st->Uv);
  if (rc == DETCGD_OK) rc = o->axpby(r->be, wa, st->Gv, zero, st->Uv);
  if (rc == DETCGD_OK) rc = o->axpy(r->be, 1.0 - st->a, st->Hv, st->Uv);
  if (rc == DETCGD_OK)
    rc = dc_round_dense_messages(r, r->S, h_new, st->U, 0, a->nc, a->c0, M);
  if (rc == DETCGD_OK) rc = o->rows_sum(r->be, M, 1, n, 1.0, 0, st->Gc, off);
  return rc == DETCGD_OK ? o->rows_sum(r->be, h_new, 1, n, 1.0, 1, st->prev, off) : rc;
}

/* sum (+)= the chunk's messages in client order; dasha: a received message also moves the server's copy of g_c */
static int sum_messages(DcRound* r) {
  const DcBackendOps* o = r->be->ops;
  MarinaState* st = (MarinaState*)r->state;
  const DcRoundChunk* a = &r->at;
  DcVec* M = messages(r);
  int rc = o->rows_sum(r->be, M, a->nc, r->dim, 1.0, a->fresh || r->delivery == DC_DELIVER_IN_PLACE, st->sum, 0);
  if (rc == DETCGD_OK && !a->G && st->Gc) rc = o->rows_sum(r->be, M, 1, r->dim, 1.0, 0, st->Gc, (int64_t)a->c0 * r->dim);
  return rc;
}

/* g = (1/n) sum (a sync round) or g += (1/n) sum; x -= gamma g */
static int step(DcRound* r) {
  const DcBackendOps* o = r->be->ops;
  MarinaState* st = (MarinaState*)r->state;
  DcScalar mean = {1.0 / r->n, NULL, 0, 1.0}, zero = {0.0, NULL, 0, 1.0};
  int rc;
  if (!st->Gc && sync_round(r)) {
    ++st->sync_rounds;
    rc = o->axpby(r->be, mean, st->sum, zero, st->g);
  } else {
    rc = o->axpy(r->be, 1.0 / r->n, st->sum, st->g);
  }
  if (rc == DETCGD_OK && st->D) rc = o->bd_apply(r->be, st->D, DC_SEL_FULL, NULL, st->g, -1.0, r->x);
  if (st->D) return rc == DETCGD_OK ? dc_prox_apply(&st->prox, r->be, 0.0, r->x) : rc;
  return rc == DETCGD_OK ? o->axpy(r->be, -st->gamma, st->g, r->x) : rc;
}

/* det-: the trace's grad_norm2_Dhat = ||grad f(x^k)||^2_{D / det(D)^{1/d}} */
static const char* const DET_COLUMNS[] = {"grad_norm2_Dhat", NULL};
static int det_metrics(DcRound* r, DcVec* m, int slot0) {
  MarinaState* st = (MarinaState*)r->state;
  return r->be->ops->bd_quadform(r->be, st->Dhat, r->g, m, slot0, -1);
}

static const DcSketchSpec* message_spec(const DcRound* r) {
  const MarinaState* st = (const MarinaState*)r->state;
  return sync_round(r) ? &st->full_spec : NULL;
}

static int facts(const DcRound* r, DcMethodFact* out, int cap) {
  const MarinaState* st = (const MarinaState*)r->state;
  DcMethodFact f[10] = {{"step", st->gamma, NULL}, {"step_source", 0, st->source}, {"omega", st->omega, NULL},
                        {"L", st->sm.L, NULL},     {"L_tilde", st->sm.L_tilde, NULL}};
  int n = 5;
  if (st->D) {
    DcMethodFact g[13] = {{"step", st->gamma, NULL},         {"step_source", 0, st->source},
                          {"weight", 0, st->weight},         {"omega", st->omega, NULL},
                          {"a", st->cond_a, NULL},           {"b", st->cond_b, NULL},
                          {"condition", st->certificate, NULL}, {"det_factor", st->det_factor, NULL},
                          {"bound_G_KD", st->bound, NULL},   {"p", st->Gc ? NAN : st->p, NULL},
                          {"sync_rounds", st->Gc ? NAN : (double)st->sync_rounds, NULL},
                          {"a_dasha", st->Gc ? st->a : NAN, NULL},
                          {"prox", 0, st->prox_text}};
    return dc_method_facts_copy(g, 13, out, cap);
  }
  if (st->Gc) {
    f[n++] = (DcMethodFact){"L_AM", st->sm.L_mean, NULL};
    f[n++] = (DcMethodFact){"a", st->a, NULL};
    f[n++] = (DcMethodFact){"a_source", 0, st->a_source};
    f[n++] = (DcMethodFact){"init", 0, st->init};
  } else {
    f[n++] = (DcMethodFact){"p", st->p, NULL};
    f[n++] = (DcMethodFact){"p_source", 0, st->p_source};
    f[n++] = (DcMethodFact){"sync_rounds", (double)st->sync_rounds, NULL};
  }
  return dc_method_facts_copy(f, n, out, cap);
}

static int state(const DcRound* r, DcStateVec* out, int cap) {
  const MarinaState* st = (const MarinaState*)r->state;
  int n = 0;
  if (cap < 4) return 0;
  out[n].name = st->Gc ? "dasha_clients_h" : "marina_prev";
  out[n].n = r->n * r->dim;
  out[n++].v = st->prev;
  if (st->Gc) {
    out[n].name = "dasha_clients_g";
    out[n].n = r->n * r->dim;
    out[n++].v = st->Gc;
  }
  if (st->Xp && n < cap) {
    out[n].name = "page_clients_x";
    out[n].n = r->n * r->dim;
    out[n++].v = st->Xp;
  }
  out[n].name = "marina_server_g";
  out[n].n = r->dim;
  out[n++].v = st->g;
  return n;
}

const DcMethodType dc_method_marina = {.name = "marina", .id = DETCGD_METHOD_MARINA, .needs = DC_NEEDS_UNBIASED, .stochastic = 1,
                                       .step_flags = DC_STEP_NO_MATRIX | DC_STEP_VALUES, .op_by_op = 1,
                                       .algorithm = "MARINA (n clients)", .client_state = 1,
                                       .client = marina_messages, .absorb = sum_messages, .server = step,
                                       .options = OPTIONS, .state_size = sizeof(MarinaState), .create = create_marina,
                                       .destroy = destroy, .facts = facts, .state = state, .message_spec = message_spec};
const DcMethodType dc_method_det_marina = {.name = "det-marina", .id = DETCGD_METHOD_DET_MARINA, .needs = DC_NEEDS_UNBIASED,
                                           .stochastic = 1,
                                           .step_flags = DC_STEP_NO_MATRIX | DC_STEP_VALUES | DC_STEP_PROX, .op_by_op = 1,
                                           .algorithm = "det-MARINA, D = gamma W (n clients)", .client_state = 1,
                                           .client = marina_messages, .absorb = sum_messages, .server = step,
                                           .options = OPTIONS, .state_size = sizeof(MarinaState),
                                           .create = create_det_marina, .destroy = destroy, .facts = facts,
                                           .state = state, .message_spec = message_spec, .trace_columns = DET_COLUMNS,
                                           .trace_metrics = det_metrics};
const DcMethodType dc_method_det_dasha = {.name = "det-dasha", .id = DETCGD_METHOD_DET_DASHA, .needs = DC_NEEDS_UNBIASED,
                                          .step_flags = DC_STEP_NO_MATRIX | DC_STEP_VALUES | DC_STEP_PROX,
                                          .algorithm = "det-DASHA, D = gamma W (n clients)", .client_state = 1,
                                          .client = dasha_messages, .absorb = sum_messages, .server = step,
                                          .options = OPTIONS, .state_size = sizeof(MarinaState),
                                          .create = create_det_dasha, .destroy = destroy, .facts = facts,
                                          .state = state, .trace_columns = DET_COLUMNS, .trace_metrics = det_metrics};
const DcMethodType dc_method_dasha_page = {.name = "dasha-page", .id = DETCGD_METHOD_DASHA_PAGE, .needs = DC_NEEDS_UNBIASED,
                                           .stochastic = 1, .op_by_op = 1,
                                           .step_flags = DC_STEP_NO_MATRIX | DC_STEP_VALUES,
                                           .algorithm = "DASHA-PAGE (n clients)", .client_state = 1,
                                           .client = dasha_messages, .absorb = sum_messages, .server = step,
                                           .options = OPTIONS, .state_size = sizeof(MarinaState), .create = create_dasha,
                                           .destroy = destroy, .facts = facts, .state = state};
const DcMethodType dc_method_dasha = {.name = "dasha", .id = DETCGD_METHOD_DASHA, .needs = DC_NEEDS_UNBIASED,
                                      .step_flags = DC_STEP_NO_MATRIX | DC_STEP_VALUES, .algorithm = "DASHA (n clients)",
                                      .client_state = 1, .client = dasha_messages, .absorb = sum_messages, .server = step,
                                      .options = OPTIONS, .state_size = sizeof(MarinaState), .create = create_dasha,
                                      .destroy = destroy, .facts = facts, .state = state};
