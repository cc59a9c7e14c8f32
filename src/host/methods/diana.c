/*
 * diana.c -- variance reduction of the compression noise (METHODS.md, "Variance reduction"): DIANA (Mishchenko,
 * Gorbunov, Takac, Richtarik 2019; Horvath et al. 2019) and its baseline DCGD, both with a prox, on one node and over
 * n clients (simulated, or over MPI: a client rank keeps its clients' h_c, the server every client's from the
 * messages it receives).  C is unbiased (omega) and independent across clients.  Round k, each client c from its
 * gradient at x^k (the client op):
 *   m_c = C(grad f_c(x^k) - h_c^k),   h_c^{k+1} = h_c^k + alpha m_c
 * and the server (absorb, server):
 *   g^k = h^k + (1/n) sum_c m_c       (with momentum, v^k = beta v^{k-1} + g^k steps in its place: no theory here)
 *   x^{k+1} = prox_{gamma R}(x^k - gamma g^k),   h^{k+1} = h^k + alpha (1/n) sum_c m_c  (= the mean of the h_c^{k+1})
 * dcgd is alpha = 0 and h = 0: g^k = (1/n) sum_c C(grad f_c(x^k)), which stalls at a neighbourhood of x* whenever
 * grad f_c(x*) != 0 (heterogeneous clients, or a prox).  With minibatches (batch) DIANA is DIANA-SGD, whose noise
 * floor vr-diana removes: client c replaces its minibatch gradient by the L-SVRG estimator [METHODS.md, authors' code]
 *   e_c = grad f_c(x^k; xi) - grad f_c(w_c; xi) + mu_c,   mu_c = grad f_c(w_c)   (the same samples xi at both points),
 * and with probability p_c (vr-refresh, or batch / m_c: one refresh per pass over its m_c rows in expectation; a coin
 * of the shared stream at (seed, k, c), drawn where the client is) sets w_c = x^k, mu_c = grad f_c(x^k) -- local work,
 * nothing sent; then DIANA on e_c.  w_c^0 = x^0.  Or (vr-estimator saga, batch 1) the SAGA estimator: client c keeps a
 * table of its m_c samples' last gradients t_cj (0 at the start: e_c stays unbiased) and their mean mu_c, and with j
 * the round's sample e_c = grad f_cj(x^k) - t_cj + mu_c, then mu_c += (grad f_cj(x^k) - t_cj) / m_c, t_cj = grad f_cj(x^k).  Its step is DIANA's (no theory for the estimator here); its round
 * branches on the host (the refresh coins), so it runs op by op.
 *
 * Theory, derived here for mu-strongly convex, L_c-smooth f_c (L of f, L_max = max_c L_c; the slides state DIANA's
 * complexity [(L/mu)(1 + 2 omega/n) + 2(omega + 1)] log(1/eps) [METHODS.md, V] but no step, and our bound
 * splits ||grad f_c - h_c||^2 <= 2 ||grad f_c(x) - grad f_c(x*)||^2 + 2 ||h_c - grad f_c(x*)||^2, hence its 6):
 *   diana  alpha <= 1 / (omega + 1) and gamma <= 1 / (L + 6 omega L_max / n) give E Psi^{k+1} <= rho Psi^k,
 *          rho = max(1 - gamma mu, 1 - alpha / 2),  Psi = ||x - x*||^2 + (4 omega gamma^2 / (alpha n^2)) sum_c
 *          ||h_c - grad f_c(x*)||^2  (co-coercivity of each f_c, E||h_c^+ - h_c*||^2 <= (1 - alpha) ||h_c - h_c*||^2
 *          + alpha ||grad f_c - h_c*||^2 when alpha (1 + omega) <= 1, and prox_{gamma R} nonexpansive);
 *   dcgd   gamma <= 1 / (L + 2 omega L_max / n) gives E||x^{k+1} - x*||^2 <= (1 - gamma mu) ||x^k - x*||^2
 *          + 2 gamma^2 omega sigma*^2 / n, sigma*^2 = (1/n) sum_c ||grad f_c(x*)||^2: the plateau 2 gamma omega
 *          sigma*^2 / (mu n) (the summary gives it when x* is known, optimum solve).
 * The steps are the largest these allow (vr-step: a given one, refused above them unless force = 1).
 */
