/*
 * cuda_problems.c -- the CUDA backend's problems (logreg-nc rows as CSR + CSC or dense floats, quad-nc
 * blocks; gradients, losses, sparse steps), runs together (R runs' gradients on one data set, its rows read once)
 * and clients (a chunk's gradients and losses per launch).
 */
#include <stdlib.h>
#include <string.h>
#include "backend_cuda.h"

/* ==== Problems ==== */

static void logreg_free(DcBackend* be, DevLogreg* lr) {
  int i;
  for (i = 0; i < (int)(sizeof lr->mem / sizeof lr->mem[0]); ++i) dev_free(be, lr->mem[i]);
  free(lr->h_row_off);
  free(lr->h_seg_off);
  free(lr->h_piece_off);
  free(lr->h_row_piece_off);
  memset(lr, 0, sizeof *lr);
}

/* Float rows (data-precision fp32) are kept dense when that takes fewer bytes than CSR and CSC
 * (4 per entry against 24 per nonzero, and a fixed factor for the index arrays): density >= 1/3. */
static int use_dense_rows(int n, const DcHostProblem* hosts, int64_t nrows, int64_t nnz) {
  int c;
  for (c = 0; c < n; ++c) if (!hosts[c].store32) return 0;
  return 3.0 * (double)nnz >= (double)nrows * (double)hosts[0].layout->dim;
}

/* The rows of n clients in client order as dense floats (row-major, rows x dim). */
static float* host_dense_rows(int n, const DcHostProblem* hosts, int64_t nrows) {
  int64_t d = hosts[0].layout->dim, j, q, r = 0;
  float* A = (float*)dc_calloc((size_t)nrows * (size_t)d, sizeof(float));
  int c;
  if (!A) return NULL;
  for (c = 0; c < n; ++c)
    for (j = 0; j < hosts[c].nrows; ++j, ++r)
      for (q = hosts[c].rowptr[j]; q < hosts[c].rowptr[j + 1]; ++q)
        A[r * d + hosts[c].colidx[q]] = (float)hosts[c].val[q];
  return A;
}

/* Segments and pieces of A^T w into lr (mem[12..17], P.seg_*, P.piece_off, P.partial). */
static int segments_upload(DcBackend* be, int n, int64_t d, const DcClientRows* H, DevLogreg* lr) {
  DcDevLogreg* P = &lr->P;
  DcSegments S;
  int64_t ns;
  int st = dc_segments_build(n, d, H, DC_K_PIECE, &S);
  if (st) return st;
  ns = S.nsegs;
  st = upload_new(be, &lr->mem[12], S.seg_off, (size_t)(n + 1) * sizeof(int64_t), "CSC segment offsets");
  if (!st) st = upload_new(be, &lr->mem[13], S.t, (size_t)ns * sizeof(int64_t), "CSC segment outputs");
  if (!st) st = upload_new(be, &lr->mem[14], S.lo, (size_t)ns * sizeof(int64_t), "CSC segment starts");
  if (!st) st = upload_new(be, &lr->mem[15], S.hi, (size_t)ns * sizeof(int64_t), "CSC segment ends");
  if (!st) st = upload_new(be, &lr->mem[16], S.piece_off, (size_t)(ns + 1) * sizeof(int64_t), "CSC piece offsets");
  if (!st) st = dev_alloc(be, &lr->mem[17], (size_t)S.piece_off[ns] * sizeof(double), "CSC piece sums");
  if (!st) {
    P->seg_off = (const int64_t*)lr->mem[12];
    P->seg_t = (const int64_t*)lr->mem[13];
    P->seg_lo = (const int64_t*)lr->mem[14];
    P->seg_hi = (const int64_t*)lr->mem[15];
    P->piece_off = (const int64_t*)lr->mem[16];
    P->partial = (double*)lr->mem[17];
    lr->h_seg_off = S.seg_off;
    lr->h_piece_off = S.piece_off;
    S.seg_off = S.piece_off = NULL;
  }
  dc_segments_free(&S);
  return st;
}

/* Dense rows: each client's rows in pieces of DC_K_ROW_PIECE (mem[18], P.row_piece_off) and their
 * column sums (mem[17], P.partial). */
