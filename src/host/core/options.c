/*
 * options.c -- the option table: the problem's and the run's rows, the walk over every row (with the
 * compressors' and the methods' own), and the parse / format / default / range check / help of a row.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "compressor.h"
#include "internal.h"
#include "method.h"
#include "options.h"

/* ==== Names ==== */

static const char* const PROBLEM_NAMES[] = {"logreg-nc", "quad-nc", "poly-nc", NULL};
static const char* const SPLIT_NAMES[] = {"contiguous", "shuffled", "label-skew", NULL};
static const char* const STEP_NAMES[] = {"gd", "cgd", "cgd-mat", "det2-opt", "thm2", "user", "cor1", "dcgd-kr", "table1", NULL};
static const char* const WEIGHT_NAMES[] = {"identity", "diag-inv", "inv", "inv-sqrt", NULL};
static const char* const PRECISION_NAMES[] = {"fp64", "fp32", NULL};
static const char* const SETUP_NAMES[] = {"auto", "host", NULL};
static const char* const GKD_NAMES[] = {"every", "trace", NULL};
static const char* const GEOMETRY_NAMES[] = {"auto", "on", "off", NULL};
static const char* const PROX_NAMES[] = {"none", "l1", "box", "ball", NULL};
static const char* const OPTIMUM_NAMES[] = {"none", "solve", NULL};
static const char* const BACKEND_NAMES[] = {"auto", "cpu", "cuda", NULL};
static const char* const MODE_NAMES[] = {"sim", "mpi", NULL};
static const char* const DELTA_NAMES[] = {"estimate", "certified", NULL};

static int count_names(const char* const* names) {
  int n = 0;
  while (names[n]) ++n;
  return n;
}

static const char* name_of(const char* const* names, int v) { return v >= 0 && v < count_names(names) ? names[v] : "?"; }
const char* detcgd_method_name(int m) { return dc_method_type(m) ? dc_method_type(m)->name : "?"; }
const char* detcgd_sketch_name(int k) { return dc_compressor_type(k) ? dc_compressor_type(k)->name : "?"; }
const char* detcgd_stepsize_name(int k) { return name_of(STEP_NAMES, k); }
const char* detcgd_weight_name(int w) { return name_of(WEIGHT_NAMES, w); }
const char* detcgd_precision_name(int p) { return name_of(PRECISION_NAMES, p); }
const char* detcgd_gkd_points_name(int p) { return name_of(GKD_NAMES, p); }
const char* detcgd_setup_place_name(int p) { return name_of(SETUP_NAMES, p); }
const char* detcgd_split_name(int s) { return name_of(SPLIT_NAMES, s); }
const char* detcgd_problem_kind_name(int k) { return name_of(PROBLEM_NAMES, k); }
const char* detcgd_dist_mode_name(int m) { return name_of(MODE_NAMES, m); }

/* ==== When a row is read ==== */

static int is_logreg(const DetcgdProblemSpec* p) { return !p || p->kind == DETCGD_PROBLEM_LOGREG_NC; }
static int is_quad(const DetcgdProblemSpec* p) { return !p || p->kind == DETCGD_PROBLEM_QUAD_NC; }
static int is_poly(const DetcgdProblemSpec* p) { return !p || p->kind == DETCGD_PROBLEM_POLY_NC; }
static int has_clients(const DetcgdProblemSpec* p) { return !p || p->clients > 0; }

static const char* logreg_only(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)s;
  return is_logreg(p) ? NULL : "read by problem logreg-nc";
}
static const char* quad_only(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)s;
  return is_quad(p) ? NULL : "read by problem quad-nc";
}
static const char* poly_only(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)s;
  return is_poly(p) ? NULL : "read by problem poly-nc";
}
static const char* generated_range(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)s;
  return is_quad(p) || is_poly(p) ? NULL : "read by problems quad-nc and poly-nc";
}
static const char* data_file(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)s;
  if (!is_logreg(p)) return "read by problem logreg-nc";
  return !p || p->samples == 0 ? NULL : "synthetic rows (samples > 0) read no file";
}
static const char* synthetic_rows(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)s;
  return !p || (p->kind == DETCGD_PROBLEM_LOGREG_NC && p->samples > 0) ? NULL : "read by synthetic rows (logreg-nc, samples > 0)";
}
static const char* layer_list(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)s;
  return !p || p->kind != DETCGD_PROBLEM_LOGREG_NC || p->nlayers == 0 ? NULL : "nlayers > 0 sets the layers";
}
static const char* generator_seed(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)s;
  return !p || p->kind != DETCGD_PROBLEM_LOGREG_NC || p->samples > 0 || (p->clients > 0 && p->split == DETCGD_SPLIT_SHUFFLED)
             ? NULL : "read by quad-nc, poly-nc, synthetic rows and split shuffled";
}
static const char* distributed(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)s;
  return has_clients(p) ? NULL : "read by distributed runs (clients > 0)";
}
static const char* with_prox(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  const DcMethodType* m = dc_method_type(s->method);
  (void)p;
  return !m || (m->step_flags & DC_STEP_PROX) ? NULL : "read by the methods with a prox step (dcgd, diana, vr-diana, sega, det-marina, det-dasha)";
}
static const char* l1_prox(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  const char* why = with_prox(p, s);
  return why ? why : s->prox == DETCGD_PROX_L1 ? NULL : "read with prox l1";
}
static const char* set_prox(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  const char* why = with_prox(p, s);
  return why ? why : s->prox == DETCGD_PROX_BOX || s->prox == DETCGD_PROX_BALL ? NULL : "read with prox box or ball";
}
static const char* mpi_mode(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  if (!has_clients(p)) return "read by distributed runs (clients > 0)";
  return s->dist.mode == DETCGD_DIST_MPI ? NULL : "read with mode mpi";
}

