/*
 * sketch.c -- per-layer sketch parameters from the settings, the closed-form
 * second moments E[S A S], and the communication cost model.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "problem.h"
#include "sketch.h"

/* Empty per-layer arrays and the cost model: values, indices (unless the seed is shared), flags. */
static int alloc_spec(DcSketchSpec* sp, int kind, const DcLayout* lay, const DetcgdCommSettings* comm) {
  memset(sp, 0, sizeof *sp);
  sp->kind = kind;
  sp->layout = lay;
  sp->layers = (DcSketchLayer*)dc_calloc((size_t)lay->nblocks, sizeof(DcSketchLayer));
  sp->cap_off = (int64_t*)dc_calloc((size_t)lay->nblocks + 1, sizeof(int64_t));
  if (!sp->layers || !sp->cap_off) { dc_sketch_spec_free(sp); return DETCGD_ERR_ALLOC; }
  sp->value_bits = comm->value_bits;
  /* Index-carrying sketches send ceil(log2 d_i) bits per value unless the server shares the seed. */
  sp->send_indices = (kind == DC_SK_RANDK || kind == DC_SK_RAND1 || kind == DC_SK_IMPORTANCE1 ||
                      kind == DC_SK_BERNOULLI) && !comm->shared_seed;
  sp->layer_flag_bits = kind == DC_SK_BERNQ ? 1 : 0;
  return DETCGD_OK;
}

/* cap_off: layer i's draw occupies the slots [cap_off[i], cap_off[i+1]) of idx and scale. */
static void finish_capacity(DcSketchSpec* sp) {
  int i;
  for (i = 0; i < sp->layout->nblocks; ++i)
    sp->cap_off[i + 1] = sp->cap_off[i] + dc_sketch_layer_capacity(&sp->layers[i]);
}

/* S = I on every layer: every coordinate, scale 1, values only. */
int dc_sketch_spec_identity(DcSketchSpec* sp, const DcLayout* lay, const DetcgdCommSettings* comm) {
  int i, st = alloc_spec(sp, DC_SK_IDENTITY, lay, comm);
  if (st != DETCGD_OK) return st;
  for (i = 0; i < lay->nblocks; ++i) {
    sp->layers[i].kind = DC_SK_IDENTITY;
    sp->layers[i].m = lay->size[i];
  }
  finish_capacity(sp);
  return DETCGD_OK;
}

/* k_i from k_list, k_ratio or k; must satisfy 1 <= k_i <= d_i. */
static int layer_k(const DetcgdSketchSettings* s, const double* klist, int nk, int i, int m, int* k) {
  if (s->kind == DETCGD_SKETCH_RAND1) *k = 1;
  else if (nk > 0) *k = (int)klist[i];
  else if (s->k_ratio > 0) *k = (int)ceil(s->k_ratio * m);
  else *k = s->k;
  if (nk > 0 && klist[i] != floor(klist[i]))
    return dc_fail(DETCGD_ERR_ARG, "k-list: entry %d (%g) is not an integer", i, klist[i]);
  if (*k < 1 || *k > m)
    return dc_fail(DETCGD_ERR_ARG, "k: layer %d has width %d, so k must be in [1, %d] (got %d)", i, m, m, *k);
  return DETCGD_OK;
}

