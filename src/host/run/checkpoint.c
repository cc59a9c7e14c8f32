/*
 * checkpoint.c -- checkpoint and resume.
 *
 * The sketches are a pure function of (seed, iteration, client, layer), so the state of a run at the start
 * of iteration k is: x^k, the metrics (the running sum of ||grad f(x^j)||^2_D), f(x^0), the uplink tallies,
 * the elapsed time, and with sparse steps q = A (x^k - c) and g as the steps left them (not recomputed: a
 * fresh q differs from a stepped one in rounding).  A resumed run continues from there and rewrites the trace
 * rows from iteration k on, so its trace equals that of an uninterrupted run.
 *
 * File (native byte order), written to PATH.tmp and renamed:
 *   "DCGDCKP4", uint32 format version, then the header below, then the configuration the iterates depend on
 *   as config-file lines (dc_options_state_text, and the backend that ran), then the named state vectors
 *   {char name[16], int64 n, double v[n]} (the run's, then the method's own: EF21's g_c and g), then the CRC-32
 *   (zlib) of every byte before it.
 * Resuming refuses a damaged file (checksum), another format, another configuration (naming the first key
 * that differs; with cor1 and dcgd-kr iters too, which sets their D), other data (the data's fingerprint) and
 * an iteration beyond iters.  Over MPI rank 0's file is the run's; a method whose clients keep state the server
 * never sees (client_state: EF14's e_c, EF21-SGDM's v_c) has every client rank r write its own PATH.rank<r> too
 * (its copy of the state vectors, whose rows of its clients are the run's), and read it back on resume, which
 * refuses a file of another rank or rank count.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "options.h"
#include "solver.h"

static const char MAGIC[8] = {'D', 'C', 'G', 'D', 'C', 'K', 'P', '4'};
enum { FORMAT_VERSION = 5, NAME_LEN = 16, CONFIG_MAX = 1 << 16, MAX_METHOD_VECTORS = 6, MAX_VECTORS = 4 + MAX_METHOD_VECTORS }; /* 5: the metrics hold the method's trace scalars too */

typedef struct CheckpointHeader {
  uint64_t config_hash, data_hash;
  int64_t k;
  int32_t rank, nranks;
  double f0, elapsed;
  int64_t coords, bits;
  int32_t nvectors, config_len;
} CheckpointHeader;

/* A state vector of the run: its name, length and the backend vector. */
typedef struct StateVec {
  char name[NAME_LEN];
  int64_t n;
  DcVec* v;
} StateVec;

/* The vectors the run's state is: x, the metrics, and with sparse steps q and g. */
static int state_vectors(DetcgdSolver* s, StateVec* out) {
  int64_t d = s->problem->layout.dim;
  int n = 0;
  StateVec x = {"x", 0, NULL}, m = {"metrics", M_COUNT, NULL}, q = {"q", 0, NULL}, g = {"g", 0, NULL};
  x.n = q.n = g.n = d;
  x.v = s->x;
  m.v = s->metrics;
  q.v = s->round.q;
  g.v = s->g;
  out[n++] = x;
  out[n++] = m;
  if (s->round.sparse) { out[n++] = q; out[n++] = g; }
  if (s->method->state) { /* the method's own (EF21's g_c and g) */
    DcStateVec mv[MAX_METHOD_VECTORS];
    int i, nm = s->method->state(&s->round, mv, MAX_METHOD_VECTORS);
    for (i = 0; i < nm; ++i, ++n) {
      snprintf(out[n].name, NAME_LEN, "%s", mv[i].name);
      out[n].n = mv[i].n;
      out[n].v = mv[i].v;
    }
  }
  return n;
}

/* The configuration the iterates depend on, and the backend that computes them; with a step set by the horizon K
 * also iters (Corollary 1's and DCGD's gamma <= sqrt(n / (K ...)), a method's own: a resume must keep it). */
static int config_text(const DetcgdSolver* s, char* out, size_t cap, int32_t* len) {
  size_t n = dc_options_state_text(&s->problem->spec, &s->settings, out, cap);
  int k_sets_d = s->settings.stepsize.kind == DETCGD_STEP_COR1 || s->settings.stepsize.kind == DETCGD_STEP_DCGD_KR ||
                 (s->method->uses_horizon && s->method->uses_horizon(&s->settings));
  int w = n < cap && k_sets_d ? snprintf(out + n, cap - n, "iters = %lld\n", (long long)s->settings.term.max_iter) : 0;
  if (w >= 0 && n + (size_t)w < cap) n += (size_t)w;
  w = n < cap ? snprintf(out + n, cap - n, "backend-used = %s\n", s->be.ops->name) : 0;
  if (w < 0 || n + (size_t)w >= cap) return dc_fail(DETCGD_ERR_INTERNAL, "checkpoint: configuration longer than %zu bytes", cap);
  *len = (int32_t)(n + (size_t)w);
  return DETCGD_OK;
}

