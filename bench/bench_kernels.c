/*
 * bench_kernels.c -- per-op benchmark of the backends (issue: benchmarks).
 *
 * For each backend (cpu; cuda when built and a device is present) and block
 * width b in {16, 32, 64, 128, 256, 512}, with ~`bytes` of fp64 dense blocks:
 *   dense    y += D x                      bytes: l b^2 + 3 d        (x 8 bytes)
 *   dense32  the same with D's blocks in float bytes: l b^2 / 2 + 3 d
 *   cols     y += D S x, rand-k k = b/8    bytes: l b k + l k + 2 d
 *   rows     y += T D x, rand-k k = b/8    bytes: l k b + d + 2 l k
 *   bernq    y += D S x, Bern-q q = 1/4    bytes: m b^2 + 3 m b  (m layers kept)
 *   quadform x^T D x                       bytes: l b^2 + d
 *   cublas   y = D x by cublasDgemvStridedBatched (cuda only), bytes: l b^2 + 2 d
 * then the sign compressor y = sign(x) (bytes 2 n) and scaled sign GD's step y -= (m[0] / L_inf) sign(x) with the
 * scalar on the device (bytes 3 n) on vectors of n = bytes / 8 entries,
 * then the compressors of the values (C(x) of the same vectors in layers of 4096: top-k and rand-k-c with k = 41,
 * sign, scaled sign, QSGD with s = 4, natural; top-k also on one layer of all n, k = n / 100; bytes 2 n, the
 * reads and writes of one pass, whatever passes a compressor needs), coordinates/s,
 * then sketch sampling (rand-k, b = 64), Monte Carlo E[S A S] (b = 64, k = 8) and the stepsize setup
 * (quad-nc, det2-opt under rand-k k = b/8 rounded to float, certificates, log det, D on the backend:
 * LAPACK on every host core for cpu, batched cuSOLVER/cuBLAS for cuda), b in {16, 64, 256} with bytes / 4
 * block entries, blocks/s.
 * Each figure: median (and 10th/90th percentiles) over repeats of a batch of
 * calls timed by the wall clock around a synchronisation, caches flushed
 * between repeats; GB/s against the measured copy bandwidth of the same device.
 *
 * usage: detcgd_bench_kernels [--backend cpu|cuda|all] [--bytes N] [--repeats R] [--out F.csv]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend.h"
#include "bench_timing.h"
#include "problem.h"
#include "compressor.h"
#include "stepsize.h"

typedef struct Opts { const char* backend; double bytes; int repeats; const char* out; } Opts;

typedef struct Bench {
  DcBackend be;
  const char* name;
  double copy_gbps; /* measured ceiling */
  FILE* csv;
  int repeats;
  unsigned char* cpu_flush; /* 64 MiB the CPU runs write between repeats */
} Bench;

enum { FLUSH_BYTES = 64 << 20 };

static void flush_caches(Bench* B) {
  if (B->cpu_flush) memset(B->cpu_flush, (int)(dc_bench_now() * 1e3) & 0xff, FLUSH_BYTES);
#ifdef DETCGD_WITH_CUDA
  else dc_bench_cuda_flush();
#endif
}

static void report(Bench* B, const char* op, int b, int64_t nblocks, const DcBenchStats* s, const char* unit,
                   double per_call) {
  double pct = B->copy_gbps > 0 && s->bytes > 0 ? 100.0 * s->gbps / B->copy_gbps : 0.0;
  printf("%-5s %-9s b=%-4d l=%-8lld %10.2f us  [%8.2f, %8.2f]  %8.1f GB/s  %5.1f%% of copy", B->name, op, b,
         (long long)nblocks, s->median * 1e6, s->p10 * 1e6, s->p90 * 1e6, s->gbps, pct);
  if (unit) printf("  %.3g %s", per_call / s->median, unit);
  printf("\n");
  if (B->csv)
    fprintf(B->csv, "%s,%s,%d,%lld,%.0f,%.3f,%.3f,%.3f,%.2f,%.1f\n", B->name, op, b, (long long)nblocks, s->bytes,
            s->median * 1e6, s->p10 * 1e6, s->p90 * 1e6, s->gbps, pct);
  fflush(stdout);
}

/* ---- one timed op ---- */

