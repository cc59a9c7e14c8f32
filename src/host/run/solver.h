/*
 * solver.h -- the solver object, shared by solver.c (setup, the loop),
 * solver_dist.c (the distributed iteration) and checkpoint.c.
 */
#ifndef DETCGD_SOLVER_H
#define DETCGD_SOLVER_H

#include "backend.h"
#include "dist.h"
#include "method.h"
#include "problem.h"
#include "phase.h"
#include "round.h"
#include "compressor.h"
#include "stepsize.h"
#include "trace.h"
#include "transport.h"

/* Slots of the metrics vector. */
enum { M_F = 0, M_G2, M_GD, M_GDSUM, M_G1, M_DIST2, M_METHOD, M_COUNT = M_METHOD + DC_METHOD_METRICS }; /* M_METHOD..: the method's */

struct DetcgdSolver {
  DetcgdSettings settings;
  const DetcgdProblem* problem; /* borrowed: must outlive the solver */
  const DcMethodType* method;
  DcBackend be;
  int be_open;
  DcSketchSpec sketch_spec;     /* owns */
  DcStepsize step;              /* owns */
  DcBlocks* D;                  /* owns */
  DcRound round;                /* owns: the rounds (a single node: one client in place; n clients: summed) */
  DcSketch* S;                  /* round.S: the draws, whose tally the trace reads (NULL: the identity in place) */
  DcVec *x, *g, *metrics;       /* owns: iterate, full gradient, scalars */
  DcVec* sign_g;                /* owns: sign(g) at trace points, for ||g||_1 = sign(g) . g */
  int nclients;                 /* the round's clients (1 on a single node) */
  DcTransport tr;               /* owns: one rank (a single node, simulated clients) or MPI */
  /* distributed */
  int dist;                     /* 1 when the problem has clients: their theory, and x goes down to them */
  DcProbData** Pc;              /* owns: per client, set only for a client rank's own clients */
  DcVec *gc, *agg, *vals;       /* owns: a client's gradient, server aggregate, one message's values */
  DcDistTheory dtheory;
  double fc_inf_mean;           /* (1/n) sum_c f_c^inf estimates */
  unsigned char* msg;           /* owns: this rank's packed messages */
  int64_t msg_cap, msg_len;
  DcSketchDraw draw;            /* owns: host copy of one draw (pack / unpack) */
  double* h_vals;               /* owns: host copy of message values */
  double* h_x;                  /* owns: [termination or 0, x] broadcast buffer */
  int64_t row_coords, row_bits; /* uplink tally before iteration k's messages (for its trace row) */
  unsigned char* seen;          /* owns: max d_i flags, for repeated indices in a message */
  DcReplay *replay, *replay1;   /* owns during a run: replay_unroll plain iterations, and one */
  DetcgdGeometry geometry;      /* the problem's l-inf geometry, taken once (geometry_taken) by the method or summary */
  int geometry_taken;
  double l1_sum;          /* sum of ||grad f||_1 over the trace rows this run wrote, and their count */
  int64_t l1_rows;
  uint64_t data_hash;           /* the data's fingerprint for checkpoints, taken at the first one (data_hashed) */
  int data_hashed;
  int replay_unroll;
  DcPhases phases;
  /* results */
  DetcgdResult result;
  const char* f_inf_source;
  int64_t f_inf_gd_iters;
  double f_inf_gd_grad_norm2;
  /* optimum solve: x* (and x - x* at trace rows) on the backend, its certificate, the trace's columns */
  DcVec *x_star, *x_diff;       /* owns (NULL: no x*) */
  double* x_star_host;          /* owns: x* on the host (NULL: none), for the method's theory */
  DetcgdOptimumInfo optimum;
  double time_optimum;
  const char* trace_columns[DC_TRACE_EXTRA + 1];
  DcTraceRows trace_rows;       /* owns: the last run's rows in memory, and the caller's per-row callback */
  char* summary_json;           /* owns: the last run's summary (the --summary file's text) */
};

/* Trace rows in flight: the backend copies their scalars into host memory without the loop waiting;
 * the host writes them in order as they arrive and waits only when every slot is taken. */
#define DC_RING_SLOTS 64

/* A trace row queued at iterate `iter`: its scalars are in ring slot (head + position) % DC_RING_SLOTS. */
typedef struct DcPendingRow {
  int64_t iter;
  int64_t coords, bits; /* uplink tally when the host keeps it (distributed, identity sketch); else the
                         * sketch tally copied with the row */
} DcPendingRow;

/* Loop context: trace file, clocks and the rows in flight. */
typedef struct DcLoop {
  DcTrace trace;
  double t0;            /* wall clock at the loop's start, less the time before a resume */
  double last_progress;
  DcRing* ring;         /* owns (rank 0) */
  DcPendingRow pending[DC_RING_SLOTS];
  int head, count;      /* oldest pending row and how many */
} DcLoop;

/* ---- solver.c ---- */
/* f after f_inf_iters GD steps D = step I from x0, on one problem P or (P == NULL) the run's (the clients'
 * mean); also ||grad f||^2 there (g2 may be NULL).  Uses s->x, s->g and the metrics. */
int dc_gd_estimate(DetcgdSolver* s, const DcProbData* P, double step, double* f, double* g2);
/* Trace point k (metrics of x^k in place): queues its row; writes the rows that have arrived (all of
 * them, waiting, when a target G is set or in distributed runs) and sets *stop when one says so. */
int dc_trace_point(DetcgdSolver* s, DcLoop* L, int64_t k, int* stop);
/* m[M_GD] = ||g||^2_D and m[M_GDSUM] += m[M_GD] for the gradient in s->g: at every iteration, or with
 * gkd = trace at trace points only (is_trace). */
int dc_gradient_metrics(DetcgdSolver* s, int is_trace);
/* Writes the queued rows, waiting for each when `wait`; sets *stop when one says so. */
int dc_trace_drain(DetcgdSolver* s, DcLoop* L, int wait, int* stop);
/* Testing aid: settings fault "RANK:ITER:KIND" names this rank and iteration k. */
int dc_fault_here(const DetcgdSolver* s, int64_t k, const char* kind);

/* ---- solver_dist.c ---- */
int dc_dist_setup(DetcgdSolver* s);
void dc_dist_free(DetcgdSolver* s);
/* A client rank's iteration k: its clients' messages to rank 0, then x^{k+1} and the stop flag from it. */
int dc_dist_client_rank_iteration(DetcgdSolver* s, int64_t k, int* stop);
/* Rank 0: the other ranks' messages of iteration k, rank by rank, folded into the aggregate. */
int dc_dist_receive(DetcgdSolver* s, int64_t k);
/* Rank 0: x and, when the run stops, its termination to every rank (nothing with one rank). */
int dc_dist_broadcast_x(DetcgdSolver* s, int* stop);
/* Server: the message of rank `from` (of nranks) at iteration k -- its clients' ids, draws and values, each
 * field checked -- added into s->agg; an error names the rank, the client and what is wrong. */
int dc_dist_absorb_rank(DetcgdSolver* s, const void* bytes, int64_t len, int from, int nranks, int64_t k);

/* ---- checkpoint.c ---- */
int dc_checkpoint_write(DetcgdSolver* s, int64_t k, double elapsed);
/* Restores x, metrics and tallies; returns the next iteration in *k and the time before. */
int dc_checkpoint_read(DetcgdSolver* s, int64_t* k, double* elapsed);
/* Keeps the header and the rows with iter < k of an existing trace (a resumed run rewrites the rest). */
int dc_trace_truncate(const char* path, int64_t k);

#endif /* DETCGD_SOLVER_H */
