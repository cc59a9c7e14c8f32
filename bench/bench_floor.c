/*
 * bench_floor.c -- the C floor of a logistic-regression iteration and detcgd's iteration against it, in one run.
 *
 * The floor is what no iteration on these rows can skip: the two sparse passes (t = A x, then g = A^T s, fused row
 * by row so that each row is read once) and the sigmoid s_j = -b_j / (N (1 + exp(b_j t_j))), in plain C at -O3,
 * plus the regulariser's d terms: one row at a time, and with the dot products of four rows interleaved (their
 * latencies overlap); the ratios are against the faster of the two. detcgd's iteration (the loop's seconds over K, setup and f^inf excluded) runs
 * on the same rows through the public API. Medians of --repeats trials.  With --together 1: R = 1, 4, 16, 64 seeds of
 * det-CGD2 rand-1 run together (detcgd_run_many, one pass over the rows for their R gradients) and one after the
 * other, each R with about K / R iterations (at least 50): the cost per run-iteration against R.  --backend cuda
 * runs detcgd's side on the GPU (the floor stays the CPU's C loop).
 *
 *   detcgd_bench_floor --data ../shared/data/libsvm/a1a [--iters 20000] [--repeats 5] [--together 1] [--backend cuda]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_timing.h"
#include "detcgd.h"

static const char* backend = "cpu"; /* detcgd's runs (--backend) */

static double median(double* v, int n) {
  DcBenchStats st;
  dc_bench_stats(v, n, 0.0, &st);
  return st.median;
}

/* t_j = a_j . x, one row (interleave = 0) or four rows at a time (each still summed in its row's order) */
static void row_dots(const DetcgdData* A, int64_t j, int rows, const double* x, double* t) {
  int64_t p, q, n = A->indptr[j + 1] - A->indptr[j];
  int r;
  for (r = 1; r < rows; ++r) n = A->indptr[j + r + 1] - A->indptr[j + r] < n ? A->indptr[j + r + 1] - A->indptr[j + r] : n;
  if (rows == 4) {
    const int64_t *p0 = A->indptr + j;
    double t0 = 0, t1 = 0, t2 = 0, t3 = 0;
    for (q = 0; q < n; ++q) {
      t0 += A->values[p0[0] + q] * x[A->indices[p0[0] + q]];
      t1 += A->values[p0[1] + q] * x[A->indices[p0[1] + q]];
      t2 += A->values[p0[2] + q] * x[A->indices[p0[2] + q]];
      t3 += A->values[p0[3] + q] * x[A->indices[p0[3] + q]];
    }
    t[0] = t0, t[1] = t1, t[2] = t2, t[3] = t3;
  } else {
    n = 0;
    t[0] = 0.0;
  }
  for (r = 0; r < rows; ++r)
    for (p = A->indptr[j + r] + n; p < A->indptr[j + r + 1]; ++p) t[r] += A->values[p] * x[A->indices[p]];
}

/* grad f(x) of logreg-nc: (1/N) sum_j log(1 + exp(-b_j a_j^T x)) + lambda sum_i x_i^2 / (1 + x_i^2) */
static void floor_gradient(const DetcgdData* A, double lambda, int interleave, const double* x, double* g) {
  int64_t j, p, d = A->ncols;
  double invn = 1.0 / (double)A->nrows, t[4];
  int r, rows;
  memset(g, 0, (size_t)d * sizeof *g);
  for (j = 0; j < A->nrows; j += rows) {
    rows = interleave && A->nrows - j >= 4 ? 4 : 1;
    row_dots(A, j, rows, x, t);
    for (r = 0; r < rows; ++r) {
      double s = -A->labels[j + r] * invn / (1.0 + exp(A->labels[j + r] * t[r]));
      for (p = A->indptr[j + r]; p < A->indptr[j + r + 1]; ++p) g[A->indices[p]] += s * A->values[p];
    }
  }
  for (j = 0; j < d; ++j) {
    double u = 1.0 + x[j] * x[j];
    g[j] += 2.0 * lambda * x[j] / (u * u);
  }
}

