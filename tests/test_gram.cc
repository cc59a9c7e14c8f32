// The matrix-free smoothness constants of logreg-nc (src/host/gram.c) and the
// Lanczos eigenvalue behind them, against dense matrices and LAPACK.
#include <algorithm>
#include <cmath>
#include "dense_oracle.h"
#include "test_util.h"
extern "C" {
#include "gram.h"
#include "linalg.h"
#include "problem.h"
}
#ifdef DETCGD_TEST_OPENMP
#include <omp.h>
#endif

namespace {

struct Dense {
  const std::vector<double>* A;
  int64_t n;
};

void dense_apply(void* ctx, const double* x, double* y) {
  const Dense* D = static_cast<const Dense*>(ctx);
  for (int64_t r = 0; r < D->n; ++r) {
    double s = 0;
    for (int64_t c = 0; c < D->n; ++c) s += (*D->A)[r + c * D->n] * x[c];
    y[r] = s;
  }
}

double lanczos(const std::vector<double>& A, int64_t n) {
  Dense D{&A, n};
  double out = NAN;
  EXPECT_EQ(dc_lanczos_max(dense_apply, &D, n, 1e-12, &out), DETCGD_OK);
  return out;
}

double lapack_max(const std::vector<double>& A, int n) {
  double out = NAN;
  EXPECT_EQ(dc_lambda_max(A.data(), n, &out), DETCGD_OK);
  return out;
}

// G G^T (psd = true) or G + G^T, G Gaussian.
std::vector<double> random_symmetric(int n, bool psd, uint32_t stream) {
  std::vector<double> G(n * n), A(n * n, 0.0);
  for (int e = 0; e < n * n; ++e) G[e] = dc_gaussian(7, stream, e);
  for (int c = 0; c < n; ++c)
    for (int r = 0; r < n; ++r)
      if (psd) for (int k = 0; k < n; ++k) A[r + c * n] += G[r + k * n] * G[c + k * n];
      else A[r + c * n] = G[r + c * n] + G[c + r * n];
  return A;
}

DetcgdProblem* a1a(int nlayers, int clients = 0) {
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  snprintf(ps.data_path, sizeof ps.data_path, "%s", DETCGD_SHARED_DATA "/a1a");
  ps.nlayers = nlayers;
  ps.clients = clients;
  ps.lambda = 0.1;
  DetcgdProblem* p = nullptr;
  return detcgd_problem_create(&p, &ps) == DETCGD_OK ? p : nullptr;
}

}  // namespace

TEST(Lanczos, LargestEigenvalueMatchesLapackFromAboveOnRandomMatrices) {
  // sizes below, at and above the basis of 96 (restarts), psd and indefinite
  uint32_t stream = 0;
  for (int n : {1, 2, 7, 95, 96, 97, 250})
    for (bool psd : {true, false}) {
      std::vector<double> A = random_symmetric(n, psd, ++stream);
      const double exact = lapack_max(A, n), got = lanczos(A, n);
      double scale = 0;
      for (double a : A) scale = std::max(scale, std::fabs(a));
      EXPECT_NEAR(got, exact, 1e-10 * n * scale) << "n = " << n << (psd ? " psd" : " indefinite");
      EXPECT_GE(got, exact - 1e-13 * n * scale) << "n = " << n;  // never below, beyond rounding
    }
}

TEST(Lanczos, LooseToleranceStillErrsOnTheSafeSide) {
  // rtol 1e-4 (a GD step): fewer products, and theta + residual stays at or above lambda_max
  uint32_t stream = 50;
  for (int n : {40, 150, 300}) {
    std::vector<double> A = random_symmetric(n, true, ++stream);
    Dense D{&A, n};
    double loose = 0;
    ASSERT_EQ(dc_lanczos_max(dense_apply, &D, n, 1e-4, &loose), DETCGD_OK);
    const double exact = lapack_max(A, n);
    EXPECT_GE(loose, exact * (1 - 1e-12)) << n;
    EXPECT_LE(loose, exact * (1 + 2e-4)) << n;
  }
}

TEST(Lanczos, InvariantStartsRepeatedAndClusteredTopEigenvalues) {
  const int n = 200;
  std::vector<double> Z(n * n, 0.0), I(n * n, 0.0), R(n * n, 0.0), C(n * n, 0.0);
  for (int j = 0; j < n; ++j) {
    I[j + j * n] = 1.0;
    R[j + j * n] = j < 3 ? 5.0 : 1.0 + j * 1e-3;      // top eigenvalue 5, three times
    C[j + j * n] = j == 0 ? 2.0 : 2.0 - 1e-9 - j * 1e-4; // gap 1e-9 below the top
  }
  EXPECT_EQ(lanczos(Z, n), 0.0);
  EXPECT_NEAR(lanczos(I, n), 1.0, 1e-15);
  EXPECT_NEAR(lanczos(R, n), 5.0, 1e-11);
  const double c = lanczos(C, n);
  EXPECT_GE(c, 2.0 - 1e-9);  // within the cluster, not below it
  EXPECT_LE(c, 2.0 + 1e-9);
}