static int row_pieces_upload(DcBackend* be, int n, int64_t d, const int64_t* row_off, DevLogreg* lr) {
  int64_t* off = (int64_t*)dc_calloc((size_t)n + 1, sizeof(int64_t));
  int c, st;
  if (!off) return DETCGD_ERR_ALLOC;
  for (c = 0; c < n; ++c) off[c + 1] = off[c] + (row_off[c + 1] - row_off[c] + DC_K_ROW_PIECE - 1) / DC_K_ROW_PIECE;
  st = upload_new(be, &lr->mem[18], off, (size_t)(n + 1) * sizeof(int64_t), "dense row piece offsets");
  if (!st) st = dev_alloc(be, &lr->mem[17], (size_t)off[n] * (size_t)d * sizeof(double), "dense row piece sums");
  if (st) { free(off); return st; }
  lr->P.row_piece_off = (const int64_t*)lr->mem[18];
  lr->P.partial = (double*)lr->mem[17];
  lr->h_row_piece_off = off;
  return DETCGD_OK;
}

/* Device copy of n clients' logreg-nc rows. */
static int logreg_upload(DcBackend* be, int n, const DcHostProblem* hosts, DevLogreg* lr) {
  int64_t d = hosts[0].layout->dim, nrows, nnz;
  DcDevLogreg* P = &lr->P;
  DcClientRows H;
  float* dense = NULL;
  int st = dc_client_rows_build(n, hosts, &H, &nrows, &nnz);
  memset(lr, 0, sizeof *lr);
  if (st) return st;
  P->nclients = n;
  P->dim = d;
  P->mu = hosts[0].l2;
  st = upload_new(be, &lr->mem[0], H.row_off, (size_t)(n + 1) * sizeof(int64_t), "client row offsets");
  if (!st) st = upload_new(be, &lr->mem[4], H.label, (size_t)nrows * sizeof(double), "labels");
  if (!st && use_dense_rows(n, hosts, nrows, nnz)) { /* dense float rows: no CSR or CSC */
    if (!(dense = host_dense_rows(n, hosts, nrows))) st = DETCGD_ERR_ALLOC;
    if (!st) st = upload_new(be, &lr->mem[11], dense, (size_t)nrows * (size_t)d * sizeof(float), "dense float rows");
    if (!st) st = row_pieces_upload(be, n, d, H.row_off, lr);
    free(dense);
  } else if (!st) {
    st = dc_client_rows_add_csc(&H);
    if (!st) st = upload_new(be, &lr->mem[1], H.rowptr, (size_t)(nrows + 1) * sizeof(int64_t), "CSR row pointers");
    if (!st) st = upload_new(be, &lr->mem[2], H.col, (size_t)nnz * sizeof(int32_t), "CSR columns");
    if (!st) st = upload_new(be, &lr->mem[3], H.val, (size_t)nnz * sizeof(double), "CSR values");
    if (!st) st = upload_new(be, &lr->mem[5], H.colptr, (size_t)(d + 1) * sizeof(int64_t), "CSC column pointers");
    if (!st) st = upload_new(be, &lr->mem[6], H.row, (size_t)nnz * sizeof(int32_t), "CSC rows");
    if (!st) st = upload_new(be, &lr->mem[7], H.cval, (size_t)nnz * sizeof(double), "CSC values");
    if (!st && nnz > 0) st = segments_upload(be, n, d, &H, lr);
  }
  if (!st) st = dev_alloc(be, &lr->mem[8], (size_t)nrows * sizeof(double), "row weights");
  if (!st) st = dev_alloc(be, &lr->mem[9], (size_t)nrows * sizeof(double), "row losses");
  if (!st) st = dev_alloc(be, &lr->mem[10], (size_t)d * sizeof(double), "regulariser terms");
  if (!st) {
    P->row_off = (const int64_t*)lr->mem[0];
    P->rowptr = (const int64_t*)lr->mem[1];
    P->col = (const int32_t*)lr->mem[2];
    P->val = (const double*)lr->mem[3];
    P->label = (const double*)lr->mem[4];
    P->colptr = (const int64_t*)lr->mem[5];
    P->row = (const int32_t*)lr->mem[6];
    P->cval = (const double*)lr->mem[7];
    P->dense = (const float*)lr->mem[11];
    P->w = (double*)lr->mem[8];
    P->loss = (double*)lr->mem[9];
    P->reg = (double*)lr->mem[10];
    lr->h_row_off = H.row_off;
    H.row_off = NULL;
  }
  dc_client_rows_free(&H);
  if (st) logreg_free(be, lr);
  return st;
}

