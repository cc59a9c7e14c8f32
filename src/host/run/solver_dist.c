/*
 * solver_dist.c -- n clients, simulated in this process or over MPI: their setup
 * (f_c^inf estimates, the transport) and the messages between the ranks.
 *
 * Both modes run the method's ops in the same order (clients 0..n-1, kept
 * coordinates in draw order), so they produce the same trajectory bit for bit.
 * Rank 0 evaluates every client in one round (round.c: all clients'
 * gradients and its own clients' messages, a chunk at a time); a client rank
 * evaluates its clients one by one to pack their messages.
 * A message carries, per client: its id, then unless the seed is shared the
 * per-layer counts and the kept indices, then the values (float32 when
 * value-bits = 32, float64 otherwise).  The server checks every field.
 * Metrics (f, grad f, G_{K,D}) are evaluated by the server on the full data:
 * monitoring only, not part of the communication.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "codec.h"
#include "gram.h"
#include "linalg.h"
#include "solver.h"

/* ==== Setup ==== */

/* f_c^inf: GD on f_c from x0 with step 1/lambda_max(L_c); sets s->fc_inf_mean.  A client this
 * rank does not keep (s->Pc[c] == NULL) is on the backend only for its estimate. */
static int estimate_client_f_inf(DetcgdSolver* s) {
  const DcBackendOps* o = s->be.ops;
  const DetcgdProblem* p = s->problem;
  int c, st = DETCGD_OK;
  double t0 = dc_wall_time();
  s->fc_inf_mean = 0.0;
  for (c = 0; c < s->nclients && st == DETCGD_OK; ++c) {
    double lm = 0.0, fc = 0.0;
    DcProbData* P = s->Pc[c];
    st = dc_gram_lambda_max(&p->client_host[c], 1, &p->layout, NULL, DC_RTOL_STEP, &lm);
    if (st == DETCGD_OK && !P) st = o->problem_create(&s->be, &p->client_host[c], &P);
    if (st == DETCGD_OK) st = dc_gd_estimate(s, P, 1.0 / lm, &fc, NULL);
    if (P != s->Pc[c]) o->problem_destroy(&s->be, &P);
    s->fc_inf_mean += fc / s->nclients;
  }
  s->result.time_finf += dc_wall_time() - t0;
  return st;
}

/* Does the method's client op write dense rows (DC_STEP_VALUES) rather than a sketch's packed values? */
static int value_messages(const DetcgdSolver* s) { return (s->method->step_flags & DC_STEP_VALUES) != 0; }

/* The spec of this round's messages: the method's for this round (MARINA's sync rounds), else the run's. */
static const DcSketchSpec* message_spec(const DetcgdSolver* s) {
  const DcSketchSpec* sp = s->method->message_spec ? s->method->message_spec(&s->round) : NULL;
  return sp ? sp : &s->sketch_spec;
}

/* Are this round's messages a compressor of the values', sent through codec.h?  Else a sketch's draws (counts,
 * indices unless the seed is shared, kept values): det-CGD's, or a dense row's kept coordinates (dense_sketch). */
static int codec_messages(const DetcgdSolver* s) {
  return value_messages(s) && !(s->round.dense_sketch && message_spec(s) == &s->sketch_spec);
}
static int dense_sketch(const DetcgdSolver* s) { return value_messages(s) && !codec_messages(s); }