static const char* sketched(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  static char why[96];
  const DcMethodType* m = dc_method_type(s->method);
  (void)p;
  if (m && m->fixed_compressor) {
    snprintf(why, sizeof why, "not read by method %s, which always sends %s", m->name, m->fixed_compressor->name);
    return why;
  }
  if (!m || !(m->step_flags & DC_STEP_NO_SKETCH)) return NULL;
  snprintf(why, sizeof why, "not read by method %s, which compresses nothing", m->name);
  return why;
}
static const char* matrix_step(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  const DcMethodType* m = dc_method_type(s->method);
  (void)p;
  return m && (m->step_flags & DC_STEP_NO_MATRIX) ? "not read by a method without a matrix stepsize (sign methods)"
                                                  : NULL;
}
/* force: past det-CGD's certificate, EF21's step 1 / (L + L~ sqrt(beta / theta)), ||EF21-SGDM||'s gamma_0 bound or
 * the theory steps of dcgd and diana */
static const char* forceable(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  if (s->method == DETCGD_METHOD_EF21 || s->method == DETCGD_METHOD_EF21_SGDM_NORM || s->method == DETCGD_METHOD_DCGD ||
      s->method == DETCGD_METHOD_DIANA || s->method == DETCGD_METHOD_MARINA || s->method == DETCGD_METHOD_DASHA ||
      s->method == DETCGD_METHOD_SEGA || s->method == DETCGD_METHOD_VR_DIANA || s->method == DETCGD_METHOD_DET_MARINA)
    return NULL;
  return matrix_step(p, s) ? "read by the methods with a matrix stepsize, ef21, ef21-sgdm-norm, dcgd, diana, vr-diana, marina, dasha, sega and det-marina" : NULL;
}
static const char* weighted(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)p;
  return s->stepsize.kind == DETCGD_STEP_THM2 || s->stepsize.kind == DETCGD_STEP_COR1 ? NULL : "read by stepsize thm2 and cor1";
}
static const char* user_stepsize(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)p;
  return s->stepsize.kind == DETCGD_STEP_USER ? NULL : "read by stepsize user";
}
static const char* checkpointing(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)p;
  return s->output.checkpoint_path[0] ? NULL : "read with checkpoint";
}
static const char* sparse_capable(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  (void)s;
  return !p || (p->kind == DETCGD_PROBLEM_QUAD_NC && p->clients == 0) ? NULL : "read by single-node quad-nc runs";
}

static const char* sampled(const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  const DcMethodType* m = s ? dc_method_type(s->method) : NULL;
  if (p && p->kind != DETCGD_PROBLEM_LOGREG_NC) return "read with logreg-nc (its rows are the samples)";
  return !m || m->stochastic ? NULL : "read by the methods with minibatch gradients (gd, sign-gd, sign-mv, ef21, "
                                      "ef21-norm, ef14, signum, ef21-sgdm, ef21-sgdm-norm, ef21-hb, dcgd, diana, vr-diana, marina, det-marina, dasha-page)";
}

/* ==== The problem's and the run's rows ==== */

#define P DC_PROBLEM_FIELD
#define S DC_SETTINGS_FIELD
#define ALL (DETCGD_CMD_RUN | DETCGD_CMD_THEORY | DETCGD_CMD_EXPERIMENT)
#define RUNS (DETCGD_CMD_RUN | DETCGD_CMD_EXPERIMENT)
#define BIG 1e9
#define I32 2147483647.0
#define I64MAX 9.2e18 /* int64 rows: no upper bound */

