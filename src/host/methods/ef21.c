/*
 * ef21.c -- error feedback: EF21 (Richtarik, Sokolov, Fatkhullin 2021) and normalized EF21 (Khirirat, Sadiev,
 * Riabinin, Gorbunov, Richtarik; METHODS.md, "Error feedback"), on a single node and over n clients (simulated,
 * or over MPI: a client rank keeps its clients' g_c, the server every client's from the messages it receives).
 *
 * Round k, each client c from its gradient at x^k (the client op):
 *   m_c = C(grad f_c(x^k) - g_c^{k-1}),   g_c^k = g_c^{k-1} + m_c            (C contractive, alpha)
 * and the server (absorb, server):
 *   g^k = g^{k-1} + (1/n) sum_c m_c  (= the mean of the g_c^k)
 *   ef21       x^{k+1} = x^k - gamma g^k,  gamma = 1 / (L + L~ sqrt(beta / theta)),  theta = 1 - sqrt(1 - alpha),
 *              beta = (1 - alpha) / theta,  L~ = sqrt((1/n) sum_c L_c^2)   [paper; METHODS.md tag V], or ef-step
 *   ef21-norm  x^{k+1} = x^k - gamma_k g^k / ||g^k||,  gamma_k = gamma_0 / sqrt(K + 1) for any gamma_0 > 0 [paper];
 *              on one client also the constant 1 / (2 c_1), c_1 = L_1/2 + 2 sqrt(1 - alpha) L_1 / (1 - sqrt(1 - alpha))
 *              (ef-norm-rule single-node) [METHODS.md, paper; L_1 of (L_0, L_1)-smoothness]
 * With momentum (Fatkhullin et al.; Khirirat et al.'s ||EF21-SGDM||), each client first averages its (minibatch)
 * gradients, v_c^k = (1 - eta) v_c^{k-1} + eta grad f_c(x^k; xi_c^k), v_c^0 = grad f_c(x^0; xi_c^0), and compresses
 * v_c^k - g_c^{k-1} instead:
 *   ef21-sgdm       x^{k+1} = x^k - gamma g^k, gamma as ef21's (its full-gradient theory: no theory with momentum
 *                   here), eta = ef-momentum or 1 / sqrt(K + 1)
 *   ef21-sgdm-norm  x^{k+1} = x^k - gamma g^k / ||g^k||, eta = 1 / sqrt(K + 1), gamma = gamma_0 / (K + 1)^(3/4),
 *                   gamma_0 = min{sqrt(K + 1) (1 - sqrt(1 - alpha)), 1} / (16 L_1) [paper, the largest it allows],
 *                   L_1 of (L_0, L_1)-smoothness (problem.h); or ef-sgdm-gamma0, ef-momentum
 * eta = 1 is EF21-SGD (||EF21-SGD||); the identity compressor gives SGD (normalised SGD) with momentum.
 *   ef21-hb         the server's heavy ball on EF21's estimate: v^k = beta v^{k-1} + g^k (v^{-1} = 0),
 *                   x^{k+1} = x^k - gamma (1 - beta) v^k, gamma as ef21's: the effective step gamma (1 - beta) / (1 - beta)
 *                   of a steady v is EF21's (derived; no theory for the heavy ball here); beta = ef-hb-beta
 * The start (ef-init): g_c^{-1} = 0, so that round 0 is C(grad f_c(x^0)) like any other (compressed); or
 * g_c^0 = grad f_c(x^0) sent in full before round 0 (gradient: d values per client counted there; round 0's
 * messages are then C(0), counted too).  L and L_c are Euclidean: lambda_max of the whole Gram matrix for
 * logreg-nc, of the largest block for quad-nc (its L is block diagonal).  ||g^k|| stays on the device (an axpby
 * scalar); g = 0 gives no step.
 */
#include <math.h>
#include <string.h>
#include "method.h"
#include "options.h"
#include "problem.h"

