/*
 * detcgd.h -- the one public header of libdetcgd.
 *
 * Compressed gradient descent with matrix stepsizes (det-CGD1 / det-CGD2,
 * Li, Karagulyan, Richtarik, ICLR 2024) and its baselines:
 *
 *   det-CGD1:  x+ = x - D S grad f(x)       det-CGD2:  x+ = x - T D grad f(x)
 *
 * with D = Diag(D_1..D_l) a block-diagonal stepsize and S, T random sketches
 * with E[S] = I, block-diagonal by layer.
 *
 * Lifecycle (the caller keeps ownership of everything it passes in):
 *   DetcgdProblem* p;  detcgd_problem_create(&p, &problem_spec);
 *   DetcgdSolver*  s;  detcgd_create(&s, p, &settings);
 *   detcgd_run(s);     detcgd_get_result(s, &result);
 *   detcgd_destroy(&s); detcgd_problem_destroy(&p);
 *
 * Every function returns a DetcgdStatus (DETCGD_OK = 0); detcgd_last_error()
 * holds the message of the last failure on this thread.  Precision is double.
 */
#ifndef DETCGD_H
#define DETCGD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DETCGD_VERSION "0.1.0"
#define DETCGD_PATH_MAX 512
#define DETCGD_LIST_MAX 1024

/* ==== Status codes and termination reasons ==== */

typedef enum DetcgdStatus {
  DETCGD_OK = 0,
  DETCGD_ERR_ARG,       /* invalid setting or argument (the message names it) */
  DETCGD_ERR_ALLOC,     /* out of host or device memory */
  DETCGD_ERR_IO,        /* cannot read or write a file */
  DETCGD_ERR_PARSE,     /* malformed input file (the message gives file:line) */
  DETCGD_ERR_NUMERIC,   /* non-SPD matrix, LAPACK failure, NaN in setup */
  DETCGD_ERR_CERT,      /* a stepsize fails its condition (7)/(8) and is not forced */
  DETCGD_ERR_NO_DEVICE, /* CUDA requested but not compiled in or no device */
  DETCGD_ERR_CUDA,      /* a CUDA / cuBLAS / cuSOLVER call failed */
  DETCGD_ERR_INTERNAL
} DetcgdStatus;

typedef enum DetcgdTermination {
  DETCGD_TERM_NONE = 0,  /* not run yet */
  DETCGD_TERM_MAX_ITER,  /* K iterations done */
  DETCGD_TERM_TARGET_G,  /* G_{K,D} <= target at a trace point */
  DETCGD_TERM_TIME,      /* time limit reached */
  DETCGD_TERM_NONFINITE, /* NaN/Inf found at a trace point; trace kept */
  DETCGD_TERM_INTERRUPTED /* detcgd_request_stop (a signal): stopped after an iteration, summary and checkpoint written */
} DetcgdTermination;

const char* detcgd_status_str(int status);
const char* detcgd_termination_str(int term);
/* Message of the last failed call on this thread ("" if none). */
const char* detcgd_last_error(void);

/* Asks every run of this process to stop after its current iteration (termination "interrupted": the trace,
 * the summary and, with a checkpoint path, a checkpoint a resumed run continues from are written).  Safe to
 * call from a signal handler.  The request stays until detcgd_clear_stop(): later runs stop at once. */
void detcgd_request_stop(void);
void detcgd_clear_stop(void);
int detcgd_stop_requested(void);

/* ==== Logging ==== */

typedef enum DetcgdLogLevel {
  DETCGD_LOG_ERROR = 0, DETCGD_LOG_WARN, DETCGD_LOG_INFO, DETCGD_LOG_DEBUG
} DetcgdLogLevel;

/* All console output goes through this sink (default: stderr for errors and
 * warnings, stdout otherwise).  NULL restores the default. */
typedef void (*DetcgdLogFn)(int level, const char* msg, void* user);
void detcgd_set_log(DetcgdLogFn fn, void* user, int max_level);

/* ==== Problems ==== */

typedef enum DetcgdProblemKind {
  DETCGD_PROBLEM_LOGREG_NC = 0, /* (1/N) sum log(1+exp(-b a^T x)) + lam sum x^2/(1+x^2) */
  DETCGD_PROBLEM_QUAD_NC,       /* sum_i 1/2 (x_i-c_i)^T A_i (x_i-c_i) + lam sum x^2/(1+x^2) */
  DETCGD_PROBLEM_POLY_NC        /* sum_j a_j x_j^4 + lam sum x^2/(1+x^2): (L0,L1)-smooth, not L-smooth */
} DetcgdProblemKind;

