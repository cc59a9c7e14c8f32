/*
 * round.h -- one round over the clients this rank simulates, a chunk of clients at a time, composed from
 * method-free backend ops (clients_grad, rows_sum, sketch_*_rows): the simulated mode's server and the MPI
 * server's own clients.
 */
#ifndef DETCGD_ROUND_H
#define DETCGD_ROUND_H

#include "backend.h"

typedef struct DcRound {
  DcBackend* be;    /* borrowed */
  DcClients* C;     /* owns: the clients' data on the backend */
  DcSketch* S;      /* owns: a chunk's draws, row r for client c0 + r (row 0: the single-draw ops' draw) */
  DcVec *G, *F, *M; /* owns: a chunk's gradients (dim each), losses, messages (message_row_len each) */
  int64_t dim;
  int n, chunk;
} DcRound;

/* The round over n clients (hosts[0..n)) with sketches of spec. */
int dc_round_open(DcRound* r, DcBackend* be, int n, const DcHostProblem* hosts, const DcSketchSpec* spec);
void dc_round_close(DcRound* r);

/* Clients c = 0..n-1 in order, a chunk at a time:
 *   g = (1/n) sum_c grad f_c(x);   m[fslot] = sum_c f_c(x) when fslot >= 0;
 *   agg = sum_{c < nsend} m_c,  m_c = S_c B grad f_c(x) (B NULL: S_c grad f_c(x)), drawn with (seed, iter, c),
 *   float-rounded when round32 and counted in r->S's tally; agg and B are not read when nsend = 0.
 * The bits of problem_grad, axpy, sketch_sample, sketch_compress and sketch_accumulate run client after client. */
int dc_round_run(DcRound* r, const DcVec* x, DcVec* g, DcVec* m, int fslot, int nsend, const DcBlocks* B, uint64_t seed,
                 uint32_t iter, int round32, DcVec* agg);

#endif /* DETCGD_ROUND_H */