/* Seconds per gradient of the floor: iters gradients at a moving x (x -= 1e-3 g, so nothing is hoisted). */
static double floor_seconds(const DetcgdData* A, double lambda, int interleave, int iters) {
  double *x = (double*)malloc((size_t)A->ncols * sizeof(double)), *g = (double*)malloc((size_t)A->ncols * sizeof(double));
  double t0, t;
  int64_t i;
  int k;
  for (i = 0; i < A->ncols; ++i) x[i] = 1.0 / sqrt((double)A->ncols);
  t0 = dc_bench_now();
  for (k = 0; k < iters; ++k) {
    floor_gradient(A, lambda, interleave, x, g);
    for (i = 0; i < A->ncols; ++i) x[i] -= 1e-3 * g[i];
  }
  t = (dc_bench_now() - t0) / iters;
  if (!isfinite(x[0])) t = NAN;
  free(x);
  free(g);
  return t;
}

/* The problem and settings of detcgd's runs on `data`: options as the CLI's (NULL-ended pairs), K iterations,
 * one trace row (the first; and the last), quiet, on `backend`, f^inf = 0 (no estimate to time). */
static void bench_setup(const char* data, const char* const* options, int iters, uint64_t seed, DetcgdProblemSpec* spec,
                        DetcgdSettings* set) {
  char k[32], sd[32];
  int i, st;
  detcgd_problem_spec_default(spec);
  detcgd_settings_default(set);
  snprintf(k, sizeof k, "%d", iters);
  snprintf(sd, sizeof sd, "%llu", (unsigned long long)seed);
  st = detcgd_set(spec, set, "data", data);
  for (i = 0; options[i] && st == DETCGD_OK; i += 2) st = detcgd_set(spec, set, options[i], options[i + 1]);
  if (st == DETCGD_OK) st = detcgd_set(spec, set, "iters", k);
  if (st == DETCGD_OK) st = detcgd_set(spec, set, "seed", sd);
  if (st == DETCGD_OK) st = detcgd_set(spec, set, "trace-every", "1000000000");
  if (st == DETCGD_OK) st = detcgd_set(spec, set, "verbose", "0");
  if (st == DETCGD_OK) st = detcgd_set(spec, set, "progress", "0");
  if (st == DETCGD_OK) st = detcgd_set(spec, set, "backend", backend);
  if (st == DETCGD_OK) st = detcgd_set(spec, set, "f-inf", "0");
  if (st != DETCGD_OK) {
    fprintf(stderr, "bench_floor: %s\n", detcgd_last_error());
    exit(1);
  }
}

static void check(int st) {
  if (st == DETCGD_OK) return;
  fprintf(stderr, "bench_floor: %s\n", detcgd_last_error());
  exit(1);
}

/* Seconds per iteration of one detcgd run (the loop only). */
static double detcgd_seconds(const char* data, const char* const* options, int iters) {
  DetcgdProblemSpec spec;
  DetcgdSettings set;
  DetcgdProblem* p = NULL;
  DetcgdSolver* s = NULL;
  DetcgdResult r;
  bench_setup(data, options, iters, 42, &spec, &set);
  check(detcgd_problem_create(&p, &spec));
  check(detcgd_create(&s, p, &set));
  check(detcgd_run(s));
  check(detcgd_get_result(s, &r));
  detcgd_destroy(&s);
  detcgd_problem_destroy(&p);
  return r.time_iterate / (double)r.iterations;
}

/* Seconds of R runs (seeds 1 .. R) on one problem: together (detcgd_run_many) or one after the other. */
static double runs_seconds(const char* data, const char* const* options, int iters, int R, int together) {
  DetcgdProblemSpec spec;
  DetcgdSettings set;
  DetcgdProblem* p = NULL;
  DetcgdSolver* s[64];
  double t0, t;
  int r;
  bench_setup(data, options, iters, 1, &spec, &set);
  check(detcgd_problem_create(&p, &spec));
  for (r = 0; r < R; ++r) {
    bench_setup(data, options, iters, (uint64_t)r + 1, &spec, &set);
    s[r] = NULL;
    check(detcgd_create(&s[r], p, &set));
  }
  t0 = dc_bench_now();
  if (together) check(detcgd_run_many(s, R));
  else
    for (r = 0; r < R; ++r) check(detcgd_run(s[r]));
  t = dc_bench_now() - t0;
  for (r = 0; r < R; ++r) detcgd_destroy(&s[r]);
  detcgd_problem_destroy(&p);
  return t;
}