static const DcOption PROBLEM_ROWS[] = {
  {"problem", "problem", DC_OPT_ENUM, P(kind), "logreg-nc", 0, 0, PROBLEM_NAMES, ALL, 0, NULL,
   "objective: nonconvex logistic regression on LIBSVM rows, a generated layered quadratic, or a generated quartic "
   "sum a_j x_j^4 ((L0,L1)-smooth)"},
  {"data", "problem", DC_OPT_STRING, P(data_path), "", 0, 0, NULL, ALL, 0, data_file, "LIBSVM file (logreg-nc)"},
  {"features", "problem", DC_OPT_INT, P(features), "0", 0, BIG, NULL, ALL, 0, logreg_only,
   "d (logreg-nc); 0 = the largest index in the file"},
  {"samples", "problem", DC_OPT_I64, P(samples), "0", 0, 1099511627776.0, NULL, ALL, 0, logreg_only,
   "synthetic rows of a planted logistic model instead of a file (0 = read data)"},
  {"density", "problem", DC_OPT_DOUBLE, P(density), "1", 0, 1, NULL, ALL, DC_OPT_LO_OPEN, synthetic_rows,
   "synthetic rows: fraction of the d entries kept per row"},
  {"data-precision", "problem", DC_OPT_ENUM, P(data_precision), "fp64", 0, 0, PRECISION_NAMES, ALL, 0, NULL,
   "fp32: the data rounded to float (the problem is then the rounded data)"},
  {"lambda", "problem", DC_OPT_DOUBLE, P(lambda), "0.3", 0, DBL_MAX, NULL, ALL, 0, NULL,
   "weight of the nonconvex regulariser lambda sum x^2/(1+x^2)"},
  {"l2", "problem", DC_OPT_DOUBLE, P(l2), "0", 0, DBL_MAX, NULL, ALL, 0, logreg_only,
   "logreg-nc: mu of the convex regulariser (mu/2) ||x||^2 (lambda 0 and l2 > 0: mu-strongly convex logistic regression)"},
  {"layers", "problem", DC_OPT_STRING, P(layers), "", 0, 0, NULL, ALL, 0, layer_list,
   "layer widths \"64,32\" or \"16x64\" (\"\" = one layer)"},
  {"nlayers", "problem", DC_OPT_INT, P(nlayers), "0", 0, BIG, NULL, ALL, 0, logreg_only,
   "logreg-nc: d split into this many near-equal layers (0 = use layers)"},
  {"spec-min", "problem", DC_OPT_DOUBLE, P(spec_min), "0.01", 0, DBL_MAX, NULL, ALL, DC_OPT_LO_OPEN, generated_range,
   "quad-nc: smallest eigenvalue of each A_i; poly-nc: smallest a_j"},
  {"spec-max", "problem", DC_OPT_DOUBLE, P(spec_max), "1", 0, DBL_MAX, NULL, ALL, DC_OPT_LO_OPEN, generated_range,
   "quad-nc: largest eigenvalue of each A_i; poly-nc: largest a_j (a_j log-spaced, shuffled by data-seed)"},
  {"diag-dominance", "problem", DC_OPT_DOUBLE, P(diag_dominance), "0.5", 0, 1, NULL, ALL, 0, quad_only,
   "quad-nc: A_i = a Diag(s) + (1 - a) Q Diag(s) Q^T"},
  {"center-scale", "problem", DC_OPT_DOUBLE, P(center_scale), "1", 0, DBL_MAX, NULL, ALL, 0, quad_only,
   "quad-nc: centres c_i ~ N(0, scale^2)"},
  {"poly-radius", "problem", DC_OPT_DOUBLE, P(poly_radius), "30", 0, DBL_MAX, NULL, ALL, DC_OPT_LO_OPEN, poly_only,
   "poly-nc: R of the box |x_j| <= R on which L = Diag(12 a_j R^2 + 2 lambda) bounds the Hessian (derived)"},
  {"poly-l1", "problem", DC_OPT_DOUBLE, P(poly_l1), "3", 0, DBL_MAX, NULL, ALL, DC_OPT_LO_OPEN, poly_only,
   "poly-nc: L1 of the reported (L0, L1) pair; L0 = 16 max a_j / L1^2 + (2 + 3 sqrt(3) L1 / 8) lambda (derived)"},
  {"data-seed", "problem", DC_OPT_U64, P(seed), "1", 0, 0, NULL, ALL, 0, generator_seed,
   "seed of the generated data and of the shuffled split"},
  {"clients", "clients", DC_OPT_INT, P(clients), "0", 0, BIG, NULL, ALL, 0, NULL,
   "n clients, each holding a share of the rows (0 = single node); det-cgd1 = Algorithm 1, det-cgd2 = Algorithm 2"},
  {"split", "clients", DC_OPT_ENUM, P(split), "contiguous", 0, 0, SPLIT_NAMES, ALL, 0, distributed,
   "rows to clients: file order, shuffled by data-seed, or sorted by label (heterogeneous)"},
  DC_OPTION_END};

static const DcOption METHOD_ROWS[] = {
  {"method", "method", DC_OPT_METHOD, S(method), "det-cgd2", 0, 0, NULL, ALL, 0, NULL, "the method"},
  {"sketch", "sketch", DC_OPT_COMPRESSOR, S(sketch.kind), "rand-1", 0, 0, NULL, ALL, 0, sketched,
   "the compressor (sketch S of every layer)"},
  DC_OPTION_END};