typedef struct DetcgdProblemSpec {
  int kind;                       ///< DetcgdProblemKind; default LOGREG_NC
  char data_path[DETCGD_PATH_MAX];///< LIBSVM file for logreg-nc; default ""
  int features;                   ///< d for logreg-nc; 0 = largest index in the file
  int64_t samples;                ///< logreg-nc without a file: N synthetic rows (planted logistic model); 0 = read data
  double density;                 ///< synthetic rows: fraction of the d entries kept per row; default 1
  int data_precision;             ///< DetcgdPrecision of the data (logreg-nc's values, quad-nc's A_i): FP32 rounds them
                                  ///< to float (the problem is then the rounded data; CUDA stores quad-nc's A and dense
                                  ///< enough rows as floats); default FP64
  double lambda;                  ///< regulariser weight; default 0.3
  double l2;                      ///< logreg-nc: mu of the convex term (mu/2) ||x||^2 on every f_c; default 0
  char layers[DETCGD_LIST_MAX];   ///< layer widths "64,32,32" or "16x64" (16 layers of 64); "" = one layer
  int nlayers;                    ///< logreg-nc: split d into this many near-equal layers; 0 = use `layers`
  /* quad-nc and poly-nc generators */
  double spec_min;                ///< smallest eigenvalue of each A_i (poly-nc: smallest a_j); default 0.01
  double spec_max;                ///< largest eigenvalue of each A_i (poly-nc: largest a_j); default 1
  double diag_dominance;          ///< A_i = a Diag(s) + (1-a) Q Lambda Q^T, a in [0,1]; default 0.5
  double center_scale;            ///< c_i ~ N(0, center_scale^2); default 1
  double poly_radius;             ///< poly-nc: L = Diag(12 a_j R^2 + 2 lam) holds on the box |x_j| <= R; default 30
  double poly_l1;                 ///< poly-nc: the L_1 of the reported (L_0, L_1) pair (any L_1 > 0 has its L_0); default 3
  uint64_t seed;                  ///< generator seed (quad-nc and poly-nc data, shuffled split); default 1
  /* distributed: f = (1/n) sum_c f_c, client c holding a share of the rows (logreg-nc) */
  int clients;                    ///< n clients; 0 = single node; default 0
  int split;                      ///< DetcgdSplit; default CONTIGUOUS
} DetcgdProblemSpec;

typedef enum DetcgdSplit {
  DETCGD_SPLIT_CONTIGUOUS = 0, /* client c gets rows [c N/n, (c+1) N/n) in file order (the paper's) */
  DETCGD_SPLIT_SHUFFLED,       /* rows permuted by the problem seed first */
  DETCGD_SPLIT_LABEL_SKEW      /* rows sorted by label first: heterogeneous clients */
} DetcgdSplit;

typedef struct DetcgdProblem DetcgdProblem;

void detcgd_problem_spec_default(DetcgdProblemSpec* spec);
/* key = value setter for the CLI and config files ("lambda", "layers", ...). */
int detcgd_problem_spec_set(DetcgdProblemSpec* spec, const char* key, const char* value);
/* 1 if `key` is a problem option (for callers that route keys of one config file). */
int detcgd_is_problem_key(const char* key);
int detcgd_problem_create(DetcgdProblem** out, const DetcgdProblemSpec* spec);

/* A logreg-nc dataset in the caller's memory: CSR rows (indptr, indices, values, as SciPy's csr_matrix holds them)
 * or, with indptr = NULL, dense rows (values row-major, nrows * ncols; zeros dropped). Labels take any two values
 * (the larger maps to +1, the smaller to -1). Everything is copied: the arrays may be freed after the call. */
typedef struct DetcgdData {
  int64_t nrows;          ///< N samples
  int64_t ncols;          ///< d features (spec.features, when > 0, must equal it)
  const int64_t* indptr;  ///< CSR: nrows + 1 offsets from 0; NULL: dense rows
  const int32_t* indices; ///< CSR: 0-based columns, increasing within a row
  const double* values;   ///< CSR: indptr[nrows] values; dense: nrows * ncols, row-major
  const double* labels;   ///< nrows labels
} DetcgdData;
/* Reads a LIBSVM file (plain or gzip) into arrays the library allocates: CSR rows, labels mapped to -1 / +1, ncols =
 * the largest index; free them with detcgd_data_free. Errors name the file and line. */
int detcgd_read_libsvm(const char* path, DetcgdData* out);
void detcgd_data_free(DetcgdData* data);
/* logreg-nc on `data` with the rest of spec (lambda, l2, layers, nlayers, data_precision, clients, split, seed);
 * spec.kind must be LOGREG_NC, with no data_path and samples = 0. Errors name the row and column (0-based). */
int detcgd_problem_from_data(DetcgdProblem** out, const DetcgdProblemSpec* spec, const DetcgdData* data);
void detcgd_problem_destroy(DetcgdProblem** p);

typedef struct DetcgdProblemInfo {
  int64_t dim;          ///< d
  int nlayers;          ///< l
  int64_t nsamples;     ///< N (logreg-nc), 0 for quad-nc
  int64_t nnz;          ///< nonzeros of A (logreg-nc)
  double lmax;          ///< lambda_max of the block-diagonal smoothness bound
  double block_bound_c; ///< c with L <= c Blockdiag(L_ii) (1 when l = 1 or quad-nc)
  double L0, L1;        ///< (L0, L1)-smoothness ||Hess f(x)|| <= L0 + L1 ||grad f(x)|| (quad-nc: L0 = lmax, L1 = 0)
  double mu;            ///< strong convexity Hess f >= mu I of every f_c (derived: l2 or spec-min, less lambda / 2);
                        ///< 0 when none is known (poly-nc; or lambda / 2 exceeds it)
} DetcgdProblemInfo;
int detcgd_problem_info(const DetcgdProblem* p, DetcgdProblemInfo* info);
/* Width of layer i (0-based). */
int detcgd_problem_layer_size(const DetcgdProblem* p, int i);
/* f(x) and grad f(x) on the host (reference evaluation; g may be NULL). */
int detcgd_problem_eval(const DetcgdProblem* p, const double* x, double* f, double* g);
/* Smoothness block i, dense column-major into out (layer_size^2 doubles). */
int detcgd_problem_smoothness_block(const DetcgdProblem* p, int i, double* out);

/* ==== Settings ==== */

