/*
 * sketches.c -- the six linear, unbiased, data-free sketches S (E[S] = I) as compressor types:
 *
 *   identity      S = I                                   omega = 0
 *   rand-k        k of m coordinates, scale m/k           omega = m/k - 1
 *   rand-1        rand-k with k = 1                       omega = m - 1
 *   importance-1  one coordinate j w.p. p_j, scale 1/p_j  omega = max_j 1/p_j - 1
 *   bernoulli     each coordinate w.p. p, scale 1/p       omega = 1/p - 1
 *   bern-q        the whole layer w.p. q, scale 1/q       omega = 1/q - 1
 *
 * omega_i = lambda_max(E[(S_i - I)^2]): E[(S - I)^2] = E[S I S] - I is diagonal for each of them, with the
 * moment weights' diagonal less one.  The draws themselves are in sketch_draw.h (shared with the kernels).
 */
#include <math.h>
#include <stdlib.h>
#include "compressor.h"
#include "problem.h"

static int in_unit(double v) { return v > 0.0 && v <= 1.0; }

/* ---- the compressors' own options ---- */

#define SK(f) DC_SETTINGS_FIELD(sketch.f)
#define ALL (DETCGD_CMD_RUN | DETCGD_CMD_THEORY | DETCGD_CMD_EXPERIMENT)
static const char* const IMPORTANCE_NAMES[] = {"lii", "uniform", NULL};
/* read by every compressor keeping k coordinates of a layer (rand-k, rand-k-c, top-k) */
const DcOption dc_compressor_k_options[] = {
  {"k", "sketch", DC_OPT_INT, SK(k), "1", 0, 1e9, NULL, ALL, 0, NULL, "rand-k, rand-k-c, top-k: coordinates kept per layer"},
  {"k-ratio", "sketch", DC_OPT_DOUBLE, SK(k_ratio), "0", 0, 1, NULL, ALL, 0, NULL,
   "rand-k, rand-k-c, top-k: k_i = ceil(k-ratio d_i) when > 0"},
  {"k-list", "sketch", DC_OPT_STRING, SK(k_list), "", 0, 0, NULL, ALL, 0, NULL,
   "rand-k, rand-k-c, top-k: \"k_1,k_2,...\", one per layer (overrides k)"},
  DC_OPTION_END};
static const DcOption IMPORTANCE_OPTIONS[] = {
  {"importance", "sketch", DC_OPT_ENUM, SK(importance), "lii", 0, 0, IMPORTANCE_NAMES, ALL, 0, NULL,
   "importance-1: p_j proportional to (L_i)_jj, or uniform"},
  DC_OPTION_END};
static const DcOption BERNOULLI_OPTIONS[] = {
  {"p", "sketch", DC_OPT_DOUBLE, SK(p), "0.5", 0, 1, NULL, ALL, DC_OPT_LO_OPEN, NULL,
   "bernoulli: keep probability of every coordinate"},
  DC_OPTION_END};
static const DcOption BERNQ_OPTIONS[] = {
  {"q", "sketch", DC_OPT_DOUBLE, SK(q), "0.5", 0, 1, NULL, ALL, DC_OPT_LO_OPEN, NULL,
   "bern-q: keep probability of every layer"},
  {"q-list", "sketch", DC_OPT_STRING, SK(q_list), "", 0, 0, NULL, ALL, 0, NULL,
   "bern-q: \"q_1,q_2,...\", one per layer (overrides q)"},
  DC_OPTION_END};
static int no_check(const DetcgdSketchSettings* s) { (void)s; return DETCGD_OK; }
static int whole_layer(const DcSketchLayer* L, int n) { return n == L->m; }

/* ---- identity ---- */

static int identity_layers(DcSketchSpec* sp, const DetcgdSketchSettings* s, const DetcgdProblem* p) {
  (void)sp; (void)s; (void)p;
  return DETCGD_OK;
}
static double identity_count(const DcSketchSpec* sp, int i) { return sp->layers[i].m; }
static double identity_moment(const DcSketchSpec* sp, int i, int r, int c) { (void)sp; (void)i; (void)r; (void)c; return 1.0; }
static double identity_omega(const DcSketchSpec* sp, int i) { (void)sp; (void)i; return 0.0; }
static double identity_scale(const DcSketchSpec* sp, int i, int j) { (void)sp; (void)i; (void)j; return 1.0; }

const DcCompressorType dc_compressor_identity = {.name = "identity", .kind = DC_SK_IDENTITY, .cls = DC_CC_UNBIASED,
    .flags = DC_CF_LINEAR | DC_CF_DATA_FREE, .validate = no_check, .layers = identity_layers,
    .expected_count = identity_count, .moment = identity_moment, .omega = identity_omega, .count_ok = whole_layer,
    .scale = identity_scale};

/* ---- rand-k and rand-1 ---- */

int dc_compressor_k_check(const DetcgdSketchSettings* s) {
  if (s->k_list[0] == '\0' && !(s->k_ratio > 0) && s->k < 1) return dc_fail(DETCGD_ERR_ARG, "k: must be >= 1 (got %d)", s->k);
  return DETCGD_OK;
}

