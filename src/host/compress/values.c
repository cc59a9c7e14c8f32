/*
 * values.c -- the compressors of the values (METHODS.md, "Compressors"): the message is a function of x, made by
 * the backend's values op (value_ops.h has what it does to a coordinate and the exact bits of a message).
 *
 *   name          class        constant                      bits of one message of a layer of width m
 *   top-k         contractive  alpha = k/m                   k (b_v + ceil(log2 m))
 *   rand-k-c      contractive  alpha = k/m (in expectation)  k (b_v + [no shared seed] ceil(log2 m))
 *   sign          biased       none                          m
 *   scaled-sign   contractive  alpha = 1/m (the worst x)     m + b_v
 *   qsgd          unbiased     omega = min(m/s^2, sqrt(m)/s) b_v + m (1 + ceil(log2(s + 1)))
 *   natural       unbiased     omega = 1/8                   m (1 + 8) with 32-bit values, m (1 + 11) with 64
 *
 * Sources: top-k, rand-k-c and scaled sign's alpha follow from their definitions (exact; scaled sign's is
 * ||x||_1^2 / (m ||x||^2) >= 1/m); QSGD's omega is Alistarh et al.'s Lemma 3.1, tagged [M] in METHODS.md (not
 * checked against the paper here; the tests measure the variance); natural's 1/8 is Horvath et al.'s.
 */
#include <math.h>
#include "compressor.h"
#include "problem.h"
#include "value_ops.h"

#define ALL (DETCGD_CMD_RUN | DETCGD_CMD_THEORY | DETCGD_CMD_EXPERIMENT)
static const DcOption QSGD_OPTIONS[] = {
  {"levels", "sketch", DC_OPT_INT, DC_SETTINGS_FIELD(sketch.levels), "1", 1, 1 << 30, NULL, ALL, 0, NULL,
   "qsgd: s, the levels of |x_j| / ||x||_2 in every layer"},
  DC_OPTION_END};

static int no_check(const DetcgdSketchSettings* s) { (void)s; return DETCGD_OK; }
static int whole_layers(DcSketchSpec* sp, const DetcgdSketchSettings* s, const DetcgdProblem* p) {
  (void)sp; (void)s; (void)p;
  return DETCGD_OK;
}

static double values_count(const DcSketchSpec* sp, int i) { return dc_value_layer_count(&sp->layers[i]); }
static int64_t values_bits(const DcSketchSpec* sp, int i) {
  return dc_value_layer_bits(&sp->layers[i], sp->value_bits, sp->send_indices, dc_index_bits(sp->layers[i].m));
}

/* ---- top-k and rand-k-c: k of m, unscaled ---- */

static double k_over_m(const DcSketchSpec* sp, int i) { return (double)sp->layers[i].k / sp->layers[i].m; }

const DcCompressorType dc_compressor_topk = {
    .name = "top-k", .kind = DC_SK_TOPK, .cls = DC_CC_CONTRACTIVE, .flags = DC_CF_VALUES | DC_CF_INDICES,
    .validate = dc_compressor_k_check, .layers = dc_compressor_k_layers, .expected_count = values_count,
    .alpha = k_over_m, .options = dc_compressor_k_options, .bits = values_bits};
const DcCompressorType dc_compressor_randk_c = {
    .name = "rand-k-c", .kind = DC_SK_RANDK_C, .cls = DC_CC_CONTRACTIVE,
    .flags = DC_CF_VALUES | DC_CF_DATA_FREE | DC_CF_INDICES | DC_CF_RANDOM, .validate = dc_compressor_k_check,
    .layers = dc_compressor_k_layers, .expected_count = values_count, .alpha = k_over_m,
    .options = dc_compressor_k_options, .bits = values_bits};

/* ---- sign and scaled sign ---- */

static double one_over_m(const DcSketchSpec* sp, int i) { return 1.0 / sp->layers[i].m; }

const DcCompressorType dc_compressor_sign = {
    .name = "sign", .kind = DC_SK_SIGN, .cls = DC_CC_BIASED, .flags = DC_CF_VALUES, .validate = no_check,
    .layers = whole_layers, .expected_count = values_count, .bits = values_bits};
const DcCompressorType dc_compressor_scaled_sign = {
    .name = "scaled-sign", .kind = DC_SK_SCALED_SIGN, .cls = DC_CC_CONTRACTIVE, .flags = DC_CF_VALUES,
    .validate = no_check, .layers = whole_layers, .expected_count = values_count, .alpha = one_over_m,
    .bits = values_bits};

/* ---- QSGD (random dithering) and natural compression ---- */

static int qsgd_layers(DcSketchSpec* sp, const DetcgdSketchSettings* s, const DetcgdProblem* p) {
  int i;
  (void)p;
  if (s->levels < 1) return dc_fail(DETCGD_ERR_ARG, "levels: must be >= 1 (got %d)", s->levels);
  for (i = 0; i < sp->layout->nblocks; ++i) sp->layers[i].levels = s->levels;
  return DETCGD_OK;
}

static double qsgd_omega(const DcSketchSpec* sp, int i) {
  double m = sp->layers[i].m, s = sp->layers[i].levels;
  return fmin(m / (s * s), sqrt(m) / s);
}
static double natural_omega(const DcSketchSpec* sp, int i) { (void)sp; (void)i; return 0.125; }

const DcCompressorType dc_compressor_qsgd = {
    .name = "qsgd", .kind = DC_SK_QSGD, .cls = DC_CC_UNBIASED, .flags = DC_CF_VALUES | DC_CF_RANDOM, .validate = no_check,
    .layers = qsgd_layers, .expected_count = values_count, .omega = qsgd_omega, .options = QSGD_OPTIONS,
    .bits = values_bits};
const DcCompressorType dc_compressor_natural = {
    .name = "natural", .kind = DC_SK_NATURAL, .cls = DC_CC_UNBIASED, .flags = DC_CF_VALUES | DC_CF_RANDOM, .validate = no_check,
    .layers = whole_layers, .expected_count = values_count, .omega = natural_omega, .bits = values_bits};
