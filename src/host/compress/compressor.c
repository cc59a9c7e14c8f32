/*
 * compressor.c -- the compressor registry, and what every linear sketch shares: the per-layer spec built
 * by the type's own rules, the closed-form second moments E[S A S] from the type's weights, omega, the
 * communication cost model and the check of a received draw.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "compressor.h"
#include "problem.h"

/* ==== Registry (in DetcgdSketchKind order) ==== */

static const DcCompressorType* const TYPES[] = {&dc_compressor_identity,    &dc_compressor_randk,
                                                &dc_compressor_rand1,       &dc_compressor_importance1,
                                                &dc_compressor_bernoulli,   &dc_compressor_bernq,
                                                &dc_compressor_topk,        &dc_compressor_randk_c,
                                                &dc_compressor_sign,        &dc_compressor_scaled_sign,
                                                &dc_compressor_qsgd,        &dc_compressor_natural};
#define NTYPES ((int)(sizeof TYPES / sizeof TYPES[0]))

const DcCompressorType* dc_compressor_type(int kind) { return kind >= 0 && kind < NTYPES ? TYPES[kind] : NULL; }

const DcCompressorType* dc_compressor_find(const char* name) {
  int i;
  for (i = 0; i < NTYPES; ++i)
    if (strcmp(TYPES[i]->name, name) == 0) return TYPES[i];
  return NULL;
}

static const char* type_name(int i) { return TYPES[i]->name; }
void dc_compressor_list(char* out, size_t n) { dc_join_names(out, n, NTYPES, type_name); }

const char* dc_compress_class_name(int cls) {
  return cls == DC_CC_UNBIASED ? "unbiased" : cls == DC_CC_CONTRACTIVE ? "contractive" : "biased";
}

int dc_compressor_validate(const DetcgdSketchSettings* s) {
  const DcCompressorType* t = dc_compressor_type(s->kind);
  if (!t) return dc_fail(DETCGD_ERR_ARG, "sketch: unknown value %d", s->kind);
  return t->validate(s);
}

/* ==== Specs ==== */

/* Empty per-layer arrays and the cost model: values, indices (unless the seed is shared), flags. */
static int alloc_spec(DcSketchSpec* sp, const DcCompressorType* t, const DcLayout* lay, const DetcgdCommSettings* comm) {
  int i;
  memset(sp, 0, sizeof *sp);
  sp->kind = t->kind;
  sp->layout = lay;
  sp->layers = (DcSketchLayer*)dc_calloc((size_t)lay->nblocks, sizeof(DcSketchLayer));
  sp->cap_off = (int64_t*)dc_calloc((size_t)lay->nblocks + 1, sizeof(int64_t));
  if (!sp->layers || !sp->cap_off) { dc_sketch_spec_free(sp); return DETCGD_ERR_ALLOC; }
  for (i = 0; i < lay->nblocks; ++i) {
    sp->layers[i].kind = t->kind;
    sp->layers[i].m = lay->size[i];
  }
  sp->value_bits = comm->value_bits;
  sp->send_indices = (t->flags & DC_CF_INDICES) && !comm->shared_seed;
  sp->layer_flag_bits = t->layer_flag_bits;
  return DETCGD_OK;
}

/* cap_off: layer i's draw occupies the slots [cap_off[i], cap_off[i+1]) of idx and scale. */
static void finish_capacity(DcSketchSpec* sp) {
  int i;
  for (i = 0; i < sp->layout->nblocks; ++i)
    sp->cap_off[i + 1] = sp->cap_off[i] + dc_sketch_layer_capacity(&sp->layers[i]);
}

int dc_sketch_spec_identity(DcSketchSpec* sp, const DcLayout* lay, const DetcgdCommSettings* comm) {
  int st = alloc_spec(sp, &dc_compressor_identity, lay, comm);
  if (st == DETCGD_OK) finish_capacity(sp);
  return st;
}

int dc_sketch_spec_build(DcSketchSpec* sp, const DetcgdSketchSettings* s, const DetcgdCommSettings* comm,
                         const DetcgdProblem* p) {
  const DcCompressorType* t = dc_compressor_type(s->kind);
  int st;
  if (!t) return dc_fail(DETCGD_ERR_ARG, "sketch: unknown value %d", s->kind);
  st = alloc_spec(sp, t, &p->layout, comm);
  if (st == DETCGD_OK) st = t->layers(sp, s, p);
  if (st != DETCGD_OK) { dc_sketch_spec_free(sp); return st; }
  finish_capacity(sp);
  return DETCGD_OK;
}