int dc_dist_setup(DetcgdSolver* s) {
  const DcBackendOps* o = s->be.ops;
  int64_t cap = s->sketch_spec.cap_off[s->problem->layout.nblocks], d = s->problem->layout.dim;
  /* a message's values: kept ones, or a dense row (and, a sketch's, its kept ones after it) */
  int64_t vals = value_messages(s) ? d + cap : cap;
  int c, st;
  if ((st = dc_transport_open(&s->tr, s->settings.dist.mode, s->nclients, s->settings.dist.rank_timeout)) != DETCGD_OK)
    return st;
  s->Pc = (DcProbData**)dc_calloc((size_t)s->nclients, sizeof(DcProbData*));
  s->draw.idx = (int*)dc_calloc((size_t)cap + 1, sizeof(int));
  s->draw.scale = (double*)dc_calloc((size_t)cap + 1, sizeof(double));
  s->draw.count = (int*)dc_calloc((size_t)s->problem->layout.nblocks, sizeof(int));
  s->h_vals = (double*)dc_calloc((size_t)vals + 1, sizeof(double));
  s->h_x = (double*)dc_calloc((size_t)d + 1, sizeof(double));
  s->seen = (unsigned char*)dc_calloc((size_t)s->problem->layout.max_size, 1);
  if (!s->Pc || !s->draw.idx || !s->draw.scale || !s->draw.count || !s->h_vals || !s->h_x || !s->seen)
    return DETCGD_ERR_ALLOC;
  if (s->tr.rank != 0) /* a client rank evaluates its clients one by one; rank 0 has them all in C */
    for (c = s->tr.first_client; c < s->tr.last_client; ++c)
      if ((st = o->problem_create(&s->be, &s->problem->client_host[c], &s->Pc[c])) != DETCGD_OK) return st;
  if ((st = dc_round_open_clients(&s->round, &s->be, s->method, &s->phases, s->nclients, s->problem->client_host,
                                  &s->sketch_spec)) != DETCGD_OK)
    return st;
  s->S = s->round.S;
  if ((st = o->vec_create(&s->be, d, &s->gc)) || (st = o->vec_create(&s->be, d, &s->agg)) ||
      (st = o->vec_create(&s->be, vals, &s->vals)))
    return st;
  if (s->settings.dist.delta_inf == DETCGD_DELTA_CERTIFIED || (s->method->step_flags & DC_STEP_NO_MATRIX)) {
    /* Delta^inf <= f^inf needs no f_c^inf; a method without det-CGD's stepsize needs no Delta^inf */
    s->fc_inf_mean = NAN;
    return DETCGD_OK;
  }
  return estimate_client_f_inf(s);
}

void dc_dist_free(DetcgdSolver* s) {
  const DcBackendOps* o = s->be.ops;
  int c;
  if (s->Pc) for (c = 0; c < s->nclients; ++c) o->problem_destroy(&s->be, &s->Pc[c]);
  free(s->Pc);
  s->Pc = NULL;
  o->vec_destroy(&s->be, &s->gc);
  o->vec_destroy(&s->be, &s->agg);
  o->vec_destroy(&s->be, &s->vals);
  free(s->draw.idx); free(s->draw.scale); free(s->draw.count);
  free(s->h_vals); free(s->h_x); free(s->msg); free(s->seen);
  memset(&s->draw, 0, sizeof s->draw);
  s->h_vals = s->h_x = NULL;
  s->msg = NULL;
  s->seen = NULL;
}

/* ==== Messages ==== */

/* bytes more at the end of this rank's message, returned (NULL: out of memory, the error set) */
static unsigned char* msg_extend(DetcgdSolver* s, int64_t bytes) {
  if (s->msg_len + bytes > s->msg_cap) {
    int64_t cap = s->msg_cap ? 2 * s->msg_cap : 4096;
    unsigned char* nb;
    while (cap < s->msg_len + bytes) cap *= 2;
    nb = (unsigned char*)realloc(s->msg, (size_t)cap);
    if (!nb) { dc_fail(DETCGD_ERR_ALLOC, "out of memory packing a message"); return NULL; }
    s->msg = nb;
    s->msg_cap = cap;
  }
  s->msg_len += bytes;
  return s->msg + s->msg_len - bytes;
}

static int msg_append(DetcgdSolver* s, const void* data, int64_t bytes) {
  unsigned char* at = msg_extend(s, bytes);
  if (!at) return DETCGD_ERR_ALLOC;
  memcpy(at, data, (size_t)bytes);
  return DETCGD_OK;
}