static const DcOption RUN_ROWS[] = {
  {"stepsize", "stepsize", DC_OPT_ENUM, S(stepsize.kind), "det2-opt", 0, 0, STEP_NAMES, ALL, 0, matrix_step,
   "D: gd, standard CGD, CGD-mat, det-CGD2's optimum (12), Theorem 2, a file, Table 1 row 8's (k/d) diag^-1(L) "
   "for rand-k (meets (7) for k = 1 only); distributed: cor1 (Corollary 1) or dcgd-kr (scalar DCGD)"},
  {"weight", "stepsize", DC_OPT_ENUM, S(stepsize.weight), "diag-inv", 0, 0, WEIGHT_NAMES, ALL, 0, weighted,
   "W of Theorem 2 / Corollary 1 (D = gamma W)"},
  {"stepsize-file", "stepsize", DC_OPT_STRING, S(stepsize.file), "", 0, 0, NULL, ALL, 0, user_stepsize,
   "stepsize user: d numbers (diagonal) or the dense blocks column-major"},
  {"stepsize-scale", "stepsize", DC_OPT_DOUBLE, S(stepsize.scale), "1", 0, DBL_MAX, NULL, ALL, DC_OPT_LO_OPEN, matrix_step,
   "D times this after it is built"},
  {"force", "stepsize", DC_OPT_BOOL, S(stepsize.force), "0", 0, 0, NULL, ALL, 0, forceable,
   "run even when the certificate of (7)/(8) exceeds 1, EF21's step exceeds 1 / (L + L~ sqrt(beta / theta)), "
   "ef-sgdm-gamma0 exceeds the paper's bound, or vr-step / gd-step exceeds the theory step of dcgd, diana, marina or dasha"},
  {"stepsize-precision", "stepsize", DC_OPT_ENUM, S(stepsize.precision), "fp64", 0, 0, PRECISION_NAMES, ALL, 0, matrix_step,
   "fp32: D rounded to float (certificates are those of the D applied)"},
  {"stepsize-setup", "stepsize", DC_OPT_ENUM, S(stepsize.setup), "auto", 0, 0, SETUP_NAMES, ALL, 0, matrix_step,
   "auto: dense D built on the GPU where the backend can; host: LAPACK"},
  {"iters", "stopping", DC_OPT_I64, S(term.max_iter), "1000", 0, I32, NULL, ALL, DC_OPT_NO_STATE, NULL,
   "K iterations"},
  {"target-g", "stopping", DC_OPT_DOUBLE, S(term.target_g), "0", 0, DBL_MAX, NULL, RUNS, DC_OPT_NO_STATE, NULL,
   "stop when G_{K,D} <= this at a trace row (0 = off)"},
  {"time-limit", "stopping", DC_OPT_DOUBLE, S(term.time_limit), "0", 0, DBL_MAX, NULL, RUNS, DC_OPT_NO_STATE, NULL,
   "seconds (0 = none)"},
  {"trace", "output", DC_OPT_STRING, S(output.trace_path), "", 0, 0, NULL, DETCGD_CMD_RUN, DC_OPT_NO_STATE | DC_OPT_NOT_REPLAYED, NULL,
   "trace CSV, a row every trace-every iterations (\"\" = none)"},
  {"summary", "output", DC_OPT_STRING, S(output.summary_path), "", 0, 0, NULL, DETCGD_CMD_RUN, DC_OPT_NO_STATE | DC_OPT_NOT_REPLAYED, NULL,
   "summary JSON: configuration, theory, result (\"\" = none)"},
  {"trace-every", "output", DC_OPT_I64, S(output.trace_every), "10", 1, I64MAX, NULL, RUNS, 0, NULL,
   "iterations between trace rows (and the last)"},
  {"gkd", "output", DC_OPT_ENUM, S(output.gkd_points), "every", 0, 0, GKD_NAMES, RUNS, 0, NULL,
   "G_{K,D} over every iterate, or over the trace rows (D read in full there only)"},
  {"geometry", "output", DC_OPT_ENUM, S(output.geometry), "auto", 0, 0, GEOMETRY_NAMES, ALL, DC_OPT_NO_STATE, NULL,
   "the l-inf geometry of Diag(L_i) (L_2, L_inf, rho, d L_2/L_inf): in the summary (auto: when d <= 10^5, "
   "about 0.5 ms per layer of 64); theory --geometry on prints it per layer"},
  {"verbose", "output", DC_OPT_INT, S(output.verbose), "1", 0, 2, NULL, RUNS, DC_OPT_NO_STATE, NULL,
   "0 quiet, 1 banner, table and summary, 2 debug"},
  {"progress", "output", DC_OPT_BOOL, S(output.progress), "1", 0, 0, NULL, RUNS, DC_OPT_NO_STATE, NULL,
   "progress line on stderr when it is a terminal"},
  {"label", "output", DC_OPT_STRING, S(output.label), "", 0, 0, NULL, DETCGD_CMD_RUN, DC_OPT_NO_STATE, NULL,
   "run label for plots"},
  {"value-bits", "comm", DC_OPT_INT, S(comm.value_bits), "32", 32, 64, NULL, ALL, 0, NULL,
   "bits per sent value: 32 or 64"},
  {"shared-seed", "comm", DC_OPT_BOOL, S(comm.shared_seed), "0", 0, 0, NULL, ALL, 0, distributed,
   "the server regenerates the kept indices from the shared seed (values only travel)"},
  {"mode", "clients", DC_OPT_ENUM, S(dist.mode), "sim", 0, 0, MODE_NAMES, RUNS, DC_OPT_NO_STATE, distributed,
   "every client simulated here, or MPI: mpirun -np R detcgd run --mode mpi ... (rank 0 is the server)"},
  {"epsilon2", "clients", DC_OPT_DOUBLE, S(dist.epsilon2), "1e-4", 0, DBL_MAX, NULL, ALL, DC_OPT_LO_OPEN, distributed,
   "eps^2 of Corollary 1 and of the DCGD stepsize"},
  {"delta-inf", "clients", DC_OPT_ENUM, S(dist.delta_inf), "estimate", 0, 0, DELTA_NAMES, ALL, 0, distributed,
   "Delta^inf: f^inf less the clients' GD estimates f_c^inf, or certified f^inf (f_c >= 0: an upper bound)"},
  {"rank-timeout", "clients", DC_OPT_DOUBLE, S(dist.rank_timeout), "600", 0, DBL_MAX, NULL, RUNS, DC_OPT_NO_STATE,
   mpi_mode, "MPI: seconds a rank waits for another rank's message or broadcast before it ends the job (0 = forever)"},
  {"fault", "clients", DC_OPT_STRING, S(dist.fault), "", 0, 0, NULL, DETCGD_CMD_RUN, DC_OPT_NO_STATE | DC_OPT_NOT_REPLAYED, distributed,
   "testing aid: RANK:ITER:die, :garbage, :pause, or :ctrl-c (SIGINT to the launcher, this rank's parent)"},
  {"prox", "prox", DC_OPT_ENUM, S(prox), "none", 0, 0, PROX_NAMES, ALL, 0, with_prox,
   "R of min f + R, prox_{gamma R} after each server step: l1 = prox-weight ||x||_1 (soft threshold), box |x_j| <= "
   "prox-radius, ball ||x|| <= prox-radius (projections)"},
  {"prox-weight", "prox", DC_OPT_DOUBLE, S(prox_weight), "0", 0, DBL_MAX, NULL, ALL, 0, l1_prox,
   "prox l1: lambda_1 of R = lambda_1 ||x||_1"},
  {"prox-radius", "prox", DC_OPT_DOUBLE, S(prox_radius), "1", 0, DBL_MAX, NULL, ALL, DC_OPT_LO_OPEN, set_prox,
   "prox box and ball: the radius r"},
  {"optimum", "output", DC_OPT_ENUM, S(optimum), "none", 0, 0, OPTIMUM_NAMES, RUNS, 0, NULL,
   "solve: x* and f* of f + R first (strongly convex problems; certified to 1e-12: detcgd_optimum), f^inf = f(x*), "
   "and the trace's dist2 = ||x^k - x*||^2"},
  {"backend", "other", DC_OPT_ENUM, S(backend), "auto", 0, 0, BACKEND_NAMES, ALL, 0, NULL,
   "auto = CUDA when compiled in and a device is present"},
  {"graphs", "other", DC_OPT_BOOL, S(graphs), "1", 0, 0, NULL, RUNS, DC_OPT_NO_STATE, NULL,
   "the iterations between trace rows as recorded launches (CUDA graphs)"},
  {"sparse-steps", "other", DC_OPT_BOOL, S(sparse_steps), "1", 0, 0, NULL, RUNS, 0, sparse_capable,
   "quad-nc: a method moving the kept coordinates only updates the gradient from A's kept columns"},
  {"seed", "other", DC_OPT_U64, S(seed), "42", 0, 0, NULL, ALL, 0, NULL, "seed of the sketches"},
  {"batch", "oracle", DC_OPT_INT, S(batch), "0", 0, BIG, NULL, ALL, 0, sampled,
   "minibatch per client per round: the mean of this many sample gradients, drawn with replacement at (seed, iter, "
   "client) (0 = full gradients; the trace's metrics stay the full gradient's)"},
  {"x0", "other", DC_OPT_DOUBLE, S(x0), "1", -DBL_MAX, DBL_MAX, NULL, ALL, 0, NULL, "x^0 = x0 / sqrt(d) * ones"},
  {"x0-spread", "other", DC_OPT_DOUBLE, S(x0_spread), "0", 0, DBL_MAX, NULL, ALL, 0, NULL,
   "x^0 plus x0-spread * N(0, 1) per coordinate, drawn from seed"},
  {"f-inf", "other", DC_OPT_DOUBLE, S(f_inf), "nan", -DBL_MAX, DBL_MAX, NULL, ALL, DC_OPT_NAN_OK, NULL,
   "f^inf of the bounds (nan = estimate it by GD)"},
  {"f-inf-iters", "other", DC_OPT_I64, S(f_inf_iters), "2000", 0, I32, NULL, ALL, 0, NULL,
   "GD iterations of the f^inf estimate"},
  {"checkpoint", "restart", DC_OPT_STRING, S(output.checkpoint_path), "", 0, 0, NULL, DETCGD_CMD_RUN, DC_OPT_NO_STATE | DC_OPT_NOT_REPLAYED,
   NULL, "checkpoint file, written every checkpoint-every iterations"},
  {"checkpoint-every", "restart", DC_OPT_I64, S(output.checkpoint_every), "1000", 1, I64MAX, NULL, DETCGD_CMD_RUN,
   DC_OPT_NO_STATE, checkpointing, "iterations between checkpoints"},
  {"resume", "restart", DC_OPT_STRING, S(output.resume_path), "", 0, 0, NULL, DETCGD_CMD_RUN, DC_OPT_NO_STATE | DC_OPT_NOT_REPLAYED, NULL,
   "resume from this checkpoint (the trace rows after it are rewritten)"},
  {"profile", "profile", DC_OPT_BOOL, S(output.profile), "0", 0, 0, NULL, RUNS, DC_OPT_NO_STATE, NULL,
   "seconds per phase in the summary (waits for the device after each); NVTX ranges on CUDA"},
  DC_OPTION_END};