void dc_sketch_spec_free(DcSketchSpec* sp) {
  free(sp->layers);
  free(sp->aux);
  free(sp->cap_off);
  memset(sp, 0, sizeof *sp);
}

static const DcCompressorType* type_of(const DcSketchSpec* sp) { return dc_compressor_type(sp->kind); }

/* ==== Moments ==== */

double dc_sketch_moment_weight(const DcSketchSpec* sp, int i, int r, int c) { return type_of(sp)->moment(sp, i, r, c); }

/* E[S A S] entry by entry (every backend's setup uses the same weights). */
void dc_sketch_second_moment(const DcSketchSpec* sp, int i, const double* A, double* out) {
  int m = sp->layers[i].m, r, c;
  double off = m > 1 ? dc_sketch_moment_weight(sp, i, 0, 1) : 0.0;
  for (c = 0; c < m; ++c)
    for (r = 0; r < m; ++r)
      out[r + (int64_t)c * m] = (r != c ? off : dc_sketch_moment_weight(sp, i, r, r)) * A[r + (int64_t)c * m];
}

/* E[(S-I)A(S-I)] = E[SAS] - 2A + A = E[SAS] - A, since E[S] = I. */
void dc_sketch_variance(const DcSketchSpec* sp, int i, const double* A, double* out) {
  int64_t mm = (int64_t)sp->layers[i].m * sp->layers[i].m, e;
  dc_sketch_second_moment(sp, i, A, out);
  for (e = 0; e < mm; ++e) out[e] -= A[e];
}

double dc_sketch_omega(const DcSketchSpec* sp) {
  double w = 0.0;
  int i;
  if (!type_of(sp)->omega) return NAN;
  for (i = 0; i < sp->layout->nblocks; ++i) w = fmax(w, type_of(sp)->omega(sp, i));
  return w;
}

double dc_sketch_alpha(const DcSketchSpec* sp) {
  double a = 1.0;
  int i;
  if (sp->kind == DC_SK_IDENTITY) return 1.0;
  if (!type_of(sp)->alpha) return NAN;
  for (i = 0; i < sp->layout->nblocks; ++i) a = fmin(a, type_of(sp)->alpha(sp, i));
  return a;
}

/* ==== Communication ==== */

double dc_sketch_expected_count(const DcSketchSpec* sp, int i) { return type_of(sp)->expected_count(sp, i); }

double dc_sketch_expected_coords(const DcSketchSpec* sp) {
  double n = 0.0;
  int i;
  for (i = 0; i < sp->layout->nblocks; ++i) n += dc_sketch_expected_count(sp, i);
  return n;
}

/* E[bits] = sum_i E|kept_i| (value_bits + [indices] ceil(log2 d_i)) + flag bits. */
double dc_sketch_expected_bits(const DcSketchSpec* sp) {
  double bits = 0.0;
  int i;
  for (i = 0; i < sp->layout->nblocks; ++i)
    if (type_of(sp)->bits) bits += (double)type_of(sp)->bits(sp, i);
    else bits += dc_sketch_expected_count(sp, i) *
                (sp->value_bits + (sp->send_indices ? dc_index_bits(sp->layout->size[i]) : 0)) +
            sp->layer_flag_bits;
  return bits;
}

const char* dc_sketch_check_draw(const DcSketchSpec* sp, int i, const int* idx, int count, unsigned char* seen,
                                 double* scale) {
  const DcCompressorType* t = type_of(sp);
  const char* why = NULL;
  int m = sp->layers[i].m, n;
  if (!t->count_ok) return "a message of the values (no draw to check)";
  if (!t->count_ok(&sp->layers[i], count)) return "impossible count of kept coordinates";
  for (n = 0; n < count; ++n) {
    if (idx[n] < 0 || idx[n] >= m) { why = "index out of range"; break; }
    if (seen[idx[n]]) { why = "repeated index"; break; }
    seen[idx[n]] = 1;
    scale[n] = t->scale(sp, i, idx[n]);
  }
  while (n-- > 0) seen[idx[n]] = 0;
  return why;
}
