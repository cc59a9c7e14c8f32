/*
 * round.c -- one round over the simulated clients (round.h): per chunk of clients c0 .. c0 + nc - 1,
 *
 *   G = their gradients, F = their losses          clients_grad
 *   g (+)= (1/n) sum_rows G,  m[fslot] (+)= sum F    rows_sum, in client order
 *   draws, messages of the ones that send            sketch_sample_rows, sketch_compress_rows
 *   agg (+)= sum_rows M                              sketch_accumulate_rows, in client order
 *
 * the first chunk writing the sums, the later ones adding to them.
 */
#include <string.h>
#include "round.h"

int dc_round_open(DcRound* r, DcBackend* be, int n, const DcHostProblem* hosts, const DcSketchSpec* spec) {
  const DcBackendOps* o = be->ops;
  int64_t dim = spec->layout->dim;
  int st;
  memset(r, 0, sizeof *r);
  r->be = be;
  r->n = n;
  r->dim = dim;
  if ((st = o->clients_create(be, n, hosts, spec, &r->C)) != DETCGD_OK) return st;
  r->chunk = o->clients_chunk(be, r->C);
  if ((st = o->sketch_create(be, spec, r->chunk, &r->S)) || (st = o->vec_create(be, r->chunk * dim, &r->G)) ||
      (st = o->vec_create(be, r->chunk, &r->F)) ||
      (st = o->vec_create(be, r->chunk * o->message_row_len(be, spec), &r->M)))
    return st;
  return DETCGD_OK;
}

void dc_round_close(DcRound* r) {
  const DcBackendOps* o;
  if (!r->be) return;
  o = r->be->ops;
  o->clients_destroy(r->be, &r->C);
  o->sketch_destroy(r->be, &r->S);
  o->vec_destroy(r->be, &r->G);
  o->vec_destroy(r->be, &r->F);
  o->vec_destroy(r->be, &r->M);
  r->be = NULL;
}

int dc_round_run(DcRound* r, const DcVec* x, DcVec* g, DcVec* m, int fslot, int nsend, const DcBlocks* B, uint64_t seed,
                 uint32_t iter, int round32, DcVec* agg) {
  const DcBackendOps* o = r->be->ops;
  DcBackend* be = r->be;
  int c0, st = DETCGD_OK;
  for (c0 = 0; c0 < r->n && st == DETCGD_OK; c0 += r->chunk) {
    int nc = r->n - c0 < r->chunk ? r->n - c0 : r->chunk, send = nsend - c0 < nc ? nsend - c0 : nc, fresh = c0 == 0;
    st = o->clients_grad(be, r->C, c0, nc, x, r->G, fslot >= 0 ? r->F : NULL);
    if (st == DETCGD_OK) st = o->rows_sum(be, r->G, nc, r->dim, 1.0 / r->n, fresh, g, 0);
    if (st == DETCGD_OK && fslot >= 0) st = o->rows_sum(be, r->F, nc, 1, 1.0, fresh, m, fslot);
    if (st != DETCGD_OK || send <= 0) continue;
    st = o->sketch_sample_rows(be, r->S, seed, iter, (uint32_t)c0, send);
    if (st == DETCGD_OK) st = o->sketch_compress_rows(be, B, r->S, r->G, NULL, send, round32, r->M);
    if (st == DETCGD_OK) st = o->sketch_accumulate_rows(be, r->S, r->M, send, 1.0, fresh, 0, agg);
  }
  return st;
}
