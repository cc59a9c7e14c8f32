/*
 * round.h -- one round of any method: the clients' gradients at x, their messages (the method's client op),
 * folded into the server's aggregate (absorb), then x^{k+1} (server).  A single node is a round with one
 * client holding the whole problem and no downlink; the simulated clients and the MPI server's own ones are
 * evaluated a chunk at a time with method-free backend ops (clients_grad, rows_sum, sketch_*_rows).
 *
 * How the messages reach the server:
 *   in place  one client, the server itself (a single node): m = S B g is never materialised; the server's
 *             step reads it in (S, g), x + alpha P S B g as one bd_apply (kept columns or kept rows of D);
 *   summed    a chunk's messages M (a row per client) are summed in client order into agg, and the server
 *             steps x + (alpha / n) P agg; an MPI client rank makes one client's message at a time
 *             (dc_round_client_message) and rank 0 absorbs the received ones (dc_round_absorb_received).
 */
#ifndef DETCGD_ROUND_H
#define DETCGD_ROUND_H

#include "backend.h"
#include "phase.h"

struct DcMethodType;

typedef enum DcDelivery { DC_DELIVER_IN_PLACE = 0, DC_DELIVER_SUMMED } DcDelivery;

/* The clients a method's ops act on: c0 .. c0 + nc - 1, their draws, gradients and messages.  single: one
 * client's draw (row 0), gradient and values as the single-draw ops lay them out; M is NULL in place. */
typedef struct DcRoundChunk {
  int c0, nc, fresh, single;
  const DcVec* G;
  DcVec* M;
} DcRoundChunk;

typedef struct DcRound {
  DcBackend* be;                     /* borrowed */
  const struct DcMethodType* method; /* borrowed */
  DcPhases* phases;                  /* borrowed */
  int delivery;                      /* DcDelivery */
  int n;                             /* the run's clients: the 1/n of the mean */
  int chunk;                         /* the most clients one chunk holds */
  int64_t dim;
  DcSketch* S;       /* owns: the draws, row r for client c0 + r (in place: NULL for the identity) */
  /* in place */
  DcProbData* P;     /* owns: the whole problem */
  int sparse;        /* sparse steps: the server moves x in the kept coordinates only and g follows from
                      * q += A Delta x (quad-nc, a method stepping on kept rows, a sketch keeping few) */
  DcVec *q, *vals;   /* owns with sparse: q = A (x - c), a step's values */
  /* summed */
  DcClients* C;      /* owns: the clients' data */
  DcVec *G, *F, *M;  /* owns: a chunk's gradients (dim each), losses, messages (message_row_len each) */
  /* the run's state (borrowed) and this round's */
  const DcBlocks* D; /* the matrix stepsize */
  DcVec *x, *g, *agg, *metrics;
  uint64_t seed;
  int round32;       /* messages' values rounded to float (value-bits 32) */
  /* the clients' gradients the messages read (dc_round_set_oracle): full ones, or minibatches of `batch`; then
   * the full gradient g (the trace's metrics) only where full_every (G_{K,D} over every iterate) or a trace
   * round asks for it */
  int batch, full_every;
  DcVec* gs;         /* owns, in place with batch: the minibatch gradient */
  uint32_t iter;
  DcRoundChunk at;   /* the chunk the method's ops act on */
  void* state;       /* owns: the method's state (its state_size bytes; NULL: none) */
  const DcBlocks* B; /* the matrix the messages went through (dc_round_compress) */
  /* a method sending dense rows (DC_STEP_VALUES) with a sketch: S's draws, their messages in M (owns in place;
   * summed, the round's M), then made dense (dc_round_dense_messages); Hv a view of the rows they are taken from */
  int dense_sketch;
  DcVec* Hv;
  int grad_given;    /* in place: the next dc_round_run's g (and f) at x came with other runs' (dc_round_gradients_together) */
} DcRound;

/* A single node: hosts[0] is the whole problem; sparse as above. */
int dc_round_open_in_place(DcRound* r, DcBackend* be, const struct DcMethodType* m, DcPhases* ph,
                           const DcHostProblem* host, const DcSketchSpec* spec, int sparse);
/* n clients (hosts[0..n)), summed. */
int dc_round_open_clients(DcRound* r, DcBackend* be, const struct DcMethodType* m, DcPhases* ph, int n,
                          const DcHostProblem* hosts, const DcSketchSpec* spec);