#undef P
#undef S

/* ==== The walk over every row ==== */

static char why_buf[160];

/* The option rows of compressor (part 2) or method (part 3) t; NULL past the last type. */
static const DcOption* type_rows(int part, int t, const char** name, int* exists) {
  const DcCompressorType* ct = part == 2 ? dc_compressor_type(t) : NULL;
  const DcMethodType* mt = part == 3 ? dc_method_type(t) : NULL;
  *exists = ct || mt;
  if (name) *name = ct ? ct->name : mt ? mt->name : NULL;
  return ct ? ct->options : mt ? mt->options : NULL;
}

/* Does a type before t own t's option rows (one table read by several types, walked once)? */
static int shared_earlier(int part, int t) {
  int u, exists;
  const DcOption* rows = type_rows(part, t, NULL, &exists);
  for (u = 0; u < t; ++u)
    if (type_rows(part, u, NULL, &exists) == rows) return 1;
  return 0;
}

/* The types reading option table `rows`, "a, b or c". */
static const char* readers_of(int part, const DcOption* rows) {
  static char names[96];
  const char* name;
  int t, n = 0, len = 0, exists;
  for (t = 0; type_rows(part, t, NULL, &exists), exists; ++t) n += type_rows(part, t, NULL, &exists) == rows;
  names[0] = '\0';
  for (t = 0; type_rows(part, t, &name, &exists), exists && len < (int)sizeof names; ++t)
    if (type_rows(part, t, &name, &exists) == rows) {
      --n;
      len += snprintf(names + len, sizeof names - (size_t)len, "%s%s", name, n > 1 ? ", " : n == 1 ? " or " : "");
    }
  return names;
}

