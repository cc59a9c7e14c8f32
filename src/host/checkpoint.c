/*
 * checkpoint.c -- checkpoint and resume.
 *
 * The sketches are a pure function of (seed, iteration, client, layer), so the
 * state of a run at the start of iteration k is: x^k, the running sum of
 * ||grad f(x^j)||^2_D for j < k, f(x^0), the uplink tallies and the elapsed
 * time.  A resumed run continues from there and rewrites the trace rows from
 * iteration k on, so its trace equals that of an uninterrupted run.
 *
 * File: "DCGDCKP1", then int64 d, int64 k, uint64 seed, int32 method,
 * int32 clients, double f0, double G-sum, int64 coords, int64 bits,
 * double elapsed, double x[d]; written to PATH.tmp and renamed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "solver.h"

static const char MAGIC[8] = {'D', 'C', 'G', 'D', 'C', 'K', 'P', '1'};

typedef struct CheckpointHeader {
  int64_t d, k;
  uint64_t seed;
  int32_t method, clients;
  double f0, gsum;
  int64_t coords, bits;
  double elapsed;
} CheckpointHeader;

int dc_checkpoint_write(DetcgdSolver* s, int64_t k, double elapsed) {
  const char* path = s->settings.output.checkpoint_path;
  CheckpointHeader h;
  double m[M_COUNT];
  char tmp[DETCGD_PATH_MAX + 8];
  double* x;
  FILE* f;
  int st, ok;
  memset(&h, 0, sizeof h);
  h.d = s->problem->layout.dim;
  h.k = k;
  h.seed = s->settings.seed;
  h.method = s->settings.method;
  h.clients = s->nclients;
  h.f0 = s->result.f_initial;
  h.elapsed = elapsed;
  if ((st = s->be.ops->vec_download(&s->be, s->metrics, m)) != DETCGD_OK) return st;
  h.gsum = m[M_GDSUM];
  if (s->S && (st = s->be.ops->sketch_tally(&s->be, s->S, &h.coords, &h.bits)) != DETCGD_OK) return st;
  if (!(x = (double*)dc_calloc((size_t)h.d, sizeof(double)))) return DETCGD_ERR_ALLOC;
  if ((st = s->be.ops->vec_download(&s->be, s->x, x)) != DETCGD_OK) { free(x); return st; }
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  f = fopen(tmp, "wb");
  if (!f) { free(x); return dc_fail(DETCGD_ERR_IO, "checkpoint: cannot write %s (%s)", tmp, strerror(errno)); }
  ok = fwrite(MAGIC, 1, sizeof MAGIC, f) == sizeof MAGIC && fwrite(&h, sizeof h, 1, f) == 1 &&
       fwrite(x, sizeof(double), (size_t)h.d, f) == (size_t)h.d;
  ok = (fclose(f) == 0) && ok;
  free(x);
  if (!ok || rename(tmp, path) != 0) return dc_fail(DETCGD_ERR_IO, "checkpoint: writing %s failed", path);
  return DETCGD_OK;
}

/* Does the checkpoint belong to this run? */
static int check_header(const DetcgdSolver* s, const CheckpointHeader* h, const char* path) {
  if (h->d != s->problem->layout.dim || h->method != s->settings.method || h->clients != s->nclients ||
      h->seed != s->settings.seed)
    return dc_fail(DETCGD_ERR_ARG, "resume: %s was written by another run (d %lld, method %s, clients %d, seed %llu)",
                   path, (long long)h->d, detcgd_method_name(h->method), h->clients, (unsigned long long)h->seed);
  if (h->k < 0 || h->k > s->settings.term.max_iter)
    return dc_fail(DETCGD_ERR_ARG, "resume: %s stops at iteration %lld, beyond iters = %lld", path, (long long)h->k,
                   (long long)s->settings.term.max_iter);
  return DETCGD_OK;
}

int dc_checkpoint_read(DetcgdSolver* s, int64_t* k, double* elapsed) {
  const char* path = s->settings.output.resume_path;
  const DcBackendOps* o = s->be.ops;
  CheckpointHeader h;
  char magic[8];
  double* x = NULL;
  double m[M_COUNT] = {0};
  FILE* f = fopen(path, "rb");
  int st = DETCGD_OK;
  if (!f) return dc_fail(DETCGD_ERR_IO, "resume: cannot open %s (%s)", path, strerror(errno));
  if (fread(magic, 1, sizeof magic, f) != sizeof magic || memcmp(magic, MAGIC, sizeof magic) != 0 ||
      fread(&h, sizeof h, 1, f) != 1)
    st = dc_fail(DETCGD_ERR_PARSE, "resume: %s is not a detcgd checkpoint", path);
  if (st == DETCGD_OK) st = check_header(s, &h, path);
  if (st == DETCGD_OK && !(x = (double*)dc_calloc((size_t)h.d, sizeof(double)))) st = DETCGD_ERR_ALLOC;
  if (st == DETCGD_OK && fread(x, sizeof(double), (size_t)h.d, f) != (size_t)h.d)
    st = dc_fail(DETCGD_ERR_PARSE, "resume: %s is truncated", path);
  fclose(f);
  if (st == DETCGD_OK) st = o->vec_upload(&s->be, s->x, x);
  m[M_GDSUM] = h.gsum;
  if (st == DETCGD_OK) st = o->vec_upload(&s->be, s->metrics, m);
  if (st == DETCGD_OK && s->S) st = o->sketch_set_tally(&s->be, s->S, h.coords, h.bits);
  free(x);
  if (st != DETCGD_OK) return st;
  s->result.f_initial = h.f0;
  *k = h.k;
  *elapsed = h.elapsed;
  return DETCGD_OK;
}

int dc_trace_truncate(const char* path, int64_t k) {
  FILE* in = fopen(path, "r");
  char line[4096], tmp[DETCGD_PATH_MAX + 8];
  FILE* out;
  int first = 1;
  if (!in) return DETCGD_OK; /* no trace yet: the resumed run starts one */
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  out = fopen(tmp, "w");
  if (!out) { fclose(in); return dc_fail(DETCGD_ERR_IO, "trace: cannot write %s", tmp); }
  while (fgets(line, sizeof line, in)) {
    if (first || atoll(line) < k) fputs(line, out); /* header, then rows before iteration k */
    first = 0;
  }
  fclose(in);
  if (fclose(out) != 0 || rename(tmp, path) != 0) return dc_fail(DETCGD_ERR_IO, "trace: rewriting %s failed", path);
  return DETCGD_OK;
}