typedef struct Ef21State {
  DcVec* Gc;          /* n rows: the clients' g_c */
  DcVec* M;           /* a chunk's messages */
  DcVec* sum;         /* sum_c m_c of the round */
  DcVec* g;           /* the server's g = mean_c g_c */
  DcVec* norm2;       /* [||g||^2] (ef21-norm) */
  DcVec* diff;        /* grad f(x^k) - g, for the trace */
  DcVec* hb;          /* ef21-hb: the server's v */
  double beta;        /* ef21-hb's beta */
  DcVec* V;           /* momentum: n rows, the clients' v_c (NULL: none) */
  DcVec* Vc;          /* a view of the chunk's rows of V */
  double eta;         /* momentum's eta */
  const char* eta_source;
  double L0, L1;      /* (L_0, L_1)-smoothness (ef21-sgdm-norm's theory, ||EF21||'s single-node step) */
  double c1;          /* ||EF21||'s single-node c_1 */
  double gamma;       /* ef21: gamma; ef21-norm: gamma_0 / sqrt(K + 1) */
  const char* source;
  const char* init;   /* ef-init's name */
  double alpha, L, L_tilde, gamma_theory;
} Ef21State;

#define RUNS (DETCGD_CMD_RUN | DETCGD_CMD_EXPERIMENT)
static int with_momentum(const DetcgdSettings* s) {
  return s->method == DETCGD_METHOD_EF21_SGDM || s->method == DETCGD_METHOD_EF21_SGDM_NORM;
}
static const char* const INIT_NAMES[] = {"compressed", "gradient", NULL};
static const char* const NORM_RULE_NAMES[] = {"horizon", "single-node", NULL};
static const char* with_step(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)p;
  return s->method == DETCGD_METHOD_EF21 || s->method == DETCGD_METHOD_EF14 || s->method == DETCGD_METHOD_EF21_SGDM ||
                 s->method == DETCGD_METHOD_EF21_HB
             ? NULL : "read by methods ef21, ef21-sgdm, ef21-hb and ef14";
}
static const char* heavy_ball_only(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)p;
  return s->method == DETCGD_METHOD_EF21_HB ? NULL : "read by method ef21-hb";
}
static const char* with_start(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)p;
  return s->method == DETCGD_METHOD_EF21 || s->method == DETCGD_METHOD_EF21_NORM || with_momentum(s) ||
                 s->method == DETCGD_METHOD_EF21_HB
             ? NULL : "read by methods ef21, ef21-norm, ef21-sgdm, ef21-sgdm-norm and ef21-hb";
}
static const char* momentum_only(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)p;
  return with_momentum(s) ? NULL : "read by methods ef21-sgdm and ef21-sgdm-norm";
}
static const char* sgdm_normalized_only(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)p;
  return s->method == DETCGD_METHOD_EF21_SGDM_NORM ? NULL : "read by method ef21-sgdm-norm";
}
static const char* normalized_only(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)p;
  return s->method == DETCGD_METHOD_EF21_NORM ? NULL : "read by method ef21-norm";
}
static const char* horizon_rule(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  const char* why = normalized_only(p, s);
  return why ? why : s->ef_norm_rule == 0 ? NULL : "read with ef-norm-rule horizon";
}
/* read by the error-feedback methods (ef21.c, ef14.c), each row by those its unread names */
const DcOption dc_error_feedback_options[] = {
  {"ef-step", "method", DC_OPT_DOUBLE, DC_SETTINGS_FIELD(ef_step), "0", 0, 1e300, NULL, RUNS | DETCGD_CMD_THEORY, 0,
   with_step, "ef21: gamma of x - gamma g, 0 = 1 / (L + L~ sqrt(beta / theta)) (paper); ef14: 0 = 1 / L (no theory)"},
  {"ef-step-scale", "method", DC_OPT_DOUBLE, DC_SETTINGS_FIELD(ef_step_scale), "1", 0, 1e300, NULL,
   RUNS | DETCGD_CMD_THEORY, DC_OPT_LO_OPEN, with_step,
   "ef21, ef14: the default step (ef-step 0) times this (EF21's experiments tune multiples of its theory step)"},
  {"ef-gamma0", "method", DC_OPT_DOUBLE, DC_SETTINGS_FIELD(ef_gamma0), "1", 0, 1e300, NULL, RUNS | DETCGD_CMD_THEORY,
   DC_OPT_LO_OPEN, horizon_rule, "ef21-norm: gamma_0 of the step gamma_0 / sqrt(K + 1) (any gamma_0 > 0: paper)"},
  {"ef-norm-rule", "method", DC_OPT_ENUM, DC_SETTINGS_FIELD(ef_norm_rule), "horizon", 0, 0, NORM_RULE_NAMES,
   RUNS | DETCGD_CMD_THEORY, 0, normalized_only,
   "ef21-norm: horizon = gamma_0 / sqrt(K + 1); single-node = 1 / (2 c_1), c_1 = L_1 / 2 + 2 sqrt(1 - alpha) L_1 / "
   "(1 - sqrt(1 - alpha)) (paper, one client; L_1 of (L_0, L_1)-smoothness)"},
  {"ef-init", "method", DC_OPT_ENUM, DC_SETTINGS_FIELD(ef_init), "compressed", 0, 0, INIT_NAMES, RUNS, 0, with_start,
   "ef21, ef21-norm, ef21-sgdm(-norm): g_c^0 = C(grad f_c(x0)) (g_c^-1 = 0), or grad f_c(x0) (with batch: round 0's minibatch) sent in full (counted)"},
  {"ef-hb-beta", "method", DC_OPT_DOUBLE, DC_SETTINGS_FIELD(ef_hb_beta), "0.9", 0, 1, NULL, RUNS | DETCGD_CMD_THEORY,
   0, heavy_ball_only, "ef21-hb: beta in [0, 1) of the server's v = beta v + g, x - gamma (1 - beta) v (0: ef21)"},
  {"ef-momentum", "method", DC_OPT_DOUBLE, DC_SETTINGS_FIELD(ef_momentum), "0", 0, 1, NULL, RUNS | DETCGD_CMD_THEORY, 0,
   momentum_only, "ef21-sgdm(-norm): eta of v_c = (1 - eta) v_c + eta grad f_c(x; xi), 0 = 1 / sqrt(K + 1) (paper); "
   "1 = no momentum (EF21-SGD)"},
  {"ef-sgdm-gamma0", "method", DC_OPT_DOUBLE, DC_SETTINGS_FIELD(ef_sgdm_gamma0), "0", 0, 1e300, NULL,
   RUNS | DETCGD_CMD_THEORY, 0, sgdm_normalized_only,
   "ef21-sgdm-norm: gamma_0 of gamma_0 / (K + 1)^(3/4), 0 = min{sqrt(K + 1) (1 - sqrt(1 - alpha)), 1} / (16 L_1) (paper)"},
  DC_OPTION_END};

