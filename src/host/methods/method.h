/*
 * method.h -- the method interface: one type table per method, written against the round's building blocks
 * and backend ops only.
 *
 * Every run is rounds (run/round.h): the clients' gradients at x^k, then the method's
 *   client    the messages of a chunk of clients from their gradients (dc_round_compress: m_c = S_c B g_c);
 *   absorb    the server folds them into its aggregate (dc_round_absorb: agg += m_c, in client order);
 *   server    x^{k+1} from the aggregate (dc_round_step: x + alpha P (1/n) sum_c m_c).
 * A single node is one client, the server itself: the same ops, the message read in place.  The theory
 * (theory/) reads the condition a method's stepsize must satisfy from its type.
 *
 * Adding a method: a file in methods/ with its type table, its entry in registry.c, one row in the
 * method test table (tests/method_table.txt: every check of tests/test_method_table.cc runs it).
 */
#ifndef DETCGD_METHOD_H
#define DETCGD_METHOD_H

#include "backend.h"
#include "compressor.h"
#include "round.h"

#define DC_METHOD_METRICS 2 /* the most trace columns of a method's own */

/* What a method needs of its compressor, checked before anything is allocated. */
enum {
  DC_NEEDS_LINEAR = 1u << 0,     /* a linear sketch S (the E[S A S] theory of det-CGD) */
  DC_NEEDS_UNBIASED = 1u << 1,   /* E[C(x)] = x */
  DC_NEEDS_CONTRACTIVE = 1u << 2 /* E||C(x) - x||^2 <= (1 - alpha) ||x||^2 (or the identity) */
};

/* How a step moves x (what the loop may do for it). */
enum {
  DC_STEP_NO_SKETCH = 1u << 0, /* runs with S = I whatever the compressor setting (GD, sign methods) */
  DC_STEP_NO_MATRIX = 1u << 2, /* steps without a matrix stepsize: D = I, so the trace's G_{K,D} is the average
                                * ||grad f||^2, and the stepsize options are not read (sign methods) */
  DC_STEP_KEPT_ROWS = 1u << 1, /* moves only the kept coordinates, by the values sketch_compress(D, S, g)
                                * writes: with quad-nc the gradient can follow from A's kept columns */
  DC_STEP_VALUES = 1u << 3,    /* its messages come from compress_values_rows: the round holds the compressor's
                                * sketch (the identity's too), whose tally counts them */
  DC_STEP_PROX = 1u << 4       /* its server applies prox_{gamma R} of the prox settings (methods/prox.h) */
};

/* What a method's create op may read: the problem, its l-inf geometry, the settings, the compressor's spec,
 * f(x^0) - f^inf and (optimum solve) x* on the host. */
typedef struct DcMethodSetup {
  const DetcgdProblem* problem;
  const DetcgdGeometry* geometry;
  const DetcgdSettings* settings;
  const DcSketchSpec* spec;
  double f0_gap;
  const double* x_star; /* NULL: not known */
} DcMethodSetup;

/* A vector of a method's state, checkpointed under its name (at most 15 characters). */
typedef struct DcStateVec {
  const char* name;
  int64_t n;
  DcVec* v;
} DcStateVec;

/* A number the summary reports of a method (its step and where it comes from). */
typedef struct DcMethodFact {
  const char* key;
  double value;
  const char* text; /* NULL: value is the fact; else text is (value ignored) */
} DcMethodFact;

typedef struct DcMethodType {
  const char* name;        /* --method value */
  int id;                  /* DetcgdMethod */
  unsigned needs;          /* DC_NEEDS_* */
  unsigned step_flags;     /* DC_STEP_* */
  int condition;           /* the stepsize condition of the paper: 7 (x - D S g) or 8 (x - T D g) */
  const char* algorithm;   /* the distributed algorithm, for the summary (NULL: the method runs on a single node only) */
  int stochastic;          /* 1: with batch > 0 its clients' gradients are minibatch ones (round.h: r->at.G) */
  int op_by_op;            /* 1: its round branches on the host per iteration (MARINA's coin): never recorded as a replay */
  int client_state;        /* 1: part of its state lives with the clients only (EF14's e_c, EF21-SGDM's v_c): over
                            * MPI every client rank checkpoints its own copy (checkpoint.c) */
  int (*client)(DcRound* r);
  int (*absorb)(DcRound* r);
  int (*server)(DcRound* r);
  const DcOption* options; /* its own option rows, read only when it runs (NULL: none) */
  /* its state (r->state, state_size bytes, zeroed; 0: none): create fills it once f(x^0) - f^inf is known,
   * destroy frees what create made (NULL: nothing to do) */
  size_t state_size;
  int (*create)(DcRound* r, const DcMethodSetup* m);
  void (*destroy)(DcRound* r);
  /* bits of one client's message per round on layout lay under settings s, when the method sends no sketch
   * (NULL: d values) */
  int64_t (*message_bits)(const DcLayout* lay, const DetcgdSettings* s);
  /* the numbers the summary reports of it, into out[0..cap) (NULL: none); returns how many */
  int (*facts)(const DcRound* r, DcMethodFact* out, int cap);
  /* the vectors of its state a checkpoint holds, into out[0..cap) (NULL: none); returns how many */
  int (*state)(const DcRound* r, DcStateVec* out, int cap);
  /* does its step depend on the horizon K = iters under settings s (a resume must keep iters)? (NULL: no) */
  int (*uses_horizon)(const DetcgdSettings* s);
  /* the compressor its messages use whatever the sketch setting (NULL: the setting's) */
  const DcCompressorType* fixed_compressor;
  /* bits of the server's broadcast to one client per round, for d coordinates (NULL: x in double, 64 d) */
  int64_t (*downlink_bits)(int64_t dim);
  /* its own trace columns (NULL-terminated names, at most DC_METHOD_METRICS; NULL: none), after the common ones,
   * and at a trace row (after the round's gradients, before the server step) their values into m[slot0 ..] with
   * backend ops: they travel with the trace's other scalars */
  const char* const* trace_columns;
  int (*trace_metrics)(DcRound* r, DcVec* m, int slot0);
  /* the spec of this round's messages when it is not the run's (MARINA's sync rounds send the identity's), for the
   * MPI codec and tally (NULL op, or NULL returned: the run's) */
  const DcSketchSpec* (*message_spec)(const DcRound* r);
} DcMethodType;