/* G + (c - c0) dim = grad f_c(x) for clients c0..c0+nc-1 (also their row losses and reg) */
static int logreg_grads(DcBackend* be, const DevLogreg* lr, double lambda, int c0, int nc, const double* x, double* G) {
  CudaState* s = ST(be);
  int64_t s0 = 0, s1 = 0, k0 = 0, k1 = 0;
  if (lr->h_row_piece_off) { /* dense rows */
    k0 = lr->h_row_piece_off[c0];
    k1 = lr->h_row_piece_off[c0 + nc];
  } else if (lr->h_seg_off) {
    s0 = lr->h_seg_off[c0];
    s1 = lr->h_seg_off[c0 + nc];
    k0 = lr->h_piece_off[s0];
    k1 = lr->h_piece_off[s1];
  }
  CU_TRY(detcgd_k_logreg_grad(lr->P, lr->h_row_off[c0], lr->h_row_off[c0 + nc], c0, nc, s0, s1, k0, k1, x, lambda,
                              G, s->grid_cap, s->stream));
  return DETCGD_OK;
}

/* After logreg_grads: fc[c - c0] = f_c(x); sum_i reg_i and (l2) ||x||^2, the same for every client, are summed
 * into the scratch scalars when sum_reg, else taken from there. */
static int logreg_losses(DcBackend* be, DcDevLogreg P, double lambda, int c0, int nc, int sum_reg, const double* x,
                         double* fc) {
  CudaState* s = ST(be);
  if (sum_reg) CU_TRY(detcgd_k_dot(P.dim, P.reg, NULL, s->d_partials, s->d_scalars, s->grid_cap, s->stream));
  if (sum_reg && P.mu != 0.0) CU_TRY(detcgd_k_dot(P.dim, x, x, s->d_partials, s->d_scalars + 1, s->grid_cap, s->stream));
  CU_TRY(detcgd_k_logreg_client_f(P, c0, nc, lambda, s->d_scalars, fc, s->stream));
  return DETCGD_OK;
}

void cuda_problem_destroy(DcBackend* be, DcProbData** P) {
  DcProbData* p;
  if (!P || !*P) return;
  p = *P;
  logreg_free(be, &p->lr);
  dev_free(be, (void*)p->A.data); dev_free(be, p->d_c); dev_free(be, p->lay.mem);
  free(p);
  *P = NULL;
}

int cuda_problem_create(DcBackend* be, const DcHostProblem* h, DcProbData** P) {
  const DcLayout* lay = h->layout;
  int st;
  *P = (DcProbData*)dc_calloc(1, sizeof(DcProbData));
  if (!*P) return DETCGD_ERR_ALLOC;
  (*P)->kind = h->kind;
  (*P)->lambda = h->lambda;
  (*P)->h = *h;
  st = layout_create(be, lay, &(*P)->lay);
  if (!st && h->kind == DETCGD_PROBLEM_LOGREG_NC) st = logreg_upload(be, 1, h, &(*P)->lr);
  if (!st && h->kind == DETCGD_PROBLEM_QUAD_NC) {
    st = blocks_upload(be, h->A, lay->moff[lay->nblocks], DC_BLOCKS_DENSE, h->store32, &(*P)->A, "quad-nc blocks");
    if (!st) st = upload_new(be, (void**)&(*P)->d_c, h->c, (size_t)lay->dim * sizeof(double), "quad-nc centres");
  }
  if (!st && h->kind == DETCGD_PROBLEM_POLY_NC)
    st = upload_new(be, (void**)&(*P)->d_c, h->coef, (size_t)lay->dim * sizeof(double), "poly-nc coefficients");
  if (st) cuda_problem_destroy(be, P);
  return st;
}

/* quad-nc's gradient (and q = A (x - c) unless q is NULL) */
int cuda_quad_residual(DcBackend* be, const DcProbData* P, const DcVec* x, DcVec* q, DcVec* g, DcVec* m,
                              int fslot) {
  CudaState* s = ST(be);
  CU_TRY(detcgd_k_quad_grad(P->lay.L, P->A, P->d_c, x->d, P->lambda, q ? q->d : NULL, g->d, s->d_partials,
                            fslot >= 0 ? m->d + fslot : NULL, s->grid_cap, s->stream));
  return DETCGD_OK;
}

int cuda_problem_grad(DcBackend* be, const DcProbData* P, const DcVec* x, DcVec* g, DcVec* m, int fslot) {
  int st;
  if (P->kind == DETCGD_PROBLEM_QUAD_NC) return cuda_quad_residual(be, P, x, NULL, g, m, fslot);
  if (P->kind == DETCGD_PROBLEM_POLY_NC) {
    CudaState* s = ST(be);
    CU_TRY(detcgd_k_poly_grad(P->lay.L.dim, P->d_c, x->d, P->lambda, g->d, s->d_partials, fslot >= 0 ? m->d + fslot : NULL,
                              s->grid_cap, s->stream));
    return DETCGD_OK;
  }
  st = logreg_grads(be, &P->lr, P->lambda, 0, 1, x->d, g->d);
  return st || fslot < 0 ? st : logreg_losses(be, P->lr.P, P->lambda, 0, 1, 1, x->d, m->d + fslot);
}