/* L, L~ = sqrt(mean_c L_c^2), and EF21's gamma from alpha */
static int theory(Ef21State* st, const DcMethodSetup* m, int n) {
  DcSmoothness sm;
  double theta, beta;
  int rc = dc_method_smoothness(m->problem, n, &sm);
  if (rc) return rc;
  st->L = sm.L;
  st->L_tilde = sm.L_tilde;
  st->alpha = dc_sketch_alpha(m->spec);
  theta = 1.0 - sqrt(1.0 - st->alpha);
  beta = (1.0 - st->alpha) / theta;
  st->gamma_theory = 1.0 / (st->L + st->L_tilde * sqrt(beta / theta));
  return DETCGD_OK;
}

/* g_c^0 = grad f_c(x^0) for every client, g^0 their mean, d values each counted (x is x^0 here). */
static int start_from_gradients(DcRound* r, int value_bits) {
  const DcBackendOps* o = r->be->ops;
  Ef21State* st = (Ef21State*)r->state;
  int64_t coords, bits;
  int rc = dc_round_all_gradients(r, 0, st->Gc);
  if (rc == DETCGD_OK) rc = o->rows_sum(r->be, st->Gc, r->n, r->dim, 1.0 / r->n, 1, st->g, 0);
  if (rc == DETCGD_OK) rc = o->sketch_tally(r->be, r->S, &coords, &bits);
  if (rc == DETCGD_OK) rc = o->sketch_set_tally(r->be, r->S, coords + r->n * r->dim, bits + r->n * r->dim * value_bits);
  return rc;
}

