/*
 * round.c -- one round of any method (round.h).  Summed, per chunk of clients c0 .. c0 + nc - 1:
 *
 *   G = their gradients, F = their losses          clients_grad (where the metrics need them: with minibatches
 *                                                  every round only for G_{K,D} over every iterate)
 *   G = their minibatch gradients (batch > 0)       clients_grad_sampled
 *   g (+)= (1/n) sum_rows G,  m[fslot] (+)= sum F    rows_sum, in client order
 *   their messages                                 the method's client op (sample_rows, compress_rows)
 *   agg (+)= their messages                        the method's absorb op (accumulate_rows, in client order)
 *
 * the first chunk writing the sums, the later ones adding to them; then the method's server op.
 */
#include <stdlib.h>
#include <string.h>
#include "compressor.h"
#include "method.h"
#include "round.h"

static int open_common(DcRound* r, DcBackend* be, const DcMethodType* m, DcPhases* ph, int delivery, int n,
                       const DcSketchSpec* spec) {
  memset(r, 0, sizeof *r);
  r->be = be;
  r->method = m;
  r->phases = ph;
  r->delivery = delivery;
  r->n = n;
  r->chunk = 1;
  r->full_every = 1;
  r->dim = spec->layout->dim;
  r->dense_sketch = (m->step_flags & DC_STEP_VALUES) && spec->kind != DC_SK_IDENTITY &&
                    !(dc_compressor_type(spec->kind)->flags & DC_CF_VALUES);
  if (m->state_size && !(r->state = dc_calloc(1, m->state_size))) return DETCGD_ERR_ALLOC;
  return DETCGD_OK;
}

int dc_round_open_in_place(DcRound* r, DcBackend* be, const DcMethodType* m, DcPhases* ph, const DcHostProblem* host,
                           const DcSketchSpec* spec, int sparse) {
  const DcBackendOps* o = be->ops;
  int st = open_common(r, be, m, ph, DC_DELIVER_IN_PLACE, 1, spec);
  if (st || (st = o->problem_create(be, host, &r->P))) return st;
  if ((spec->kind != DC_SK_IDENTITY || (m->step_flags & DC_STEP_VALUES)) && (st = o->sketch_create(be, spec, 1, &r->S)))
    return st;
  if (r->dense_sketch && (st = o->vec_create(be, o->message_row_len(be, spec), &r->M))) return st;
  r->sparse = sparse && r->S;
  if (!r->sparse) return DETCGD_OK;
  if ((st = o->vec_create(be, r->dim, &r->q))) return st;
  return o->vec_create(be, spec->cap_off[spec->layout->nblocks], &r->vals);
}

int dc_round_open_clients(DcRound* r, DcBackend* be, const DcMethodType* m, DcPhases* ph, int n,
                          const DcHostProblem* hosts, const DcSketchSpec* spec) {
  const DcBackendOps* o = be->ops;
  int st = open_common(r, be, m, ph, DC_DELIVER_SUMMED, n, spec);
  if (st || (st = o->clients_create(be, n, hosts, spec, &r->C))) return st;
  r->chunk = o->clients_chunk(be, r->C);
  if ((st = o->sketch_create(be, spec, r->chunk, &r->S)) || (st = o->vec_create(be, r->chunk * r->dim, &r->G)) ||
      (st = o->vec_create(be, r->chunk, &r->F)) ||
      (st = o->vec_create(be, r->chunk * o->message_row_len(be, spec), &r->M)))
    return st;
  return DETCGD_OK;
}

void dc_round_bind(DcRound* r, const DcBlocks* D, DcVec* x, DcVec* g, DcVec* agg, DcVec* metrics, uint64_t seed,
                   int value_bits) {
  r->D = D;
  r->x = x;
  r->g = g;
  r->agg = agg;
  r->metrics = metrics;
  r->seed = seed;
  r->round32 = value_bits == 32;
}

void dc_round_close(DcRound* r) {
  const DcBackendOps* o;
  if (!r->be) return;
  o = r->be->ops;
  if (r->state && r->method->destroy) r->method->destroy(r);
  free(r->state);
  r->state = NULL;
  o->problem_destroy(r->be, &r->P);
  o->clients_destroy(r->be, &r->C);
  o->sketch_destroy(r->be, &r->S);
  o->vec_destroy(r->be, &r->q);
  o->vec_destroy(r->be, &r->vals);
  o->vec_destroy(r->be, &r->G);
  o->vec_destroy(r->be, &r->F);
  o->vec_destroy(r->be, &r->M);
  o->vec_destroy(r->be, &r->gs);
  o->vec_destroy(r->be, &r->Hv);
  r->be = NULL;
}