/* GD (gd.c), det-CGD1 and det-CGD2 (det_cgd.c), sign GD, scaled sign GD and Signum (sign.c), EF21, ||EF21||,
 * EF21-SGDM, ||EF21-SGDM|| and EF21-HB (ef21.c), EF14 (ef14.c), signSGD with majority vote (sign_vote.c), DCGD and
 * DIANA with a prox and VR-DIANA (diana.c), MARINA, DASHA, det-MARINA, det-DASHA and DASHA-PAGE (marina.c), SEGA (sega.c). */
extern const DcMethodType dc_method_gd, dc_method_det_cgd1, dc_method_det_cgd2, dc_method_sign, dc_method_scaled_sign,
    dc_method_ef21, dc_method_ef21_norm, dc_method_ef14, dc_method_sign_vote, dc_method_signum, dc_method_ef21_sgdm,
    dc_method_ef21_sgdm_norm, dc_method_ef21_hb, dc_method_dcgd, dc_method_diana, dc_method_marina, dc_method_dasha,
    dc_method_sega, dc_method_vr_diana, dc_method_det_marina, dc_method_det_dasha,
    dc_method_dasha_page;
/* MARINA's coin of round iter (marina.c): 1 at iter 0, else Bernoulli(p) from the shared stream at (seed, iter). */
int dc_marina_coin(uint64_t seed, uint32_t iter, double p);
/* sega-sketch gaussian's direction of round iter: d entries ~ N(0, 1), Box-Muller on the shared stream at (seed, iter). */
void dc_sega_gaussian_direction(uint64_t seed, uint32_t iter, int64_t d, double* s);
/* The sign family's option rows: sign-step, sign-momentum, sign-per-layer (sign.c). */
extern const DcOption dc_sign_options[];
/* The error-feedback methods' option rows (ef21.c). */
extern const DcOption dc_error_feedback_options[];

/* The type of method id (DetcgdMethod; NULL when there is none); by --method name (NULL when unknown). */
const DcMethodType* dc_method_type(int id);
const DcMethodType* dc_method_find(const char* name);
/* Every method's name, ", "-separated, into out[0..n). */
void dc_method_list(char* out, size_t n);
/* The sketch a run of method m uses: the identity when m compresses nothing or the sketch setting is the
 * identity, its fixed compressor when it has one, else the setting's sketch on p. */
int dc_method_sketch_spec(DcSketchSpec* sp, const DcMethodType* m, const DetcgdSettings* s, const DetcgdProblem* p);
/* The Euclidean smoothness of f = (1/n) sum_c f_c over a run's n clients (smoothness.c): L of f, and of the f_c
 * L_max = max_c L_c, L_mean = (1/n) sum_c L_c and L~ = sqrt((1/n) sum_c L_c^2) (n = 1: all four are L). */
typedef struct DcSmoothness {
  double L, L_max, L_tilde, L_mean; /* L_mean = (1/n) sum_c L_c */
} DcSmoothness;
int dc_method_smoothness(const DetcgdProblem* p, int n, DcSmoothness* out);
/* A facts op's tail: the first min(n, cap) of f into out; returns how many. */
int dc_method_facts_copy(const DcMethodFact* f, int n, DcMethodFact* out, int cap);
/* Does compressor t satisfy method m's needs?  Else an error naming both. */
int dc_method_check_compressor(const DcMethodType* m, const DcCompressorType* t);

#endif /* DETCGD_METHOD_H */