/* ef21-sgdm-norm's gamma_0 / (K + 1)^(3/4) and the momentum's eta (both with K + 1 = the horizon). */
static int sgdm_steps(Ef21State* st, const DcMethodSetup* m, int normalized) {
  const DetcgdSettings* set = m->settings;
  double K1 = (double)set->term.max_iter + 1.0, g0, bound;
  dc_problem_l0_l1(m->problem, &st->L0, &st->L1);
  st->eta = set->ef_momentum > 0 ? set->ef_momentum : 1.0 / sqrt(K1);
  st->eta_source = set->ef_momentum > 0 ? "given (ef-momentum)" : "1 / sqrt(K + 1) (paper)";
  if (!normalized) return DETCGD_OK;
  bound = st->L1 > 0 ? fmin(sqrt(K1) * (1.0 - sqrt(1.0 - st->alpha)), 1.0) / (16.0 * st->L1) : INFINITY;
  if (set->ef_sgdm_gamma0 > 0) {
    g0 = set->ef_sgdm_gamma0;
    st->source = "gamma_0 / (K + 1)^(3/4), gamma_0 given (ef-sgdm-gamma0)";
    if (g0 > bound * (1 + 1e-12)) {
      if (!set->stepsize.force)
        return dc_fail(DETCGD_ERR_ARG, "ef-sgdm-gamma0: %g exceeds the paper's bound min{sqrt(K + 1) (1 - sqrt(1 - alpha)), "
                       "1} / (16 L_1) = %g; set force = 1 to run it anyway", g0, bound);
      st->source = "gamma_0 / (K + 1)^(3/4), gamma_0 given (ef-sgdm-gamma0), past the paper's bound (forced)";
    }
  } else {
    if (!(st->L1 > 0))
      return dc_fail(DETCGD_ERR_ARG, "ef21-sgdm-norm: its theory step is gamma_0 / (K + 1)^(3/4) with gamma_0 <= min{...} "
                     "/ (16 L_1), and this problem has L_1 = 0 (quad-nc is L-smooth): set ef-sgdm-gamma0");
    g0 = bound;
    st->source = "gamma_0 / (K + 1)^(3/4), gamma_0 = min{sqrt(K + 1) (1 - sqrt(1 - alpha)), 1} / (16 L_1) (paper)";
  }
  st->gamma = g0 / pow(K1, 0.75);
  return DETCGD_OK;
}

/* ||EF21|| on one client: gamma = 1 / (2 c_1), c_1 = L_1 / 2 + 2 sqrt(1 - alpha) L_1 / (1 - sqrt(1 - alpha)). */
static int single_node_step(Ef21State* st, const DcMethodSetup* m, int n) {
  double r1a = sqrt(1.0 - st->alpha);
  if (n != 1)
    return dc_fail(DETCGD_ERR_ARG, "ef-norm-rule: single-node is ||EF21||'s step for one client; this run has %d "
                   "(use horizon)", n);
  dc_problem_l0_l1(m->problem, &st->L0, &st->L1);
  if (!(st->L1 > 0))
    return dc_fail(DETCGD_ERR_ARG, "ef-norm-rule: single-node's 1 / (2 c_1) needs L_1 > 0, and this problem has L_1 = 0 "
                   "(quad-nc is L-smooth): use horizon");
  st->c1 = st->L1 / 2.0 + 2.0 * r1a * st->L1 / (1.0 - r1a);
  st->gamma = 1.0 / (2.0 * st->c1);
  st->source = "1 / (2 c_1), c_1 = L_1 / 2 + 2 sqrt(1 - alpha) L_1 / (1 - sqrt(1 - alpha)) (paper, single node)";
  return DETCGD_OK;
}