/* A dense message of the values op, bit-packed (codec.h), appended to this rank's message. */
static int pack_values(DetcgdSolver* s) {
  unsigned char* at = msg_extend(s, dc_codec_bytes(message_spec(s)));
  return at ? dc_codec_encode(message_spec(s), s->h_vals, &s->draw, at) : DETCGD_ERR_ALLOC;
}

/* Appends the current draw and values of client c to this rank's message. */
static int pack_message(DetcgdSolver* s, int c) {
  const DcSketchSpec* sp = &s->sketch_spec;
  int i, t, st, id = c;
  if ((st = s->be.ops->sketch_read(&s->be, s->S, &s->draw)) || (st = s->be.ops->vec_download(&s->be, s->vals, s->h_vals)))
    return st;
  st = msg_append(s, &id, sizeof id);
  if (codec_messages(s)) return st == DETCGD_OK ? pack_values(s) : st;
  if (!s->settings.comm.shared_seed) {
    st = st ? st : msg_append(s, s->draw.count, (int64_t)sp->layout->nblocks * (int64_t)sizeof(int));
    for (i = 0; i < sp->layout->nblocks && st == DETCGD_OK; ++i)
      st = msg_append(s, s->draw.idx + sp->cap_off[i], (int64_t)s->draw.count[i] * (int64_t)sizeof(int));
  }
  for (i = 0; i < sp->layout->nblocks && st == DETCGD_OK; ++i)
    for (t = 0; t < s->draw.count[i] && st == DETCGD_OK; ++t) {
      double v = dense_sketch(s) ? s->h_vals[sp->layout->voff[i] + s->draw.idx[sp->cap_off[i] + t]]
                                 : s->h_vals[sp->cap_off[i] + t];
      float f = (float)v;
      st = s->settings.comm.value_bits == 32 ? msg_append(s, &f, sizeof f) : msg_append(s, &v, sizeof v);
    }
  return st;
}

/* Reader over a received message with bounds checks. */
typedef struct Reader { const unsigned char* p; int64_t left; int rank; int client; int64_t iter; } Reader;

static int bad_message(const Reader* r, const char* what) {
  return dc_fail(DETCGD_ERR_PARSE, "malformed message from rank %d (client %d, iteration %lld): %s",
                 r->rank, r->client, (long long)r->iter, what);
}

static int take(Reader* r, void* out, int64_t bytes) {
  if (bytes > r->left) return bad_message(r, "message too short");
  memcpy(out, r->p, (size_t)bytes);
  r->p += bytes;
  r->left -= bytes;
  return DETCGD_OK;
}

/* Counts and indices of client r->client from the message; checked and loaded into s->S. */
static int read_draw(DetcgdSolver* s, Reader* r) {
  const DcSketchSpec* sp = &s->sketch_spec;
  int i;
  if (take(r, s->draw.count, (int64_t)sp->layout->nblocks * (int64_t)sizeof(int))) return DETCGD_ERR_PARSE;
  for (i = 0; i < sp->layout->nblocks; ++i) {
    int *idx = s->draw.idx + sp->cap_off[i], count = s->draw.count[i];
    const char* why;
    if (count < 0 || count > sp->cap_off[i + 1] - sp->cap_off[i]) return bad_message(r, "impossible count of kept coordinates");
    if (take(r, idx, (int64_t)count * (int64_t)sizeof(int))) return DETCGD_ERR_PARSE;
    if ((why = dc_sketch_check_draw(sp, i, idx, count, s->seen, s->draw.scale + sp->cap_off[i]))) return bad_message(r, why);
  }
  return s->be.ops->sketch_load(&s->be, s->S, &s->draw);
}