typedef struct Call {
  const DcBackendOps* o;
  DcBlocks* D;
  DcSketch* S;
  DcVec *x, *y, *m;
  int kind; /* 0 dense, 1 cols, 2 rows, 3 quadform, 4 sample, 5 sign, 6 signstep, 7 a compressor of the values */
} Call;

static int call_once(DcBackend* be, const Call* c, uint32_t iter) {
  switch (c->kind) {
    case 0: return c->o->bd_apply(be, c->D, DC_SEL_FULL, NULL, c->x, 1e-3, c->y);
    case 1: return c->o->bd_apply(be, c->D, DC_SEL_COLS, c->S, c->x, 1e-3, c->y);
    case 2: return c->o->bd_apply(be, c->D, DC_SEL_ROWS, c->S, c->x, 1e-3, c->y);
    case 3: return c->o->bd_quadform(be, c->D, c->x, c->m, 0, -1);
    case 5: { /* the sign compressor: y = sign(x) */
      DcScalar none = {0.0, NULL, 0, 1.0};
      return c->o->vec_map(be, DC_MAP_SIGN, c->x, none, c->y);
    }
    case 6: { /* scaled sign GD's step: y = y - (m[0] / L_inf) sign(x), m[0] read on the device */
      DcScalar a = {-1e-3, c->m, 0, 1.0}, one = {1.0, NULL, 0, 1.0};
      return c->o->axpby(be, a, c->x, one, c->y);
    }
    case 7: return c->o->compress_values_rows(be, c->S, c->x, NULL, 0, 1, 1, iter, 0, 0, c->y);
    default: return c->o->sketch_sample(be, c->S, 1, iter, 0);
  }
}

/* Median over repeats of (batch calls + sync) / batch. */
static int time_call(Bench* B, const Call* c, int batch, double bytes, DcBenchStats* s) {
  double* t = (double*)calloc((size_t)B->repeats, sizeof(double));
  int r, i, st = t ? DETCGD_OK : DETCGD_ERR_ALLOC;
  for (i = 0; i < 2 && st == DETCGD_OK; ++i) st = call_once(&B->be, c, 0); /* warm-up */
  for (r = 0; r < B->repeats && st == DETCGD_OK; ++r) {
    double t0;
    st = B->be.ops->sync(&B->be);
    flush_caches(B);
    t0 = dc_bench_now();
    for (i = 0; i < batch && st == DETCGD_OK; ++i) st = call_once(&B->be, c, (uint32_t)(r * batch + i));
    if (st == DETCGD_OK) st = B->be.ops->sync(&B->be);
    t[r] = (dc_bench_now() - t0) / batch;
  }
  if (st == DETCGD_OK) dc_bench_stats(t, B->repeats, bytes, s);
  free(t);
  return st;
}

/* ---- problem pieces ---- */