/* kind: 0 ef21, 1 ef21-norm, 2 ef21-sgdm, 3 ef21-sgdm-norm, 4 ef21-hb */
static int create(DcRound* r, const DcMethodSetup* m, int kind) {
  const DcBackendOps* o = r->be->ops;
  Ef21State* st = (Ef21State*)r->state;
  int rc, normalized = kind == 1 || kind == 3, momentum = kind == 2 || kind == 3, heavy_ball = kind == 4;
  if ((rc = o->vec_create(r->be, r->n * r->dim, &st->Gc)) || (rc = o->vec_create(r->be, r->chunk * r->dim, &st->M)) ||
      (rc = o->vec_create(r->be, r->dim, &st->sum)) || (rc = o->vec_create(r->be, r->dim, &st->g)) ||
      (rc = o->vec_create(r->be, 1, &st->norm2)) || (rc = o->vec_create(r->be, r->dim, &st->diff)))
    return rc;
  if (momentum && (rc = o->vec_create(r->be, r->n * r->dim, &st->V))) return rc;
  if (heavy_ball && (rc = o->vec_create(r->be, r->dim, &st->hb))) return rc;
  st->beta = heavy_ball ? m->settings->ef_hb_beta : 0.0;
  if ((rc = theory(st, m, r->n))) return rc;
  st->L0 = st->L1 = st->eta = st->c1 = NAN;
  if (normalized && !momentum && m->settings->ef_norm_rule == 1) {
    if ((rc = single_node_step(st, m, r->n))) return rc;
  } else if (normalized && !momentum) {
    st->gamma = m->settings->ef_gamma0 / sqrt((double)m->settings->term.max_iter + 1.0);
    st->source = "gamma_0 / sqrt(K + 1) (paper; any gamma_0 > 0)";
  } else if (m->settings->ef_step > 0 && !normalized) {
    st->gamma = m->settings->ef_step;
    st->source = "given (ef-step)";
  } else if (!normalized) {
    int scaled = m->settings->ef_step_scale != 1.0;
    st->gamma = st->gamma_theory * m->settings->ef_step_scale;
    if (momentum)
      st->source = scaled ? "ef-step-scale x EF21's step (no theory with momentum here)"
                          : "EF21's 1 / (L + L~ sqrt(beta / theta)) (paper, full gradients; no theory with momentum here)";
    else if (m->problem->spec.kind == DETCGD_PROBLEM_POLY_NC)
      st->source = scaled ? "ef-step-scale x 1 / (L + L~ sqrt(beta / theta)) (paper's step scaled; L holds on |x_j| <= "
                            "poly-radius only: derived)"
                          : "1 / (L + L~ sqrt(beta / theta)) (paper's step; L holds on |x_j| <= poly-radius only: derived)";
    else
      st->source = scaled ? "ef-step-scale x 1 / (L + L~ sqrt(beta / theta)) (paper's step scaled)"
                          : "1 / (L + L~ sqrt(beta / theta)) (paper)";
  }
  if (kind == 0 && st->gamma > st->gamma_theory * (1 + 1e-12)) {
    if (!m->settings->stepsize.force)
      return dc_fail(DETCGD_ERR_ARG, "%s: gamma = %g exceeds EF21's theory step %g = 1 / (L + L~ sqrt(beta / theta)); set "
                     "force = 1 to run it anyway", m->settings->ef_step > 0 ? "ef-step" : "ef-step-scale", st->gamma,
                     st->gamma_theory);
    st->source = m->settings->ef_step > 0 ? "given (ef-step), past the theory step (forced)"
                                          : "ef-step-scale x 1 / (L + L~ sqrt(beta / theta)), past the theory step (forced)";
  }
  if (heavy_ball) {
    if (!(st->beta < 1.0)) return dc_fail(DETCGD_ERR_ARG, "ef-hb-beta: 1 leaves no step, gamma (1 - beta) = 0; use [0, 1)");
    st->gamma *= 1.0 - st->beta;
    st->source = m->settings->ef_step > 0 ? "(1 - beta) x ef-step (the heavy ball's effective step is ef-step)"
                                          : "(1 - beta) x EF21's step (derived: the heavy ball's effective step is EF21's; no theory here)";
  }
  if (momentum && ((rc = sgdm_steps(st, m, normalized)) || (rc = dc_round_all_gradients(r, 0, st->V)))) return rc;
  st->init = INIT_NAMES[m->settings->ef_init];
  if (m->settings->ef_init == DETCGD_EF_INIT_GRADIENT)
    return start_from_gradients(r, m->settings->comm.value_bits);
  return DETCGD_OK;
}