/* The data's fingerprint, taken once per solver (a pass over all of the data). */
static uint64_t data_hash(DetcgdSolver* s) {
  if (!s->data_hashed) {
    s->data_hash = dc_problem_data_hash(s->problem);
    s->data_hashed = 1;
  }
  return s->data_hash;
}

/* Appends bytes to a growing buffer. */
typedef struct Buf { unsigned char* p; size_t len, cap; } Buf;

static int put(Buf* b, const void* data, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    unsigned char* grown;
    while (cap < b->len + n) cap *= 2;
    if (!(grown = (unsigned char*)realloc(b->p, cap))) return dc_fail(DETCGD_ERR_ALLOC, "checkpoint: out of memory");
    b->p = grown;
    b->cap = cap;
  }
  memcpy(b->p + b->len, data, n);
  b->len += n;
  return DETCGD_OK;
}

static int put_vector(DetcgdSolver* s, Buf* b, const StateVec* sv) {
  double* h = (double*)dc_calloc((size_t)sv->n + 1, sizeof(double));
  int st;
  if (!h) return DETCGD_ERR_ALLOC;
  st = s->be.ops->vec_download(&s->be, sv->v, h);
  if (st == DETCGD_OK) st = put(b, sv->name, NAME_LEN);
  if (st == DETCGD_OK) st = put(b, &sv->n, sizeof sv->n);
  if (st == DETCGD_OK) st = put(b, h, (size_t)sv->n * sizeof(double));
  free(h);
  return st;
}

/* The file of this rank: PATH, or PATH.rank<r> for a client rank of a method whose clients keep state. */
static const char* rank_path(const DetcgdSolver* s, const char* path, char* out, size_t cap) {
  if (s->tr.rank == 0 || !s->method->client_state) return path;
  snprintf(out, cap, "%s.rank%d", path, s->tr.rank);
  return out;
}

int dc_checkpoint_write(DetcgdSolver* s, int64_t k, double elapsed) {
  char own[DETCGD_PATH_MAX + 16];
  const char* path = rank_path(s, s->settings.output.checkpoint_path, own, sizeof own);
  uint32_t version = FORMAT_VERSION, crc;
  CheckpointHeader h;
  StateVec vecs[MAX_VECTORS];
  Buf b = {NULL, 0, 0};
  char* config = (char*)dc_calloc(CONFIG_MAX, 1);
  char tmp[DETCGD_PATH_MAX + 24];
  FILE* f = NULL;
  int st, i, ok;
  if (!config) return DETCGD_ERR_ALLOC;
  memset(&h, 0, sizeof h);
  h.data_hash = data_hash(s);
  h.k = k;
  h.rank = s->tr.rank;
  h.nranks = s->tr.nranks;
  h.f0 = s->result.f_initial;
  h.elapsed = elapsed;
  h.nvectors = state_vectors(s, vecs);
  st = config_text(s, config, CONFIG_MAX, &h.config_len);
  h.config_hash = dc_hash64(DC_HASH_START, config, (size_t)h.config_len);
  if (st == DETCGD_OK && s->S) st = s->be.ops->sketch_tally(&s->be, s->S, &h.coords, &h.bits);
  if (st == DETCGD_OK) st = put(&b, MAGIC, sizeof MAGIC);
  if (st == DETCGD_OK) st = put(&b, &version, sizeof version);
  if (st == DETCGD_OK) st = put(&b, &h, sizeof h);
  if (st == DETCGD_OK) st = put(&b, config, (size_t)h.config_len);
  for (i = 0; i < h.nvectors && st == DETCGD_OK; ++i) st = put_vector(s, &b, &vecs[i]);
  crc = (uint32_t)crc32(0L, b.p, (uInt)b.len);
  if (st == DETCGD_OK) st = put(&b, &crc, sizeof crc);
  free(config);
  if (st != DETCGD_OK) { free(b.p); return st; }
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  if (!(f = fopen(tmp, "wb"))) {
    free(b.p);
    return dc_fail(DETCGD_ERR_IO, "checkpoint: cannot write %s (%s)", tmp, strerror(errno));
  }
  ok = fwrite(b.p, 1, b.len, f) == b.len;
  ok = (fclose(f) == 0) && ok;
  free(b.p);
  if (!ok || rename(tmp, path) != 0) return dc_fail(DETCGD_ERR_IO, "checkpoint: writing %s failed", path);
  return DETCGD_OK;
}

