/*
 * sign_vote.c -- signSGD with majority vote (Bernstein et al.; METHODS.md, "Sign descent"), full gradients, on a
 * single node or over n clients (simulated or MPI):
 *   client c    sends sign(grad f_c(x^k)): d bits (the sign compressor, sign(0) = +1);
 *   server      v = sign(sum_c sign(grad f_c(x^k))), broadcast as d bits; a tie (sum 0, n even) gives v_j = 0:
 *               no step in that coordinate;
 *   everyone    x^{k+1} = x^k - eta v.
 * eta: sign-step, or sign-gd's sqrt(2 (f(x^0) - f^inf) / (L_inf K)) -- derived for one client; the vote has no
 * theory here, and with heterogeneous f_c it can stall where grad f != 0 (experiment sign-vote shows it).
 */
#include <math.h>
#include "method.h"
#include "options.h"

typedef struct SignVoteState {
  DcVec* M;      /* a chunk's sign messages */
  DcVec* votes;  /* sum_c sign(g_c) */
  DcVec* v;      /* sign(votes) */
  double step;
  const char* source;
} SignVoteState;

static int create(DcRound* r, const DcMethodSetup* m) {
  const DcBackendOps* o = r->be->ops;
  SignVoteState* st = (SignVoteState*)r->state;
  int rc;
  if ((rc = o->vec_create(r->be, r->chunk * r->dim, &st->M)) || (rc = o->vec_create(r->be, r->dim, &st->votes)) ||
      (rc = o->vec_create(r->be, r->dim, &st->v)))
    return rc;
  if (m->settings->sign_step > 0) {
    st->step = m->settings->sign_step;
    st->source = "given (sign-step)";
    return DETCGD_OK;
  }
  if (!(m->f0_gap > 0)) return dc_fail(DETCGD_ERR_NUMERIC, "sign-mv: f(x0) - f^inf = %g; the default step needs it "
                                       "positive (set sign-step, or f-inf below f(x0))", m->f0_gap);
  st->step = sqrt(2.0 * m->f0_gap / (m->geometry->linf_hi * (double)m->settings->term.max_iter));
  st->source = "sqrt(2 (f(x0) - f^inf) / (L_inf K)) (sign-gd's, derived for one client; no theory for the vote)";
  return DETCGD_OK;
}

static void destroy(DcRound* r) {
  SignVoteState* st = (SignVoteState*)r->state;
  r->be->ops->vec_destroy(r->be, &st->M);
  r->be->ops->vec_destroy(r->be, &st->votes);
  r->be->ops->vec_destroy(r->be, &st->v);
}

/* The chunk's messages: st->M, or (one client of an MPI rank, one received by the server) the round's M. */
static DcVec* messages(DcRound* r) { return r->at.single ? r->at.M : ((SignVoteState*)r->state)->M; }

static int signs(DcRound* r) {
  const DcRoundChunk* a = &r->at;
  return dc_round_dense_messages(r, r->S, a->G, NULL, 0, a->nc, a->c0, messages(r));
}

static int count_votes(DcRound* r) {
  SignVoteState* st = (SignVoteState*)r->state;
  return r->be->ops->rows_sum(r->be, messages(r), r->at.nc, r->dim, 1.0,
                              r->at.fresh || r->delivery == DC_DELIVER_IN_PLACE, st->votes, 0);
}

static int step_by_majority(DcRound* r) { /* v = sign(votes) (a tie: 0), x -= eta v */
  const DcBackendOps* o = r->be->ops;
  SignVoteState* st = (SignVoteState*)r->state;
  DcScalar none = {0.0, NULL, 0, 1.0};
  int rc = o->vec_map(r->be, DC_MAP_SIGN, st->votes, none, st->v);
  return rc == DETCGD_OK ? o->axpy(r->be, -st->step, st->v, r->x) : rc;
}

static int64_t one_bit_each(int64_t dim) { return dim; }
static int theory_step(const DetcgdSettings* s) { return !(s->sign_step > 0); }

static int facts(const DcRound* r, DcMethodFact* out, int cap) {
  const SignVoteState* st = (const SignVoteState*)r->state;
  DcMethodFact f[3] = {{"step", st->step, NULL}, {"step_source", 0, st->source},
                       {"tie_rule", 0, "sum_c sign(g_c) = 0 (n even) gives 0: no step in that coordinate"}};
  return dc_method_facts_copy(f, 3, out, cap);
}

const DcMethodType dc_method_sign_vote = {
    .name = "sign-mv", .id = DETCGD_METHOD_SIGN_VOTE, .stochastic = 1, .step_flags = DC_STEP_NO_MATRIX | DC_STEP_VALUES,
    .algorithm = "signSGD with majority vote", .client = signs, .absorb = count_votes,
    .server = step_by_majority, .options = dc_sign_options, .state_size = sizeof(SignVoteState),
    .create = create, .destroy = destroy, .facts = facts, .uses_horizon = theory_step,
    .fixed_compressor = &dc_compressor_sign, .downlink_bits = one_bit_each};