/* Uniform in [-1, 1) from a 64-bit LCG (benchmark data only). */
static double lcg_uniform(uint64_t* s) {
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(*s >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

/* rand-k (k per layer) or Bern-q (q) on every layer of lay. */
static int make_spec(DcSketchSpec* sp, const DcLayout* lay, int bernq, int k, double q) {
  int i;
  memset(sp, 0, sizeof *sp);
  sp->kind = bernq ? DC_SK_BERNQ : DC_SK_RANDK;
  sp->layout = lay;
  sp->layers = (DcSketchLayer*)calloc((size_t)lay->nblocks, sizeof(DcSketchLayer));
  sp->cap_off = (int64_t*)calloc((size_t)lay->nblocks + 1, sizeof(int64_t));
  sp->value_bits = 64;
  sp->layer_flag_bits = bernq;
  if (!sp->layers || !sp->cap_off) return DETCGD_ERR_ALLOC;
  for (i = 0; i < lay->nblocks; ++i) {
    DcSketchLayer* L = &sp->layers[i];
    L->kind = sp->kind;
    L->m = lay->size[i];
    L->k = bernq ? 0 : k;
    L->prob = bernq ? q : 1.0;
    sp->cap_off[i + 1] = sp->cap_off[i] + dc_sketch_layer_capacity(L);
  }
  return DETCGD_OK;
}

/* Layers kept by the current draw of S. */
static int64_t kept_layers(Bench* B, const DcSketchSpec* sp, const DcSketch* S) {
  int64_t cap = sp->cap_off[sp->layout->nblocks], kept = 0;
  int* idx = (int*)calloc((size_t)cap + 1, sizeof(int));
  double* sc = (double*)calloc((size_t)cap + 1, sizeof(double));
  int* cnt = (int*)calloc((size_t)sp->layout->nblocks, sizeof(int));
  DcSketchDraw d;
  int i;
  d.idx = idx; d.scale = sc; d.count = cnt;
  if (idx && sc && cnt && B->be.ops->sketch_read(&B->be, S, &d) == DETCGD_OK)
    for (i = 0; i < sp->layout->nblocks; ++i) kept += cnt[i] > 0;
  free(idx); free(sc); free(cnt);
  return kept;
}

/* ---- sections ---- */

/* dense y += D x with D's blocks stored as float (stepsize-precision fp32); rounds H's entries. */
static int bench_dense32(Bench* B, Call* c, DcHostBlocks* H, int b, int64_t l, double bytes) {
  DcBlocks* D64 = c->D;
  DcBenchStats s;
  int st = dc_blocks_round_float(H, "bench");
  if (!st) st = B->be.ops->blocks_create(&B->be, H, &c->D);
  if (!st && !(st = time_call(B, c, 5, bytes, &s))) report(B, "dense32", b, l, &s, NULL, 0);
  if (c->D != D64) B->be.ops->blocks_destroy(&B->be, &c->D);
  c->D = D64;
  return st;
}

static int bench_width(Bench* B, int b, double bytes) {
  const DcBackendOps* o = B->be.ops;
  int64_t l = (int64_t)(bytes / (8.0 * b * b)), j;
  int k = b / 8 > 0 ? b / 8 : 1, *sizes, st, i;
  double d, lb2;
  uint64_t seed = 12345;
  DcLayout lay;
  DcHostBlocks H;
  DcSketchSpec sk, sq;
  Call c;
  DcBenchStats s;
  double* hx;
  if (l < 1) l = 1;
  d = (double)l * b;
  lb2 = (double)l * b * b;
  sizes = (int*)malloc((size_t)l * sizeof(int));
  hx = (double*)malloc((size_t)l * b * sizeof(double));
  if (!sizes || !hx) { free(sizes); free(hx); return DETCGD_ERR_ALLOC; }
  for (j = 0; j < l; ++j) sizes[j] = b;
  memset(&c, 0, sizeof c);
  memset(&sk, 0, sizeof sk);
  memset(&sq, 0, sizeof sq);
  c.o = o;
  st = dc_layout_init(&lay, (int)l, sizes);
  if (!st) st = dc_blocks_alloc(&H, &lay, DC_BLOCKS_DENSE);
  if (!st) {
    for (j = 0; j < lay.moff[lay.nblocks]; ++j) H.data[j] = lcg_uniform(&seed);
    for (j = 0; j < lay.dim; ++j) hx[j] = lcg_uniform(&seed);
    st = o->blocks_create(&B->be, &H, &c.D);
  }
  if (!st) st = o->vec_create(&B->be, lay.dim, &c.x);
  if (!st) st = o->vec_upload(&B->be, c.x, hx);
  if (!st) st = o->vec_create(&B->be, lay.dim, &c.y);
  if (!st) st = o->vec_create(&B->be, 1, &c.m);
  if (!st && !(st = time_call(B, &c, 5, lb2 * 8 + 3 * d * 8, &s))) report(B, "dense", b, l, &s, NULL, 0);
  if (!st) st = bench_dense32(B, &c, &H, b, l, lb2 * 4 + 3 * d * 8);
  if (!st) { c.kind = 3; st = time_call(B, &c, 5, lb2 * 8 + d * 8, &s); }
  if (!st) report(B, "quadform", b, l, &s, NULL, 0);
  if (!st) st = make_spec(&sk, &lay, 0, k, 1.0);
  if (!st) st = o->sketch_create(&B->be, &sk, 1, &c.S);
  if (!st) st = o->sketch_sample(&B->be, c.S, 1, 0, 0);
  if (!st) { c.kind = 1; st = time_call(B, &c, 5, (double)l * b * k * 8 + (double)l * k * 8 + 2 * d * 8, &s); }
  if (!st) report(B, "cols", b, l, &s, NULL, 0);
  if (!st) { c.kind = 2; st = time_call(B, &c, 5, (double)l * k * b * 8 + d * 8 + 2.0 * l * k * 8, &s); }
  if (!st) report(B, "rows", b, l, &s, NULL, 0);
  if (!st && b == 64) { c.kind = 4; st = time_call(B, &c, 5, (double)l * k * 12, &s); }
  if (!st && b == 64) report(B, "sample", b, l, &s, "coords/s", (double)l * k);
  o->sketch_destroy(&B->be, &c.S);
  if (!st) st = make_spec(&sq, &lay, 1, 0, 0.25);
  if (!st) st = o->sketch_create(&B->be, &sq, 1, &c.S);
  if (!st) st = o->sketch_sample(&B->be, c.S, 1, 0, 0);
  if (!st) {
    double m = (double)kept_layers(B, &sq, c.S);
    c.kind = 1;
    st = time_call(B, &c, 5, m * b * b * 8 + 3 * m * b * 8, &s);
    if (!st) report(B, "bernq", b, l, &s, NULL, 0);
  }
#ifdef DETCGD_WITH_CUDA
  if (!st && strcmp(B->name, "cuda") == 0 && dc_bench_cublas_gemv((int)l, b, B->repeats, 5, &s) == 0)
    report(B, "cublas", b, l, &s, NULL, 0);
#endif
  o->sketch_destroy(&B->be, &c.S);
  o->blocks_destroy(&B->be, &c.D);
  o->vec_destroy(&B->be, &c.x);
  o->vec_destroy(&B->be, &c.y);
  o->vec_destroy(&B->be, &c.m);
  for (i = 0; i < 2; ++i) dc_sketch_spec_free(i ? &sq : &sk);
  dc_blocks_free(&H);
  dc_layout_free(&lay);
  free(sizes);
  free(hx);
  return st;
}

/* The sign compressor y = sign(x) and scaled sign GD's step y -= (m[0] / L_inf) sign(x) on vectors of bytes / 8
 * entries each (far beyond the caches): coordinates per second against the copy bandwidth. */
static int bench_sign(Bench* B, double bytes) {
  const DcBackendOps* o = B->be.ops;
  int64_t n = (int64_t)(bytes / 8), j;
  uint64_t seed = 99;
  double* h = (double*)malloc((size_t)n * sizeof(double));
  Call c;
  DcBenchStats s;
  int st = h ? DETCGD_OK : DETCGD_ERR_ALLOC;
  memset(&c, 0, sizeof c);
  c.o = o;
  for (j = 0; j < n && h; ++j) h[j] = lcg_uniform(&seed);
  if (!st) st = o->vec_create(&B->be, n, &c.x);
  if (!st) st = o->vec_create(&B->be, n, &c.y);
  if (!st) st = o->vec_create(&B->be, 1, &c.m);
  if (!st) st = o->vec_upload(&B->be, c.x, h);
  if (!st) st = o->metric_set(&B->be, c.m, 0, 2.0);
  if (!st) { c.kind = 5; st = time_call(B, &c, 5, 2.0 * (double)n * 8, &s); } /* read x, write y */
  if (!st) report(B, "sign", 0, n, &s, "coords/s", (double)n);
  if (!st) { c.kind = 6; st = time_call(B, &c, 5, 3.0 * (double)n * 8, &s); } /* read x and y, write y */
  if (!st) report(B, "signstep", 0, n, &s, "coords/s", (double)n);
  o->vec_destroy(&B->be, &c.x);
  o->vec_destroy(&B->be, &c.y);
  o->vec_destroy(&B->be, &c.m);
  free(h);
  return st;
}

/* The compressor `kind` on every layer of lay (k kept, s levels), with its capacity. */
static int make_value_spec(DcSketchSpec* sp, const DcLayout* lay, int kind, int k, int levels) {
  int i;
  memset(sp, 0, sizeof *sp);
  sp->kind = kind;
  sp->layout = lay;
  sp->layers = (DcSketchLayer*)calloc((size_t)lay->nblocks, sizeof(DcSketchLayer));
  sp->cap_off = (int64_t*)calloc((size_t)lay->nblocks + 1, sizeof(int64_t));
  sp->value_bits = 64;
  sp->send_indices = 1;
  if (!sp->layers || !sp->cap_off) return DETCGD_ERR_ALLOC;
  for (i = 0; i < lay->nblocks; ++i) {
    DcSketchLayer* L = &sp->layers[i];
    L->kind = kind;
    L->m = lay->size[i];
    L->k = k;
    L->levels = levels;
    sp->cap_off[i + 1] = sp->cap_off[i] + dc_sketch_layer_capacity(L);
  }
  return DETCGD_OK;
}

/* y = C(x) for the compressors of the values on bytes / 8 entries: coordinates per second against the copy. */
static int bench_values(Bench* B, double bytes) {
  static const struct { const char* name; int kind, k, levels, one_layer; } rows[] = {
      {"topk", DC_SK_TOPK, 41, 0, 0},        {"topk-1l", DC_SK_TOPK, 0, 0, 1}, {"randkc", DC_SK_RANDK_C, 41, 0, 0},
      {"vsign", DC_SK_SIGN, 0, 0, 0},        {"scsign", DC_SK_SCALED_SIGN, 0, 0, 0},
      {"qsgd", DC_SK_QSGD, 0, 4, 0},         {"natural", DC_SK_NATURAL, 0, 0, 0}};
  const DcBackendOps* o = B->be.ops;
  int64_t n = ((int64_t)(bytes / 8) / 4096) * 4096, j;
  int nl = (int)(n / 4096), i, r, *sizes = (int*)malloc((size_t)(nl > 0 ? nl : 1) * sizeof(int)), one = (int)n;
  uint64_t seed = 5;
  double* h = (double*)malloc((size_t)n * sizeof(double));
  DcLayout layers, whole;
  Call c;
  DcBenchStats s;
  int st = h && sizes && nl > 0 ? DETCGD_OK : DETCGD_ERR_ALLOC;
  memset(&c, 0, sizeof c);
  memset(&layers, 0, sizeof layers);
  memset(&whole, 0, sizeof whole);
  c.o = o;
  c.kind = 7;
  for (i = 0; i < nl && sizes; ++i) sizes[i] = 4096;
  for (j = 0; j < n && h; ++j) h[j] = lcg_uniform(&seed);
  if (!st) st = dc_layout_init(&layers, nl, sizes);
  if (!st) st = dc_layout_init(&whole, 1, &one);
  if (!st) st = o->vec_create(&B->be, n, &c.x);
  if (!st) st = o->vec_create(&B->be, n, &c.y);
  if (!st) st = o->vec_upload(&B->be, c.x, h);
  for (r = 0; r < (int)(sizeof rows / sizeof rows[0]) && !st; ++r) {
    DcSketchSpec sp;
    st = make_value_spec(&sp, rows[r].one_layer ? &whole : &layers, rows[r].kind,
                         rows[r].one_layer ? (int)(n / 100) : rows[r].k, rows[r].levels);
    if (!st) st = o->sketch_create(&B->be, &sp, 1, &c.S);
    if (!st) st = time_call(B, &c, 3, 2.0 * (double)n * 8, &s);
    if (!st) report(B, rows[r].name, rows[r].one_layer ? one : 4096, rows[r].one_layer ? 1 : nl, &s, "coords/s", (double)n);
    o->sketch_destroy(&B->be, &c.S);
    dc_sketch_spec_free(&sp);
  }
  o->vec_destroy(&B->be, &c.x);
  o->vec_destroy(&B->be, &c.y);
  dc_layout_free(&layers);
  dc_layout_free(&whole);
  free(sizes);
  free(h);
  return st;
}

/* E[S_i A_i S_i] of 256 layers of 64 under rand-8 by Monte Carlo, all layers in one pass: layer-samples
 * per second. */
static int bench_mc(Bench* B, int64_t nsamples) {
  int l = 256, j, st, *sizes = (int*)malloc((size_t)l * sizeof(int));
  int64_t mm = (int64_t)l * 64 * 64;
  DcLayout lay;
  DcSketchSpec sp;
  double *A = (double*)malloc((size_t)mm * sizeof(double)), *mean = (double*)malloc((size_t)mm * sizeof(double));
  double *se = (double*)malloc((size_t)mm * sizeof(double)), t0;
  uint64_t seed = 7;
  DcBenchStats s;
  if (!sizes || !A || !mean || !se) { free(sizes); free(A); free(mean); free(se); return DETCGD_ERR_ALLOC; }
  for (j = 0; j < l; ++j) sizes[j] = 64;
  for (j = 0; j < mm; ++j) A[j] = lcg_uniform(&seed);
  st = dc_layout_init(&lay, l, sizes);
  if (!st) st = make_spec(&sp, &lay, 0, 8, 1.0);
  t0 = dc_bench_now();
  if (!st) st = B->be.ops->mc_moments(&B->be, &sp, A, nsamples, 3, mean, se);
  if (!st) {
    double t = dc_bench_now() - t0;
    dc_bench_stats(&t, 1, 0.0, &s);
    report(B, "mc", 64, l, &s, "layer-samples/s", (double)nsamples * l);
  }
  if (!st) dc_sketch_spec_free(&sp);
  dc_layout_free(&lay);
  free(sizes); free(A); free(mean); free(se);
  return st;
}

/* One stepsize setup as the solver runs it: D built on the backend where it can, else on the host and uploaded. */
static int setup_once(Bench* B, const DetcgdProblem* p, const DetcgdSettings* s, const DcSketchSpec* sp,
                      const DcProbData* P, double* seconds) {
  DcStepsize step;
  DcBlocks* D = NULL;
  double t0 = dc_bench_now();
  int st = dc_stepsize_build(&step, p, s, sp, &B->be, P, &D);
  if (st) return st;
  if (!D) st = B->be.ops->blocks_create(&B->be, &step.D, &D);
  if (!st) st = B->be.ops->sync(&B->be);
  *seconds = dc_bench_now() - t0;
  if (D) B->be.ops->blocks_destroy(&B->be, &D);
  dc_stepsize_free(&step);
  return st;
}

/* Stepsize setup of quad-nc with l layers of width b (configuration L's stepsize): blocks per second. */
static int bench_setup(Bench* B, int b, int64_t l) {
  DetcgdProblemSpec ps;
  DetcgdProblem* p = NULL;
  DetcgdSettings s;
  DcSketchSpec sp;
  DcProbData* P = NULL;
  DcBenchStats stats;
  double t[3];
  int r, n = B->repeats < 3 ? B->repeats : 3, st, have_spec = 0;
  detcgd_problem_spec_default(&ps);
  ps.kind = DETCGD_PROBLEM_QUAD_NC;
  ps.lambda = 0.1;
  snprintf(ps.layers, sizeof ps.layers, "%lldx%d", (long long)l, b);
  detcgd_settings_default(&s);
  s.method = DETCGD_METHOD_DET2;
  s.sketch.kind = DETCGD_SKETCH_RANDK;
  s.sketch.k = b / 8;
  s.stepsize.kind = DETCGD_STEP_DET2_OPT;
  s.stepsize.precision = DETCGD_PREC_FP32;
  st = detcgd_problem_create(&p, &ps);
  if (!st) st = dc_sketch_spec_build(&sp, &s.sketch, &s.comm, p);
  have_spec = !st;
  if (!st) st = B->be.ops->problem_create(&B->be, &p->host, &P);
  for (r = 0; !st && r < n; ++r) st = setup_once(B, p, &s, &sp, P, &t[r]);
  if (!st) {
    dc_bench_stats(t, n, 0.0, &stats);
    report(B, "setup", b, l, &stats, "blocks/s", (double)l);
  }
  if (P) B->be.ops->problem_destroy(&B->be, &P);
  if (have_spec) dc_sketch_spec_free(&sp);
  detcgd_problem_destroy(&p);
  return st;
}

/* Host memcpy bandwidth (read + write) of 256 MiB: the CPU's ceiling. */
static double cpu_copy_gbps(int repeats) {
  size_t n = (size_t)256 << 20;
  unsigned char *a = (unsigned char*)malloc(n), *b = (unsigned char*)malloc(n);
  double* t = (double*)calloc((size_t)repeats, sizeof(double));
  DcBenchStats s = {0};
  int r;
  if (a && b && t) {
    memset(a, 1, n);
    memset(b, 2, n);
    for (r = 0; r < repeats; ++r) {
      double t0 = dc_bench_now();
      memcpy(b, a, n);
      t[r] = dc_bench_now() - t0;
    }
    dc_bench_stats(t, repeats, 2.0 * (double)n, &s);
  }
  free(a); free(b); free(t);
  return s.gbps;
}

static int bench_backend(const char* name, int kind, const Opts* op, FILE* csv) {
  static const int widths[] = {16, 32, 64, 128, 256, 512};
  Bench B;
  int i, st;
  memset(&B, 0, sizeof B);
  B.name = name;
  B.csv = csv;
  B.repeats = op->repeats;
  if (kind == DETCGD_BACKEND_CPU) {
    B.cpu_flush = (unsigned char*)malloc(FLUSH_BYTES);
    if (!B.cpu_flush) return DETCGD_ERR_ALLOC;
    B.copy_gbps = cpu_copy_gbps(op->repeats);
  }
#ifdef DETCGD_WITH_CUDA
  else {
    DcBenchStats s;
    if (dc_bench_copy_bandwidth((size_t)op->bytes, op->repeats, 5, &s) != 0) return DETCGD_ERR_CUDA;
    B.copy_gbps = s.gbps;
  }
#endif
  printf("== %s: measured copy bandwidth %.1f GB/s (read + write)\n", name, B.copy_gbps);
  if (csv) fprintf(csv, "%s,copy,0,0,0,0,0,0,%.2f,100.0\n", name, B.copy_gbps);
  if ((st = dc_backend_open(&B.be, kind)) != DETCGD_OK) { free(B.cpu_flush); return st; }
  for (i = 0; i < 6 && st == DETCGD_OK; ++i) st = bench_width(&B, widths[i], op->bytes);
  if (st == DETCGD_OK) st = bench_sign(&B, op->bytes);
  if (st == DETCGD_OK) st = bench_values(&B, op->bytes);
  if (st == DETCGD_OK) st = bench_mc(&B, kind == DETCGD_BACKEND_CPU ? 2000 : 100000);
  for (i = 0; i < 3 && st == DETCGD_OK; ++i) { /* bytes / 4 block entries: 2^24 (cpu), 2^28 (cuda) by default */
    int b = 16 << (2 * i);
    int64_t l = (int64_t)(op->bytes / 4) / ((int64_t)b * b);
    st = bench_setup(&B, b, l > 0 ? l : 1);
  }
  if (st != DETCGD_OK) fprintf(stderr, "%s: %s\n", name, detcgd_last_error());
  dc_backend_close(&B.be);
  free(B.cpu_flush);
  return st;
}

static int parse(int argc, char** argv, Opts* o) {
  int i;
  o->backend = "all";
  o->bytes = 0;
  o->repeats = 7;
  o->out = NULL;
  for (i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--backend")) o->backend = argv[i + 1];
    else if (!strcmp(argv[i], "--bytes")) o->bytes = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--repeats")) o->repeats = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--out")) o->out = argv[i + 1];
    else break;
  }
  if (i != argc || o->repeats < 1 || o->bytes < 0 ||
      (strcmp(o->backend, "all") && strcmp(o->backend, "cpu") && strcmp(o->backend, "cuda"))) {
    fprintf(stderr, "usage: %s [--backend cpu|cuda|all] [--bytes N] [--repeats R] [--out F.csv]\n"
                    "  --bytes: fp64 block bytes per width (default 1 GiB on cuda, 64 MiB on cpu)\n", argv[0]);
    return 2;
  }
  return 0;
}

