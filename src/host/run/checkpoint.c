/*
 * checkpoint.c -- checkpoint and resume.
 *
 * The sketches are a pure function of (seed, iteration, client, layer), so the
 * state of a run at the start of iteration k is: x^k, the running sum of
 * ||grad f(x^j)||^2_D over the iterates summed so far, f(x^0), the uplink
 * tallies, the elapsed time, and with sparse steps q = A (x^k - c) and g as the
 * steps left them (not recomputed: a fresh q differs from a stepped one in
 * rounding).  A resumed run continues from there and rewrites the trace rows
 * from iteration k on, so its trace equals that of an uninterrupted run.
 *
 * File: "DCGDCKP2", then int64 d, int64 k, uint64 seed, int32 method,
 * int32 clients, int32 sparse steps, int32 0, double f0, double G-sum,
 * int64 coords, int64 bits, double elapsed, double x[d], and with sparse steps
 * double q[d], double g[d]; written to PATH.tmp and renamed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "solver.h"

static const char MAGIC[8] = {'D', 'C', 'G', 'D', 'C', 'K', 'P', '2'};

typedef struct CheckpointHeader {
  int64_t d, k;
  uint64_t seed;
  int32_t method, clients, sparse_steps, unused;
  double f0, gsum;
  int64_t coords, bits;
  double elapsed;
} CheckpointHeader;

/* Downloads v into buf (d doubles) and writes it to f. */
static int write_vec(DetcgdSolver* s, const DcVec* v, double* buf, int64_t d, FILE* f, int* ok) {
  int st = s->be.ops->vec_download(&s->be, v, buf);
  *ok = *ok && st == DETCGD_OK && fwrite(buf, sizeof(double), (size_t)d, f) == (size_t)d;
  return st;
}

/* Reads d doubles from f into buf and uploads them to v. */
static int read_vec(DetcgdSolver* s, DcVec* v, double* buf, int64_t d, FILE* f, const char* path) {
  if (fread(buf, sizeof(double), (size_t)d, f) != (size_t)d) return dc_fail(DETCGD_ERR_PARSE, "resume: %s is truncated", path);
  return s->be.ops->vec_upload(&s->be, v, buf);
}

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
  h.sparse_steps = s->sparse_steps;
  h.f0 = s->result.f_initial;
  h.elapsed = elapsed;
  if ((st = s->be.ops->vec_download(&s->be, s->metrics, m)) != DETCGD_OK) return st;
  h.gsum = m[M_GDSUM];
  if (s->S && (st = s->be.ops->sketch_tally(&s->be, s->S, &h.coords, &h.bits)) != DETCGD_OK) return st;
  if (!(x = (double*)dc_calloc((size_t)h.d + 1, sizeof(double)))) return DETCGD_ERR_ALLOC;
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  f = fopen(tmp, "wb");
  if (!f) { free(x); return dc_fail(DETCGD_ERR_IO, "checkpoint: cannot write %s (%s)", tmp, strerror(errno)); }
  ok = fwrite(MAGIC, 1, sizeof MAGIC, f) == sizeof MAGIC && fwrite(&h, sizeof h, 1, f) == 1;
  st = write_vec(s, s->x, x, h.d, f, &ok);
  if (st == DETCGD_OK && s->sparse_steps) st = write_vec(s, s->q, x, h.d, f, &ok);
  if (st == DETCGD_OK && s->sparse_steps) st = write_vec(s, s->g, x, h.d, f, &ok);
  ok = (fclose(f) == 0) && ok;
  free(x);
  if (st != DETCGD_OK) return st;
  if (!ok || rename(tmp, path) != 0) return dc_fail(DETCGD_ERR_IO, "checkpoint: writing %s failed", path);
  return DETCGD_OK;
}

/* Does the checkpoint belong to this run? */
static int check_header(const DetcgdSolver* s, const CheckpointHeader* h, const char* path) {
  if (h->d != s->problem->layout.dim || h->method != s->settings.method || h->clients != s->nclients ||
      h->seed != s->settings.seed)
    return dc_fail(DETCGD_ERR_ARG, "resume: %s was written by another run (d %lld, method %s, clients %d, seed %llu)",
                   path, (long long)h->d, detcgd_method_name(h->method), h->clients, (unsigned long long)h->seed);
  if (h->sparse_steps != s->sparse_steps)
    return dc_fail(DETCGD_ERR_ARG, "resume: %s was written with sparse-steps %s; this run %s", path,
                   h->sparse_steps ? "on" : "off", s->sparse_steps ? "uses them" : "does not");
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
  if (st == DETCGD_OK && !(x = (double*)dc_calloc((size_t)h.d + 1, sizeof(double)))) st = DETCGD_ERR_ALLOC;
  if (st == DETCGD_OK) st = read_vec(s, s->x, x, h.d, f, path);
  if (st == DETCGD_OK && s->sparse_steps) st = read_vec(s, s->q, x, h.d, f, path);
  if (st == DETCGD_OK && s->sparse_steps) st = read_vec(s, s->g, x, h.d, f, path);
  fclose(f);
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