typedef enum DetcgdMethod {
  DETCGD_METHOD_GD = 0,
  DETCGD_METHOD_DET1,
  DETCGD_METHOD_DET2,
  DETCGD_METHOD_SIGN,       /* sign GD: x - eta sign(grad f(x)) */
  DETCGD_METHOD_SCALED_SIGN, /* l-inf steepest descent: x - (||grad f(x)||_1 / L_inf) sign(grad f(x)) */
  DETCGD_METHOD_EF21,        /* EF21 (Richtarik, Sokolov, Fatkhullin): x - gamma g, g_c += C(grad f_c - g_c) */
  DETCGD_METHOD_EF21_NORM,   /* normalized EF21 (Khirirat et al.): x - gamma_k g / ||g|| */
  DETCGD_METHOD_EF14,        /* classic error feedback: v_c = C(e_c + gamma grad f_c), x - mean v_c */
  DETCGD_METHOD_SIGN_VOTE,   /* signSGD with majority vote: x - delta sign(sum_c sign(grad f_c)) */
  DETCGD_METHOD_SIGNUM,      /* Signum (Bernstein et al.): m = beta m + (1 - beta) g, x - delta sign(m) */
  DETCGD_METHOD_EF21_SGDM,   /* EF21-SGDM: v_c = (1 - eta) v_c + eta g_c, g_c += C(v_c - g_c), x - gamma g */
  DETCGD_METHOD_EF21_SGDM_NORM, /* ||EF21-SGDM|| (Khirirat et al.): the same, x - gamma g / ||g|| */
  DETCGD_METHOD_EF21_HB,     /* EF21 with the server's heavy ball: v = beta v + g, x - gamma (1 - beta) v */
  DETCGD_METHOD_DCGD,        /* DCGD with a prox: x - gamma mean_c C(grad f_c), then prox_{gamma R} (C unbiased) */
  DETCGD_METHOD_DIANA,       /* DIANA: m_c = C(grad f_c - h_c), h_c += alpha m_c, x - gamma (h + mean m_c), prox */
  DETCGD_METHOD_MARINA,      /* MARINA: shared coin; sync rounds send grad f_c, else C(grad f_c(x^k) - grad f_c(x^{k-1})) */
  DETCGD_METHOD_DASHA,       /* DASHA: m_c = C(grad f_c - h_c - a (g_c - h_c)), g_c += m_c, x - gamma mean g_c */
  DETCGD_METHOD_SEGA,        /* SEGA: h += Z (grad f - h), x = prox(x - gamma (h + S (grad f - h))) (single node) */
  DETCGD_METHOD_VR_DIANA,    /* VR-DIANA: DIANA on the clients' L-SVRG estimators of their minibatch gradients */
  DETCGD_METHOD_DET_MARINA,  /* det-MARINA: MARINA with x - D g, D = gamma W (derived condition) */
  DETCGD_METHOD_DET_DASHA,   /* det-DASHA: DASHA with x - D g, D = gamma W (a given gamma: no theory) */
  DETCGD_METHOD_DASHA_PAGE   /* DASHA-PAGE: DASHA whose h_c is PAGE's minibatch estimator */
} DetcgdMethod;

typedef enum DetcgdSketchKind {
  DETCGD_SKETCH_IDENTITY = 0, /* S = I */
  DETCGD_SKETCH_RANDK,        /* k of m coordinates without replacement, scale m/k */
  DETCGD_SKETCH_RAND1,        /* rand-k with k = 1 */
  DETCGD_SKETCH_IMPORTANCE1,  /* one coordinate j with prob p_j, scale 1/p_j */
  DETCGD_SKETCH_BERNOULLI,    /* each coordinate independently with prob p, scale 1/p */
  DETCGD_SKETCH_BERNQ,        /* the whole layer i with prob q_i, scale 1/q_i ("lazy" Bernoulli) */
  /* compressors of the values (not linear sketches: refused by det-CGD, which needs E[S A S]) */
  DETCGD_SKETCH_TOPK,         /* the k largest |x_j| of every layer, unscaled; ties to the lower index */
  DETCGD_SKETCH_RANDK_C,      /* rand-k unscaled, (k/m) rand-k: contractive, alpha = k/m */
  DETCGD_SKETCH_SIGN,         /* sign(x_j), sign(0) = +1 */
  DETCGD_SKETCH_SCALED_SIGN,  /* (||x_i||_1 / d_i) sign(x_j) */
  DETCGD_SKETCH_QSGD,         /* random dithering with s levels of |x_j| / ||x_i||_2 */
  DETCGD_SKETCH_NATURAL       /* x_j rounded to a power of two, unbiasedly */
} DetcgdSketchKind;

typedef enum DetcgdStepsizeKind {
  DETCGD_STEP_GD = 0,    /* D = I / lambda_max(L) */
  DETCGD_STEP_CGD_SCALAR,/* D = gamma I, gamma = 1/(lambda_max(L) lambda_max(E[S^2])) */
  DETCGD_STEP_CGD_MAT,   /* D = gamma I, gamma = 1/max_i lambda_max(E[S_i L_i S_i]) */
  DETCGD_STEP_DET2_OPT,  /* D_i = (E[T_i L_i T_i])^{-1}, the det-CGD2 optimum (12) */
  DETCGD_STEP_THM2,      /* D_i = gamma_i W_i, Theorem 2 (det-CGD1) */
  DETCGD_STEP_USER,      /* read from stepsize.file */
  DETCGD_STEP_COR1,      /* distributed: D = gamma W, gamma from Corollary 1 */
  DETCGD_STEP_DCGD_KR,   /* distributed: D = gamma I, scalar DCGD (Khaled & Richtarik 2020) */
  DETCGD_STEP_TABLE1     /* D_i = (k_i/d_i) diag^{-1}(L_i) for rand-k: Table 1 row 8's gamma, not Theorem 2's (it
                          * meets (7) for k = 1 only; the certificate says by how much it misses) */
} DetcgdStepsizeKind;