/* Server: a dense message of the values op, decoded and checked (codec.h) into s->vals. */
static int read_values(DetcgdSolver* s, Reader* r) {
  const DcSketchSpec* sp = message_spec(s);
  int64_t bytes = dc_codec_bytes(sp);
  const char* why;
  if (bytes > r->left) return bad_message(r, "message too short");
  why = dc_codec_decode(sp, r->p, bytes, s->settings.seed, (uint32_t)r->iter, (uint32_t)r->client, &s->draw, s->seen,
                        s->h_vals);
  if (why) return bad_message(r, why);
  r->p += bytes;
  r->left -= bytes;
  return s->be.ops->vec_upload(&s->be, s->vals, s->h_vals);
}

/* Server: n received messages of the values op in the tally (each the same exact count and bits), once per rank. */
static int count_received_values(DetcgdSolver* s, int n) {
  const DcSketchSpec* sp = message_spec(s);
  int64_t coords, bits;
  int st = s->be.ops->sketch_tally(&s->be, s->S, &coords, &bits);
  return st == DETCGD_OK ? s->be.ops->sketch_set_tally(&s->be, s->S, coords + n * (int64_t)dc_sketch_expected_coords(sp),
                                                        bits + n * (int64_t)dc_sketch_expected_bits(sp))
                         : st;
}

/* The dense row (s->h_vals) of a sketch's draw (s->draw) and its kept values, packed by layer. */
static void unpack_dense(DetcgdSolver* s, const double* packed) {
  const DcSketchSpec* sp = &s->sketch_spec;
  int i, t;
  memset(s->h_vals, 0, (size_t)sp->layout->dim * sizeof(double));
  for (i = 0; i < sp->layout->nblocks; ++i)
    for (t = 0; t < s->draw.count[i]; ++t)
      s->h_vals[sp->layout->voff[i] + s->draw.idx[sp->cap_off[i] + t]] = packed[sp->cap_off[i] + t];
}

/* Server: client r->client's message -> s->S and s->vals, then a += m_c. */
static int absorb_message(DetcgdSolver* s, Reader* r) {
  const DcSketchSpec* sp = &s->sketch_spec;
  const DcBackendOps* o = s->be.ops;
  double* packed = dense_sketch(s) ? s->h_vals + sp->layout->dim : s->h_vals;
  int i, t, id = -1, st;
  if (take(r, &id, sizeof id)) return DETCGD_ERR_PARSE;
  if (id != r->client) return bad_message(r, "wrong client id");
  if (codec_messages(s)) {
    st = read_values(s, r);
    return st == DETCGD_OK ? dc_round_absorb_received(&s->round, r->client, s->vals) : st;
  }
  if (s->settings.comm.shared_seed) { /* regenerate the indices from the shared seed */
    st = o->sketch_sample(&s->be, s->S, s->settings.seed, (uint32_t)r->iter, (uint32_t)r->client);
    if (st == DETCGD_OK) st = o->sketch_read(&s->be, s->S, &s->draw);
  } else {
    st = read_draw(s, r);
  }
  for (i = 0; i < sp->layout->nblocks && st == DETCGD_OK; ++i)
    for (t = 0; t < s->draw.count[i] && st == DETCGD_OK; ++t) {
      double v = 0.0;
      float f = 0.0f;
      if (s->settings.comm.value_bits == 32) { st = take(r, &f, sizeof f); v = f; }
      else st = take(r, &v, sizeof v);
      if (st == DETCGD_OK && !isfinite(v)) st = bad_message(r, "non-finite value");
      packed[sp->cap_off[i] + t] = v;
    }
  if (st == DETCGD_OK && dense_sketch(s)) unpack_dense(s, packed);
  if (st == DETCGD_OK) st = o->vec_upload(&s->be, s->vals, s->h_vals);
  return st == DETCGD_OK ? dc_round_absorb_received(&s->round, r->client, s->vals) : st;
}