/* Part 0: the problem's rows, 1: method and sketch, 2: the compressors', 3: the methods', 4: the run's. */
const DcOption* dc_option_next(DcOptionIter* it, const DetcgdProblemSpec* p, const DetcgdSettings* s,
                               const char** owner_unread) {
  for (;;) {
    const DcOption* rows = NULL;
    const char* owner = NULL;
    switch (it->part) {
      case 0: rows = PROBLEM_ROWS; break;
      case 1: rows = METHOD_ROWS; break;
      case 4: rows = RUN_ROWS; break;
      default: break;
    }
    if (it->part == 2 || it->part == 3) { /* it->i = type index * 64 + row */
      int t = it->i / 64, r = it->i % 64, exists;
      rows = type_rows(it->part, t, &owner, &exists);
      if (!exists) { ++it->part; it->i = 0; continue; }
      if (!rows || !rows[r].key || shared_earlier(it->part, t)) { it->i = (t + 1) * 64; continue; }
      ++it->i;
      if (owner_unread) {
        const DcCompressorType* run_ct = s ? dc_compressor_type(s->sketch.kind) : NULL;
        const DcMethodType* run_mt = s ? dc_method_type(s->method) : NULL;
        *owner_unread = NULL;
        if (s && it->part == 2 && (!run_ct || run_ct->options != rows || sketched(p, s))) {
          snprintf(why_buf, sizeof why_buf, "read with sketch %s", readers_of(2, rows));
          *owner_unread = why_buf;
        } else if (s && it->part == 3 && (!run_mt || run_mt->options != rows)) {
          snprintf(why_buf, sizeof why_buf, "read by method %s", readers_of(3, rows));
          *owner_unread = why_buf;
        }
      }
      return &rows[r];
    }
    if (!rows) return NULL;
    if (!rows[it->i].key) { ++it->part; it->i = 0; continue; }
    if (owner_unread) *owner_unread = NULL;
    return &rows[it->i++];
  }
}

const DcOption* dc_option_find(const char* key) {
  DcOptionIter it = {0, 0};
  const DcOption* o;
  while ((o = dc_option_next(&it, NULL, NULL, NULL)))
    if (!strcmp(o->key, key)) return o;
  return NULL;
}

const char* dc_option_unread(const DcOption* o, const DetcgdProblemSpec* p, const DetcgdSettings* s, unsigned command) {
  DcOptionIter it = {0, 0};
  const DcOption* r;
  const char* owner = NULL;
  if (!(o->commands & command)) {
    static const char* const names[] = {"run", "theory", "experiment"};
    int i, n = 0;
    strcpy(why_buf, "read by ");
    for (i = 0; i < 3; ++i)
      if (o->commands & (1u << i)) {
        if (n++) strncat(why_buf, " and ", sizeof why_buf - strlen(why_buf) - 1);
        strncat(why_buf, names[i], sizeof why_buf - strlen(why_buf) - 1);
      }
    return why_buf;
  }
  if (!s) return NULL; /* the command alone */
  while ((r = dc_option_next(&it, p, s, &owner)) && r != o) {}
  if (owner) return owner;
  return o->unread ? o->unread(p, s) : NULL;
}

/* ==== One row: parse, format, default, range ==== */

static void* field(const DcOption* o, DetcgdProblemSpec* p, DetcgdSettings* s) {
  return (char*)(o->in == DC_IN_PROBLEM ? (void*)p : (void*)s) + o->offset;
}

static const void* cfield(const DcOption* o, const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  return (const char*)(o->in == DC_IN_PROBLEM ? (const void*)p : (const void*)s) + o->offset;
}

/* "[lo, hi]", "(lo, hi]", "[lo, inf)" for an error message */
static void range_text(const DcOption* o, char* out, size_t n) {
  char lo[32], hi[32];
  if (o->lo <= -DBL_MAX) strcpy(lo, "-inf"); else snprintf(lo, sizeof lo, "%.17g", o->lo);
  if (o->hi >= DBL_MAX || (o->type == DC_OPT_I64 && o->hi >= I64MAX)) strcpy(hi, "inf");
  else snprintf(hi, sizeof hi, "%.17g", o->hi);
  snprintf(out, n, "%s%s, %s%s", o->flags & DC_OPT_LO_OPEN ? "(" : "[", lo, hi, strcmp(hi, "inf") ? "]" : ")");
}

static int in_range(const DcOption* o, double v) {
  if (isnan(v)) return (o->flags & DC_OPT_NAN_OK) != 0;
  if ((o->flags & DC_OPT_LO_OPEN) ? !(v > o->lo) : !(v >= o->lo)) return 0;
  return v <= o->hi;
}

static int out_of_range(const DcOption* o, const char* value) {
  char r[96];
  range_text(o, r, sizeof r);
  return dc_fail(DETCGD_ERR_ARG, "%s: %s is out of range %s", o->key, value, r);
}

static int parse_names(const DcOption* o, const char* v, int* out) {
  char list[512] = "";
  int i;
  for (i = 0; o->names[i]; ++i)
    if (!strcmp(v, o->names[i])) { *out = i; return DETCGD_OK; }
  for (i = 0; o->names[i]; ++i) {
    if (i) strncat(list, ", ", sizeof list - strlen(list) - 1);
    strncat(list, o->names[i], sizeof list - strlen(list) - 1);
  }
  return dc_fail(DETCGD_ERR_ARG, "%s: unknown value \"%s\" (one of: %s)", o->key, v, list);
}