typedef enum DetcgdWeight {
  DETCGD_W_IDENTITY = 0, /* W_i = I */
  DETCGD_W_DIAG_INV,     /* W_i = diag(L_i)^{-1} */
  DETCGD_W_INV,          /* W_i = L_i^{-1} */
  DETCGD_W_INV_SQRT      /* W_i = L_i^{-1/2} */
} DetcgdWeight;

typedef enum DetcgdPrecision {
  DETCGD_PREC_FP64 = 0,  /* D's entries in double */
  DETCGD_PREC_FP32       /* D's entries rounded to float; dense blocks stored as float (half the bytes) */
} DetcgdPrecision;

/* Where the dense stepsize blocks, their certificates and log det are computed. */
typedef enum DetcgdSetupPlace {
  DETCGD_SETUP_AUTO = 0, /* on the backend where it can (CUDA: quad-nc with det2-opt or thm2 inv|inv-sqrt), else host */
  DETCGD_SETUP_HOST      /* LAPACK on the host's cores, then uploaded */
} DetcgdSetupPlace;

typedef enum DetcgdImportance { DETCGD_IMP_LII = 0, DETCGD_IMP_UNIFORM } DetcgdImportance;

/* Which iterates G_{K,D}, the average of ||grad f(x^k)||^2_{D/det(D)^{1/d}}, is taken over. */
typedef enum DetcgdGkdPoints {
  DETCGD_GKD_EVERY = 0, /* every k: Theorem 1's quantity exactly (reads all of D every iteration) */
  DETCGD_GKD_TRACE      /* the trace points only: an estimate, D read in full only there */
} DetcgdGkdPoints;

/* Whether the summary holds the l-infinity geometry of Diag(L_i) (detcgd_geometry: an eigen-decomposition per layer). */
typedef enum DetcgdGeometryReport {
  DETCGD_GEOMETRY_AUTO = 0, /* when d <= 10^5 */
  DETCGD_GEOMETRY_ON,
  DETCGD_GEOMETRY_OFF
} DetcgdGeometryReport;

/* The error-feedback methods' start: what the clients' estimates g_c^0 are. */
typedef enum DetcgdEfInit {
  DETCGD_EF_INIT_COMPRESSED = 0, /* g_c^{-1} = 0: round 0 sends C(grad f_c(x^0)) like any round (the paper's suggestion) */
  DETCGD_EF_INIT_GRADIENT        /* g_c^0 = grad f_c(x^0), sent in full before round 0 (the official code), counted */
} DetcgdEfInit;

/* R of min f + R, applied as prox_{gamma R} after the server step by the methods that take one (dcgd, diana). */
typedef enum DetcgdProx {
  DETCGD_PROX_NONE = 0, /* R = 0 */
  DETCGD_PROX_L1,       /* R = lambda_1 ||x||_1: soft threshold at gamma lambda_1 */
  DETCGD_PROX_BOX,      /* R = indicator of |x_j| <= r: clip */
  DETCGD_PROX_BALL      /* R = indicator of ||x||_2 <= r: x min(1, r / ||x||) */
} DetcgdProx;

/* Whether a run computes x* and f* of f + R first (strongly convex problems): f^inf = f*, and the trace's dist2. */
typedef enum DetcgdOptimum { DETCGD_OPTIMUM_NONE = 0, DETCGD_OPTIMUM_SOLVE } DetcgdOptimum;

typedef enum DetcgdBackendKind { DETCGD_BACKEND_AUTO = 0, DETCGD_BACKEND_CPU, DETCGD_BACKEND_CUDA } DetcgdBackendKind;

typedef struct DetcgdSketchSettings {
  int kind;                     ///< DetcgdSketchKind; default RAND1
  int k;                        ///< rand-k: coordinates per layer; default 1
  double k_ratio;               ///< rand-k: k_i = ceil(k_ratio d_i) if > 0; default 0
  char k_list[DETCGD_LIST_MAX]; ///< rand-k: "k_1,k_2,..." per layer, overrides k; default ""
  double p;                     ///< Bernoulli: keep probability; default 0.5
  double q;                     ///< Bern-q: layer keep probability; default 0.5
  char q_list[DETCGD_LIST_MAX]; ///< Bern-q: "q_1,q_2,..." per layer; default ""
  int importance;               ///< importance rand-1 probabilities: DetcgdImportance; default LII
  int levels;                   ///< QSGD: s, levels of |x_j| / ||x||_2; default 1
} DetcgdSketchSettings;

typedef struct DetcgdStepsizeSettings {
  int kind;                      ///< DetcgdStepsizeKind; default DET2_OPT
  int weight;                    ///< W for THM2: DetcgdWeight; default DIAG_INV
  char file[DETCGD_PATH_MAX];    ///< USER: d numbers (diagonal) or sum d_i^2 (dense blocks, column-major)
  double scale;                  ///< D is multiplied by this after construction; default 1
  int force;                     ///< 1 = run even if the certificate exceeds 1; default 0
  int precision;                 ///< DetcgdPrecision; certificates are those of the D actually applied; default FP64
  int setup;                     ///< DetcgdSetupPlace; default AUTO
} DetcgdStepsizeSettings;

typedef struct DetcgdTermSettings {
  int64_t max_iter;  ///< K; default 1000
  double target_g;   ///< stop when G_{K,D} <= target at a trace point; 0 = off
  double time_limit; ///< seconds; 0 = none
} DetcgdTermSettings;