/* Importance rand-1: p_j proportional to (L_i)_jj (or uniform), with its CDF. */
static int importance_aux(DcSketchSpec* sp, const DetcgdSketchSettings* s, const DetcgdProblem* p) {
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

/* One layer spec per layer from the settings; k_i, q_i checked against the widths. */
int dc_sketch_spec_build(DcSketchSpec* sp, const DetcgdSketchSettings* s,
                         const DetcgdCommSettings* comm, const DetcgdProblem* p) {
  const DcLayout* lay = &p->layout;
  double *klist = NULL, *qlist = NULL;
  int nk = 0, nq = 0, i, st;
  st = alloc_spec(sp, s->kind, lay, comm);
  if (st == DETCGD_OK) st = dc_parse_doubles(s->k_list, &klist, &nk, "k-list");
  if (st == DETCGD_OK) st = dc_parse_doubles(s->q_list, &qlist, &nq, "q-list");
  if (st == DETCGD_OK && nk > 0 && nk != lay->nblocks)
    st = dc_fail(DETCGD_ERR_ARG, "k-list: %d entries for %d layers", nk, lay->nblocks);
  if (st == DETCGD_OK && nq > 0 && nq != lay->nblocks)
    st = dc_fail(DETCGD_ERR_ARG, "q-list: %d entries for %d layers", nq, lay->nblocks);
  for (i = 0; i < lay->nblocks && st == DETCGD_OK; ++i) {
    DcSketchLayer* L = &sp->layers[i];
    L->kind = s->kind;
    L->m = lay->size[i];
    if (s->kind == DETCGD_SKETCH_RANDK || s->kind == DETCGD_SKETCH_RAND1)
      st = layer_k(s, klist, nk, i, L->m, &L->k);
    else if (s->kind == DETCGD_SKETCH_BERNOULLI)
      L->prob = s->p;
    else if (s->kind == DETCGD_SKETCH_BERNQ) {
      L->prob = nq > 0 ? qlist[i] : s->q;
      if (!(L->prob > 0.0 && L->prob <= 1.0))
        st = dc_fail(DETCGD_ERR_ARG, "q: layer %d has q = %g, must be in (0, 1]", i, L->prob);
    }
  }
  if (st == DETCGD_OK && s->kind == DETCGD_SKETCH_IMPORTANCE1) st = importance_aux(sp, s, p);
  free(klist);
  free(qlist);
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

/* w_rc of E[S A S]_rc = w_rc A_rc, the closed forms of sketch.h: rand-k diagonal m/k, off-diagonal
 * (m/k)(k-1)/(m-1); importance 1/p_r on the diagonal, 0 off it; Bernoulli 1/p on the diagonal, 1 off it;
 * Bern-q 1/q; identity 1. */
double dc_sketch_moment_weight(const DcSketchSpec* sp, int i, int r, int c) {
  const DcSketchLayer* L = &sp->layers[i];
  switch (L->kind) {
    case DC_SK_RANDK:
    case DC_SK_RAND1: {
      double a = (double)L->m / L->k;
      if (L->m == 1) return 1.0; /* S = 1 */
      return r == c ? a : a * (L->k - 1) / (double)(L->m - 1);
    }
    case DC_SK_IMPORTANCE1: return r == c ? 1.0 / sp->aux[L->aux_off + r] : 0.0;
    case DC_SK_BERNOULLI: return r == c ? 1.0 / L->prob : 1.0;
    case DC_SK_BERNQ: return 1.0 / L->prob;
    default: return 1.0;
  }
}

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

/* E|kept| of layer i: k, 1, p d_i, q d_i or d_i. */
double dc_sketch_expected_count(const DcSketchSpec* sp, int i) {
  const DcSketchLayer* L = &sp->layers[i];
  switch (L->kind) {
    case DC_SK_RANDK: case DC_SK_RAND1: return L->k;
    case DC_SK_IMPORTANCE1: return 1.0;
    case DC_SK_BERNOULLI: case DC_SK_BERNQ: return L->prob * L->m;
    default: return L->m;
  }
}

/* E[bits] = sum_i E|kept_i| (value_bits + [indices] ceil(log2 d_i)) + flag bits. */
double dc_sketch_expected_bits(const DcSketchSpec* sp) {
  double bits = 0.0;
  int i;
  for (i = 0; i < sp->layout->nblocks; ++i)
    bits += dc_sketch_expected_count(sp, i) *
                (sp->value_bits + (sp->send_indices ? dc_index_bits(sp->layout->size[i]) : 0)) +
            sp->layer_flag_bits;
  return bits;
}