/* ==== Resume ==== */

/* Reads the whole file into *data. */
static int read_file(const char* path, unsigned char** data, size_t* len) {
  FILE* f = fopen(path, "rb");
  Buf b = {NULL, 0, 0};
  unsigned char chunk[65536];
  size_t n;
  int st = DETCGD_OK;
  if (!f) return dc_fail(DETCGD_ERR_IO, "resume: cannot open %s (%s)", path, strerror(errno));
  while (st == DETCGD_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0) st = put(&b, chunk, n);
  if (st == DETCGD_OK && ferror(f)) st = dc_fail(DETCGD_ERR_IO, "resume: cannot read %s (%s)", path, strerror(errno));
  fclose(f);
  if (st != DETCGD_OK) { free(b.p); return st; }
  *data = b.p;
  *len = b.len;
  return DETCGD_OK;
}

/* The value of key in config-file lines text[0..n) ("" when absent) into out. */
static void value_of(const char* text, size_t n, const char* key, char* out, size_t cap) {
  size_t at = 0, klen = strlen(key);
  out[0] = '\0';
  while (at < n) {
    const char* line = text + at;
    const char* eol = memchr(line, '\n', n - at);
    size_t len = eol ? (size_t)(eol - line) : n - at;
    if (len > klen + 3 && !memcmp(line, key, klen) && !memcmp(line + klen, " = ", 3)) {
      size_t v = len - klen - 3;
      if (v >= cap) v = cap - 1;
      memcpy(out, line + klen + 3, v);
      out[v] = '\0';
      return;
    }
    at += len + 1;
  }
}

/* The first key whose value differs between the two configurations (every key of either). */
static int differing_key(const char* a, size_t na, const char* b, size_t nb, char* key, size_t cap, char* va, char* vb,
                         size_t vcap) {
  const char* texts[2] = {a, b};
  size_t lens[2] = {na, nb};
  int t;
  for (t = 0; t < 2; ++t) {
    size_t at = 0;
    while (at < lens[t]) {
      const char* line = texts[t] + at;
      const char* eol = memchr(line, '\n', lens[t] - at);
      const char* eq = memchr(line, '=', (eol ? (size_t)(eol - line) : lens[t] - at));
      size_t len = eol ? (size_t)(eol - line) : lens[t] - at, kl = eq && eq > line ? (size_t)(eq - line - 1) : len;
      if (kl >= cap) kl = cap - 1;
      memcpy(key, line, kl);
      key[kl] = '\0';
      value_of(a, na, key, va, vcap);
      value_of(b, nb, key, vb, vcap);
      if (strcmp(va, vb)) return 1;
      at += len + 1;
    }
  }
  return 0;
}

/* Reader over the file's bytes. */
typedef struct Cursor { const unsigned char* p; size_t left; } Cursor;

static int take(Cursor* c, void* out, size_t n) {
  if (n > c->left) return 0;
  memcpy(out, c->p, n);
  c->p += n;
  c->left -= n;
  return 1;
}

/* Does the checkpoint belong to this run?  Its configuration and data against this run's. */
static int check_run(DetcgdSolver* s, const CheckpointHeader* h, const char* written, const char* path) {
  char* mine = (char*)dc_calloc(CONFIG_MAX, 1);
  char key[128], then[DETCGD_LIST_MAX + 64], now[DETCGD_LIST_MAX + 64];
  int32_t len = 0;
  int st;
  if (!mine) return DETCGD_ERR_ALLOC;
  st = config_text(s, mine, CONFIG_MAX, &len);
  if (st == DETCGD_OK && differing_key(written, (size_t)h->config_len, mine, (size_t)len, key, sizeof key, then, now,
                                       sizeof then))
    st = dc_fail(DETCGD_ERR_ARG, "resume: %s was written with %s = %s; this run has %s = %s%s", path, key,
                 then[0] ? then : "(not set)", key, now[0] ? now : "(not set)",
                 strcmp(key, "iters") ? "" : " (with this stepsize K sets D: resume with the same iters)");
  free(mine);
  if (st != DETCGD_OK) return st;
  if (h->data_hash != data_hash(s))
    return dc_fail(DETCGD_ERR_ARG, "resume: %s was written for other data: the same options, but the data's "
                   "fingerprint differs (another file's contents under the same name?)", path);
  if (h->k < 0 || h->k > s->settings.term.max_iter)
    return dc_fail(DETCGD_ERR_ARG, "resume: %s stops at iteration %lld, beyond iters = %lld", path, (long long)h->k,
                   (long long)s->settings.term.max_iter);
  return DETCGD_OK;
}