typedef struct DetcgdOutputSettings {
  char trace_path[DETCGD_PATH_MAX];   ///< CSV trace; "" = none
  char summary_path[DETCGD_PATH_MAX]; ///< JSON summary; "" = none
  int64_t trace_every;                ///< trace row every t iterations (and the last); default 10
  int verbose;                        ///< 0 quiet, 1 banner+table+summary, 2 debug; default 1
  int progress;                       ///< 1 = progress line on stderr when it is a terminal; default 1
  char label[128];                    ///< run label shown in plots; default "" (method/sketch/stepsize)
  char checkpoint_path[DETCGD_PATH_MAX]; ///< checkpoint file written every checkpoint_every iterations; "" = none
  int64_t checkpoint_every;           ///< iterations between checkpoints; default 1000
  char resume_path[DETCGD_PATH_MAX];  ///< resume from this checkpoint (trace rows after it are rewritten); "" = none
  int profile;                        ///< 1 = time every phase (waits for the device after each); default 0
  int gkd_points;                     ///< DetcgdGkdPoints: G_{K,D} over every iterate or the trace points; default EVERY
  int geometry;                       ///< DetcgdGeometryReport: the summary's l-inf geometry; default AUTO
} DetcgdOutputSettings;

typedef struct DetcgdCommSettings {
  int value_bits;  ///< 32 or 64 bits per sent value; default 32
  int shared_seed; ///< 1 = server regenerates indices from the shared seed (values only); default 0
} DetcgdCommSettings;

typedef enum DetcgdDistMode { DETCGD_DIST_SIM = 0, DETCGD_DIST_MPI } DetcgdDistMode;

/* Delta^inf = f^inf - (1/n) sum_c f_c^inf of Corollary 1 (and of scalar DCGD's stepsize). */
typedef enum DetcgdDeltaInf {
  DETCGD_DELTA_ESTIMATE = 0, /* f^inf less the mean of the clients' GD estimates f_c^inf (clamped at 0) */
  DETCGD_DELTA_CERTIFIED     /* f^inf itself: every f_c >= 0, so an upper bound (a smaller, safe gamma) */
} DetcgdDeltaInf;

typedef struct DetcgdDistSettings {
  int mode;           ///< DetcgdDistMode: all clients simulated in this process, or one MPI rank per client block; default SIM
  double epsilon2;    ///< eps^2 of Corollary 1 / the DCGD stepsize; default 1e-4
  int delta_inf;      ///< DetcgdDeltaInf: how Delta^inf is obtained; default ESTIMATE
  double rank_timeout; ///< MPI: seconds a rank waits for another's message or broadcast before it ends the job; 0 = forever; default 600
  char fault[64];     ///< testing aid: "RANK:ITER:die" (the run fails at ITER), "RANK:ITER:garbage" (MPI: a corrupt message) or "RANK:ITER:pause" (MPI: the rank stops answering); default ""
} DetcgdDistSettings;

typedef struct DetcgdSettings {
  int method;                      ///< DetcgdMethod; default DET2 (with clients: Algorithm 1 / 2)
  DetcgdSketchSettings sketch;
  DetcgdStepsizeSettings stepsize;
  DetcgdTermSettings term;
  DetcgdOutputSettings output;
  DetcgdCommSettings comm;
  DetcgdDistSettings dist;
  int backend;                     ///< DetcgdBackendKind; default AUTO
  int graphs;                      ///< 1 = the iterations between trace rows run as recorded launches (CUDA graphs; not over MPI, not with profile); default 1
  int sparse_steps;                ///< 1 = det-CGD2 on quad-nc with a sketch keeping <= half the coordinates updates the gradient
                                   ///< from the step (A's kept columns; recomputed at trace rows); default 1
  uint64_t seed;                   ///< sketch seed; default 42
  int batch;                       ///< minibatch per client per round: its gradient is the mean of `batch` sample gradients
                                   ///< drawn with replacement at (seed, iter, client); 0 = full gradients; default 0
  double x0;                       ///< x0 = x0 * 1/sqrt(d) * ones (paper); default 1
  double x0_spread;                ///< plus x0_spread * N(0, 1) per coordinate, drawn from `seed`; default 0
  double f_inf;                    ///< lower value f^inf; NaN = estimate by GD; default NaN
  int64_t f_inf_iters;             ///< GD iterations for the f^inf estimate; default 2000
  double sign_step;                ///< sign-gd's and sign-mv's eta; 0 = sqrt(2 (f(x0) - f^inf) / (L_inf K)) (derived); default 0
  int sign_per_layer;              ///< scaled-sign-gd: 1 = each layer steps by ||g_i||_1 / L_inf,i (block-wise); default 0
  double ef_step;                  ///< ef21's gamma, 0 = 1 / (L + L~ sqrt(beta / theta)) (paper); ef14's, 0 = 1/L; default 0
  double ef_step_scale;            ///< ef21 and ef14: their default step (ef_step = 0) times this; default 1
  double ef_gamma0;                ///< ef21-norm's gamma_0 of gamma_0 / sqrt(K + 1); default 1
  int ef_norm_rule;                ///< ef21-norm's step: 0 = gamma_0 / sqrt(K + 1), 1 = single node's 1 / (2 c_1) (paper); default 0
  int ef_init;                     ///< DetcgdEfInit: the clients' g_c^0; default COMPRESSED
  double ef_momentum;              ///< ef21-sgdm(-norm)'s eta of v = (1 - eta) v + eta g; 0 = 1 / sqrt(K + 1) (paper); default 0
  double ef_sgdm_gamma0;           ///< ef21-sgdm-norm's gamma_0 of gamma_0 / (K + 1)^(3/4); 0 = min{sqrt(K + 1) (1 - sqrt(1 - alpha)), 1}
                                   ///< / (16 L_1) (paper's largest); default 0
  double ef_hb_beta;               ///< ef21-hb's beta of v = beta v + g; default 0.9
  double sign_momentum;            ///< signum's beta of m = beta m + (1 - beta) g; default 0.9
  int prox;                        ///< DetcgdProx: R of min f + R (dcgd, diana); default NONE
  double prox_weight;              ///< l1: lambda_1 of R = lambda_1 ||x||_1; default 0
  double prox_radius;              ///< box and ball: r; default 1
  int optimum;                     ///< DetcgdOptimum: SOLVE computes x*, f* of f + R (detcgd_optimum) before the run; default NONE
  double vr_step;                  ///< dcgd's and diana's gamma; 0 = their theory step (derived; see the summary); default 0
  double vr_alpha;                 ///< diana's alpha of h_c += alpha m_c; 0 = 1 / (omega + 1) (paper); default 0
  double vr_momentum;              ///< diana's beta of v = beta v + g^ (0 = none); default 0
  double vr_refresh;               ///< vr-diana's probability of a client's refresh w_c = x; 0 = batch / m_c (L-SVRG); default 0
  int vr_estimator;                ///< vr-diana's estimator: 0 = L-SVRG, 1 = SAGA (batch 1); default 0
  double gd_step;                  ///< marina's and dasha's gamma; 0 = their theory step (marina.c); default 0
  double marina_p;                 ///< marina's probability of a sync round; 0 = bits(C) / (d value-bits) (derived); default 0
  double dasha_a;                  ///< dasha's a; 0 = 1 / (2 omega + 1) (authors' code); default 0
  int dasha_init;                  ///< dasha's g_c^0: 0 = zero, 1 = grad f_c(x0) sent in full (counted); default 0
  int marina_weight;               ///< det-marina's and det-dasha's W: 0 = diag^-1(L), 1 = identity; default 0
  double page_p;                   ///< dasha-page's probability of a full gradient; 0 = b / (m_c + b); default 0
  double sega_step;                ///< sega's gamma; 0 = the largest its two conditions allow; default 0
  int sega_estimator;              ///< sega's g: 0 = h + S (grad f - h) (SEGA), 1 = S grad f (plain coordinate descent); default 0
  int sega_sketch;                 ///< sega's oracle: 0 = the sketch's coordinates, 1 = a Gaussian direction per layer; default 0
} DetcgdSettings;