/* The run's vectors the round reads and writes (agg: summed only). */
void dc_round_bind(DcRound* r, const DcBlocks* D, DcVec* x, DcVec* g, DcVec* agg, DcVec* metrics, uint64_t seed,
                   int value_bits);
void dc_round_close(DcRound* r);
/* Minibatch gradients of `batch` samples per client per round (0: full gradients), the full gradient every round
 * (full_every) or at trace rounds only. */
int dc_round_set_oracle(DcRound* r, int batch, int full_every);

/* g = grad f(x) = (1/n) sum_c grad f_c(x), and m[fslot] = sum_c f_c(x) when fslot >= 0; no message. */
int dc_round_gradient(DcRound* r, int fslot);
/* Iteration iter's round up to the server: g and m[fslot] as dc_round_gradient (in place with sparse
 * steps g is already there, and fslot >= 0 refreshes q); summed, the messages of clients c < nsend drawn
 * with (seed, iter, c) and summed into agg.  In place the draw waits for dc_round_serve: after the trace
 * row, whose tally is the one before iteration iter's draw. */
int dc_round_run(DcRound* r, uint32_t iter, int fslot, int nsend);
/* The server's step: x^{k+1} (in place, the message first). */
int dc_round_serve(DcRound* r);
/* Runs together (detcgd_run_many): may this round's gradient come with other runs' ones?  In place, full gradients,
 * no sparse steps, a backend with problem_grad_many. */
int dc_round_shares_gradient(const DcRound* r);
/* The gradient (and f where fslot[i] >= 0) each round's next dc_round_run computes, computed for all n rounds at
 * once (each with the bits it would get alone); that dc_round_run then uses it.  rounds on one backend kind. */
int dc_round_gradients_together(DcRound* const* rounds, int n, const int* fslot);

/* Every client's gradient at x as the messages of iteration iter read them (full, or minibatches) into the rows of
 * V (n rows of dim): a method's start at x^0 (this process's clients: the simulation and a single node). */
int dc_round_all_gradients(DcRound* r, uint32_t iter, DcVec* V);
/* Client c's gradient at a point w of its own (a method's reference point): its minibatch of this round (the
 * samples drawn at (seed, iter, c), as at x) or (full) its full gradient, into out; any rank, and in place the
 * problem's. */
int dc_round_gradient_at(DcRound* r, int c, const DcVec* w, int full, DcVec* out);
/* An MPI client rank: client c's gradient at x (its problem P) as its message reads it: full, or its minibatch. */
int dc_round_client_gradient(DcRound* r, const DcProbData* P, int c, DcVec* g);
/* An MPI client rank: client c's message from its gradient G into M (one client, the single-draw ops). */
int dc_round_client_message(DcRound* r, int c, const DcVec* G, DcVec* M);
/* Rank 0: client c's received message (its draw in r->S, values M) folded into agg. */
int dc_round_absorb_received(DcRound* r, int c, DcVec* M);

/* ---- for the methods' ops ---- */
/* The chunk's messages m_c = S_c B g_c (B NULL: S_c g_c), drawn with (seed, iter, c). */
int dc_round_compress(DcRound* r, const DcBlocks* B);
/* The dense messages of a method sending rows (DC_STEP_VALUES): Y's row r (dim values) = C(X_r - H_r) for client
 * c0 + r (H's row r at hoff + r dim; H NULL: C(X_r)).  A compressor of the values through compress_values_rows with
 * S; a sketch (S the round's) as det-CGD draws and sends it: S_r (X_r - H_r) from sample_rows and compress_rows at
 * (seed, iter, c0 + r), 0 where no coordinate is kept -- the same coordinates, values and bits. */
int dc_round_dense_messages(DcRound* r, DcSketch* S, const DcVec* X, const DcVec* H, int64_t hoff, int nc, int c0,
                            DcVec* Y);
/* agg += the chunk's messages, in client order (in place: nothing to add). */
int dc_round_absorb(DcRound* r);
/* x += alpha P (1/n) sum_c m_c (P NULL: the identity), m_c = S_c B g_c as dc_round_compress made them (in place
 * g_c is the chunk's G: the gradient, or the minibatch one). */
int dc_round_step(DcRound* r, const DcBlocks* P, double alpha);

#endif /* DETCGD_ROUND_H */