#include <math.h>
#include <stdlib.h>
#include "method.h"
#include "options.h"
#include "minibatch.h"
#include "philox.h"
#include "problem.h"
#include "prox.h"

typedef struct DianaState {
  DcVec* H;        /* n rows: the clients' h_c (NULL: dcgd) */
  DcVec* M;        /* a chunk's messages */
  DcVec* sum;      /* sum_c m_c of the round */
  DcVec* h;        /* the server's h = mean_c h_c (NULL: dcgd) */
  DcVec* ghat;     /* g^k */
  DcVec* v;        /* momentum: the server's v (NULL: none) */
  DcVec *W, *Mu;   /* vr-diana: n rows, the clients' reference points w_c and mu_c = grad f_c(w_c) (NULL: diana) */
  DcVec *E, *T;    /* vr-diana: a chunk's estimators, one client's gradient at w_c */
  DcVec *Wv, *Mv, *Ev, *Gv; /* views of one client's rows */
  double* refresh; /* vr-diana, owns: n clients' refresh probabilities p_c */
  DcVec *Tab, *Tv; /* vr-diana saga: every client's table of sample gradients (sum_c m_c rows), a view of one row */
  int64_t *row0, *rows; /* saga, owns: client c's first table row and m_c */
  DcProx prox;
  double gamma, alpha, beta, omega, mu, rate, gamma_theory;
  double sigma2_star, psi0, plateau; /* with x*: (1/n) sum_c ||grad f_c(x*)||^2, Psi^0 (diana), the plateau (dcgd) */
  DcSmoothness sm;
  const char* source;
  const char* alpha_source;
  char prox_text[128];
} DianaState;

#define RUNS (DETCGD_CMD_RUN | DETCGD_CMD_EXPERIMENT)
static const char* variance_reduced(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)p;
  return s->method == DETCGD_METHOD_DIANA || s->method == DETCGD_METHOD_DCGD || s->method == DETCGD_METHOD_VR_DIANA
             ? NULL : "read by methods dcgd, diana and vr-diana";
}
static const char* diana_only(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)p;
  return s->method == DETCGD_METHOD_DIANA || s->method == DETCGD_METHOD_VR_DIANA ? NULL : "read by methods diana and vr-diana";
}
static const char* vr_only(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)p;
  return s->method == DETCGD_METHOD_VR_DIANA ? NULL : "read by method vr-diana";
}
static const char* lsvrg_only(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  const char* why = vr_only(p, s);
  return why ? why : s->vr_estimator == 0 ? NULL : "read with vr-estimator lsvrg";
}
static const char* const ESTIMATOR_NAMES[] = {"lsvrg", "saga", NULL};
static const DcOption OPTIONS[] = {
  {"vr-step", "method", DC_OPT_DOUBLE, DC_SETTINGS_FIELD(vr_step), "0", 0, 1e300, NULL, RUNS | DETCGD_CMD_THEORY, 0,
   variance_reduced, "dcgd, diana: gamma of x - gamma g, 0 = 1 / (L + 2 omega L_max / n) (dcgd), 1 / (L + 6 omega "
   "L_max / n) (diana) (derived; see diana.c)"},
  {"vr-alpha", "method", DC_OPT_DOUBLE, DC_SETTINGS_FIELD(vr_alpha), "0", 0, 1, NULL, RUNS | DETCGD_CMD_THEORY, 0,
   diana_only, "diana: alpha of h_c += alpha m_c, 0 = 1 / (omega + 1) (paper); above it no theory"},
  {"vr-momentum", "method", DC_OPT_DOUBLE, DC_SETTINGS_FIELD(vr_momentum), "0", 0, 1, NULL, RUNS | DETCGD_CMD_THEORY,
   0, diana_only, "diana: beta in [0, 1) of the server's v = beta v + g (0: none; no theory with it here)"},
  {"vr-estimator", "method", DC_OPT_ENUM, DC_SETTINGS_FIELD(vr_estimator), "lsvrg", 0, 0, ESTIMATOR_NAMES,
   RUNS | DETCGD_CMD_THEORY, 0, vr_only, "vr-diana: L-SVRG (reference points w_c) or SAGA (a table of the clients' sample "
   "gradients, batch 1)"},
  {"vr-refresh", "method", DC_OPT_DOUBLE, DC_SETTINGS_FIELD(vr_refresh), "0", 0, 1, NULL, RUNS | DETCGD_CMD_THEORY, 0,
   lsvrg_only, "vr-diana: probability a client refreshes w_c = x, mu_c = grad f_c(x) per round, 0 = batch / m_c (L-SVRG)"},
  DC_OPTION_END};

