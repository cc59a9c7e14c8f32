/*
 * util.c -- errors, logging, timing, the layer layout and host block matrices.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include "internal.h"

/* ==== Errors and logging ==== */

#if defined(__GNUC__)
#define DC_THREAD_LOCAL __thread
#else
#define DC_THREAD_LOCAL
#endif
static DC_THREAD_LOCAL char last_error[1024];
static DetcgdLogFn log_fn = NULL;
static void* log_user = NULL;
static int log_max_level = DETCGD_LOG_INFO;

const char* detcgd_last_error(void) { return last_error; }

int dc_fail(int status, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return status;
}

void detcgd_set_log(DetcgdLogFn fn, void* user, int max_level) {
  log_fn = fn;
  log_user = user;
  log_max_level = max_level;
}

void dc_log(int level, const char* fmt, ...) {
  char buf[2048];
  va_list ap;
  if (level > log_max_level) return;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (log_fn) { log_fn(level, buf, log_user); return; }
  fputs(buf, level <= DETCGD_LOG_WARN ? stderr : stdout);
  fflush(level <= DETCGD_LOG_WARN ? stderr : stdout);
}

void* dc_calloc(size_t n, size_t size) {
  void* p = calloc(n ? n : 1, size ? size : 1);
  if (!p) dc_fail(DETCGD_ERR_ALLOC, "out of host memory (%zu x %zu bytes)", n, size);
  return p;
}

