/*
 * sign.c -- sign descent (Balles, Pedregosa, Le Roux; Bernstein et al.; METHODS.md, "Sign descent"), single node.
 *
 *   sign-gd         x+ = x - eta sign(grad f(x)),  eta = sqrt(2 (f(x^0) - f^inf) / (L_inf K)) [derived: then
 *                   (1/K) sum_k ||grad f(x^k)||_1 <= sqrt(2 L_inf (f(x^0) - f^inf) / K)], or --sign-step
 *   scaled-sign-gd  x+ = x - (||grad f(x)||_1 / L_inf) sign(grad f(x)), the steepest descent step in l-inf:
 *                   f decreases by at least ||grad f(x)||_1^2 / (2 L_inf) [derived]
 *   signum          m = beta m + (1 - beta) g (m^{-1} = 0), x+ = x - eta sign(m) (Bernstein et al.), eta as sign-gd's
 *                   (its derivation is for sign GD: no theory for Signum here) or --sign-step; with batch: minibatches
 *   block-wise sign (sign-gd, sign-per-layer) x_i+ = x_i - (c / L_inf,i) sign(g_i), c = sqrt(2 Delta^0 / (K S)),
 *                   S = sum_i 1 / L_inf,i: (1/K) sum_k sum_i ||g_i||_1 / L_inf,i <= sqrt(2 Delta^0 S / K) [derived]
 *   block-wise      (scaled-sign-gd, sign-per-layer) x_i+ = x_i - (||g_i||_1 / L_inf,i) sign(g_i) for every layer i: with the
 *                   block-diagonal bound f(x + D) <= f(x) + g.D + D^T Diag(L_i) D / 2, f decreases by at least
 *                   sum_i ||g_i||_1^2 / (2 L_inf,i) >= ||g||_1^2 / (2 sum_i L_inf,i) [derived].  The step is the
 *                   scaled sign compressor's (||g_i||_1 / d_i) sign(g_i) through D = Diag(d_i / L_inf,i).
 *
 * L_inf is the upper end of the l-inf smoothness of Diag(L_i) (theory/geometry.c: exact, or its certified upper
 * bound), so both guarantees hold.  sign(0) = 0.  The message of a round is sign(g): d bits, plus one value for
 * ||g||_1 with the scaled step (one per layer, block-wise).  ||g||_1 = sign(g) . g stays on the device (the capture rule): the step reads it
 * there as a scalar.  No distributed form here (majority vote comes with its own messages).
 */
#include <math.h>
#include <stdlib.h>
#include "method.h"
#include "options.h"
#include "problem.h"

typedef struct SignState {
  DcVec* sgn;         /* sign(g) */
  DcVec* norm1;       /* [||g||_1] */
  double linf;        /* the L_inf the step uses */
  int linf_exact;
  double step;        /* eta (sign-gd) or 1 / L_inf (scaled) */
  const char* source; /* where the step comes from */
  double l1_bound;    /* sign-gd at the theory step: (1/K) sum_k ||grad f(x^k)||_1 is at most this (NaN: none) */
  /* block-wise: the scaled sign compressor on every layer, and D = Diag(d_i / L_inf,i) */
  DcSketchSpec spec;
  DcSketch* S;
  DcBlocks* D;
  DcVec* y;
  /* signum: the momentum m and its beta */
  DcVec* mom;
  double beta;
} SignState;

static const char* stepped_by_eta(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)p;
  return s->method == DETCGD_METHOD_SCALED_SIGN ? "read by method sign-gd, sign-mv or signum" : NULL;
}
static const char* signum_only(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)p;
  return s->method == DETCGD_METHOD_SIGNUM ? NULL : "read by method signum";
}
static const char* single_node_sign(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)p;
  return s->method == DETCGD_METHOD_SIGN || s->method == DETCGD_METHOD_SCALED_SIGN
             ? NULL : "read by methods sign-gd and scaled-sign-gd";
}