/* The step and alpha of the theory (diana.c's header), or the given ones, labelled. */
static int steps(DianaState* st, const DcMethodSetup* m, int n, int diana) {
  const DetcgdSettings* s = m->settings;
  const char* name = diana ? "diana" : "dcgd";
  int rc = dc_method_smoothness(m->problem, n, &st->sm);
  if (rc) return rc;
  st->omega = dc_sketch_omega(m->spec);
  st->mu = dc_problem_mu(m->problem);
  st->gamma_theory = 1.0 / (st->sm.L + (diana ? 6.0 : 2.0) * st->omega * st->sm.L_max / n);
  st->alpha = !diana ? 0.0 : s->vr_alpha > 0 ? s->vr_alpha : 1.0 / (st->omega + 1.0);
  st->alpha_source = !diana ? "none (dcgd)" : s->vr_alpha > 0 ? "given (vr-alpha)" : "1 / (omega + 1) (paper)";
  if (diana && st->alpha * (1.0 + st->omega) > 1.0 + 1e-12) st->alpha_source = "given (vr-alpha), above 1 / (omega + 1): no theory";
  st->beta = diana ? s->vr_momentum : 0.0;
  if (!(st->beta < 1.0)) return dc_fail(DETCGD_ERR_ARG, "vr-momentum: 1 leaves v growing without bound; use [0, 1)");
  if (s->vr_step > 0) {
    st->gamma = s->vr_step;
    st->source = "given (vr-step)";
    if (st->gamma > st->gamma_theory * (1 + 1e-12)) {
      if (!s->stepsize.force)
        return dc_fail(DETCGD_ERR_ARG, "vr-step: gamma = %g exceeds %s's theory step %g = 1 / (L + %d omega L_max / n); "
                       "set force = 1 to run it anyway", st->gamma, name, st->gamma_theory, diana ? 6 : 2);
      st->source = "given (vr-step), past the theory step (forced)";
    }
  } else {
    st->gamma = st->gamma_theory;
    st->source = diana ? "1 / (L + 6 omega L_max / n) (derived here: diana.c)" : "1 / (L + 2 omega L_max / n) (derived here: diana.c)";
  }
  if (st->beta > 0) st->source = "the step of v = beta v + g (no theory with momentum here)";
  st->rate = !(st->mu > 0) ? NAN : diana ? fmax(1.0 - st->gamma * st->mu, 1.0 - st->alpha / 2.0) : 1.0 - st->gamma * st->mu;
  if (st->gamma > st->gamma_theory * (1 + 1e-12) || st->beta > 0 || st->alpha * (1.0 + st->omega) > 1.0 + 1e-12)
    st->rate = NAN; /* outside the theorem */
  return DETCGD_OK;
}

/* With x*: sigma*^2 = (1/n) sum_c ||grad f_c(x*)||^2 (on the host), then diana's Psi^0 = ||x^0 - x*||^2 +
 * (4 omega gamma^2 / (alpha n^2)) n sigma*^2 (h_c^0 = 0) and dcgd's plateau 2 gamma omega sigma*^2 / (mu n). */