int dc_round_set_oracle(DcRound* r, int batch, int full_every) {
  r->batch = batch;
  r->full_every = full_every || !batch;
  if (!batch || r->delivery != DC_DELIVER_IN_PLACE || r->gs) return DETCGD_OK;
  return r->be->ops->vec_create(r->be, r->dim, &r->gs);
}

/* ==== Gradients ==== */

/* The gradients (and losses) of clients c0 .. c0 + nc - 1 into G (F), added into g (m[fslot]). */
static int chunk_gradients(DcRound* r, int c0, int nc, int fslot) {
  const DcBackendOps* o = r->be->ops;
  int fresh = c0 == 0;
  int st = o->clients_grad(r->be, r->C, c0, nc, r->x, r->G, fslot >= 0 ? r->F : NULL);
  if (st == DETCGD_OK) st = o->rows_sum(r->be, r->G, nc, r->dim, 1.0 / r->n, fresh, r->g, 0);
  if (st == DETCGD_OK && fslot >= 0) st = o->rows_sum(r->be, r->F, nc, 1, 1.0, fresh, r->metrics, fslot);
  return st;
}

int dc_round_gradient(DcRound* r, int fslot) {
  int c0, st = DETCGD_OK;
  if (r->delivery == DC_DELIVER_IN_PLACE) return r->be->ops->problem_grad(r->be, r->P, r->x, r->g, r->metrics, fslot);
  for (c0 = 0; c0 < r->n && st == DETCGD_OK; c0 += r->chunk)
    st = chunk_gradients(r, c0, r->n - c0 < r->chunk ? r->n - c0 : r->chunk, fslot);
  return st;
}

/* ==== A round ==== */

/* The chunk the method's ops act on next. */
static void set_chunk(DcRound* r, int c0, int nc, int fresh, int single, const DcVec* G, DcVec* M) {
  r->at.c0 = c0;
  r->at.nc = nc;
  r->at.fresh = fresh;
  r->at.single = single;
  r->at.G = G;
  r->at.M = M;
}

/* The method's client and absorb ops on clients c0 .. c0 + nc - 1. */
static int chunk_messages(DcRound* r, int c0, int nc, int single, const DcVec* G, DcVec* M, int absorb) {
  int st;
  set_chunk(r, c0, nc, c0 == 0, single, G, M);
  dc_phase_begin(r->phases, PH_SKETCH);
  st = r->method->client(r);
  if (st == DETCGD_OK && absorb) st = r->method->absorb(r);
  return st == DETCGD_OK ? dc_phase_end(r->phases, PH_SKETCH) : st;
}

int dc_round_run(DcRound* r, uint32_t iter, int fslot, int nsend) {
  const DcBackendOps* o = r->be->ops;
  int c0, st = DETCGD_OK, full = r->full_every || fslot >= 0;
  r->iter = iter;
  if (r->delivery == DC_DELIVER_IN_PLACE) {
    dc_phase_begin(r->phases, PH_GRAD);
    if (r->grad_given) r->grad_given = 0;
    else if (r->sparse) { if (fslot >= 0) st = o->quad_residual(r->be, r->P, r->x, r->q, r->g, r->metrics, fslot); }
    else if (full) st = o->problem_grad(r->be, r->P, r->x, r->g, r->metrics, fslot);
    if (st == DETCGD_OK && r->batch) st = o->problem_grad_sampled(r->be, r->P, r->x, r->seed, iter, 0, r->batch, r->gs);
    return st == DETCGD_OK ? dc_phase_end(r->phases, PH_GRAD) : st;
  }
  for (c0 = 0; c0 < r->n && st == DETCGD_OK; c0 += r->chunk) {
    int nc = r->n - c0 < r->chunk ? r->n - c0 : r->chunk, send = nsend - c0 < nc ? nsend - c0 : nc;
    dc_phase_begin(r->phases, PH_GRAD);
    if (full) st = chunk_gradients(r, c0, nc, fslot);
    if (st == DETCGD_OK && r->batch && send > 0)
      st = o->clients_grad_sampled(r->be, r->C, c0, send, r->x, r->seed, iter, r->batch, r->G);
    if (st == DETCGD_OK) st = dc_phase_end(r->phases, PH_GRAD);
    if (st == DETCGD_OK && send > 0) st = chunk_messages(r, c0, send, 0, r->G, r->M, 1);
  }
  return st;
}