/* the sign family's rows: sign-gd, scaled-sign-gd, signum and sign-mv (sign_vote.c) */
const DcOption dc_sign_options[] = {
  {"sign-step", "method", DC_OPT_DOUBLE, DC_SETTINGS_FIELD(sign_step), "0", 0, 1e300, NULL,
   DETCGD_CMD_RUN | DETCGD_CMD_EXPERIMENT, 0, stepped_by_eta,
   "sign-gd, signum, sign-mv: eta of x - eta sign(.); 0 = sqrt(2 (f(x0) - f^inf) / (L_inf K)) (derived for sign-gd); "
   "block-wise: c of x_i - (c / L_inf,i) sign(g_i)"},
  {"sign-momentum", "method", DC_OPT_DOUBLE, DC_SETTINGS_FIELD(sign_momentum), "0.9", 0, 1, NULL,
   DETCGD_CMD_RUN | DETCGD_CMD_EXPERIMENT, 0, signum_only,
   "signum: beta of m = beta m + (1 - beta) g (0: signSGD)"},
  {"sign-per-layer", "method", DC_OPT_BOOL, DC_SETTINGS_FIELD(sign_per_layer), "0", 0, 0, NULL,
   DETCGD_CMD_RUN | DETCGD_CMD_EXPERIMENT, 0, single_node_sign,
   "1 = block-wise: scaled-sign-gd steps every layer by ||g_i||_1 / L_inf,i, sign-gd by c / L_inf,i (derived)"},
  DC_OPTION_END};

/* Every layer's L_inf,i (its geometry; the certified upper end) into linf[0 .. l). */
static int layer_linf(const DcMethodSetup* m, SignState* st, double* linf) {
  int i, rc = DETCGD_OK;
  for (i = 0; i < m->problem->layout.nblocks && rc == DETCGD_OK; ++i) {
    DetcgdGeometry g;
    rc = detcgd_geometry(m->problem, i, &g);
    linf[i] = g.linf_hi;
    st->linf_exact &= g.linf_exact;
  }
  return rc;
}

/* D = Diag(num_i / L_inf,i): num_i = the layer's width (scaled sign, c < 0) or c (sign; c = 0: the derived
 * c = sqrt(2 Delta^0 / (K S)), S = sum_i 1 / L_inf,i, with its bound). */
static int per_layer_d(DcRound* r, const DcMethodSetup* m, double c) {
  SignState* st = (SignState*)r->state;
  const DcLayout* lay = &m->problem->layout;
  DcHostBlocks H = {0};
  double* linf = (double*)dc_calloc((size_t)lay->nblocks, sizeof(double));
  double inv_sum = 0.0;
  int i, rc = linf ? layer_linf(m, st, linf) : DETCGD_ERR_ALLOC;
  for (i = 0; i < lay->nblocks && rc == DETCGD_OK; ++i) inv_sum += 1.0 / linf[i];
  if (rc == DETCGD_OK && c == 0.0) {
    c = sqrt(2.0 * m->f0_gap / ((double)m->settings->term.max_iter * inv_sum));
    st->l1_bound = sqrt(2.0 * m->f0_gap * inv_sum / (double)m->settings->term.max_iter);
    st->step = c;
  }
  if (rc == DETCGD_OK) rc = dc_blocks_alloc(&H, lay, DC_BLOCKS_SCALAR);
  for (i = 0; i < lay->nblocks && rc == DETCGD_OK; ++i) H.data[i] = (c < 0 ? lay->size[i] : c) / linf[i];
  if (rc == DETCGD_OK) rc = r->be->ops->blocks_create(r->be, &H, &st->D);
  dc_blocks_free(&H);
  free(linf);
  return rc;
}

/* Block-wise scaled sign: D_i = d_i / L_inf,i and the scaled sign compressor's sketch. */
static int create_blockwise(DcRound* r, const DcMethodSetup* m) {
  SignState* st = (SignState*)r->state;
  const DcBackendOps* o = r->be->ops;
  DetcgdSketchSettings sk = m->settings->sketch;
  int rc;
  sk.kind = DETCGD_SKETCH_SCALED_SIGN;
  if ((rc = dc_sketch_spec_build(&st->spec, &sk, &m->settings->comm, m->problem)) ||
      (rc = o->sketch_create(r->be, &st->spec, 1, &st->S)) || (rc = o->vec_create(r->be, r->dim, &st->y)))
    return rc;
  st->step = NAN;
  st->source = "||g_i||_1 / L_inf,i per layer (block-wise l-inf steepest descent; derived)";
  return per_layer_d(r, m, -1.0);
}

/* Block-wise sign GD: x_i - (c / L_inf,i) sign(g_i).  With f(x + D) <= f + g.D + D^T Diag(L_i) D / 2 and
 * s^T L_i s <= L_inf,i for signs s, a step lowers f by at least sum_i (c / L_inf,i) (||g_i||_1 - c / 2), so
 * (1/K) sum_k sum_i ||g_i^k||_1 / L_inf,i <= Delta^0 / (K c) + c S / 2, S = sum_i 1 / L_inf,i, least at
 * c = sqrt(2 Delta^0 / (K S)): sqrt(2 Delta^0 S / K) [derived]. */