/* Server: every other rank's clients, in rank (= client) order. */
int dc_dist_absorb_rank(DetcgdSolver* s, const void* bytes, int64_t len, int from, int nranks, int64_t k) {
  Reader r;
  int c, st = DETCGD_OK;
  r.p = (const unsigned char*)bytes;
  r.left = len;
  r.rank = from;
  r.iter = k;
  r.client = -1; /* trailing bytes of a rank with no clients */
  for (c = (int)((int64_t)s->nclients * from / nranks); c < (int)((int64_t)s->nclients * (from + 1) / nranks) && st == DETCGD_OK;
       ++c) {
    r.client = c;
    st = absorb_message(s, &r);
  }
  if (st == DETCGD_OK && r.left != 0) st = bad_message(&r, "trailing bytes");
  if (st == DETCGD_OK && codec_messages(s)) /* a sketch's received draws count as sketch_load loads them */
    st = count_received_values(s, (int)((int64_t)s->nclients * (from + 1) / nranks) -
                                      (int)((int64_t)s->nclients * from / nranks));
  return st;
}

int dc_dist_receive(DetcgdSolver* s, int64_t k) {
  DcTransport* t = &s->tr;
  int from, st = DETCGD_OK;
  if (t->nranks == 1) return DETCGD_OK;
  dc_phase_begin(&s->phases, PH_COMM);
  for (from = 1; from < t->nranks && st == DETCGD_OK; ++from) {
    const void* bytes = NULL;
    int64_t len = 0;
    st = t->recv(t, from, &bytes, &len);
    if (st == DETCGD_OK) st = dc_dist_absorb_rank(s, bytes, len, from, t->nranks, k);
  }
  return st == DETCGD_OK ? dc_phase_end(&s->phases, PH_COMM) : st;
}

int dc_dist_broadcast_x(DetcgdSolver* s, int* stop) {
  const DcBackendOps* o = s->be.ops;
  int64_t d = s->problem->layout.dim;
  int st = DETCGD_OK;
  if (s->tr.nranks == 1) return DETCGD_OK;
  dc_phase_begin(&s->phases, PH_COMM);
  if (s->tr.rank == 0) {
    s->h_x[0] = *stop ? s->result.termination : DETCGD_TERM_NONE; /* why the run stops, for every rank's result */
    st = o->vec_download(&s->be, s->x, s->h_x + 1);
  }
  if (st == DETCGD_OK) st = s->tr.bcast(&s->tr, s->h_x, (d + 1) * (int64_t)sizeof(double));
  if (st == DETCGD_OK && s->tr.rank != 0) {
    *stop = s->h_x[0] != DETCGD_TERM_NONE;
    if (*stop) s->result.termination = (int)s->h_x[0];
    st = o->vec_upload(&s->be, s->x, s->h_x + 1);
  }
  return st == DETCGD_OK ? dc_phase_end(&s->phases, PH_COMM) : st;
}

int dc_dist_client_rank_iteration(DetcgdSolver* s, int64_t k, int* stop) {
  int c, st = DETCGD_OK;
  s->msg_len = 0;
  s->round.iter = (uint32_t)k;
  for (c = s->tr.first_client; c < s->tr.last_client && st == DETCGD_OK; ++c) {
    dc_phase_begin(&s->phases, PH_GRAD);
    st = dc_round_client_gradient(&s->round, s->Pc[c], c, s->gc);
    if (st == DETCGD_OK) st = dc_phase_end(&s->phases, PH_GRAD);
    if (st == DETCGD_OK) st = dc_round_client_message(&s->round, c, s->gc, s->vals);
    if (st == DETCGD_OK) st = pack_message(s, c);
  }
  if (st == DETCGD_OK && dc_fault_here(s, k, "garbage") && s->msg_len >= 8) s->msg_len -= 3; /* a truncated message */
  while (dc_fault_here(s, k, "pause")) dc_sleep(1.0); /* a rank that stops answering, until the job ends it */
  dc_phase_begin(&s->phases, PH_COMM);
  if (st == DETCGD_OK) st = s->tr.send(&s->tr, s->msg, s->msg_len);
  if (st == DETCGD_OK) st = dc_phase_end(&s->phases, PH_COMM);
  return st == DETCGD_OK ? dc_dist_broadcast_x(s, stop) : st;
}