void detcgd_settings_default(DetcgdSettings* s);

/* The minimiser x* of F = f + R, f = (1/n) sum_c f_c (the problem's clients; or its one f), R of settings s
 * (prox, prox-weight, prox-radius), for a problem whose f_c are mu-strongly convex (DetcgdProblemInfo.mu > 0):
 * accelerated proximal gradient (step 1/L, momentum (sqrt L - sqrt mu) / (sqrt L + sqrt mu), restarted when a
 * step goes uphill) on the host from the run's x0, then one proximal gradient step x+ = T(x) with its certificate.  T is a contraction of
 * factor q = 1 - mu/L, so with e = ||x - T(x)||:  ||x+ - x*|| <= q e / (1 - q),  and by convexity, with
 * s = grad f(x+) - grad f(x) + L (x - x+) in dF(x+),  F(x+) - F* <= ||s|| ||x+ - x*|| <= 2 L e q e / (1 - q).
 * It stops when the distance bound is at most 1e-12 max(1, ||x||) (or 10^6 iterations). */
typedef struct DetcgdOptimumInfo {
  double f_star;      ///< F(x*) = f(x*) + R(x*)
  double f_smooth;    ///< f(x*) (the trace's f column excludes R)
  double dist_bound;  ///< certified ||x* - argmin F|| <= this
  double gap_bound;   ///< certified F(x*) - min F <= this
  double L, mu;       ///< the smoothness and strong convexity used (q = 1 - mu / L)
  int64_t iterations; ///< gradient evaluations
} DetcgdOptimumInfo;
int detcgd_optimum(const DetcgdProblem* p, const DetcgdSettings* s, double* x_star, DetcgdOptimumInfo* info);
/* Checks every field that does not depend on the problem; the message names the option. */
int detcgd_settings_validate(const DetcgdSettings* s);
/* The starting point x^0 in R^d: x_j = x0 / sqrt(d) + x0_spread * xi_j, xi_j ~ N(0, 1) at (seed, j). */
void detcgd_starting_point(const DetcgdSettings* s, int64_t d, double* x);
/* key = value setter: "method", "sketch", "k", "stepsize", "weight", "iters", ... */
int detcgd_settings_set(DetcgdSettings* s, const char* key, const char* value);
/* ==== Options: one table of every key, problem and settings alike ==== */

/* The commands that read an option (detcgd_option_unread). */
enum { DETCGD_CMD_RUN = 1, DETCGD_CMD_THEORY = 2, DETCGD_CMD_EXPERIMENT = 4 };
/* key = value for any option (the CLI's --key value, config files): the problem's or the settings' field;
 * an error names the key and says what is wrong (unknown key, bad value, out of range). */
int detcgd_set(DetcgdProblemSpec* p, DetcgdSettings* s, const char* key, const char* value);
/* NULL when a `command` (DETCGD_CMD_*) with this configuration reads `key`; else why it would be ignored
 * ("read with sketch rand-k", "read by stepsize user", ...; valid until the next call).  With s NULL only the
 * command is asked (for commands that run several configurations). */
const char* detcgd_option_unread(const DetcgdProblemSpec* p, const DetcgdSettings* s, const char* key, int command);
/* The configuration as config-file lines "key = value\n" (every option, or only those that differ from the
 * defaults when changed_only) into buf[0..n); returns the length of the whole text (>= n: truncated). */
