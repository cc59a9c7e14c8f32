/*
 * geometry.c -- the l-infinity geometry of the smoothness bound H = Diag(L_i) (detcgd_geometry): when does
 * sign descent's per-step guarantee ||g||_1^2 / (2 L_inf) beat GD's ||g||_2^2 / (2 L_2)?  (Balles, Pedregosa,
 * Le Roux: diagonal concentration rho and lambda_max >> lambda_bar; METHODS.md, "Sign descent".)
 *
 * L_inf(H) = max_{v in {-1,1}^m} v^T H v per layer, adding over the layers (v splits by layer):
 *   sign-consistent H (a sign vector s with H_ij = s_i s_j |H_ij|): s attains sum |H_ij|, exact;
 *   m <= 20: every v with v_0 = 1 in Gray-code order (one coordinate flips: v^T H v moves by O(m)), exact;
 *   else certified bounds.  Below: tr H (the mean of v^T H v over all v), lambda_max (H is PSD, so the max of
 *   the convex u^T H u over the cube [-1,1]^m, attained at a vertex, is at least its max over the unit ball)
 *   and v^T H v of greedy sign vectors (feasible points).  Above: sum |H_ij| and m lambda_max (||v||^2 = m).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "linalg.h"
#include "problem.h"

enum { DC_ENUM_MAX = 20 };

/* s with H_ij = s_i s_j |H_ij| for every nonzero H_ij (breadth first over the nonzeros), 1 if there is one. */
static int sign_consistent(const double* H, int m, double* s, int* queue) {
  int i, j, head, tail;
  for (i = 0; i < m; ++i) s[i] = 0.0;
  for (i = 0; i < m; ++i) {
    if (s[i] != 0.0) continue;
    s[i] = 1.0;
    head = tail = 0;
    queue[tail++] = i;
    while (head < tail) {
      int r = queue[head++];
      for (j = 0; j < m; ++j) {
        double h = H[r + (int64_t)j * m];
        if (j == r || h == 0.0) continue;
        if (s[j] == 0.0) { s[j] = h > 0 ? s[r] : -s[r]; queue[tail++] = j; }
        else if ((h > 0) != (s[j] == s[r])) return 0;
      }
    }
  }
  return 1;
}

/* v^T H v */
static double quad(const double* H, int m, const double* v) {
  double q = 0.0;
  int r, c;
  for (c = 0; c < m; ++c) {
    double hv = 0.0;
    for (r = 0; r < m; ++r) hv += H[r + (int64_t)c * m] * v[r];
    q += v[c] * hv;
  }
  return q;
}

/* max v^T H v over v in {-1,1}^m with v_0 = 1 (v and -v agree), Gray-code order: flipping v_j changes
 * v^T H v by -4 v_j (Hv)_j + 4 H_jj (with the old v), and Hv by -2 v_j H[:, j]. */
static double enumerate_max(const double* H, int m, double* v, double* hv) {
  double q, best;
  uint64_t t, n = (uint64_t)1 << (m - 1);
  int r, c;
  for (r = 0; r < m; ++r) v[r] = 1.0;
  for (r = 0; r < m; ++r) {
    hv[r] = 0.0;
    for (c = 0; c < m; ++c) hv[r] += H[r + (int64_t)c * m];
  }
  q = best = quad(H, m, v);
  for (t = 1; t < n; ++t) {
    int j = 1;
    uint64_t bit = t & (~t + 1); /* the lowest set bit of t: the coordinate Gray code flips */
    while (bit > 1) { bit >>= 1; ++j; }
    q += -4.0 * v[j] * hv[j] + 4.0 * H[j + (int64_t)j * m];
    for (r = 0; r < m; ++r) hv[r] -= 2.0 * v[j] * H[r + (int64_t)j * m];
    v[j] = -v[j];
    if (q > best) best = q;
  }
  return best;
}

/* From v: flip any coordinate that raises v^T H v (the gain of flipping j is -4 v_j (Hv)_j + 4 H_jj), at most
 * 4m flips; returns v^T H v there. */
static double local_search(const double* H, int m, double* v, double* hv) {
  double tol;
  int r, c, flips;
  for (r = 0; r < m; ++r) {
    hv[r] = 0.0;
    for (c = 0; c < m; ++c) hv[r] += H[r + (int64_t)c * m] * v[c];
  }
  tol = 1e-12 * fabs(quad(H, m, v));
  for (flips = 0; flips < 4 * m; ++flips) {
    int best = -1;
    double gain = tol;
    for (r = 0; r < m; ++r) {
      double g = -4.0 * v[r] * hv[r] + 4.0 * H[r + (int64_t)r * m];
      if (g > gain) { gain = g; best = r; }
    }
    if (best < 0) break;
    for (r = 0; r < m; ++r) hv[r] -= 2.0 * v[best] * H[r + (int64_t)best * m];
    v[best] = -v[best];
  }
  return quad(H, m, v);
}

