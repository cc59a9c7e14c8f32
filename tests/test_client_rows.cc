// Host layout of the CUDA backend's logreg-nc rows (src/host/client_rows.c): the CSC is the
// transpose of the CSR, and the (client, column) segments and their pieces partition it the same
// way whether a client is laid out alone or in a batch -- what makes the GPU's A_c^T w the same bits
// in both (the kernels themselves are checked on a GPU by the CudaVsCpu and ClientOps tests).
#include <map>
#include <tuple>
#include "test_util.h"
extern "C" {
#include "client_rows.h"
#include "problem.h"
}

namespace {

DetcgdProblem* clients(int n, int split) {
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  snprintf(ps.data_path, sizeof ps.data_path, "%s", DETCGD_SHARED_DATA "/a1a");
  ps.clients = n;
  ps.split = split;
  DetcgdProblem* p = nullptr;
  return detcgd_problem_create(&p, &ps) == DETCGD_OK ? p : nullptr;
}

}  // namespace

TEST(ClientRows, CscIsTheTransposeAndSegmentsPartitionItByClientAndColumn) {
  DetcgdProblem* p = clients(20, DETCGD_SPLIT_SHUFFLED);
  if (!p) GTEST_SKIP() << "../shared/data/libsvm/a1a not present";
  const int n = 20, piece = 8;
  const int64_t d = p->layout.dim;
  DcClientRows H;
  int64_t nrows = 0, nnz = 0;
  ASSERT_EQ(dc_client_rows_build(n, p->client_host, &H, &nrows, &nnz), DETCGD_OK);
  ASSERT_EQ(dc_client_rows_add_csc(&H), DETCGD_OK);
  EXPECT_EQ(nrows, 1605);
  EXPECT_EQ(nnz, p->data.nnz);
  std::map<std::pair<int64_t, int64_t>, double> csr, csc;
  for (int64_t j = 0; j < nrows; ++j)
    for (int64_t q = H.rowptr[j]; q < H.rowptr[j + 1]; ++q) csr[{j, H.col[q]}] = H.val[q];
  for (int64_t i = 0; i < d; ++i)
    for (int64_t q = H.colptr[i]; q < H.colptr[i + 1]; ++q) {
      if (q > H.colptr[i]) ASSERT_GT(H.row[q], H.row[q - 1]);  // rows increase within a column
      csc[{H.row[q], i}] = H.cval[q];
    }
  EXPECT_EQ(csr, csc);

  DcSegments S;
  ASSERT_EQ(dc_segments_build(n, d, &H, piece, &S), DETCGD_OK);
  std::vector<int> covered(nnz, 0);
  for (int c = 0; c < n; ++c)
    for (int64_t s = S.seg_off[c]; s < S.seg_off[c + 1]; ++s) {
      const int64_t i = S.t[s] % d;
      ASSERT_EQ(S.t[s] / d, c);
      if (s > S.seg_off[c]) ASSERT_GT(S.t[s], S.t[s - 1]);  // columns increase within a client
      ASSERT_LT(S.lo[s], S.hi[s]);                          // nonempty
      ASSERT_GE(S.lo[s], H.colptr[i]);
      ASSERT_LE(S.hi[s], H.colptr[i + 1]);
      for (int64_t q = S.lo[s]; q < S.hi[s]; ++q) {
        ASSERT_GE(H.row[q], H.row_off[c]);
        ASSERT_LT(H.row[q], H.row_off[c + 1]);
        covered[q]++;
      }
      EXPECT_EQ(S.piece_off[s + 1] - S.piece_off[s], (S.hi[s] - S.lo[s] + piece - 1) / piece);
    }
  for (int64_t q = 0; q < nnz; ++q) ASSERT_EQ(covered[q], 1) << "CSC entry " << q;
  EXPECT_EQ(S.seg_off[n], S.nsegs);

  // client 7 alone: the same segments, entry for entry, as its share of the batch
  DcClientRows H7;
  DcSegments S7;
  int64_t r7 = 0, z7 = 0;
  ASSERT_EQ(dc_client_rows_build(1, &p->client_host[7], &H7, &r7, &z7), DETCGD_OK);
  ASSERT_EQ(dc_client_rows_add_csc(&H7), DETCGD_OK);
  ASSERT_EQ(dc_segments_build(1, d, &H7, piece, &S7), DETCGD_OK);
  ASSERT_EQ(S7.nsegs, S.seg_off[8] - S.seg_off[7]);
  for (int64_t s = 0; s < S7.nsegs; ++s) {
    const int64_t b = S.seg_off[7] + s;
    ASSERT_EQ(S7.t[s], S.t[b] - 7 * d);
    ASSERT_EQ(S7.hi[s] - S7.lo[s], S.hi[b] - S.lo[b]);
    ASSERT_EQ(S7.piece_off[s + 1] - S7.piece_off[s], S.piece_off[b + 1] - S.piece_off[b]);
    for (int64_t q = 0; q < S7.hi[s] - S7.lo[s]; ++q) {
      ASSERT_EQ(H7.cval[S7.lo[s] + q], H.cval[S.lo[b] + q]);
      ASSERT_EQ(H7.row[S7.lo[s] + q] + H.row_off[7], H.row[S.lo[b] + q]);
    }
  }
  dc_segments_free(&S7);
  dc_client_rows_free(&H7);
  dc_segments_free(&S);
  dc_client_rows_free(&H);
  detcgd_problem_destroy(&p);
}