size_t detcgd_config_format(const DetcgdProblemSpec* p, const DetcgdSettings* s, int changed_only, char* buf, size_t n);

/* The configuration a run's summary JSON records (`detcgd run --replay`): each(ctx, key, value) for every option
 * of its "config", in order, as the text detcgd_set reads back to the same bits (this run's outputs, its
 * resume point and an injected fault left out); stops at the first error of each.  An unreadable summary
 * is an error naming the file and the byte. */
int detcgd_summary_config(const char* path, int (*each)(void* ctx, const char* key, const char* value), void* ctx);

/* Names accepted by the setters, for --help. */
const char* detcgd_method_name(int method);
const char* detcgd_sketch_name(int kind);
const char* detcgd_stepsize_name(int kind);
const char* detcgd_precision_name(int precision);
const char* detcgd_weight_name(int weight);
const char* detcgd_gkd_points_name(int points);
const char* detcgd_setup_place_name(int place);
const char* detcgd_split_name(int split);
const char* detcgd_problem_kind_name(int kind);
const char* detcgd_dist_mode_name(int mode);

/* ==== Solver ==== */

typedef struct DetcgdSolver DetcgdSolver;

typedef struct DetcgdResult {
  int termination;        ///< DetcgdTermination
  int64_t iterations;     ///< K actually run
  double f_initial;       ///< f(x0)
  double f_final;         ///< f(x^K)
  double grad_norm2_final;///< ||grad f(x^K)||^2
  double grad_norm1_final;///< ||grad f(x^K)||_1
  double grad_norm2_min;  ///< least ||grad f(x^k)||^2 over the trace rows (a constant-step sign method oscillates)
  double grad_norm1_min;  ///< least ||grad f(x^k)||_1 over the trace rows
  double grad_norm1_mean; ///< mean of ||grad f(x^k)||_1 over the trace rows (every iterate with trace-every 1: sign GD's
                          ///< bound is on the mean over every k < K)
  double g_kd;            ///< G_{K,D}: mean of ||grad f(x^k)||^2_{D/det(D)^{1/d}}, k < K
  double theorem1_bound;  ///< 2 (f(x0) - f_inf) / (det(D)^{1/d} K)
  double f_inf;           ///< the f^inf used in the bound
  double certificate;     ///< lambda_max of condition (7) or (8); <= 1 when feasible
  double det_factor;      ///< det(D)^{-1/d} (iteration-complexity factor)
  double log_det;         ///< log det D
  double coords_per_iter; ///< expected coordinates sent per iteration
  int64_t coords_sent;    ///< total coordinates sent
  int64_t bits_up;        ///< total uplink bits
  int64_t bits_down;      ///< total downlink bits
  int64_t samples;        ///< sample gradients the clients' messages read over the rounds run: per client and round its
                          ///< N_c rows (full gradients; 1 for quad-nc) or batch (the metrics' full gradients not counted)
  double time_setup;      ///< seconds: problem upload, stepsize, certificate
  double time_finf;       ///< seconds: f^inf estimate
  double time_iterate;    ///< seconds: the iteration loop
  /* seconds per phase of the loop, measured with profile = 1 (0 otherwise) */
  double time_grad;       ///< gradients (every client's, distributed)
  double time_metrics;    ///< ||grad f||^2_D, G_{K,D} and the other trace scalars
  double time_sketch;     ///< drawing sketches and compressing messages
  double time_apply;      ///< the update x+ (D S g, T D g, server aggregation)
  double time_comm;       ///< messages and broadcasts (MPI)
  double time_trace;      ///< trace rows, checkpoints
  const char* backend;    ///< name of the backend that ran
  const char* stepsize_setup; ///< where D, its certificate and log det were computed: "host" or the backend's name
  int64_t replay_launches;///< launches of recorded iterations (CUDA graphs on the CUDA backend); 0 with graphs off
  int64_t device_bytes_peak; ///< device memory the solver held at its peak (its arena's chunks); 0 on the CPU backend
  int64_t host_bytes_peak;   ///< peak resident memory of the process so far (the host's data, D where the host builds it)
  /* distributed runs (NaN otherwise) */
  double lambda_d;        ///< lambda_D of Theorem 3 (or its Algorithm 2 analogue)
  double delta_inf;       ///< Delta^inf = f^inf - (1/n) sum_c f_c^inf (estimates, clamped at 0)
  double k_lower_bound;   ///< Corollary 1: K >= 12 (f(x0) - f^inf) / (det(D)^{1/d} eps^2)
  double theorem3_bound;  ///< right-hand side of (20)
} DetcgdResult;

int detcgd_create(DetcgdSolver** out, const DetcgdProblem* p, const DetcgdSettings* s);
int detcgd_run(DetcgdSolver* s);
/* n solvers run together, in one process: iteration k of every run, then k + 1.  Runs on one logreg-nc problem on
 * the CPU backend (single node, full gradients) have their n gradients evaluated in one pass over the data.  Each
 * run's trace, summary, result and x^K are those detcgd_run gives it alone, bit for bit, but for the times (each
 * run's clock sees the others' work, and its time limit too).  A run that fails or stops ends alone; the others go
 * on.  Returns the first failure's status (DETCGD_OK when every run ended well). */
int detcgd_run_many(DetcgdSolver* const* solvers, int n);
/* f^inf the solver's run measures against (given, exact, or estimated when the solver was created): what runs on the
 * same problem can be given (settings f_inf) to skip their own estimate.  NaN for NULL. */