static int create_ef21(DcRound* r, const DcMethodSetup* m) { return create(r, m, 0); }
static int create_norm(DcRound* r, const DcMethodSetup* m) { return create(r, m, 1); }
static int create_sgdm(DcRound* r, const DcMethodSetup* m) { return create(r, m, 2); }
static int create_sgdm_norm(DcRound* r, const DcMethodSetup* m) { return create(r, m, 3); }
static int create_hb(DcRound* r, const DcMethodSetup* m) { return create(r, m, 4); }

static void destroy(DcRound* r) {
  const DcBackendOps* o = r->be->ops;
  Ef21State* st = (Ef21State*)r->state;
  o->vec_destroy(r->be, &st->Gc);
  o->vec_destroy(r->be, &st->M);
  o->vec_destroy(r->be, &st->sum);
  o->vec_destroy(r->be, &st->g);
  o->vec_destroy(r->be, &st->norm2);
  o->vec_destroy(r->be, &st->diff);
  o->vec_destroy(r->be, &st->hb);
  o->vec_destroy(r->be, &st->V);
  o->vec_destroy(r->be, &st->Vc);
}

/* The chunk's messages: st->M, or (one client of an MPI rank, or one received by the server) the round's M. */
static DcVec* messages(DcRound* r) {
  Ef21State* st = (Ef21State*)r->state;
  return r->at.single ? r->at.M : st->M;
}

/* The chunk's v_c = (1 - eta) v_c + eta grad f_c, in V's rows (the view Vc); create set v_c^{-1} = grad f_c(x^0; xi^0),
 * so that v_c^0 is round 0's gradient (the same draw) with no choice by iteration, which a replay records once. */
static int average_gradients(DcRound* r) {
  const DcBackendOps* o = r->be->ops;
  Ef21State* st = (Ef21State*)r->state;
  const DcRoundChunk* a = &r->at;
  DcScalar eta = {st->eta, NULL, 0, 1.0}, keep = {1.0 - st->eta, NULL, 0, 1.0};
  int rc = o->vec_view(r->be, st->V, (int64_t)a->c0 * r->dim, (int64_t)a->nc * r->dim, &st->Vc);
  return rc == DETCGD_OK ? o->axpby(r->be, eta, a->G, keep, st->Vc) : rc;
}

/* m_c = C(grad f_c - g_c) (with momentum C(v_c - g_c)), g_c += m_c, for the chunk's clients */
static int compress_differences(DcRound* r) {
  const DcBackendOps* o = r->be->ops;
  Ef21State* st = (Ef21State*)r->state;
  const DcRoundChunk* a = &r->at;
  int64_t off = (int64_t)a->c0 * r->dim;
  DcVec* M = messages(r);
  int rc = st->V ? average_gradients(r) : DETCGD_OK;
  if (rc == DETCGD_OK)
    rc = dc_round_dense_messages(r, r->S, st->V ? st->Vc : a->G, st->Gc, off, a->nc, a->c0, M);
  return rc == DETCGD_OK ? o->rows_sum(r->be, M, 1, a->nc * r->dim, 1.0, 0, st->Gc, off) : rc;
}

/* sum (+)= the chunk's messages, in client order; a received message (no gradient here) also moves the server's
 * copy of its client's g_c, so that rank 0 holds every g_c (its checkpoint is the run's) */
static int sum_messages(DcRound* r) {
  const DcBackendOps* o = r->be->ops;
  Ef21State* st = (Ef21State*)r->state;
  const DcRoundChunk* a = &r->at;
  DcVec* M = messages(r);
  int rc = o->rows_sum(r->be, M, a->nc, r->dim, 1.0, a->fresh || r->delivery == DC_DELIVER_IN_PLACE, st->sum, 0);
  if (rc == DETCGD_OK && !a->G) rc = o->rows_sum(r->be, M, 1, r->dim, 1.0, 0, st->Gc, (int64_t)a->c0 * r->dim);
  return rc;
}

/* g += (1/n) sum */
static int update_estimate(DcRound* r) {
  Ef21State* st = (Ef21State*)r->state;
  return r->be->ops->axpy(r->be, 1.0 / r->n, st->sum, st->g);
}

static int step(DcRound* r) {
  Ef21State* st = (Ef21State*)r->state;
  int rc = update_estimate(r);
  return rc == DETCGD_OK ? r->be->ops->axpy(r->be, -st->gamma, st->g, r->x) : rc;
}