/* A method or compressor by name, from its registry; an unknown one is named with the list. */
static int parse_registered(const DcOption* o, const char* v, int* out) {
  char names[512];
  if (o->type == DC_OPT_METHOD) {
    const DcMethodType* m = dc_method_find(v);
    if (m) { *out = m->id; return DETCGD_OK; }
    dc_method_list(names, sizeof names);
  } else {
    const DcCompressorType* t = dc_compressor_find(v);
    if (t) { *out = t->kind; return DETCGD_OK; }
    dc_compressor_list(names, sizeof names);
  }
  return dc_fail(DETCGD_ERR_ARG, "%s: unknown value \"%s\" (one of: %s)", o->key, v, names);
}

static int parse_integer(const DcOption* o, const char* v, int64_t* out) {
  char* end;
  long long x;
  errno = 0;
  x = strtoll(v, &end, 10);
  if (end == v || *end != '\0' || errno) return dc_fail(DETCGD_ERR_ARG, "%s: \"%s\" is not an integer", o->key, v);
  if (!in_range(o, (double)x)) return out_of_range(o, v);
  *out = x;
  return DETCGD_OK;
}

/* Length of the valid UTF-8 sequence at s (0: not valid): what JSON readers of the summary accept. */
static int utf8_length(const unsigned char* s) {
  int n = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0, i;
  if (n == 0 || (n == 2 && s[0] < 0xC2) || (n == 4 && s[0] > 0xF4)) return 0;
  for (i = 1; i < n; ++i)
    if ((s[i] & 0xC0) != 0x80) return 0;
  if (n == 3 && ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0))) return 0; /* overlong, surrogates */
  if (n == 4 && ((s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90))) return 0;
  return n;
}

static int parse_bool(const DcOption* o, const char* v, int* out) {
  if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on")) { *out = 1; return DETCGD_OK; }
  if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off")) { *out = 0; return DETCGD_OK; }
  return dc_fail(DETCGD_ERR_ARG, "%s: \"%s\" is not a boolean (1/0, true/false)", o->key, v);
}

int dc_option_set(const DcOption* o, DetcgdProblemSpec* p, DetcgdSettings* s, const char* v) {
  void* f = field(o, p, s);
  switch (o->type) {
    case DC_OPT_INT: case DC_OPT_I64: {
      int64_t x = 0;
      int st = parse_integer(o, v, &x);
      if (st != DETCGD_OK) return st;
      if (o->type == DC_OPT_INT) *(int*)f = (int)x;
      else *(int64_t*)f = x;
      return DETCGD_OK;
    }
    case DC_OPT_U64: {
      char* end;
      unsigned long long x;
      errno = 0;
      if (*v == '-') return dc_fail(DETCGD_ERR_ARG, "%s: \"%s\" must be a non-negative integer", o->key, v);
      x = strtoull(v, &end, 10);
      if (end == v || *end != '\0' || errno)
        return dc_fail(DETCGD_ERR_ARG, "%s: \"%s\" is not a non-negative integer", o->key, v);
      *(uint64_t*)f = x;
      return DETCGD_OK;
    }
    case DC_OPT_DOUBLE: {
      char* end;
      double x;
      errno = 0;
      x = strtod(v, &end);
      if (end == v || *end != '\0' || errno == ERANGE) return dc_fail(DETCGD_ERR_ARG, "%s: \"%s\" is not a number", o->key, v);
      if (!in_range(o, x)) return out_of_range(o, v);
      *(double*)f = x;
      return DETCGD_OK;
    }
    case DC_OPT_BOOL: return parse_bool(o, v, (int*)f);
    case DC_OPT_ENUM: return parse_names(o, v, (int*)f);
    case DC_OPT_METHOD: case DC_OPT_COMPRESSOR: return parse_registered(o, v, (int*)f);
    case DC_OPT_STRING: {
      const char* c;
      if (strlen(v) >= o->size) return dc_fail(DETCGD_ERR_ARG, "%s: value longer than %zu characters", o->key, o->size - 1);
      for (c = v; *c;) { /* a value is one line of a config file, a checkpoint's configuration, a summary (UTF-8) */
        int n = utf8_length((const unsigned char*)c);
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
          return dc_fail(DETCGD_ERR_ARG, "%s: a control character (code %d) in the value", o->key, (unsigned char)*c);
        if (!n) return dc_fail(DETCGD_ERR_ARG, "%s: byte %d of the value is not UTF-8", o->key, (int)(c - v) + 1);
        c += n;
      }
      strcpy((char*)f, v);
      return DETCGD_OK;
    }
    default: return dc_fail(DETCGD_ERR_INTERNAL, "%s: row of unknown type %d", o->key, o->type);
  }
}

void dc_option_format(const DcOption* o, const DetcgdProblemSpec* p, const DetcgdSettings* s, char* out, size_t n) {
  const void* f = cfield(o, p, s);
  switch (o->type) {
    case DC_OPT_INT: snprintf(out, n, "%d", *(const int*)f); break;
    case DC_OPT_BOOL: snprintf(out, n, "%d", *(const int*)f != 0); break;
    case DC_OPT_I64: snprintf(out, n, "%lld", (long long)*(const int64_t*)f); break;
    case DC_OPT_U64: snprintf(out, n, "%llu", (unsigned long long)*(const uint64_t*)f); break;
    case DC_OPT_DOUBLE: {
      double v = *(const double*)f;
      if (isnan(v)) snprintf(out, n, "nan");
      else snprintf(out, n, "%.17g", v);
      break;
    }
    case DC_OPT_ENUM: snprintf(out, n, "%s", name_of(o->names, *(const int*)f)); break;
    case DC_OPT_METHOD: snprintf(out, n, "%s", detcgd_method_name(*(const int*)f)); break;
    case DC_OPT_COMPRESSOR: snprintf(out, n, "%s", detcgd_sketch_name(*(const int*)f)); break;
    case DC_OPT_STRING: snprintf(out, n, "%s", (const char*)f); break;
    default: snprintf(out, n, "?"); break;
  }
}