/* ==== Runs together: R runs on one data set, its rows read once per pass of up to DC_K_MANY runs ==== */

/* be's scratch for passes of up to R runs on lr's rows (npieces pieces), as the views of U; grown as needed */
static int runs_scratch(DcBackend* be, const DevLogreg* lr, int R, int64_t npieces, DcDevRuns* U) {
  CudaState* s = ST(be);
  int64_t d = lr->P.dim, rows = lr->h_row_off[1], part = lr->P.dense ? npieces * d : npieces;
  size_t bytes = (size_t)R * (size_t)(2 * d + 2 * rows + part) * sizeof(double);
  if (bytes > s->runs_scratch_bytes) {
    int st;
    dev_free(be, s->runs_scratch);
    s->runs_scratch = NULL;
    s->runs_scratch_bytes = 0;
    if ((st = dev_alloc(be, (void**)&s->runs_scratch, bytes, "runs together's scratch"))) return st;
    s->runs_scratch_bytes = bytes;
  }
  U->X = s->runs_scratch;
  U->w = U->X + R * d;
  U->partial = U->w + R * rows;
  U->loss = U->partial + R * part;
  U->reg = U->loss + R * rows;
  return DETCGD_OK;
}

/* Before (join = 1): be[0]'s stream waits for the work so far on every run's stream; after (join = 0): every
 * run's stream waits for be[0]'s. */
static int runs_order(DcBackend* const* be, int R, int join) {
  cudaStream_t s0 = ST(be[0])->stream;
  int r;
  if (!join) CU_TRY(cudaEventRecord(ST(be[0])->runs_mark, s0));
  for (r = 1; r < R; ++r) {
    CudaState* s = ST(be[r]);
    if (be[r] == be[0]) continue;
    if (join) {
      CU_TRY(cudaEventRecord(s->runs_mark, s->stream));
      CU_TRY(cudaStreamWaitEvent(s0, s->runs_mark, 0));
    } else {
      CU_TRY(cudaStreamWaitEvent(s->stream, ST(be[0])->runs_mark, 0));
    }
  }
  return DETCGD_OK;
}

int cuda_problem_grad_many(DcBackend* const* be, const DcProbData* const* P, const DcVec* const* x, DcVec* const* g,
                           DcVec* const* m, const int* fslot, int R) {
  const DevLogreg* lr = &P[0]->lr;
  CudaState* s = ST(be[0]);
  int64_t nsegs, npieces;
  int r, r0, width = DC_K_MANY, st = DETCGD_OK;
  DcDevRuns U;
  for (r = 1; r < R; ++r)
    if (!dc_host_problem_same_rows(&P[0]->h, &P[r]->h)) break;
  if (R == 0 || r < R || P[0]->kind != DETCGD_PROBLEM_LOGREG_NC) { /* not one logreg-nc data set: run by run */
    for (r = 0; r < R && st == DETCGD_OK; ++r) st = cuda_problem_grad(be[r], P[r], x[r], g[r], m[r], fslot[r]);
    return st;
  }
  nsegs = lr->h_seg_off ? lr->h_seg_off[1] : 0;
  npieces = lr->h_row_piece_off ? lr->h_row_piece_off[1] : nsegs > 0 ? lr->h_piece_off[nsegs] : 0;
  while (width > R) width /= 2;
  memset(&U, 0, sizeof U);
  if ((st = runs_scratch(be[0], lr, width, npieces, &U)) || (st = runs_order(be, R, 1))) return st;
  for (r0 = 0; r0 < R; r0 += U.R) { /* passes of width, then 8, 4, 2, 1 runs */
    U.R = width;
    while (U.R > R - r0) U.R /= 2;
    for (r = 0; r < U.R; ++r) {
      U.x[r] = x[r0 + r]->d;
      U.g[r] = g[r0 + r]->d;
      U.lambda[r] = P[r0 + r]->lambda;
      U.mu[r] = P[r0 + r]->lr.P.mu;
    }
    CU_TRY(detcgd_k_logreg_grad_many(lr->P, U, lr->h_row_off[1], nsegs, npieces, s->grid_cap, s->stream));
    for (r = 0; r < U.R && st == DETCGD_OK; ++r)
      if (fslot[r0 + r] >= 0) { /* f as logreg_losses finds it alone, from run r's row losses and reg */
        DcDevLogreg Q = lr->P;
        Q.loss = U.loss + r * lr->h_row_off[1];
        Q.reg = U.reg + r * Q.dim;
        Q.mu = U.mu[r];
        st = logreg_losses(be[0], Q, U.lambda[r], 0, 1, 1, U.x[r], m[r0 + r]->d + fslot[r0 + r]);
      }
    if (st) return st;
  }
  return runs_order(be, R, 0);
}

