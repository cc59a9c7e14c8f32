/*
 * compressor.h -- the compressor family: one type table per compressor.
 *
 * A compressor C maps a layer's vector to the message a client sends.  Its class says what the theory
 * may assume of it:
 *   unbiased     E[C(x)] = x and E||C(x) - x||^2 <= omega ||x||^2       (the sketches S with E[S] = I)
 *   contractive  E||C(x) - x||^2 <= (1 - alpha) ||x||^2, alpha in (0, 1]
 *   biased       neither (no theory constant)
 * Linear sketches C(x) = S x also give the second moments E[S A S]_rc = w_rc A_rc that det-CGD's
 * stepsizes and certificates are built from.  Draws are counter-based (draw.h, shared with the kernels),
 * so every backend keeps the same coordinates.
 *
 * Adding a compressor: a type table in a file of compress/ (sketches.c holds the six sketches), its case
 * in sketch_draw.h (and so in the kernels), its entry in dc_compressor_type, one row in the compressor
 * test table (tests/test_compressors.cc).
 */
#ifndef DETCGD_COMPRESSOR_H
#define DETCGD_COMPRESSOR_H

#include "backend.h"
#include "options.h"

typedef enum DcCompressClass { DC_CC_UNBIASED = 0, DC_CC_CONTRACTIVE, DC_CC_BIASED } DcCompressClass;

enum {
  DC_CF_LINEAR = 1u << 0,    /* C(x) = S x: E[S A S] closed forms (det-CGD's theory) */
  DC_CF_DATA_FREE = 1u << 1, /* which coordinates are kept does not depend on x */
  DC_CF_INDICES = 1u << 2,   /* a message names its kept coordinates (ceil(log2 d_i) bits each, unless the
                              * server shares the seed and draws them itself) */
  DC_CF_VALUES = 1u << 3,    /* a compressor of the values (values.c): the backend's values op makes the message,
                              * with exact bits that do not depend on x (value_ops.h) */
  DC_CF_RANDOM = 1u << 4     /* draws from the seed (another seed, another message) */
};

typedef struct DcCompressorType {
  const char* name;    /* --sketch value */
  int kind;            /* DC_SK_*, = DetcgdSketchKind */
  int cls;             /* DcCompressClass */
  unsigned flags;      /* DC_CF_* */
  int layer_flag_bits; /* bits per layer of every message (Bern-q: whether the layer was kept) */
  /* Settings that need no problem (k >= 1, p in (0, 1], ...): an error names the option. */
  int (*validate)(const DetcgdSketchSettings* s);
  /* Parameters of every layer, sp->layers[i].m already set (may fill sp->aux); checked against d_i. */
  int (*layers)(DcSketchSpec* sp, const DetcgdSketchSettings* s, const DetcgdProblem* p);
  /* E|kept coordinates of layer i| per draw */
  double (*expected_count)(const DcSketchSpec* sp, int i);
  /* linear: w_rc of E[S_i A S_i]_rc = w_rc A_rc (off-diagonal entries share one weight) */
  double (*moment)(const DcSketchSpec* sp, int i, int r, int c);
  /* unbiased: omega_i = lambda_max(E[(S_i - I)^2]) */
  double (*omega)(const DcSketchSpec* sp, int i);
  /* contractive: alpha_i (NULL: not contractive) */
  double (*alpha)(const DcSketchSpec* sp, int i);
  /* can one draw of layer L keep n coordinates? (a received message's count) */
  int (*count_ok)(const DcSketchLayer* L, int n);
  /* the scale a kept coordinate j of layer i carries */
  double (*scale)(const DcSketchSpec* sp, int i, int j);
  const DcOption* options; /* its own option rows, read only when it is the sketch (NULL: none); types sharing
                            * one table (the k of rand-k, rand-k-c, top-k) all read it */
  /* values: exact bits of one message of layer i (NULL: a sketch, whose bits follow from the kept count) */
  int64_t (*bits)(const DcSketchSpec* sp, int i);
} DcCompressorType;