/* k_i from k-list, k-ratio or k (1 for rand-1); must satisfy 1 <= k_i <= d_i (every compressor keeping k). */
int dc_compressor_k_layers(DcSketchSpec* sp, const DetcgdSketchSettings* s, const DetcgdProblem* p) {
  const int nl = sp->layout->nblocks;
  double* klist = NULL;
  int nk = 0, i, st = dc_parse_doubles(s->kind == DETCGD_SKETCH_RAND1 ? "" : s->k_list, &klist, &nk, "k-list");
  (void)p;
  if (st == DETCGD_OK && nk > 0 && nk != nl) st = dc_fail(DETCGD_ERR_ARG, "k-list: %d entries for %d layers", nk, nl);
  for (i = 0; i < nl && st == DETCGD_OK; ++i) {
    DcSketchLayer* L = &sp->layers[i];
    if (s->kind == DETCGD_SKETCH_RAND1) L->k = 1;
    else if (nk > 0) L->k = (int)klist[i];
    else if (s->k_ratio > 0) L->k = (int)ceil(s->k_ratio * L->m);
    else L->k = s->k;
    if (nk > 0 && klist[i] != floor(klist[i]))
      st = dc_fail(DETCGD_ERR_ARG, "k-list: entry %d (%g) is not an integer", i, klist[i]);
    else if (L->k < 1 || L->k > L->m)
      st = dc_fail(DETCGD_ERR_ARG, "k: layer %d has width %d, so k of %s must be in [1, %d] (got %d)", i, L->m,
                   detcgd_sketch_name(s->kind), L->m, L->k);
  }
  free(klist);
  return st;
}

static double randk_count(const DcSketchSpec* sp, int i) { return sp->layers[i].k; }

/* diagonal m/k, off-diagonal (m/k)(k-1)/(m-1) */
static double randk_moment(const DcSketchSpec* sp, int i, int r, int c) {
  const DcSketchLayer* L = &sp->layers[i];
  double a = (double)L->m / L->k;
  if (L->m == 1) return 1.0; /* S = 1 */
  return r == c ? a : a * (L->k - 1) / (double)(L->m - 1);
}

static double randk_omega(const DcSketchSpec* sp, int i) { return sp->layers[i].m == 1 ? 0.0 : randk_moment(sp, i, 0, 0) - 1.0; }
static int randk_count_ok(const DcSketchLayer* L, int n) { return n == L->k; }
static double randk_scale(const DcSketchSpec* sp, int i, int j) { (void)j; return (double)sp->layers[i].m / sp->layers[i].k; }

const DcCompressorType dc_compressor_randk = {.name = "rand-k", .kind = DC_SK_RANDK, .cls = DC_CC_UNBIASED,
    .flags = DC_CF_LINEAR | DC_CF_DATA_FREE | DC_CF_INDICES | DC_CF_RANDOM, .validate = dc_compressor_k_check,
    .layers = dc_compressor_k_layers, .expected_count = randk_count, .moment = randk_moment, .omega = randk_omega,
    .count_ok = randk_count_ok, .scale = randk_scale, .options = dc_compressor_k_options};
const DcCompressorType dc_compressor_rand1 = {.name = "rand-1", .kind = DC_SK_RAND1, .cls = DC_CC_UNBIASED,
    .flags = DC_CF_LINEAR | DC_CF_DATA_FREE | DC_CF_INDICES | DC_CF_RANDOM, .validate = no_check, .layers = dc_compressor_k_layers,
    .expected_count = randk_count, .moment = randk_moment, .omega = randk_omega, .count_ok = randk_count_ok,
    .scale = randk_scale};

/* ---- importance rand-1: p_j proportional to (L_i)_jj (or uniform), with its CDF in aux ---- */

static int importance_layers(DcSketchSpec* sp, const DetcgdSketchSettings* s, const DetcgdProblem* p) {
  const DcLayout* lay = sp->layout;
  int i, j;
  double* Li = (double*)dc_calloc((size_t)lay->max_size * (size_t)lay->max_size + 1, sizeof(double));
  sp->aux_len = 2 * lay->dim;
  sp->aux = (double*)dc_calloc((size_t)sp->aux_len, sizeof(double));
  if (!sp->aux || !Li) { free(Li); return DETCGD_ERR_ALLOC; }
  for (i = 0; i < lay->nblocks; ++i) {
    int m = lay->size[i];
    double total = 0.0, acc = 0.0;
    double* prob = sp->aux + 2 * lay->voff[i];
    if (s->importance != DETCGD_IMP_UNIFORM) dc_problem_L_get(p, i, Li);
    for (j = 0; j < m; ++j) {
      prob[j] = s->importance == DETCGD_IMP_UNIFORM ? 1.0 : Li[j + (int64_t)j * m];
      total += prob[j];
    }
    for (j = 0; j < m; ++j) {
      prob[j] /= total;
      acc += prob[j];
      prob[m + j] = acc;
    }
    prob[2 * m - 1] = 1.0; /* the CDF ends exactly at 1 */
    sp->layers[i].aux_off = 2 * lay->voff[i];
  }
  free(Li);
  return DETCGD_OK;
}