int cuda_quad_step(DcBackend* be, const DcProbData* P, const DcSketch* S, const DcVec* vals, double alpha,
                          const DcVec* x, DcVec* q, DcVec* g) {
  CudaState* s = ST(be);
  CU_TRY(detcgd_k_quad_step(P->lay.L, P->A, S->S, vals->d, alpha, x->d, P->lambda, q->d, g->d, s->grid_cap, s->stream));
  return DETCGD_OK;
}

/* ==== Clients: `chunk` clients per launch ==== */

void cuda_clients_destroy(DcBackend* be, DcClients** C) {
  if (!C || !*C) return;
  logreg_free(be, &(*C)->lr);
  free(*C);
  *C = NULL;
}

/* A round's scratch per chunk of clients (gradients and messages, draws and membership tables, losses): at most
 * 256 MiB, and at most 65535 clients (a grid's y extent). */
static int clients_chunk(int n, int64_t dim, int64_t cap, int nblocks) {
  int64_t per = 17 * dim + 12 * cap + 4 * (int64_t)nblocks + 8, chunk = ((int64_t)256 << 20) / (per > 0 ? per : 1);
  if (chunk > n) chunk = n;
  if (chunk > 65535) chunk = 65535;
  return chunk < 1 ? 1 : (int)chunk;
}

int cuda_clients_create(DcBackend* be, int n, const DcHostProblem* hosts, const DcSketchSpec* spec, DcClients** C) {
  const DcLayout* lay = spec->layout;
  int st;
  if (hosts[0].kind != DETCGD_PROBLEM_LOGREG_NC)
    return dc_fail(DETCGD_ERR_ARG, "clients (cuda): only logreg-nc problems are split over clients");
  *C = (DcClients*)dc_calloc(1, sizeof(DcClients));
  if (!*C) return DETCGD_ERR_ALLOC;
  (*C)->n = n;
  (*C)->lambda = hosts[0].lambda;
  (*C)->chunk = clients_chunk(n, lay->dim, spec->cap_off[lay->nblocks], lay->nblocks);
  st = logreg_upload(be, n, hosts, &(*C)->lr);
  if (st) cuda_clients_destroy(be, C);
  return st;
}

int cuda_clients_chunk(const DcBackend* be, const DcClients* C) {
  (void)be;
  return C->chunk;
}

int cuda_clients_grad(DcBackend* be, const DcClients* C, int c0, int nc, const DcVec* x, DcVec* G, DcVec* F) {
  int st = logreg_grads(be, &C->lr, C->lambda, c0, nc, x->d, G->d);
  return st || !F ? st : logreg_losses(be, C->lr.P, C->lambda, c0, nc, c0 == 0, x->d, F->d);
}

int cuda_clients_grad_sampled(DcBackend* be, const DcClients* C, int c0, int nc, const DcVec* x, uint64_t seed,
                              uint32_t iter, int batch, DcVec* G) {
  CudaState* s = ST(be);
  CU_TRY(detcgd_k_logreg_sampled_grad(C->lr.P, c0, nc, (uint32_t)c0, seed, iter, s->capturing ? s->d_iter : NULL, batch, x->d,
                                      C->lambda, G->d, s->stream));
  return DETCGD_OK;
}

/* P's rows (the kernel's client 0) drawn as client `client` */
int cuda_problem_grad_sampled(DcBackend* be, const DcProbData* P, const DcVec* x, uint64_t seed, uint32_t iter,
                              uint32_t client, int batch, DcVec* g) {
  CudaState* s = ST(be);
  if (P->kind != DETCGD_PROBLEM_LOGREG_NC) return dc_fail(DETCGD_ERR_ARG, "batch: only logreg-nc has samples to draw");
  CU_TRY(detcgd_k_logreg_sampled_grad(P->lr.P, 0, 1, client, seed, iter, s->capturing ? s->d_iter : NULL, batch, x->d,
                                      P->lambda, g->d, s->stream));
  return DETCGD_OK;
}