static int at_optimum(DianaState* st, const DcMethodSetup* m, int n, int diana) {
  const DetcgdProblem* p = m->problem;
  int64_t d = p->layout.dim, j;
  double *g = (double*)dc_calloc((size_t)(2 * d), sizeof(double)), *x0 = g + d, s2 = 0.0, dist = 0.0;
  int c;
  if (!g) return DETCGD_ERR_ALLOC;
  for (c = 0; c < n; ++c) {
    dc_host_problem_grad(p->nclients > 0 ? &p->client_host[c] : &p->host, m->x_star, g);
    for (j = 0; j < d; ++j) s2 += g[j] * g[j];
  }
  detcgd_starting_point(m->settings, d, x0);
  for (j = 0; j < d; ++j) dist += (x0[j] - m->x_star[j]) * (x0[j] - m->x_star[j]);
  free(g);
  st->sigma2_star = s2 / n;
  st->psi0 = diana && st->alpha > 0 ? dist + 4.0 * st->omega * st->gamma * st->gamma / (st->alpha * n) * st->sigma2_star
                                    : NAN;
  st->plateau = !diana && st->mu > 0 ? 2.0 * st->gamma * st->omega * st->sigma2_star / (st->mu * n) : NAN;
  return DETCGD_OK;
}

static int create(DcRound* r, const DcMethodSetup* m, int diana) {
  const DcBackendOps* o = r->be->ops;
  DianaState* st = (DianaState*)r->state;
  int rc;
  if ((rc = o->vec_create(r->be, r->chunk * r->dim, &st->M)) || (rc = o->vec_create(r->be, r->dim, &st->sum)) ||
      (rc = o->vec_create(r->be, r->dim, &st->ghat)))
    return rc;
  if (diana && ((rc = o->vec_create(r->be, r->n * r->dim, &st->H)) || (rc = o->vec_create(r->be, r->dim, &st->h))))
    return rc;
  if ((rc = steps(st, m, r->n, diana))) return rc;
  st->sigma2_star = st->psi0 = st->plateau = NAN;
  if (m->x_star && (rc = at_optimum(st, m, r->n, diana))) return rc;
  if (st->beta > 0 && (rc = o->vec_create(r->be, r->dim, &st->v))) return rc;
  if ((rc = dc_prox_open(&st->prox, r->be, m->settings))) return rc;
  dc_prox_describe(&st->prox, st->prox_text, sizeof st->prox_text);
  return DETCGD_OK;
}

static int create_dcgd(DcRound* r, const DcMethodSetup* m) { return create(r, m, 0); }
static int create_diana(DcRound* r, const DcMethodSetup* m) { return create(r, m, 1); }

#define DC_STREAM_VR_REFRESH 0xFFFFFF04u /* vr-diana's refresh coins at (seed, k, c) */

/* client c's refresh probability: vr-refresh, or batch / m_c */
static double refresh_probability(const DcRound* r, const DcMethodSetup* m, int c) {
  const DetcgdProblem* p = m->problem;
  int64_t rows = p->nclients > 0 ? p->client_host[c].nrows : p->host.nrows;
  return m->settings->vr_refresh > 0 ? m->settings->vr_refresh : fmin(1.0, (double)r->batch / (double)(rows > 0 ? rows : 1));
}

#define DC_SAGA_TABLE_MAX ((int64_t)2 << 30) /* bytes */