static int heavy_ball_step(DcRound* r) { /* v = beta v + g, x -= gamma (1 - beta) v (gamma holds the product) */
  Ef21State* st = (Ef21State*)r->state;
  DcScalar one = {1.0, NULL, 0, 1.0}, beta = {st->beta, NULL, 0, 1.0};
  int rc = update_estimate(r);
  if (rc == DETCGD_OK) rc = r->be->ops->axpby(r->be, one, st->g, beta, st->hb);
  return rc == DETCGD_OK ? r->be->ops->axpy(r->be, -st->gamma, st->hb, r->x) : rc;
}

static int normalized_step(DcRound* r) { /* x -= gamma_k g / ||g||, ||g|| read where it is */
  const DcBackendOps* o = r->be->ops;
  Ef21State* st = (Ef21State*)r->state;
  DcScalar a = {-st->gamma, st->norm2, 0, -0.5}, one = {1.0, NULL, 0, 1.0};
  int rc = update_estimate(r);
  if (rc == DETCGD_OK) rc = o->dot(r->be, st->g, st->g, st->norm2, 0);
  return rc == DETCGD_OK ? o->axpby(r->be, a, st->g, one, r->x) : rc;
}

static int facts(const DcRound* r, DcMethodFact* out, int cap) {
  const Ef21State* st = (const Ef21State*)r->state;
  DcMethodFact f[11] = {{"step", st->gamma, NULL},      {"step_source", 0, st->source},
                        {"alpha", st->alpha, NULL},     {"L", st->L, NULL},
                        {"L_tilde", st->L_tilde, NULL}, {"gamma_theory", st->gamma_theory, NULL},
                        {"init", 0, st->init},          {"momentum_eta", st->eta, NULL},
                        {"momentum_eta_source", 0, st->eta_source}, {"L0", st->L0, NULL},
                        {"L1", st->L1, NULL}};
  if (!st->V && !isnan(st->c1)) { /* ||EF21|| single node: its constants after the common seven */
    DcMethodFact g[10] = {f[0], f[1], f[2], f[3], f[4], f[5], f[6], {"L0", st->L0, NULL}, {"L1", st->L1, NULL},
                          {"c1", st->c1, NULL}};
    return dc_method_facts_copy(g, 10, out, cap);
  }
  return dc_method_facts_copy(f, st->V ? 11 : 7, out, cap);
}

static int state(const DcRound* r, DcStateVec* out, int cap) {
  const Ef21State* st = (const Ef21State*)r->state;
  if (cap < 2) return 0;
  out[0].name = "ef_clients_g";
  out[0].n = r->n * r->dim;
  out[0].v = st->Gc;
  out[1].name = "ef_server_g";
  out[1].n = r->dim;
  out[1].v = st->g;
  if (st->hb && cap >= 3) {
    out[2].name = "ef_server_v";
    out[2].n = r->dim;
    out[2].v = st->hb;
    return 3;
  }
  if (!st->V || cap < 3) return 2;
  out[2].name = "ef_clients_v";
  out[2].n = r->n * r->dim;
  out[2].v = st->V;
  return 3;
}

/* The trace's ef_error2 = ||grad f(x^k) - g^{k-1}||^2: how far the estimate the step to x^k used is from the
 * gradient there (EF21's error feedback at work; 0 at k = 0 only with the gradient start) */
static const char* const TRACE_COLUMNS[] = {"ef_error2", NULL};
static int estimate_error(DcRound* r, DcVec* m, int slot0) {
  const DcBackendOps* o = r->be->ops;
  Ef21State* st = (Ef21State*)r->state;
  DcScalar one = {1.0, NULL, 0, 1.0}, minus = {-1.0, NULL, 0, 1.0}, zero = {0.0, NULL, 0, 1.0};
  int rc = o->axpby(r->be, one, r->g, zero, st->diff);
  if (rc == DETCGD_OK) rc = o->axpby(r->be, minus, st->g, one, st->diff);
  return rc == DETCGD_OK ? o->dot(r->be, st->diff, st->diff, m, slot0) : rc;
}