double dc_wall_time(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int64_t dc_host_bytes_peak(void) {
  struct rusage u;
  return getrusage(RUSAGE_SELF, &u) == 0 ? (int64_t)u.ru_maxrss * 1024 : 0; /* Linux: kilobytes */
}

/* ==== Layout ==== */

int dc_layout_init(DcLayout* lay, int nblocks, const int* sizes) {
  int i;
  memset(lay, 0, sizeof *lay);
  if (nblocks <= 0) return dc_fail(DETCGD_ERR_ARG, "layers: at least one layer is needed");
  lay->size = (int*)dc_calloc((size_t)nblocks, sizeof(int));
  lay->voff = (int64_t*)dc_calloc((size_t)nblocks + 1, sizeof(int64_t));
  lay->moff = (int64_t*)dc_calloc((size_t)nblocks + 1, sizeof(int64_t));
  if (!lay->size || !lay->voff || !lay->moff) { dc_layout_free(lay); return DETCGD_ERR_ALLOC; }
  lay->nblocks = nblocks;
  for (i = 0; i < nblocks; ++i) {
    if (sizes[i] <= 0) {
      dc_layout_free(lay);
      return dc_fail(DETCGD_ERR_ARG, "layers: layer %d has width %d (must be >= 1)", i, sizes[i]);
    }
    lay->size[i] = sizes[i];
    lay->voff[i + 1] = lay->voff[i] + sizes[i];
    lay->moff[i + 1] = lay->moff[i] + (int64_t)sizes[i] * sizes[i];
    if (sizes[i] > lay->max_size) lay->max_size = sizes[i];
  }
  lay->dim = lay->voff[nblocks];
  return DETCGD_OK;
}

void dc_layout_free(DcLayout* lay) {
  free(lay->size);
  free(lay->voff);
  free(lay->moff);
  memset(lay, 0, sizeof *lay);
}

/* Reads one non-negative integer term; advances *p. */
static int parse_long(const char** p, long* out) {
  char* end;
  errno = 0;
  *out = strtol(*p, &end, 10);
  if (end == *p || errno) return 0;
  *p = end;
  return 1;
}

static int append_int(int** v, int* n, int* cap, int x) {
  if (*n == *cap) {
    int ncap = *cap ? 2 * *cap : 16;
    int* nv = (int*)realloc(*v, (size_t)ncap * sizeof(int));
    if (!nv) return dc_fail(DETCGD_ERR_ALLOC, "out of host memory parsing layers");
    *v = nv;
    *cap = ncap;
  }
  (*v)[(*n)++] = x;
  return DETCGD_OK;
}

int dc_parse_layers(const char* spec, int** sizes, int* n, const char* option) {
  const char* p = spec;
  int cap = 0;
  *sizes = NULL;
  *n = 0;
  while (*p && isspace((unsigned char)*p)) ++p;
  while (*p) {
    long a, b = 1, count = 1, width, t;
    if (!parse_long(&p, &a)) goto bad;
    if (*p == 'x' || *p == 'X') { ++p; if (!parse_long(&p, &b)) goto bad; count = a; width = b; }
    else width = a;
    if (count <= 0 || count > 100000000L || width <= 0 || width > 1000000000L) goto bad;
    for (t = 0; t < count; ++t)
      if (append_int(sizes, n, &cap, (int)width) != DETCGD_OK) return DETCGD_ERR_ALLOC;
    while (*p && isspace((unsigned char)*p)) ++p;
    if (*p == ',') { ++p; continue; }
    if (*p) goto bad;
  }
  return DETCGD_OK;
bad:
  free(*sizes);
  *sizes = NULL;
  *n = 0;
  return dc_fail(DETCGD_ERR_ARG, "%s: cannot read \"%s\" (expected widths like \"64,32\" or \"16x64\")",
                 option, spec);
}

int dc_parse_doubles(const char* spec, double** out, int* n, const char* option) {
  const char* p = spec;
  int cap = 0;
  *out = NULL;
  *n = 0;
  while (*p && isspace((unsigned char)*p)) ++p;
  while (*p) {
    char* end;
    double v = strtod(p, &end);
    if (end == p) goto bad;
    if (*n == cap) {
      double* nv;
      cap = cap ? 2 * cap : 16;
      nv = (double*)realloc(*out, (size_t)cap * sizeof(double));
      if (!nv) { free(*out); *out = NULL; return dc_fail(DETCGD_ERR_ALLOC, "out of host memory"); }
      *out = nv;
    }
    (*out)[(*n)++] = v;
    p = end;
    while (*p && isspace((unsigned char)*p)) ++p;
    if (*p == ',') { ++p; continue; }
    if (*p) goto bad;
  }
  return DETCGD_OK;
bad:
  free(*out);
  *out = NULL;
  *n = 0;
  return dc_fail(DETCGD_ERR_ARG, "%s: cannot read \"%s\" (expected numbers like \"0.5,0.25\")",
                 option, spec);
}

/* ==== Per-block work on every core ==== */

static void free_scratch(double** scratch) {
  int j;
  for (j = 0; j < DC_MAX_SCRATCH; ++j) free(scratch[j]);
}

static int alloc_scratch(double** scratch, int nscratch, int max_m) {
  size_t mm = (size_t)max_m * (size_t)max_m;
  int j, ok = 1;
  for (j = 0; j < DC_MAX_SCRATCH; ++j) scratch[j] = NULL;
  for (j = 0; j < nscratch; ++j) ok = (scratch[j] = (double*)calloc(mm ? mm : 1, sizeof(double))) != NULL && ok;
  return ok;
}

int dc_for_each_block(int n, int max_m, int nscratch, DcBlockFn fn, void* ctx, double* value) {
  double* scratch[DC_MAX_SCRATCH];
  double unused;
  int first = n, alloc_failed = 0, st;
#pragma omp parallel
  {
    double* mine[DC_MAX_SCRATCH];
    double sink;
    int i, ok = alloc_scratch(mine, nscratch, max_m);
    if (!ok) {
#pragma omp atomic write
      alloc_failed = 1;
    }
#pragma omp for schedule(dynamic, 8)
    for (i = 0; i < n; ++i) {
      if (!ok || fn(ctx, i, mine, value ? value + i : &sink) == DETCGD_OK) continue;
#pragma omp critical(dc_for_each_block)
      if (i < first) first = i;
    }
    free_scratch(mine);
  }
  if (alloc_failed) return dc_fail(DETCGD_ERR_ALLOC, "out of memory (per-thread scratch of %d matrices of %d x %d)",
                                   nscratch, max_m, max_m);
  if (first == n) return DETCGD_OK;
  if (!alloc_scratch(scratch, nscratch, max_m)) { free_scratch(scratch); return DETCGD_ERR_ALLOC; }
  st = fn(ctx, first, scratch, value ? value + first : &unused); /* again on this thread: its message */
  free_scratch(scratch);
  return st != DETCGD_OK ? st : dc_fail(DETCGD_ERR_INTERNAL, "block %d failed on a worker thread only", first);
}

double dc_max_of(const double* value, int n) {
  double m = 0.0;
  int i;
  for (i = 0; i < n; ++i) if (value[i] > m) m = value[i];
  return m;
}

double dc_sum_of(const double* value, int n) {
  double s = 0.0;
  int i;
  for (i = 0; i < n; ++i) s += value[i];
  return s;
}

int64_t dc_blocks_count(const DcHostBlocks* B) {
  const DcLayout* lay = B->layout;
  return B->kind == DC_BLOCKS_SCALAR ? lay->nblocks : B->kind == DC_BLOCKS_DIAG ? lay->dim : lay->moff[lay->nblocks];
}

float* dc_blocks_to_float(const DcHostBlocks* B) {
  int64_t n = dc_blocks_count(B), e;
  float* f = (float*)dc_calloc((size_t)n + 1, sizeof(float));
  for (e = 0; f && e < n; ++e) f[e] = (float)B->data[e];
  return f;
}

int dc_blocks_alloc(DcHostBlocks* B, const DcLayout* lay, int kind) {
  B->kind = kind;
  B->layout = lay;
  B->store32 = 0;
  B->data = (double*)dc_calloc((size_t)dc_blocks_count(B), sizeof(double));
  return B->data ? DETCGD_OK : DETCGD_ERR_ALLOC;
}

void dc_blocks_free(DcHostBlocks* B) {
  free(B->data);
  B->data = NULL;
}

void dc_blocks_get_dense(const DcHostBlocks* B, int i, double* out) {
  const DcLayout* lay = B->layout;
  int m = lay->size[i], r;
  if (B->kind == DC_BLOCKS_DENSE) {
    memcpy(out, B->data + lay->moff[i], (size_t)m * m * sizeof(double));
    return;
  }
  memset(out, 0, (size_t)m * m * sizeof(double));
  for (r = 0; r < m; ++r)
    out[r + (int64_t)r * m] = B->kind == DC_BLOCKS_SCALAR ? B->data[i] : B->data[lay->voff[i] + r];
}

/* DENSE -> DIAG when every off-diagonal entry is 0; DIAG -> SCALAR when each block is c I. */
int dc_blocks_compact(DcHostBlocks* B) {
  const DcLayout* lay = B->layout;
  int i, r, c;
  if (B->kind == DC_BLOCKS_DENSE) {
    double* diag;
    for (i = 0; i < lay->nblocks; ++i)
      for (c = 0; c < lay->size[i]; ++c)
        for (r = 0; r < lay->size[i]; ++r)
          if (r != c && B->data[lay->moff[i] + r + (int64_t)c * lay->size[i]] != 0.0) return DETCGD_OK;
    diag = (double*)dc_calloc((size_t)lay->dim, sizeof(double));
    if (!diag) return DETCGD_ERR_ALLOC;
    for (i = 0; i < lay->nblocks; ++i)
      for (r = 0; r < lay->size[i]; ++r)
        diag[lay->voff[i] + r] = B->data[lay->moff[i] + r + (int64_t)r * lay->size[i]];
    free(B->data);
    B->data = diag;
    B->kind = DC_BLOCKS_DIAG;
  }
  if (B->kind == DC_BLOCKS_DIAG) {
    double* sc;
    for (i = 0; i < lay->nblocks; ++i)
      for (r = 1; r < lay->size[i]; ++r)
        if (B->data[lay->voff[i] + r] != B->data[lay->voff[i]]) return DETCGD_OK;
    sc = (double*)dc_calloc((size_t)lay->nblocks, sizeof(double));
    if (!sc) return DETCGD_ERR_ALLOC;
    for (i = 0; i < lay->nblocks; ++i) sc[i] = B->data[lay->voff[i]];
    free(B->data);
    B->data = sc;
    B->kind = DC_BLOCKS_SCALAR;
  }
  return DETCGD_OK;
}

int dc_round_float_entries(double* v, int64_t n, int64_t first, const char* option) {
  int64_t e;
  for (e = 0; e < n; ++e) {
    float f = (float)v[e];
    if (!isfinite(f) || (f == 0.0f && v[e] != 0.0))
      return dc_fail(DETCGD_ERR_ARG, "%s: entry %lld (%g) is outside the float range; use fp64", option,
                     (long long)(first + e), v[e]);
    v[e] = (double)f;
  }
  return DETCGD_OK;
}

int dc_blocks_round_float(DcHostBlocks* B, const char* option) {
  int st = dc_round_float_entries(B->data, dc_blocks_count(B), 0, option);
  if (st == DETCGD_OK) B->store32 = 1;
  return st;
}

int64_t dc_blocks_block_entries(const DcHostBlocks* B, int i, int64_t* first) {
  const DcLayout* lay = B->layout;
  switch (B->kind) {
    case DC_BLOCKS_SCALAR: *first = i; return 1;
    case DC_BLOCKS_DIAG: *first = lay->voff[i]; return lay->size[i];
    default: *first = lay->moff[i]; return (int64_t)lay->size[i] * lay->size[i];
  }
}

void dc_join_names(char* out, size_t n, int count, const char* (*name)(int i)) {
  int i;
  if (n == 0) return;
  out[0] = '\0';
  for (i = 0; i < count; ++i) {
    strncat(out, name(i), n - strlen(out) - 1);
    if (i + 1 < count) strncat(out, ", ", n - strlen(out) - 1);
  }
}

uint64_t dc_hash64(uint64_t h, const void* data, size_t bytes) {
  const unsigned char* b = (const unsigned char*)data;
  const uint64_t prime = 0x100000001b3ULL;
  size_t i = 0;
  for (; i + 8 <= bytes; i += 8) {
    uint64_t w;
    memcpy(&w, b + i, 8);
    h = (h ^ w) * prime;
  }
  for (; i < bytes; ++i) h = (h ^ b[i]) * prime;
  return h;
}

/* ==== Stop requests (signal handlers) ==== */

static volatile sig_atomic_t stop_requested;

void detcgd_request_stop(void) { stop_requested = 1; }
void detcgd_clear_stop(void) { stop_requested = 0; }
int detcgd_stop_requested(void) { return stop_requested != 0; }

void dc_sleep(double seconds) {
  struct timespec ts;
  ts.tv_sec = (time_t)seconds;
  ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
  nanosleep(&ts, NULL);
}