/* saga: the tables (zero), their means mu_c (zero), each client's rows */
static int create_saga(DcRound* r, const DcMethodSetup* m) {
  const DcBackendOps* o = r->be->ops;
  DianaState* st = (DianaState*)r->state;
  const DetcgdProblem* p = m->problem;
  int64_t total = 0;
  int c, rc;
  if (r->batch != 1) return dc_fail(DETCGD_ERR_ARG, "batch: vr-estimator saga keeps one table row per sample: use batch 1");
  if (!(st->row0 = (int64_t*)dc_calloc((size_t)r->n, sizeof(int64_t))) ||
      !(st->rows = (int64_t*)dc_calloc((size_t)r->n, sizeof(int64_t))))
    return DETCGD_ERR_ALLOC;
  for (c = 0; c < r->n; ++c) {
    st->rows[c] = p->nclients > 0 ? p->client_host[c].nrows : p->host.nrows;
    st->row0[c] = total;
    total += st->rows[c];
  }
  if ((double)total * (double)r->dim * 8.0 > (double)DC_SAGA_TABLE_MAX)
    return dc_fail(DETCGD_ERR_ARG, "vr-estimator: saga's table of %lld sample gradients of d = %lld needs %.3g GB (more than "
                   "2 GiB): use lsvrg", (long long)total, (long long)r->dim, (double)total * (double)r->dim * 8e-9);
  if (!(m->settings->vr_step > 0)) { /* the largest sample's smoothness: ||a_j||^2 / 4 + 2 lam + mu */
    double l_ind = 0.0;
    int64_t j, q;
    for (j = 0; j < p->host.nrows; ++j) {
      double sq = 0.0;
      for (q = p->host.rowptr[j]; q < p->host.rowptr[j + 1]; ++q) sq += p->host.val[q] * p->host.val[q];
      l_ind = fmax(l_ind, sq / 4.0);
    }
    l_ind += 2.0 * p->spec.lambda + p->spec.l2;
    st->gamma = fmin(st->gamma, 1.0 / (3.0 * l_ind));
    st->source = "min(DIANA's 1 / (L + 6 omega L_max / n), SAGA's 1 / (3 L_ind)), L_ind the largest sample's smoothness "
                 "(Defazio et al.'s step, not verified here; no theory for VR-DIANA here)";
  }
  st->rate = NAN;
  if ((rc = o->vec_create(r->be, total * r->dim, &st->Tab)) || (rc = o->vec_create(r->be, r->n * r->dim, &st->Mu)) ||
      (rc = o->vec_create(r->be, r->chunk * r->dim, &st->E)) || (rc = o->vec_create(r->be, r->dim, &st->T)))
    return rc;
  return DETCGD_OK;
}

static int create_vr_diana(DcRound* r, const DcMethodSetup* m) {
  const DcBackendOps* o = r->be->ops;
  DianaState* st = (DianaState*)r->state;
  DcScalar one = {1.0, NULL, 0, 1.0}, zero = {0.0, NULL, 0, 1.0};
  int c, rc;
  if (r->batch <= 0)
    return dc_fail(DETCGD_ERR_ARG, "batch: vr-diana reduces the variance of minibatch gradients; set batch >= 1 (with full "
                   "gradients it is diana)");
  if ((rc = create(r, m, 1))) return rc;
  if (m->settings->vr_estimator == 1) return create_saga(r, m);
  if (!(st->refresh = (double*)dc_calloc((size_t)r->n, sizeof(double)))) return DETCGD_ERR_ALLOC;
  for (c = 0; c < r->n; ++c) st->refresh[c] = refresh_probability(r, m, c);
  if (!(m->settings->vr_step > 0))
    st->source = "DIANA's 1 / (L + 6 omega L_max / n) (derived for full gradients; no theory for the estimator here)";
  st->rate = NAN;
  if ((rc = o->vec_create(r->be, r->n * r->dim, &st->W)) || (rc = o->vec_create(r->be, r->n * r->dim, &st->Mu)) ||
      (rc = o->vec_create(r->be, r->chunk * r->dim, &st->E)) || (rc = o->vec_create(r->be, r->dim, &st->T)))
    return rc;
  for (c = 0; c < r->n && rc == DETCGD_OK; ++c) { /* w_c = x^0, mu_c = grad f_c(x^0) (x is x^0 here) */
    rc = o->vec_view(r->be, st->W, (int64_t)c * r->dim, r->dim, &st->Wv);
    if (rc == DETCGD_OK) rc = o->vec_view(r->be, st->Mu, (int64_t)c * r->dim, r->dim, &st->Mv);
    if (rc == DETCGD_OK) rc = o->axpby(r->be, one, r->x, zero, st->Wv);
    if (rc == DETCGD_OK) rc = dc_round_gradient_at(r, c, r->x, 1, st->Mv);
  }
  return rc;
}