double detcgd_f_inf(const DetcgdSolver* s);
int detcgd_get_result(const DetcgdSolver* s, DetcgdResult* r);
/* Final iterate x^K (dim doubles). */
int detcgd_get_x(const DetcgdSolver* s, double* x);
void detcgd_destroy(DetcgdSolver** s);

/* The trace without files. Every trace row (the CSV's columns, in its order) is kept in memory by the solver and,
 * with a callback set, handed to it as it is written: names[j] is the column of row[j] ("iter", "f", ..., "time_s").
 * To stop a run from the callback, call detcgd_request_stop(). */
typedef void (*DetcgdTraceFn)(void* user, int ncols, const char* const* names, const double* row);
/* Set between detcgd_create and detcgd_run (fn = NULL: none). */
int detcgd_set_trace_callback(DetcgdSolver* s, DetcgdTraceFn fn, void* user);
/* The columns: returns their count, *names their names (valid while the solver lives). */
int detcgd_trace_columns(const DetcgdSolver* s, const char* const** names);
/* The rows of the last run, row-major (nrows * ncols doubles, valid until the next run or destroy). */
const double* detcgd_trace_rows(const DetcgdSolver* s, int64_t* nrows);

/* The last run's summary as JSON text (what a summary file holds: config, theory, result; NULL before a run). */
const char* detcgd_summary_json(const DetcgdSolver* s);
/* sizeof DetcgdProblemSpec and DetcgdSettings, for bindings that hold them as opaque buffers (set by key). */
size_t detcgd_problem_spec_size(void);
size_t detcgd_settings_size(void);

/* The library's version ("0.1.0") and its build ("commit 1a2b3c4d5e6f, CUDA on, MPI on, OpenMP on"). */
const char* detcgd_version(void);
const char* detcgd_build_info(void);

/* ==== Theory (no iterations) ==== */

typedef struct DetcgdTheory {
  double certificate;     ///< condition (7) for det-CGD1 / GD, (8) for det-CGD2
  double log_det;         ///< log det D
  double det_factor;      ///< det(D)^{-1/d}: iteration factor
  double coords_per_iter; ///< expected coordinates sent per iteration
  double comm_factor;     ///< det_factor * coords_per_iter
  double bits_per_iter;   ///< expected uplink bits per iteration (all clients)
  double step;            ///< a method without a matrix stepsize (sign, EF21): its scalar step; else NaN
  const char* step_source; ///< where that step comes from (paper, derived, given); NULL with a matrix stepsize
} DetcgdTheory;

/* Builds the stepsize of s for p (no iteration, no f^inf) and returns its factors. */
int detcgd_theory(const DetcgdProblem* p, const DetcgdSettings* s, DetcgdTheory* t);

typedef struct DetcgdMcCheck {
  double certificate;    ///< condition (7)/(8) from the closed-form moments
  double certificate_mc; ///< the same from Monte Carlo moments (nsamples draws per layer)
  double max_z;          ///< max over entries of |Monte Carlo - closed form| / standard error
} DetcgdMcCheck;

/* Checks the stepsize of s by Monte Carlo on the settings' backend: E[S D L D S] (GD, det-CGD1)
 * or E[T L T] (det-CGD2) per layer from nsamples draws (seed), against the closed forms.
 * Single node only. */
int detcgd_theory_mc(const DetcgdProblem* p, const DetcgdSettings* s, int64_t nsamples, uint64_t seed,
                     DetcgdMcCheck* out);

/* ==== l-infinity geometry (sign descent against GD) ==== */

/* The geometry of the block-diagonal smoothness bound H = Diag(L_i) the stepsizes use (one layer, or the
 * whole problem: L_inf adds over the layers, L_2 is their largest).  L_inf = max over v in {-1,1}^d of
 * v^T H v: exact when H is sign-consistent (H_ij = s_i s_j |H_ij|: then sum_ij |H_ij|) or, for layers of at
 * most 20, by enumeration; else certified bounds max{lambda_max, tr H, greedy sign vectors} <= L_inf <=
 * min{sum |H_ij|, d lambda_max}. */
typedef struct DetcgdGeometry {
  int64_t dim;
  double l2;              ///< lambda_max(H)
  double linf_lo, linf_hi;///< L_inf (equal when exact)
  int linf_exact;         ///< 1: every layer's L_inf is exact
  double rho;             ///< diagonal concentration sum |H_ii| / sum |H_ij|
  double lambda_bar;      ///< average eigenvalue tr H / d
  double advantage_lo, advantage_hi; ///< d L_2 / L_inf (from linf_hi, linf_lo): sign descent's best-case gain
  double advantage_bound; ///< rho lambda_max / lambda_bar <= d L_2 / L_inf
} DetcgdGeometry;

/* Layer i's geometry (0 <= i < nlayers), or with i = -1 the whole problem's. */
int detcgd_geometry(const DetcgdProblem* p, int layer, DetcgdGeometry* out);

/* ==== Devices ==== */

/* Number of usable CUDA devices; 0 when built without CUDA or on any CUDA error. */
int detcgd_cuda_device_count(void);

/* ==== MPI (distributed mode "mpi") ==== */

/* 1 if built with MPI. */
int detcgd_mpi_available(void);
/* This process's rank and the number of ranks (0 and 1 without MPI); initialises MPI if needed. */
int detcgd_mpi_rank(int* rank, int* nranks);
/* Ends every rank at once after a failure (MPI_Abort); returns without MPI. */
void detcgd_mpi_abort(int code);
/* Finalises MPI if this library initialised it. */
void detcgd_mpi_finalize(void);

#ifdef __cplusplus
}
#endif
#endif /* DETCGD_H */