static int create_blockwise_sign(DcRound* r, const DcMethodSetup* m) {
  SignState* st = (SignState*)r->state;
  double c = m->settings->sign_step;
  if (c > 0) {
    st->step = c;
    st->source = "sign-step / L_inf,i per layer (block-wise sign GD)";
  } else {
    if (!(m->f0_gap > 0)) return dc_fail(DETCGD_ERR_NUMERIC, "sign-gd: f(x0) - f^inf = %g; the theory step needs it "
                                         "positive (set sign-step, or f-inf below f(x0))", m->f0_gap);
    c = 0.0;
    st->source = "c / L_inf,i per layer, c = sqrt(2 (f(x0) - f^inf) / (K sum_i 1 / L_inf,i)) (block-wise sign GD; derived)";
  }
  return per_layer_d(r, m, c);
}

static int create(DcRound* r, const DcMethodSetup* m, int scaled) {
  SignState* st = (SignState*)r->state;
  const DcBackendOps* o = r->be->ops;
  int rc;
  if ((rc = o->vec_create(r->be, r->dim, &st->sgn)) || (rc = o->vec_create(r->be, 1, &st->norm1))) return rc;
  st->linf = m->geometry->linf_hi;
  st->linf_exact = m->geometry->linf_exact;
  st->l1_bound = NAN;
  if (scaled && m->settings->sign_per_layer) return create_blockwise(r, m);
  if (m->settings->sign_per_layer && m->settings->method == DETCGD_METHOD_SIGN) return create_blockwise_sign(r, m);
  if (scaled) {
    st->step = 1.0 / st->linf;
    st->source = "1 / L_inf (l-inf steepest descent; derived)";
  } else if (m->settings->sign_step > 0) {
    st->step = m->settings->sign_step;
    st->source = "given (sign-step)";
  } else {
    if (!(m->f0_gap > 0)) return dc_fail(DETCGD_ERR_NUMERIC, "sign-gd: f(x0) - f^inf = %g; the theory step needs it "
                                         "positive (set sign-step, or f-inf below f(x0))", m->f0_gap);
    st->step = sqrt(2.0 * m->f0_gap / (st->linf * (double)m->settings->term.max_iter));
    st->source = "sqrt(2 (f(x0) - f^inf) / (L_inf K)) (derived)";
    st->l1_bound = sqrt(2.0 * st->linf * m->f0_gap / (double)m->settings->term.max_iter);
  }
  return DETCGD_OK;
}

static int create_sign(DcRound* r, const DcMethodSetup* m) { return create(r, m, 0); }
static int create_signum(DcRound* r, const DcMethodSetup* m) {
  SignState* st = (SignState*)r->state;
  int rc = create(r, m, 0);
  if (rc == DETCGD_OK) rc = r->be->ops->vec_create(r->be, r->dim, &st->mom);
  st->beta = m->settings->sign_momentum;
  if (!(m->settings->sign_step > 0)) { /* sign-gd's bound is for full gradients without momentum */
    st->source = "sign-gd's sqrt(2 (f(x0) - f^inf) / (L_inf K)) (derived for sign GD; no theory for Signum here)";
    st->l1_bound = NAN;
  }
  return rc;
}
static int create_scaled(DcRound* r, const DcMethodSetup* m) { return create(r, m, 1); }

static void destroy(DcRound* r) {
  SignState* st = (SignState*)r->state;
  r->be->ops->vec_destroy(r->be, &st->sgn);
  r->be->ops->vec_destroy(r->be, &st->norm1);
  r->be->ops->vec_destroy(r->be, &st->y);
  r->be->ops->vec_destroy(r->be, &st->mom);
  r->be->ops->sketch_destroy(r->be, &st->S);
  r->be->ops->blocks_destroy(r->be, &st->D);
  dc_sketch_spec_free(&st->spec);
}

static int sign_of_gradient(DcRound* r) {
  SignState* st = (SignState*)r->state;
  DcScalar none = {0.0, NULL, 0, 1.0};
  return r->be->ops->vec_map(r->be, DC_MAP_SIGN, r->at.G, none, st->sgn);
}

/* m = beta m + (1 - beta) g (m^{-1} = 0: created zero; no choice by iteration, which a replay records once), then sign(m) */
static int sign_of_momentum(DcRound* r) {
  SignState* st = (SignState*)r->state;
  DcScalar a = {1.0 - st->beta, NULL, 0, 1.0}, b = {st->beta, NULL, 0, 1.0}, none = {0.0, NULL, 0, 1.0};
  int rc = r->be->ops->axpby(r->be, a, r->at.G, b, st->mom);
  return rc == DETCGD_OK ? r->be->ops->vec_map(r->be, DC_MAP_SIGN, st->mom, none, st->sgn) : rc;
}