TEST(Gram, BlocksAndTheBlockBoundMatchTheDenseSmoothnessMatrix) {
  DetcgdProblem* p = a1a(3);
  if (!p) GTEST_SKIP() << "../shared/data/libsvm/a1a not present";
  const int64_t d = p->layout.dim;
  const std::vector<double> L = dense_smoothness(p->host, d);
  std::vector<double> B(d * d, 0.0);
  for (int i = 0; i < p->layout.nblocks; ++i) {
    const int64_t o = p->layout.voff[i], m = p->layout.size[i];
    for (int64_t c = 0; c < m; ++c)
      for (int64_t r = 0; r < m; ++r) B[(o + r) + (o + c) * d] = L[(o + r) + (o + c) * d];
  }
  double c_exact = 0;
  ASSERT_EQ(dc_gen_lambda_max(L.data(), B.data(), (int)d, &c_exact), DETCGD_OK);
  EXPECT_NEAR(p->block_c, c_exact, 1e-10 * c_exact);
  EXPECT_GE(p->block_c, c_exact * (1 - 1e-13));
  EXPECT_GT(p->block_c, 1.0);
  EXPECT_LE(p->block_c, 3.0);
  for (int i = 0; i < p->layout.nblocks; ++i) {  // L_i = c L_ii
    const int64_t o = p->layout.voff[i], m = p->layout.size[i];
    const double* Li = p->L.data + p->layout.moff[i];
    for (int64_t c = 0; c < m; ++c)
      for (int64_t r = 0; r < m; ++r)
        ASSERT_NEAR(Li[r + c * m], p->block_c * L[(o + r) + (o + c) * d], 1e-13 * p->block_c) << i << " " << r << " " << c;
  }
  detcgd_problem_destroy(&p);
}

TEST(Gram, SandwichOfAClientMeanMatchesDenseEigenvalues) {
  // lambda_max(P Lbar P), Lbar the mean over clients 0..2 of 5, P block diagonal SPD
  DetcgdProblem* p = a1a(2, 5);
  if (!p) GTEST_SKIP() << "../shared/data/libsvm/a1a not present";
  const DcLayout& lay = p->layout;
  const int64_t d = lay.dim;
  std::vector<double> Lbar(d * d, 0.0), P(lay.moff[lay.nblocks], 0.0), Pd(d * d, 0.0);
  for (int c = 0; c < 3; ++c) {
    std::vector<double> Lc = dense_smoothness(p->client_host[c], d);
    for (int64_t e = 0; e < d * d; ++e) Lbar[e] += Lc[e] / 3;
  }
  for (int i = 0; i < lay.nblocks; ++i) {
    const int m = lay.size[i];
    std::vector<double> G = random_symmetric(m, true, 100 + i);
    for (int j = 0; j < m; ++j) G[j + j * m] += 1.0;
    std::copy(G.begin(), G.end(), P.begin() + lay.moff[i]);
    for (int c = 0; c < m; ++c)
      for (int r = 0; r < m; ++r) Pd[(lay.voff[i] + r) + (lay.voff[i] + c) * d] = G[r + c * m];
  }
  std::vector<double> T(d * d), M(d * d);
  dc_matmul(Lbar.data(), Pd.data(), (int)d, T.data());
  dc_matmul(Pd.data(), T.data(), (int)d, M.data());
  for (int64_t c = 0; c < d; ++c)
    for (int64_t r = 0; r < c; ++r) M[r + c * d] = M[c + r * d] = 0.5 * (M[r + c * d] + M[c + r * d]);
  const double exact = lapack_max(M, (int)d);
  double got = 0, plain = 0;
  ASSERT_EQ(dc_gram_lambda_max(p->client_host, 3, &lay, P.data(), DC_RTOL_CONSTANT, &got), DETCGD_OK);
  EXPECT_NEAR(got, exact, 1e-10 * exact);
  ASSERT_EQ(dc_gram_lambda_max(p->client_host, 3, &lay, nullptr, DC_RTOL_CONSTANT, &plain), DETCGD_OK);
  EXPECT_NEAR(plain, lapack_max(Lbar, (int)d), 1e-10 * plain);
  detcgd_problem_destroy(&p);
}

#ifdef DETCGD_TEST_OPENMP
TEST(Gram, ConstantsDoNotDependOnTheNumberOfThreads) {
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  DetcgdProblem* one = a1a(4, 7);
  omp_set_num_threads(std::max(threads, 3));
  DetcgdProblem* many = a1a(4, 7);
  omp_set_num_threads(threads);
  if (!one || !many) GTEST_SKIP() << "../shared/data/libsvm/a1a not present";
  EXPECT_EQ(one->block_c, many->block_c);  // bit for bit
  double a = 0, b = 0;
  omp_set_num_threads(1);
  ASSERT_EQ(dc_gram_lambda_max(one->client_host, 7, &one->layout, nullptr, DC_RTOL_CONSTANT, &a), DETCGD_OK);
  omp_set_num_threads(std::max(threads, 3));
  ASSERT_EQ(dc_gram_lambda_max(many->client_host, 7, &many->layout, nullptr, DC_RTOL_CONSTANT, &b), DETCGD_OK);
  omp_set_num_threads(threads);
  EXPECT_EQ(a, b);
  detcgd_problem_destroy(&one);
  detcgd_problem_destroy(&many);
}
#endif