static int always(const DetcgdSettings* s) { (void)s; return 1; } /* gamma_0 / (K + 1)^(3/4), 1 / sqrt(K + 1) */
static int horizon_step(const DetcgdSettings* s) { return s->ef_norm_rule == 0; } /* gamma_0 / sqrt(K + 1) */
static int eta_uses_horizon(const DetcgdSettings* s) { return !(s->ef_momentum > 0); } /* 1 / sqrt(K + 1) */

const DcMethodType dc_method_ef21 = {.name = "ef21", .id = DETCGD_METHOD_EF21, .stochastic = 1, .needs = DC_NEEDS_CONTRACTIVE,
                                     .step_flags = DC_STEP_NO_MATRIX | DC_STEP_VALUES, .algorithm = "EF21 (n clients)", .client = compress_differences, .absorb = sum_messages,
                                     .server = step, .options = dc_error_feedback_options, .state_size = sizeof(Ef21State),
                                     .create = create_ef21, .destroy = destroy, .facts = facts, .state = state,
    .trace_columns = TRACE_COLUMNS, .trace_metrics = estimate_error};
const DcMethodType dc_method_ef21_norm = {.name = "ef21-norm", .id = DETCGD_METHOD_EF21_NORM, .stochastic = 1,
                                          .needs = DC_NEEDS_CONTRACTIVE, .step_flags = DC_STEP_NO_MATRIX | DC_STEP_VALUES,
                                          .algorithm = "normalized EF21 (n clients)",
                                          .client = compress_differences, .absorb = sum_messages,
                                          .server = normalized_step, .options = dc_error_feedback_options,
                                          .state_size = sizeof(Ef21State), .create = create_norm, .destroy = destroy,
                                          .facts = facts, .state = state, .uses_horizon = horizon_step,
    .trace_columns = TRACE_COLUMNS, .trace_metrics = estimate_error};
const DcMethodType dc_method_ef21_sgdm = {.name = "ef21-sgdm", .id = DETCGD_METHOD_EF21_SGDM, .stochastic = 1,
                                          .needs = DC_NEEDS_CONTRACTIVE, .step_flags = DC_STEP_NO_MATRIX | DC_STEP_VALUES,
                                          .algorithm = "EF21-SGDM (n clients)", .client_state = 1,
                                          .client = compress_differences, .absorb = sum_messages, .server = step,
                                          .options = dc_error_feedback_options, .state_size = sizeof(Ef21State),
                                          .create = create_sgdm, .destroy = destroy, .facts = facts, .state = state,
                                          .uses_horizon = eta_uses_horizon,
    .trace_columns = TRACE_COLUMNS, .trace_metrics = estimate_error};
const DcMethodType dc_method_ef21_sgdm_norm = {.name = "ef21-sgdm-norm", .id = DETCGD_METHOD_EF21_SGDM_NORM,
                                               .stochastic = 1, .needs = DC_NEEDS_CONTRACTIVE,
                                               .step_flags = DC_STEP_NO_MATRIX | DC_STEP_VALUES,
                                               .algorithm = "normalized EF21-SGDM (n clients)", .client_state = 1,
                                               .client = compress_differences, .absorb = sum_messages,
                                               .server = normalized_step, .options = dc_error_feedback_options,
                                               .state_size = sizeof(Ef21State), .create = create_sgdm_norm,
                                               .destroy = destroy, .facts = facts, .state = state, .uses_horizon = always,
    .trace_columns = TRACE_COLUMNS, .trace_metrics = estimate_error};
const DcMethodType dc_method_ef21_hb = {.name = "ef21-hb", .id = DETCGD_METHOD_EF21_HB, .stochastic = 1,
                                        .needs = DC_NEEDS_CONTRACTIVE, .step_flags = DC_STEP_NO_MATRIX | DC_STEP_VALUES,
                                        .algorithm = "EF21 with the server's heavy ball (n clients)",
                                        .client = compress_differences, .absorb = sum_messages, .server = heavy_ball_step,
                                        .options = dc_error_feedback_options, .state_size = sizeof(Ef21State),
                                        .create = create_hb, .destroy = destroy, .facts = facts, .state = state,
                                        .trace_columns = TRACE_COLUMNS, .trace_metrics = estimate_error};