int main(int argc, char** argv) {
  const char* data = NULL;
  int iters = 20000, repeats = 5, together = 0, i, c;
  DetcgdData A;
  static const char* const GD[] = {"lambda", "0.3", "method", "gd", "stepsize", "gd", NULL};
  static const char* const DET2[] = {"lambda", "0.3", "method", "det-cgd2", "sketch", "rand-1", "stepsize", "det2-opt", NULL};
  static const char* const DET2_TRACE[] = {"lambda", "0.3", "method", "det-cgd2", "sketch", "rand-1",
                                           "stepsize", "det2-opt", "gkd", "trace", NULL};
  static const char* const DET1[] = {"lambda", "0.3", "method", "det-cgd1", "sketch", "rand-1", "stepsize", "thm2",
                                     "weight", "diag-inv", NULL};
  static const struct { const char* name; const char* const* options; } RUNS[] = {
      {"GD", GD}, {"det-CGD2 rand-1 det2-opt (G_KD every k)", DET2}, {"det-CGD2 rand-1 det2-opt (gkd trace)", DET2_TRACE},
      {"det-CGD1 rand-1 thm2 diag-inv", DET1}};
  double floor_t[2][64], t[64];
  for (i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--data")) data = argv[i + 1];
    else if (!strcmp(argv[i], "--iters")) iters = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--repeats")) repeats = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--together")) together = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--backend")) backend = argv[i + 1];
    else { fprintf(stderr, "bench_floor: unknown option %s\n", argv[i]); return 2; }
  }
  if (!data || iters < 1 || repeats < 1 || repeats > 64) {
    fprintf(stderr, "usage: detcgd_bench_floor --data FILE [--iters K] [--repeats R <= 64] [--together 1] [--backend B]\n");
    return 2;
  }
  if (detcgd_read_libsvm(data, &A) != DETCGD_OK) { fprintf(stderr, "bench_floor: %s\n", detcgd_last_error()); return 3; }
  for (i = 0; i < repeats; ++i) {
    floor_t[0][i] = floor_seconds(&A, 0.3, 0, iters);
    floor_t[1][i] = floor_seconds(&A, 0.3, 1, iters);
  }
  printf("data %s: N = %lld, d = %lld, nnz = %lld; K = %d, median of %d; detcgd on %s\n", data, (long long)A.nrows,
         (long long)A.ncols, (long long)A.indptr[A.nrows], iters, repeats, backend);
  {
    double one = median(floor_t[0], repeats), four = median(floor_t[1], repeats), fl = one < four ? one : four;
    printf("| run | us per iteration | / floor |\n|---|---|---|\n"
           "| C floor (gradient: two sparse passes + sigmoid), a row at a time | %.2f | %.2f |\n"
           "| C floor, the dot products of 4 rows interleaved | %.2f | %.2f |\n", 1e6 * one, one / fl, 1e6 * four, four / fl);
    for (c = 0; c < (int)(sizeof RUNS / sizeof RUNS[0]); ++c) {
      for (i = 0; i < repeats; ++i) t[i] = detcgd_seconds(data, RUNS[c].options, iters);
      printf("| detcgd %s | %.2f | %.2f |\n", RUNS[c].name, 1e6 * median(t, repeats), median(t, repeats) / fl);
    }
  }
  if (together) { /* R seeds of det-CGD2 rand-1 in one pass: cost per run-iteration against R */
    static const int RS[] = {1, 4, 16, 64};
    double one = 0.0;
    int n = (int)(sizeof RS / sizeof RS[0]);
    printf("\n| det-CGD2 rand-1 det2-opt, R seeds | together: us per run-iteration | R runs together / one run | "
           "one after another: us per run-iteration | together / one after another |\n|---|---|---|---|---|\n");
    for (c = 0; c < n; ++c) {
      double tt[64], ts[64], mt, ms;
      int K = iters / RS[c] > 50 ? iters / RS[c] : 50; /* about the same work per row of the table */
      for (i = 0; i < repeats; ++i) {
        tt[i] = runs_seconds(data, DET2, K, RS[c], 1) / ((double)RS[c] * K);
        ts[i] = runs_seconds(data, DET2, K, RS[c], 0) / ((double)RS[c] * K);
      }
      mt = median(tt, repeats);
      ms = median(ts, repeats);
      if (c == 0) one = mt;
      printf("| R = %d | %.2f | %.2f | %.2f | %.2f |\n", RS[c], 1e6 * mt, mt * RS[c] / one, 1e6 * ms, mt / ms);
    }
  }
  detcgd_data_free(&A);
  return 0;
}