int dc_round_shares_gradient(const DcRound* r) {
  return r->delivery == DC_DELIVER_IN_PLACE && !r->sparse && !r->batch && r->be->ops->problem_grad_many;
}

#define DC_TOGETHER_CALL 64 /* rounds one problem_grad_many call takes (its passes hold at most 16 runs) */

int dc_round_gradients_together(DcRound* const* rounds, int n, const int* fslot) {
  DcBackend* be[DC_TOGETHER_CALL];
  const DcProbData* P[DC_TOGETHER_CALL];
  const DcVec* x[DC_TOGETHER_CALL];
  DcVec *g[DC_TOGETHER_CALL], *m[DC_TOGETHER_CALL];
  int i0, i, k, st = DETCGD_OK;
  for (i0 = 0; i0 < n && st == DETCGD_OK; i0 += k) {
    k = n - i0 < DC_TOGETHER_CALL ? n - i0 : DC_TOGETHER_CALL;
    for (i = 0; i < k; ++i) {
      be[i] = rounds[i0 + i]->be;
      P[i] = rounds[i0 + i]->P;
      x[i] = rounds[i0 + i]->x;
      g[i] = rounds[i0 + i]->g;
      m[i] = rounds[i0 + i]->metrics;
    }
    st = be[0]->ops->problem_grad_many(be, P, x, g, m, fslot + i0, k);
    for (i = 0; i < k && st == DETCGD_OK; ++i) rounds[i0 + i]->grad_given = 1;
  }
  return st;
}

int dc_round_serve(DcRound* r) {
  int st = DETCGD_OK;
  if (r->delivery == DC_DELIVER_IN_PLACE) st = chunk_messages(r, 0, 1, 0, r->batch ? r->gs : r->g, NULL, 1);
  if (st != DETCGD_OK) return st;
  dc_phase_begin(r->phases, PH_APPLY);
  st = r->method->server(r);
  return st == DETCGD_OK ? dc_phase_end(r->phases, PH_APPLY) : st;
}

int dc_round_all_gradients(DcRound* r, uint32_t iter, DcVec* V) {
  const DcBackendOps* o = r->be->ops;
  int c0, st = DETCGD_OK;
  if (r->delivery == DC_DELIVER_IN_PLACE)
    return r->batch ? o->problem_grad_sampled(r->be, r->P, r->x, r->seed, iter, 0, r->batch, V)
                    : o->problem_grad(r->be, r->P, r->x, V, r->metrics, -1);
  for (c0 = 0; c0 < r->n && st == DETCGD_OK; c0 += r->chunk) {
    int nc = r->n - c0 < r->chunk ? r->n - c0 : r->chunk;
    st = r->batch ? o->clients_grad_sampled(r->be, r->C, c0, nc, r->x, r->seed, iter, r->batch, r->G)
                  : o->clients_grad(r->be, r->C, c0, nc, r->x, r->G, NULL);
    if (st == DETCGD_OK) st = o->rows_sum(r->be, r->G, 1, (int64_t)nc * r->dim, 1.0, 1, V, (int64_t)c0 * r->dim);
  }
  return st;
}

int dc_round_gradient_at(DcRound* r, int c, const DcVec* w, int full, DcVec* out) {
  const DcBackendOps* o = r->be->ops;
  if (r->delivery == DC_DELIVER_IN_PLACE)
    return full ? o->problem_grad(r->be, r->P, w, out, r->metrics, -1)
                : o->problem_grad_sampled(r->be, r->P, w, r->seed, r->iter, 0, r->batch, out);
  return full ? o->clients_grad(r->be, r->C, c, 1, w, out, NULL)
              : o->clients_grad_sampled(r->be, r->C, c, 1, w, r->seed, r->iter, r->batch, out);
}

int dc_round_client_gradient(DcRound* r, const DcProbData* P, int c, DcVec* g) {
  const DcBackendOps* o = r->be->ops;
  if (r->batch) return o->problem_grad_sampled(r->be, P, r->x, r->seed, r->iter, (uint32_t)c, r->batch, g);
  return o->problem_grad(r->be, P, r->x, g, r->metrics, -1);
}

int dc_round_client_message(DcRound* r, int c, const DcVec* G, DcVec* M) { return chunk_messages(r, c, 1, 1, G, M, 0); }

int dc_round_absorb_received(DcRound* r, int c, DcVec* M) {
  set_chunk(r, c, 1, 0, 1, NULL, M);
  return r->method->absorb(r);
}

/* ==== The methods' building blocks ==== */