void dc_options_default(int in, DetcgdProblemSpec* p, DetcgdSettings* s) {
  DcOptionIter it = {0, 0};
  const DcOption* o;
  while ((o = dc_option_next(&it, NULL, NULL, NULL)))
    if (o->in == in && dc_option_set(o, p, s, o->dflt) != DETCGD_OK) /* a default outside its own range */
      dc_log(DETCGD_LOG_ERROR, "detcgd: option table: %s\n", detcgd_last_error());
}

int dc_options_check(int in, const DetcgdProblemSpec* p, const DetcgdSettings* s) {
  DcOptionIter it = {0, 0};
  const DcOption* o;
  const char* owner;
  while ((o = dc_option_next(&it, p, s, &owner))) {
    const void* f;
    double v;
    char text[64];
    if (o->in != in || owner || (o->unread && o->unread(p, s))) continue;
    f = cfield(o, p, s);
    switch (o->type) {
      case DC_OPT_INT: v = *(const int*)f; break;
      case DC_OPT_I64: v = (double)*(const int64_t*)f; break;
      case DC_OPT_DOUBLE: v = *(const double*)f; break;
      case DC_OPT_BOOL: case DC_OPT_ENUM: {
        int x = *(const int*)f, n = o->type == DC_OPT_BOOL ? 2 : count_names(o->names);
        if (x < 0 || x >= n) return dc_fail(DETCGD_ERR_ARG, "%s: unknown value %d", o->key, x);
        continue;
      }
      default: continue; /* methods and compressors: their registries check them */
    }
    if (in_range(o, v)) continue;
    dc_option_format(o, p, s, text, sizeof text);
    return out_of_range(o, text);
  }
  return DETCGD_OK;
}

size_t dc_option_append_line(const DcOption* o, const char* value, char* out, size_t n, size_t len) {
  int w = snprintf(len < n ? out + len : NULL, len < n ? n - len : 0, "%s = %s\n", o->key, value);
  return w > 0 ? len + (size_t)w : len;
}

size_t dc_options_state_text(const DetcgdProblemSpec* p, const DetcgdSettings* s, char* out, size_t n) {
  DcOptionIter it = {0, 0};
  const DcOption* o;
  size_t len = 0;
  if (n > 0) out[0] = '\0';
  while ((o = dc_option_next(&it, NULL, NULL, NULL))) {
    char v[DETCGD_LIST_MAX + 64];
    if ((o->flags & DC_OPT_NO_STATE) || dc_option_unread(o, p, s, DETCGD_CMD_RUN)) continue;
    dc_option_format(o, p, s, v, sizeof v);
    len = dc_option_append_line(o, v, out, n, len);
  }
  return len;
}

/* ==== Help ==== */

/* What a row's value looks like: "a|b|c", "N", "X", "0|1", "TEXT". */
static void value_shape(const DcOption* o, char* out, size_t n) {
  int i;
  out[0] = '\0';
  switch (o->type) {
    case DC_OPT_INT: case DC_OPT_I64: case DC_OPT_U64: snprintf(out, n, "N"); break;
    case DC_OPT_DOUBLE: snprintf(out, n, "X"); break;
    case DC_OPT_BOOL: snprintf(out, n, "0|1"); break;
    case DC_OPT_STRING: snprintf(out, n, "TEXT"); break;
    case DC_OPT_METHOD: case DC_OPT_COMPRESSOR: {
      char list[512], *c;
      if (o->type == DC_OPT_METHOD) dc_method_list(list, sizeof list);
      else dc_compressor_list(list, sizeof list);
      for (c = list; *c; ++c) /* "a, b" -> "a|b" */
        if (*c == ',') { *c = '|'; memmove(c + 1, c + 2, strlen(c + 2) + 1); }
      snprintf(out, n, "%s", list);
      break;
    }
    case DC_OPT_ENUM:
      for (i = 0; o->names[i]; ++i) {
        if (i) strncat(out, "|", n - strlen(out) - 1);
        strncat(out, o->names[i], n - strlen(out) - 1);
      }
      break;
    default: break;
  }
}

void dc_options_help(FILE* f) {
  const char* groups[32];
  int ngroups = 0, g;
  DcOptionIter it = {0, 0};
  const DcOption* o;
  while ((o = dc_option_next(&it, NULL, NULL, NULL))) { /* the groups in order of first appearance */
    for (g = 0; g < ngroups && strcmp(groups[g], o->group); ++g) {}
    if (g == ngroups && ngroups < 32) groups[ngroups++] = o->group;
  }
  for (g = 0; g < ngroups; ++g) {
    fprintf(f, "%s:\n", groups[g]);
    it.part = it.i = 0;
    while ((o = dc_option_next(&it, NULL, NULL, NULL))) {
      char shape[512], key[640];
      if (strcmp(o->group, groups[g])) continue;
      value_shape(o, shape, sizeof shape);
      snprintf(key, sizeof key, "--%s %s", o->key, shape);
      if (strlen(key) > 34) fprintf(f, "  %s\n  %-34s %s", key, "", o->help);
      else fprintf(f, "  %-34s %s", key, o->help);
      if (o->dflt[0]) fprintf(f, " [%s]", o->dflt);
      fprintf(f, "\n");
    }
  }
}