static void destroy(DcRound* r) {
  const DcBackendOps* o = r->be->ops;
  DianaState* st = (DianaState*)r->state;
  o->vec_destroy(r->be, &st->H);
  o->vec_destroy(r->be, &st->M);
  o->vec_destroy(r->be, &st->sum);
  o->vec_destroy(r->be, &st->h);
  o->vec_destroy(r->be, &st->ghat);
  o->vec_destroy(r->be, &st->v);
  o->vec_destroy(r->be, &st->W);
  o->vec_destroy(r->be, &st->Mu);
  o->vec_destroy(r->be, &st->E);
  o->vec_destroy(r->be, &st->T);
  o->vec_destroy(r->be, &st->Wv);
  o->vec_destroy(r->be, &st->Mv);
  o->vec_destroy(r->be, &st->Ev);
  o->vec_destroy(r->be, &st->Gv);
  o->vec_destroy(r->be, &st->Tab);
  o->vec_destroy(r->be, &st->Tv);
  free(st->refresh);
  free(st->row0);
  free(st->rows);
  st->refresh = NULL;
  st->row0 = st->rows = NULL;
  dc_prox_close(&st->prox, r->be);
}

/* The chunk's messages: st->M, or (one client of an MPI rank, or one received by the server) the round's M. */
static DcVec* messages(DcRound* r) {
  DianaState* st = (DianaState*)r->state;
  return r->at.single ? r->at.M : st->M;
}

/* m_c = C(grad f_c - h_c), h_c += alpha m_c, for the chunk's clients (dcgd: m_c = C(grad f_c)) */
static int compress_shifted(DcRound* r) {
  const DcBackendOps* o = r->be->ops;
  DianaState* st = (DianaState*)r->state;
  const DcRoundChunk* a = &r->at;
  int64_t off = (int64_t)a->c0 * r->dim;
  DcVec* M = messages(r);
  int rc = dc_round_dense_messages(r, r->S, a->G, st->H, off, a->nc, a->c0, M);
  return rc == DETCGD_OK && st->H ? o->rows_sum(r->be, M, 1, a->nc * r->dim, st->alpha, 0, st->H, off) : rc;
}

/* vr-diana: the chunk's L-SVRG estimators e_c into E, each client's refresh after it; then DIANA's messages from E */
static int compress_estimators(DcRound* r) {
  const DcBackendOps* o = r->be->ops;
  DianaState* st = (DianaState*)r->state;
  const DcRoundChunk* a = &r->at;
  DcScalar one = {1.0, NULL, 0, 1.0}, zero = {0.0, NULL, 0, 1.0};
  DcVec* M = messages(r);
  int64_t off = (int64_t)a->c0 * r->dim;
  int i, rc = DETCGD_OK;
  for (i = 0; i < a->nc && rc == DETCGD_OK && st->Tab; ++i) { /* saga */
    int c = a->c0 + i;
    int64_t j = dc_minibatch_row(r->seed, r->iter, (uint32_t)c, 0, st->rows[c]);
    rc = o->vec_view(r->be, st->Tab, (st->row0[c] + j) * r->dim, r->dim, &st->Tv);
    if (rc == DETCGD_OK) rc = o->vec_view(r->be, st->Mu, (int64_t)c * r->dim, r->dim, &st->Mv);
    if (rc == DETCGD_OK) rc = o->vec_view(r->be, st->E, (int64_t)i * r->dim, r->dim, &st->Ev);
    if (rc == DETCGD_OK) rc = o->vec_view(r->be, a->G, (int64_t)i * r->dim, r->dim, &st->Gv);
    if (rc == DETCGD_OK) rc = o->axpby(r->be, one, st->Gv, zero, st->T); /* T = grad f_cj - t_cj */
    if (rc == DETCGD_OK) rc = o->axpy(r->be, -1.0, st->Tv, st->T);
    if (rc == DETCGD_OK) rc = o->axpby(r->be, one, st->T, zero, st->Ev);
    if (rc == DETCGD_OK) rc = o->axpy(r->be, 1.0, st->Mv, st->Ev);
    if (rc == DETCGD_OK) rc = o->axpy(r->be, 1.0 / (double)st->rows[c], st->T, st->Mv);
    if (rc == DETCGD_OK) rc = o->axpby(r->be, one, st->Gv, zero, st->Tv);
  }
  for (i = 0; i < a->nc && rc == DETCGD_OK && !st->Tab; ++i) { /* lsvrg */
    int c = a->c0 + i;
    int64_t row = (int64_t)c * r->dim;
    rc = o->vec_view(r->be, st->W, row, r->dim, &st->Wv);
    if (rc == DETCGD_OK) rc = o->vec_view(r->be, st->Mu, row, r->dim, &st->Mv);
    if (rc == DETCGD_OK) rc = o->vec_view(r->be, st->E, (int64_t)i * r->dim, r->dim, &st->Ev);
    if (rc == DETCGD_OK) rc = o->vec_view(r->be, a->G, (int64_t)i * r->dim, r->dim, &st->Gv);
    if (rc == DETCGD_OK) rc = dc_round_gradient_at(r, c, st->Wv, 0, st->T);
    if (rc == DETCGD_OK) rc = o->axpby(r->be, one, st->Gv, zero, st->Ev);
    if (rc == DETCGD_OK) rc = o->axpy(r->be, -1.0, st->T, st->Ev);
    if (rc == DETCGD_OK) rc = o->axpy(r->be, 1.0, st->Mv, st->Ev);
    if (rc == DETCGD_OK && dc_uniform53(dc_philox_draw(r->seed, r->iter, (uint32_t)c, DC_STREAM_VR_REFRESH, 0u)) <
                               st->refresh[c]) {
      rc = o->axpby(r->be, one, r->x, zero, st->Wv);
      if (rc == DETCGD_OK) rc = dc_round_gradient_at(r, c, r->x, 1, st->Mv);
    }
  }
  if (rc == DETCGD_OK)
    rc = dc_round_dense_messages(r, r->S, st->E, st->H, off, a->nc, a->c0, M);
  return rc == DETCGD_OK ? o->rows_sum(r->be, M, 1, a->nc * r->dim, st->alpha, 0, st->H, off) : rc;
}

