/*
 * ef14.c -- classic error feedback (Seide et al. 2014; Stich, Karimireddy et al.), EF21's baseline (METHODS.md,
 * "Error feedback"), on a single node and over n clients (simulated or MPI: a client rank keeps its clients' e_c,
 * which the server never sees, so that over MPI no checkpoint holds them).  Round k, each client c:
 *   v_c = C(e_c + gamma grad f_c(x^k)),   e_c <- e_c + gamma grad f_c(x^k) - v_c
 * and the server x^{k+1} = x^k - (1/n) sum_c v_c.  The state keeps -e_c, so that the values op's shift gives
 * C(gamma g_c - (-e_c)) in one pass.  No stepsize theory here: gamma = 1/L (GD's step) unless ef-step is given,
 * labelled so.
 */
#include <math.h>
#include "gram.h"
#include "method.h"
#include "options.h"
#include "problem.h"

typedef struct Ef14State {
  DcVec* neg_e;   /* n rows: -e_c */
  DcVec* T;       /* a chunk's gamma g_c */
  DcVec* M;       /* a chunk's messages v_c */
  DcVec* sum;     /* sum_c v_c of the round */
  double gamma, L;
  const char* source;
} Ef14State;

static int create(DcRound* r, const DcMethodSetup* m) {
  const DcBackendOps* o = r->be->ops;
  Ef14State* st = (Ef14State*)r->state;
  const DetcgdProblem* p = m->problem;
  int rc;
  if ((rc = o->vec_create(r->be, r->n * r->dim, &st->neg_e)) || (rc = o->vec_create(r->be, r->chunk * r->dim, &st->T)) ||
      (rc = o->vec_create(r->be, r->chunk * r->dim, &st->M)) || (rc = o->vec_create(r->be, r->dim, &st->sum)))
    return rc;
  if (p->spec.kind != DETCGD_PROBLEM_LOGREG_NC) st->L = p->lmax;
  else if ((rc = dc_gram_lambda_max(p->nclients > 0 ? p->client_host : &p->host, p->nclients > 0 ? p->nclients : 1,
                                    &p->layout, NULL, DC_RTOL_CONSTANT, &st->L)))
    return rc;
  st->gamma = m->settings->ef_step > 0 ? m->settings->ef_step : m->settings->ef_step_scale / st->L;
  st->source = m->settings->ef_step > 0 ? "given (ef-step)"
               : m->settings->ef_step_scale == 1.0 ? "1 / L (no theory: GD's step)" : "ef-step-scale / L (no theory)";
  return DETCGD_OK;
}

static void destroy(DcRound* r) {
  const DcBackendOps* o = r->be->ops;
  Ef14State* st = (Ef14State*)r->state;
  o->vec_destroy(r->be, &st->neg_e);
  o->vec_destroy(r->be, &st->T);
  o->vec_destroy(r->be, &st->M);
  o->vec_destroy(r->be, &st->sum);
}

/* The chunk's messages: st->M, or (one client of an MPI rank, or one received by the server) the round's M. */
static DcVec* messages(DcRound* r) {
  Ef14State* st = (Ef14State*)r->state;
  return r->at.single ? r->at.M : st->M;
}

/* T = gamma G, v = C(T - (-e)), -e <- -e - T + v */
static int compress_with_error(DcRound* r) {
  const DcBackendOps* o = r->be->ops;
  Ef14State* st = (Ef14State*)r->state;
  const DcRoundChunk* a = &r->at;
  int64_t off = (int64_t)a->c0 * r->dim, n = (int64_t)a->nc * r->dim;
  DcScalar gamma = {st->gamma, NULL, 0, 1.0}, zero = {0.0, NULL, 0, 1.0};
  DcVec* M = messages(r);
  int rc = o->axpby(r->be, gamma, a->G, zero, st->T);
  if (rc == DETCGD_OK)
    rc = dc_round_dense_messages(r, r->S, st->T, st->neg_e, off, a->nc, a->c0, M);
  if (rc == DETCGD_OK) rc = o->rows_sum(r->be, st->T, 1, n, -1.0, 0, st->neg_e, off);
  return rc == DETCGD_OK ? o->rows_sum(r->be, M, 1, n, 1.0, 0, st->neg_e, off) : rc;
}

/* sum (+)= the chunk's messages (or a received one), in client order */
static int sum_messages(DcRound* r) {
  return r->be->ops->rows_sum(r->be, messages(r), r->at.nc, r->dim, 1.0,
                              r->at.fresh || r->delivery == DC_DELIVER_IN_PLACE, ((Ef14State*)r->state)->sum, 0);
}

static int step(DcRound* r) {
  Ef14State* st = (Ef14State*)r->state;
  return r->be->ops->axpy(r->be, -1.0 / r->n, st->sum, r->x);
}

static int facts(const DcRound* r, DcMethodFact* out, int cap) {
  const Ef14State* st = (const Ef14State*)r->state;
  DcMethodFact f[3] = {{"step", st->gamma, NULL}, {"step_source", 0, st->source}, {"L", st->L, NULL}};
  return dc_method_facts_copy(f, 3, out, cap);
}

static int state(const DcRound* r, DcStateVec* out, int cap) {
  const Ef14State* st = (const Ef14State*)r->state;
  if (cap < 1) return 0;
  out[0].name = "ef14_minus_e";
  out[0].n = r->n * r->dim;
  out[0].v = st->neg_e;
  return 1;
}

const DcMethodType dc_method_ef14 = {.name = "ef14", .id = DETCGD_METHOD_EF14, .stochastic = 1, .needs = DC_NEEDS_CONTRACTIVE,
                                     .step_flags = DC_STEP_NO_MATRIX | DC_STEP_VALUES,
                                     .algorithm = "EF14 (n clients)", .client_state = 1,
                                     .client = compress_with_error, .absorb = sum_messages, .server = step,
                                     .options = dc_error_feedback_options, .state_size = sizeof(Ef14State), .create = create,
                                     .destroy = destroy, .facts = facts, .state = state};