/* The state vectors from the file into the run's, each by name and length. */
static int load_vectors(DetcgdSolver* s, Cursor* c, int32_t nvectors, const char* path) {
  StateVec want[MAX_VECTORS];
  int n = state_vectors(s, want), i, st = DETCGD_OK;
  if (nvectors != n)
    return dc_fail(DETCGD_ERR_PARSE, "resume: %s holds %d state vectors; this run has %d", path, (int)nvectors, n);
  for (i = 0; i < n && st == DETCGD_OK; ++i) {
    char name[NAME_LEN];
    int64_t len;
    double* h;
    if (!take(c, name, NAME_LEN) || !take(c, &len, sizeof len) || strncmp(name, want[i].name, NAME_LEN) ||
        len != want[i].n || (size_t)len > c->left / sizeof(double))
      return dc_fail(DETCGD_ERR_PARSE, "resume: %s: state vector %d is not \"%s\" of %lld values", path, i,
                     want[i].name, (long long)want[i].n);
    if (!(h = (double*)dc_calloc((size_t)len + 1, sizeof(double)))) return DETCGD_ERR_ALLOC;
    take(c, h, (size_t)len * sizeof(double));
    st = s->be.ops->vec_upload(&s->be, want[i].v, h);
    free(h);
  }
  return st;
}

int dc_checkpoint_read(DetcgdSolver* s, int64_t* k, double* elapsed) {
  char own[DETCGD_PATH_MAX + 16];
  const char* path = rank_path(s, s->settings.output.resume_path, own, sizeof own);
  unsigned char* data = NULL;
  size_t len = 0;
  uint32_t version = 0, stored, computed;
  CheckpointHeader h;
  char magic[8];
  Cursor c;
  int st = read_file(path, &data, &len);
  if (st != DETCGD_OK) return st;
  c.p = data;
  c.left = len;
  if (!take(&c, magic, sizeof magic) || memcmp(magic, MAGIC, 7) != 0) {
    st = dc_fail(DETCGD_ERR_PARSE, "resume: %s is not a detcgd checkpoint", path);
  } else if (!take(&c, &version, sizeof version) || magic[7] != MAGIC[7] || version != FORMAT_VERSION) {
    st = dc_fail(DETCGD_ERR_PARSE, "resume: %s is a checkpoint of another format (%c); this detcgd reads format %d",
                 path, magic[7], FORMAT_VERSION);
  } else if (len < sizeof MAGIC + sizeof version + sizeof h + sizeof stored) {
    st = dc_fail(DETCGD_ERR_PARSE, "resume: %s is damaged (truncated)", path);
  } else {
    memcpy(&stored, data + len - sizeof stored, sizeof stored);
    computed = (uint32_t)crc32(0L, data, (uInt)(len - sizeof stored));
    c.left -= sizeof stored;
    if (stored != computed)
      st = dc_fail(DETCGD_ERR_PARSE, "resume: %s is damaged (CRC-32 %08x stored, %08x computed)", path, stored, computed);
  }
  if (st == DETCGD_OK && (!take(&c, &h, sizeof h) || h.config_len < 0 || (size_t)h.config_len > c.left))
    st = dc_fail(DETCGD_ERR_PARSE, "resume: %s is damaged (header)", path);
  if (st == DETCGD_OK && s->method->client_state && (h.rank != s->tr.rank || h.nranks != s->tr.nranks))
    st = dc_fail(DETCGD_ERR_ARG, "resume: %s was written by rank %d of %d; this is rank %d of %d (the clients' state "
                 "follows the ranks: resume with the same number of ranks)", path, (int)h.rank, (int)h.nranks,
                 s->tr.rank, s->tr.nranks);
  if (st == DETCGD_OK) {
    st = check_run(s, &h, (const char*)c.p, path);
    c.p += h.config_len;
    c.left -= (size_t)h.config_len;
  }
  if (st == DETCGD_OK) st = load_vectors(s, &c, h.nvectors, path);
  if (st == DETCGD_OK && c.left != 0) st = dc_fail(DETCGD_ERR_PARSE, "resume: %s is damaged (trailing bytes)", path);
  if (st == DETCGD_OK && s->S) st = s->be.ops->sketch_set_tally(&s->be, s->S, h.coords, h.bits);
  free(data);
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