/* The sketches (sketches.c) and the compressors of the values (values.c). */
extern const DcCompressorType dc_compressor_identity, dc_compressor_randk, dc_compressor_rand1,
    dc_compressor_importance1, dc_compressor_bernoulli, dc_compressor_bernq;
extern const DcCompressorType dc_compressor_topk, dc_compressor_randk_c, dc_compressor_sign, dc_compressor_scaled_sign,
    dc_compressor_qsgd, dc_compressor_natural;
/* What every compressor keeping k coordinates of a layer shares: its option rows, their check, the k_i. */
extern const DcOption dc_compressor_k_options[];
int dc_compressor_k_check(const DetcgdSketchSettings* s);
int dc_compressor_k_layers(DcSketchSpec* sp, const DetcgdSketchSettings* s, const DetcgdProblem* p);

/* The type of kind DC_SK_* (NULL when there is none); by --sketch name (NULL when unknown). */
const DcCompressorType* dc_compressor_type(int kind);
const DcCompressorType* dc_compressor_find(const char* name);
/* Every compressor's name, ", "-separated (for messages and help), into out[0..n). */
void dc_compressor_list(char* out, size_t n);
const char* dc_compress_class_name(int cls);

/* The sketch settings' own checks (the chosen compressor's validate). */
int dc_compressor_validate(const DetcgdSketchSettings* s);

/* Builds the per-layer sketch of `s` on problem `p`; the identity sketch on `lay` (GD, and S = I). */
int dc_sketch_spec_build(DcSketchSpec* sp, const DetcgdSketchSettings* s, const DetcgdCommSettings* comm,
                         const DetcgdProblem* p);
int dc_sketch_spec_identity(DcSketchSpec* sp, const DcLayout* lay, const DetcgdCommSettings* comm);
void dc_sketch_spec_free(DcSketchSpec* sp);

/* Closed forms per block of width m (A symmetric):
 *   identity             E[SAS] = A
 *   rand-k               (m/k) [ ((m-k)/(m-1)) diag(A) + ((k-1)/(m-1)) A ]
 *   importance rand-1    Diag(A_jj / p_j)
 *   coordinate Bernoulli A + Diag((1/p - 1) A_jj)     (diagonal A_jj / p)
 *   Bern-q (layer)       A / q
 * and E[(S-I)A(S-I)] = E[SAS] - A (because E[S] = I). */
double dc_sketch_moment_weight(const DcSketchSpec* sp, int i, int r, int c);
/* out = E[S_i A S_i] for layer i (m x m, column-major). */
void dc_sketch_second_moment(const DcSketchSpec* sp, int i, const double* A, double* out);
/* out = E[(S_i - I) A (S_i - I)] = E[S_i A S_i] - A. */
void dc_sketch_variance(const DcSketchSpec* sp, int i, const double* A, double* out);
/* omega = max_i omega_i (0 for the identity; NaN when the compressor is not unbiased). */
double dc_sketch_omega(const DcSketchSpec* sp);
/* alpha = min_i alpha_i of a contractive compressor (1 for the identity; NaN when it is not contractive). */
double dc_sketch_alpha(const DcSketchSpec* sp);
/* Expected kept coordinates of layer i per draw; of the whole sketch. */
double dc_sketch_expected_count(const DcSketchSpec* sp, int i);
double dc_sketch_expected_coords(const DcSketchSpec* sp);
/* Expected uplink bits of one draw of the whole sketch (values: the exact bits of one message). */
double dc_sketch_expected_bits(const DcSketchSpec* sp);

/* A received draw of layer i (count entries of idx, local indices): NULL when one draw could have kept
 * them, else what is wrong.  seen: d_i zero bytes, left zero.  Sets scale[t] for every kept idx[t]. */
const char* dc_sketch_check_draw(const DcSketchSpec* sp, int i, const int* idx, int count, unsigned char* seen,
                                 double* scale);

#endif /* DETCGD_COMPRESSOR_H */