/* sum (+)= the chunk's messages, in client order; a received message (no gradient here) also moves the server's
 * copy of its client's h_c, so that rank 0 holds every h_c (its checkpoint is the run's) */
static int sum_messages(DcRound* r) {
  const DcBackendOps* o = r->be->ops;
  DianaState* st = (DianaState*)r->state;
  const DcRoundChunk* a = &r->at;
  DcVec* M = messages(r);
  int rc = o->rows_sum(r->be, M, a->nc, r->dim, 1.0, a->fresh || r->delivery == DC_DELIVER_IN_PLACE, st->sum, 0);
  if (rc == DETCGD_OK && !a->G && st->H) rc = o->rows_sum(r->be, M, 1, r->dim, st->alpha, 0, st->H, (int64_t)a->c0 * r->dim);
  return rc;
}

/* g = h + (1/n) sum (v = beta v + g), x = prox_{gamma R}(x - gamma g), h += (alpha/n) sum */
static int step(DcRound* r) {
  const DcBackendOps* o = r->be->ops;
  DianaState* st = (DianaState*)r->state;
  DcScalar one = {1.0, NULL, 0, 1.0}, zero = {0.0, NULL, 0, 1.0}, mean = {1.0 / r->n, NULL, 0, 1.0},
           beta = {st->beta, NULL, 0, 1.0};
  int rc = st->h ? o->axpby(r->be, one, st->h, zero, st->ghat) : DETCGD_OK;
  if (rc == DETCGD_OK) rc = st->h ? o->axpy(r->be, 1.0 / r->n, st->sum, st->ghat) : o->axpby(r->be, mean, st->sum, zero, st->ghat);
  if (rc == DETCGD_OK && st->v) rc = o->axpby(r->be, one, st->ghat, beta, st->v);
  if (rc == DETCGD_OK) rc = o->axpy(r->be, -st->gamma, st->v ? st->v : st->ghat, r->x);
  if (rc == DETCGD_OK) rc = dc_prox_apply(&st->prox, r->be, st->gamma, r->x);
  if (rc == DETCGD_OK && st->h) rc = o->axpy(r->be, st->alpha / r->n, st->sum, st->h);
  return rc;
}