/* One layer's numbers: what the whole problem's add up from. */
typedef struct BlockGeometry { double l2, linf_lo, linf_hi, abs_sum, diag_abs_sum, trace; int exact; } BlockGeometry;

/* Layer H (m x m, column-major, PSD); work: m (m + 3) doubles, iwork: m ints. */
static int block_geometry(const double* H, int m, BlockGeometry* g, double* work, int* iwork) {
  double *v = work, *hv = work + m, *w = work + 2 * m, *V = work + 3 * m;
  int r, c, st;
  memset(g, 0, sizeof *g);
  for (c = 0; c < m; ++c)
    for (r = 0; r < m; ++r) g->abs_sum += fabs(H[r + (int64_t)c * m]);
  for (r = 0; r < m; ++r) { g->trace += H[r + (int64_t)r * m]; g->diag_abs_sum += fabs(H[r + (int64_t)r * m]); }
  if ((st = dc_sym_eig(H, m, w, V)) != DETCGD_OK) return st;
  g->l2 = w[m - 1];
  g->exact = 1;
  if (sign_consistent(H, m, v, iwork)) {
    g->linf_lo = g->linf_hi = quad(H, m, v); /* = sum |H_ij| */
  } else if (m <= DC_ENUM_MAX) {
    g->linf_lo = g->linf_hi = enumerate_max(H, m, v, hv);
  } else {
    double lo = fmax(g->trace, g->l2);
    for (r = 0; r < m; ++r) v[r] = V[r + (int64_t)(m - 1) * m] >= 0 ? 1.0 : -1.0; /* the top eigenvector's signs */
    lo = fmax(lo, local_search(H, m, v, hv));
    for (r = 0; r < m; ++r) v[r] = 1.0;
    g->linf_lo = fmax(lo, local_search(H, m, v, hv));
    g->linf_hi = fmin(g->abs_sum, m * g->l2);
    g->exact = g->linf_lo >= g->linf_hi;
  }
  return DETCGD_OK;
}

int detcgd_geometry(const DetcgdProblem* p, int layer, DetcgdGeometry* out) {
  const DcLayout* lay;
  double *H, *work, abs_sum = 0.0, diag = 0.0, tr = 0.0;
  int* iwork;
  int i, st = DETCGD_OK, first, last;
  if (!p || !out) return dc_fail(DETCGD_ERR_ARG, "detcgd_geometry: NULL argument");
  lay = &p->layout;
  if (layer < -1 || layer >= lay->nblocks)
    return dc_fail(DETCGD_ERR_ARG, "detcgd_geometry: layer %d, the problem has layers 0 .. %d (-1: all)", layer,
                   lay->nblocks - 1);
  first = layer < 0 ? 0 : layer;
  last = layer < 0 ? lay->nblocks : layer + 1;
  H = (double*)dc_calloc((size_t)lay->max_size * (size_t)lay->max_size, sizeof(double));
  work = (double*)dc_calloc((size_t)lay->max_size * ((size_t)lay->max_size + 3), sizeof(double));
  iwork = (int*)dc_calloc((size_t)lay->max_size, sizeof(int));
  memset(out, 0, sizeof *out);
  out->linf_exact = 1;
  if (!H || !work || !iwork) st = DETCGD_ERR_ALLOC;
  for (i = first; i < last && st == DETCGD_OK; ++i) {
    BlockGeometry b;
    dc_problem_L_get(p, i, H);
    if ((st = block_geometry(H, lay->size[i], &b, work, iwork)) != DETCGD_OK) break;
    out->dim += lay->size[i];
    out->l2 = fmax(out->l2, b.l2);
    out->linf_lo += b.linf_lo;
    out->linf_hi += b.linf_hi;
    out->linf_exact &= b.exact;
    abs_sum += b.abs_sum;
    diag += b.diag_abs_sum;
    tr += b.trace;
  }
  if (st == DETCGD_OK) {
    out->rho = diag / abs_sum;
    out->lambda_bar = tr / (double)out->dim;
    out->advantage_lo = (double)out->dim * out->l2 / out->linf_hi;
    out->advantage_hi = (double)out->dim * out->l2 / out->linf_lo;
    out->advantage_bound = out->rho * out->l2 / out->lambda_bar;
  }
  free(H);
  free(work);
  free(iwork);
  return st;
}