static int signum_state(const DcRound* r, DcStateVec* out, int cap) {
  const SignState* st = (const SignState*)r->state;
  if (cap < 1) return 0;
  out[0].name = "signum_m";
  out[0].n = r->dim;
  out[0].v = st->mom;
  return 1;
}

/* sign(g) and ||g||_1 = sign(g) . g; block-wise y_i = (||g_i||_1 / d_i) sign(g_i) */
static int sign_and_norm(DcRound* r) {
  SignState* st = (SignState*)r->state;
  int rc;
  if (st->S) return dc_round_dense_messages(r, st->S, r->at.G, NULL, 0, 1, 0, st->y);
  rc = sign_of_gradient(r);
  return rc == DETCGD_OK ? r->be->ops->dot(r->be, st->sgn, r->at.G, st->norm1, 0) : rc;
}

static int in_place(DcRound* r) { (void)r; return DETCGD_OK; }

static int sign_step(DcRound* r) { /* x - eta sign(g), or block-wise x - D sign(g) */
  SignState* st = (SignState*)r->state;
  if (st->D) return r->be->ops->bd_apply(r->be, st->D, DC_SEL_FULL, NULL, st->sgn, -1.0, r->x);
  return r->be->ops->axpy(r->be, -st->step, st->sgn, r->x);
}

static int scaled_step(DcRound* r) { /* x = x - (||g||_1 / L_inf) sign(g), ||g||_1 read where it is */
  SignState* st = (SignState*)r->state;
  DcScalar a = {-st->step, st->norm1, 0, 1.0}, one = {1.0, NULL, 0, 1.0};
  if (st->D) return r->be->ops->bd_apply(r->be, st->D, DC_SEL_FULL, NULL, st->y, -1.0, r->x); /* x - D y */
  return r->be->ops->axpby(r->be, a, st->sgn, one, r->x);
}

static int64_t sign_bits(const DcLayout* lay, const DetcgdSettings* s) { (void)s; return lay->dim; }
static int64_t scaled_bits(const DcLayout* lay, const DetcgdSettings* s) { /* d signs and one scale (per layer) */
  return lay->dim + (int64_t)(s->sign_per_layer ? lay->nblocks : 1) * s->comm.value_bits;
}

static int facts(const DcRound* r, DcMethodFact* out, int cap) {
  const SignState* st = (const SignState*)r->state;
  DcMethodFact f[5] = {{"step", st->step, NULL}, {"step_source", 0, st->source}, {"L_inf", st->linf, NULL},
                       {"L_inf_is", 0, st->linf_exact ? "exact" : "the certified upper bound"},
                       {st->D && !st->S ? "mean_weighted_l1_bound" : "mean_grad_l1_bound", st->l1_bound, NULL}};
  return dc_method_facts_copy(f, isnan(st->l1_bound) ? 4 : 5, out, cap);
}

static int theory_step(const DetcgdSettings* s) { return !(s->sign_step > 0); } /* eta uses K */

const DcMethodType dc_method_sign = {.name = "sign-gd", .id = DETCGD_METHOD_SIGN, .stochastic = 1,
                                     .step_flags = DC_STEP_NO_SKETCH | DC_STEP_NO_MATRIX, .client = sign_of_gradient,
                                     .absorb = in_place, .server = sign_step, .options = dc_sign_options,
                                     .state_size = sizeof(SignState), .create = create_sign, .destroy = destroy,
                                     .message_bits = sign_bits, .facts = facts,
                                     .uses_horizon = theory_step};
const DcMethodType dc_method_scaled_sign = {.name = "scaled-sign-gd", .id = DETCGD_METHOD_SCALED_SIGN,
                                            .step_flags = DC_STEP_NO_SKETCH | DC_STEP_NO_MATRIX,
                                            .client = sign_and_norm, .absorb = in_place, .server = scaled_step,
                                            .state_size = sizeof(SignState), .create = create_scaled,
                                            .destroy = destroy, .message_bits = scaled_bits, .facts = facts,
                                            .options = dc_sign_options};
const DcMethodType dc_method_signum = {.name = "signum", .id = DETCGD_METHOD_SIGNUM, .stochastic = 1,
                                       .step_flags = DC_STEP_NO_SKETCH | DC_STEP_NO_MATRIX, .client = sign_of_momentum,
                                       .absorb = in_place, .server = sign_step, .options = dc_sign_options,
                                       .state_size = sizeof(SignState), .create = create_signum, .destroy = destroy,
                                       .message_bits = sign_bits, .facts = facts, .state = signum_state,
                                       .uses_horizon = theory_step};