static int facts(const DcRound* r, DcMethodFact* out, int cap) {
  const DianaState* st = (const DianaState*)r->state;
  DcMethodFact common[10] = {{"step", st->gamma, NULL},         {"step_source", 0, st->source},
                             {"omega", st->omega, NULL},        {"L", st->sm.L, NULL},
                             {"L_max", st->sm.L_max, NULL},     {"mu", st->mu, NULL},
                             {"gamma_theory", st->gamma_theory, NULL},
                             {"rate", st->rate, NULL},          {"prox", 0, st->prox_text},
                             {"sigma2_star", st->sigma2_star, NULL}};
  DcMethodFact f[14];
  int n = dc_method_facts_copy(common, 10, f, 14);
  if (st->H) {
    DcMethodFact more[4] = {{"alpha", st->alpha, NULL}, {"alpha_source", 0, st->alpha_source},
                            {"momentum_beta", st->beta, NULL}, {"psi0", st->psi0, NULL}};
    n += dc_method_facts_copy(more, 4, f + n, 14 - n);
  } else {
    f[n].key = "plateau_bound";
    f[n].value = st->plateau;
    f[n++].text = NULL;
  }
  return dc_method_facts_copy(f, n, out, cap);
}

static int state(const DcRound* r, DcStateVec* out, int cap) {
  const DianaState* st = (const DianaState*)r->state;
  int n = 0;
  if (st->H && cap >= 2) {
    out[n].name = "diana_clients_h";
    out[n].n = r->n * r->dim;
    out[n++].v = st->H;
    out[n].name = "diana_server_h";
    out[n].n = r->dim;
    out[n++].v = st->h;
  }
  if (st->v && n < cap) {
    out[n].name = "diana_server_v";
    out[n].n = r->dim;
    out[n++].v = st->v;
  }
  if (st->Tab && n + 2 <= cap) {
    out[n].name = "saga_table";
    out[n].n = st->row0[r->n - 1] * r->dim + st->rows[r->n - 1] * r->dim;
    out[n++].v = st->Tab;
    out[n].name = "saga_means";
    out[n].n = r->n * r->dim;
    out[n++].v = st->Mu;
  }
  if (st->W && n + 2 <= cap) {
    out[n].name = "vr_clients_w";
    out[n].n = r->n * r->dim;
    out[n++].v = st->W;
    out[n].name = "vr_clients_mu";
    out[n].n = r->n * r->dim;
    out[n++].v = st->Mu;
  }
  return n;
}

const DcMethodType dc_method_dcgd = {.name = "dcgd", .id = DETCGD_METHOD_DCGD, .stochastic = 1, .needs = DC_NEEDS_UNBIASED,
                                     .step_flags = DC_STEP_NO_MATRIX | DC_STEP_VALUES | DC_STEP_PROX,
                                     .algorithm = "DCGD with a prox (n clients)", .client = compress_shifted,
                                     .absorb = sum_messages, .server = step, .options = OPTIONS,
                                     .state_size = sizeof(DianaState), .create = create_dcgd, .destroy = destroy,
                                     .facts = facts, .state = state};
const DcMethodType dc_method_diana = {.name = "diana", .id = DETCGD_METHOD_DIANA, .stochastic = 1, .needs = DC_NEEDS_UNBIASED,
                                      .step_flags = DC_STEP_NO_MATRIX | DC_STEP_VALUES | DC_STEP_PROX,
                                      .algorithm = "DIANA (n clients)", .client = compress_shifted,
                                      .absorb = sum_messages, .server = step, .options = OPTIONS,
                                      .state_size = sizeof(DianaState), .create = create_diana, .destroy = destroy,
                                      .facts = facts, .state = state};
const DcMethodType dc_method_vr_diana = {.name = "vr-diana", .id = DETCGD_METHOD_VR_DIANA, .stochastic = 1,
                                         .needs = DC_NEEDS_UNBIASED, .op_by_op = 1, .client_state = 1,
                                         .step_flags = DC_STEP_NO_MATRIX | DC_STEP_VALUES | DC_STEP_PROX,
                                         .algorithm = "VR-DIANA with L-SVRG or SAGA estimators (n clients)",
                                         .client = compress_estimators, .absorb = sum_messages, .server = step,
                                         .options = OPTIONS, .state_size = sizeof(DianaState), .create = create_vr_diana,
                                         .destroy = destroy, .facts = facts, .state = state};