static double one_coordinate(const DcSketchSpec* sp, int i) { (void)sp; (void)i; return 1.0; }
static double importance_scale(const DcSketchSpec* sp, int i, int j) { return 1.0 / sp->aux[sp->layers[i].aux_off + j]; }
/* 1/p_r on the diagonal, 0 off it */
static double importance_moment(const DcSketchSpec* sp, int i, int r, int c) { return r == c ? importance_scale(sp, i, r) : 0.0; }

static double importance_omega(const DcSketchSpec* sp, int i) {
  double w = 0.0;
  int j;
  for (j = 0; j < sp->layers[i].m; ++j) if (importance_scale(sp, i, j) - 1.0 > w) w = importance_scale(sp, i, j) - 1.0;
  return w;
}
static int importance_count_ok(const DcSketchLayer* L, int n) { (void)L; return n == 1; }

const DcCompressorType dc_compressor_importance1 = {.name = "importance-1", .kind = DC_SK_IMPORTANCE1,
    .cls = DC_CC_UNBIASED, .flags = DC_CF_LINEAR | DC_CF_DATA_FREE | DC_CF_INDICES | DC_CF_RANDOM, .validate = no_check,
    .layers = importance_layers, .expected_count = one_coordinate, .moment = importance_moment,
    .omega = importance_omega, .count_ok = importance_count_ok, .scale = importance_scale,
    .options = IMPORTANCE_OPTIONS};

/* ---- coordinate Bernoulli and layer Bernoulli (Bern-q) ---- */

static int bernoulli_layers(DcSketchSpec* sp, const DetcgdSketchSettings* s, const DetcgdProblem* p) {
  int i;
  (void)p;
  for (i = 0; i < sp->layout->nblocks; ++i) sp->layers[i].prob = s->p;
  return DETCGD_OK;
}

static double prob_count(const DcSketchSpec* sp, int i) { return sp->layers[i].prob * sp->layers[i].m; }
static double prob_scale(const DcSketchSpec* sp, int i, int j) { (void)j; return 1.0 / sp->layers[i].prob; }
static double prob_omega(const DcSketchSpec* sp, int i) { return prob_scale(sp, i, 0) - 1.0; }
/* 1/p on the diagonal, 1 off it */
static double bernoulli_moment(const DcSketchSpec* sp, int i, int r, int c) { return r == c ? prob_scale(sp, i, r) : 1.0; }
static int bernoulli_count_ok(const DcSketchLayer* L, int n) { return n >= 0 && n <= L->m; }

const DcCompressorType dc_compressor_bernoulli = {.name = "bernoulli", .kind = DC_SK_BERNOULLI, .cls = DC_CC_UNBIASED,
    .flags = DC_CF_LINEAR | DC_CF_DATA_FREE | DC_CF_INDICES | DC_CF_RANDOM, .validate = no_check, .layers = bernoulli_layers,
    .expected_count = prob_count, .moment = bernoulli_moment, .omega = prob_omega, .count_ok = bernoulli_count_ok,
    .scale = prob_scale, .options = BERNOULLI_OPTIONS};

/* q_i from q-list or q, in (0, 1] */
static int bernq_layers(DcSketchSpec* sp, const DetcgdSketchSettings* s, const DetcgdProblem* p) {
  const int nl = sp->layout->nblocks;
  double* qlist = NULL;
  int nq = 0, i, st = dc_parse_doubles(s->q_list, &qlist, &nq, "q-list");
  (void)p;
  if (st == DETCGD_OK && nq > 0 && nq != nl) st = dc_fail(DETCGD_ERR_ARG, "q-list: %d entries for %d layers", nq, nl);
  for (i = 0; i < nl && st == DETCGD_OK; ++i) {
    sp->layers[i].prob = nq > 0 ? qlist[i] : s->q;
    if (!in_unit(sp->layers[i].prob))
      st = dc_fail(DETCGD_ERR_ARG, "q: layer %d has q = %g, must be in (0, 1]", i, sp->layers[i].prob);
  }
  free(qlist);
  return st;
}

/* 1/q everywhere */
static double bernq_moment(const DcSketchSpec* sp, int i, int r, int c) { (void)r; (void)c; return prob_scale(sp, i, 0); }
static int bernq_count_ok(const DcSketchLayer* L, int n) { return n == 0 || n == L->m; }

const DcCompressorType dc_compressor_bernq = {.name = "bern-q", .kind = DC_SK_BERNQ, .cls = DC_CC_UNBIASED,
    .flags = DC_CF_LINEAR | DC_CF_DATA_FREE | DC_CF_RANDOM, .layer_flag_bits = 1, .validate = no_check, .layers = bernq_layers,
    .expected_count = prob_count, .moment = bernq_moment, .omega = prob_omega, .count_ok = bernq_count_ok,
    .scale = prob_scale, .options = BERNQ_OPTIONS};