int main(int argc, char** argv) {
  Opts o;
  FILE* csv = NULL;
  int st = parse(argc, argv, &o), rc = 0;
  if (st) return st;
  if (o.out && !(csv = fopen(o.out, "w"))) { fprintf(stderr, "cannot write %s\n", o.out); return 3; }
  if (csv) fprintf(csv, "backend,op,b,layers,bytes_per_call,median_us,p10_us,p90_us,GBps,pct_of_copy\n");
  if (strcmp(o.backend, "cuda")) {
    Opts c = o;
    if (c.bytes == 0) c.bytes = 64.0 * (1 << 20);
    rc |= bench_backend("cpu", DETCGD_BACKEND_CPU, &c, csv) != DETCGD_OK;
  }
  if (strcmp(o.backend, "cpu")) {
#ifdef DETCGD_WITH_CUDA
    if (dc_bench_cuda_device_present()) {
      Opts c = o;
      if (c.bytes == 0) c.bytes = 1024.0 * (1 << 20);
      rc |= bench_backend("cuda", DETCGD_BACKEND_CUDA, &c, csv) != DETCGD_OK;
    } else {
      printf("== cuda: skipped (no CUDA device): copy bandwidth, custom kernels, cuBLAS strided-batched gemv, stepsize setup\n");
    }
#else
    printf("== cuda: skipped (built without CUDA)\n");
#endif
  }
  if (csv) fclose(csv);
  return rc ? 1 : 0;
}