int dc_round_compress(DcRound* r, const DcBlocks* B) {
  const DcBackendOps* o = r->be->ops;
  const DcRoundChunk* a = &r->at;
  int st;
  r->B = B;
  if (!r->S) return DETCGD_OK; /* in place with the identity: m = B g */
  if (!a->M) return o->sketch_sample(r->be, r->S, r->seed, r->iter, 0);
  if (a->single) {
    st = o->sketch_sample(r->be, r->S, r->seed, r->iter, (uint32_t)a->c0);
    return st == DETCGD_OK ? o->sketch_compress(r->be, B, r->S, a->G, r->round32, a->M) : st;
  }
  st = o->sketch_sample_rows(r->be, r->S, r->seed, r->iter, (uint32_t)a->c0, a->nc);
  return st == DETCGD_OK ? o->sketch_compress_rows(r->be, B, r->S, a->G, NULL, a->nc, r->round32, a->M) : st;
}

int dc_round_dense_messages(DcRound* r, DcSketch* S, const DcVec* X, const DcVec* H, int64_t hoff, int nc, int c0,
                            DcVec* Y) {
  const DcBackendOps* o = r->be->ops;
  int st;
  if (!r->dense_sketch || S != r->S)
    return o->compress_values_rows(r->be, S, X, H, hoff, nc, r->seed, r->iter, (uint32_t)c0, r->round32, Y);
  st = o->sketch_sample_rows(r->be, S, r->seed, r->iter, (uint32_t)c0, nc);
  if (st == DETCGD_OK && H) st = o->vec_view(r->be, H, hoff, (int64_t)nc * r->dim, &r->Hv);
  if (st == DETCGD_OK) st = o->sketch_compress_rows(r->be, NULL, S, X, H ? r->Hv : NULL, nc, r->round32, r->M);
  return st == DETCGD_OK ? o->sketch_accumulate_rows(r->be, S, r->M, nc, 1.0, 1, 1, Y) : st;
}

int dc_round_absorb(DcRound* r) {
  const DcBackendOps* o = r->be->ops;
  const DcRoundChunk* a = &r->at;
  if (!a->M) return DETCGD_OK;
  if (a->single) return o->sketch_accumulate(r->be, r->S, a->M, 1.0, r->agg);
  return o->sketch_accumulate_rows(r->be, r->S, a->M, a->nc, 1.0, a->fresh, 0, r->agg);
}

/* In place, sparse: v = (S D g)_kept, x_kept += alpha v (the bits of bd_apply with DC_SEL_ROWS), then
 * g = grad f(x) from q += alpha A[:, kept] v: the gradient reads A's kept columns only (phase: apply, then grad). */
static int sparse_step(DcRound* r, double alpha) {
  const DcBackendOps* o = r->be->ops;
  int st = o->sketch_compress(r->be, r->D, r->S, r->at.G, 0, r->vals);
  if (st == DETCGD_OK) st = o->sketch_accumulate(r->be, r->S, r->vals, alpha, r->x);
  if (st == DETCGD_OK) st = dc_phase_end(r->phases, PH_APPLY);
  if (st != DETCGD_OK) return st;
  dc_phase_begin(r->phases, PH_GRAD);
  st = o->quad_step(r->be, r->P, r->S, r->vals, alpha, r->x, r->q, r->g);
  if (st == DETCGD_OK) st = dc_phase_end(r->phases, PH_GRAD);
  dc_phase_begin(r->phases, PH_APPLY); /* closed by dc_round_serve */
  return st;
}

int dc_round_step(DcRound* r, const DcBlocks* P, double alpha) {
  const DcBackendOps* o = r->be->ops;
  if (r->delivery == DC_DELIVER_SUMMED) {
    double a = alpha / r->n;
    return P ? o->bd_apply(r->be, P, DC_SEL_FULL, NULL, r->agg, a, r->x) : o->axpy(r->be, a, r->agg, r->x);
  }
  if (!P == !r->B) /* P S B g with both matrices, or S g with neither, is not one product: no method asks for it */
    return dc_fail(DETCGD_ERR_INTERNAL, "round: an in-place step P S B g needs exactly one of P and B");
  if (!r->S) return o->bd_apply(r->be, P ? P : r->B, DC_SEL_FULL, NULL, r->at.G, alpha, r->x);
  if (r->sparse && r->B == r->D) return sparse_step(r, alpha);
  return o->bd_apply(r->be, P ? P : r->B, P ? DC_SEL_COLS : DC_SEL_ROWS, r->S, r->at.G, alpha, r->x);
}
