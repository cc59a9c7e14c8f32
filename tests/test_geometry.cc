// The l-infinity geometry of Diag(L_i) (theory/geometry.c) against independent computations: L_inf by brute
// force over every sign vector on small layers, 1^T H 1 (up to signs) on sign-consistent ones, the certified
// bounds around every sign vector tried on wide ones; the whole problem's numbers from the layers'; and the
// inequality d L_2 / L_inf >= rho lambda_max / lambda_bar.
#include <cmath>
#include <random>
#include "test_util.h"
extern "C" {
#include "linalg.h"
}

namespace {

std::vector<double> block(DetcgdProblem* p, int i) {
  int m = detcgd_problem_layer_size(p, i);
  std::vector<double> H(m * m);
  detcgd_problem_smoothness_block(p, i, H.data());
  return H;
}

double quad(const std::vector<double>& H, int m, const std::vector<double>& v) {
  double q = 0;
  for (int c = 0; c < m; ++c)
    for (int r = 0; r < m; ++r) q += v[r] * H[r + c * m] * v[c];
  return q;
}

double brute_linf(const std::vector<double>& H, int m) {
  double best = -INFINITY;
  std::vector<double> v(m);
  for (uint64_t bits = 0; bits < (uint64_t(1) << m); ++bits) {
    for (int j = 0; j < m; ++j) v[j] = (bits >> j) & 1 ? 1.0 : -1.0;
    best = std::max(best, quad(H, m, v));
  }
  return best;
}

double lmax(const std::vector<double>& H, int m) {
  double v;
  EXPECT_EQ(dc_lambda_max(H.data(), m, &v), DETCGD_OK);
  return v;
}

DetcgdGeometry geometry(DetcgdProblem* p, int layer) {
  DetcgdGeometry g{};
  EXPECT_EQ(detcgd_geometry(p, layer, &g), DETCGD_OK) << detcgd_last_error();
  return g;
}

}  // namespace

// Layers of at most 20 that are not sign-consistent: L_inf exact by enumeration = brute force.
TEST(Geometry, SmallLayersAreExactByEnumeration) {
  DetcgdProblem* p = make_quad("6,9,12", 0.1, 0.2, 3);
  for (int i = 0; i < 3; ++i) {
    int m = detcgd_problem_layer_size(p, i);
    std::vector<double> H = block(p, i);
    DetcgdGeometry g = geometry(p, i);
    EXPECT_EQ(g.linf_exact, 1);
    double want = brute_linf(H, m);
    EXPECT_NEAR(g.linf_lo, want, 1e-12 * want) << "layer " << i;
    EXPECT_EQ(g.linf_lo, g.linf_hi);
    double abs_sum = 0;
    for (double h : H) abs_sum += std::fabs(h);
    EXPECT_LT(want, abs_sum * (1 - 1e-6)) << "layer " << i << " is not sign-consistent: the bound is not attained";
  }
  detcgd_problem_destroy(&p);
}

// A sign-consistent layer (binary features: L = A^T A / (4N) + 2 lambda I is entrywise >= 0): L_inf = 1^T H 1,
// exact at any width; and on a diagonal layer L_inf = tr H, rho = 1, d L_2 / L_inf = lambda_max / lambda_bar.
TEST(Geometry, SignConsistentAndDiagonalLayersAreExactAtAnyWidth) {
  const std::string data = temp_path("geometry.svm");
  std::string rows;
  std::mt19937 rng(5);
  for (int r = 0; r < 60; ++r) {
    rows += r % 2 ? "1" : "-1";
    for (int j = 1; j <= 40; ++j)
      if (rng() % 3 == 0) rows += " " + std::to_string(j) + ":1";
    rows += "\n";
  }
  write_file(data, rows);
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  snprintf(ps.data_path, sizeof ps.data_path, "%s", data.c_str());
  DetcgdProblem* p = nullptr;
  ASSERT_EQ(detcgd_problem_create(&p, &ps), DETCGD_OK) << detcgd_last_error();
  int m = detcgd_problem_layer_size(p, 0);
  ASSERT_GT(m, 20);
  std::vector<double> H = block(p, 0);
  double ones = 0;
  for (double h : H) ones += h;
  DetcgdGeometry g = geometry(p, -1);
  EXPECT_EQ(g.linf_exact, 1);
  EXPECT_NEAR(g.linf_lo, ones, 1e-12 * ones);
  detcgd_problem_destroy(&p);

  DetcgdProblem* q = make_quad("30,25", 0.1, 1.0);  // diagonal dominance 1: every L_i is diagonal
  DetcgdGeometry d = geometry(q, -1);
  double tr = 0, top = 0;
  for (int i = 0; i < 2; ++i) {
    std::vector<double> B = block(q, i);
    int w = detcgd_problem_layer_size(q, i);
    for (int j = 0; j < w; ++j) { tr += B[j + j * w]; top = std::max(top, B[j + j * w]); }
  }
  EXPECT_EQ(d.linf_exact, 1);
  EXPECT_NEAR(d.linf_lo, tr, 1e-12 * tr);
  EXPECT_NEAR(d.rho, 1.0, 1e-15);
  EXPECT_NEAR(d.l2, top, 1e-12 * top);
  EXPECT_NEAR(d.advantage_lo, d.l2 / d.lambda_bar, 1e-12 * d.advantage_lo);
  detcgd_problem_destroy(&q);
}

// Wide layers that are neither: certified bounds.  Every sign vector tried lies at or below the upper bound, the
// lower bound is at least lambda_max, tr H and the all-ones vector's value, and the upper bound is at most
// sum |H_ij| and m lambda_max.  The whole problem: L_inf adds over the layers, L_2 is their largest, and
// d L_2 / L_inf >= rho lambda_max / lambda_bar.
TEST(Geometry, WideLayersGetCertifiedBoundsThatAddUp) {
  DetcgdProblem* p = make_quad("40,33", 0.1, 0.3, 9);
  std::mt19937 rng(1);
  double lo_sum = 0, hi_sum = 0, l2 = 0;
  for (int i = 0; i < 2; ++i) {
    int m = detcgd_problem_layer_size(p, i);
    std::vector<double> H = block(p, i), v(m);
    DetcgdGeometry g = geometry(p, i);
    double abs_sum = 0, tr = 0, top = lmax(H, m);
    for (double h : H) abs_sum += std::fabs(h);
    for (int j = 0; j < m; ++j) tr += H[j + j * m];
    EXPECT_LT(g.linf_lo, g.linf_hi) << "layer " << i << ": the bounds path";
    EXPECT_EQ(g.linf_exact, 0);
    EXPECT_GE(g.linf_lo, std::max(top, tr) * (1 - 1e-12));
    EXPECT_GE(g.linf_lo, quad(H, m, std::vector<double>(m, 1.0)) * (1 - 1e-12));
    EXPECT_LE(g.linf_hi, std::min(abs_sum, m * top) * (1 + 1e-12));
    for (int t = 0; t < 2000; ++t) {
      for (int j = 0; j < m; ++j) v[j] = rng() & 1 ? 1.0 : -1.0;
      ASSERT_LE(quad(H, m, v), g.linf_hi * (1 + 1e-12)) << "layer " << i;
    }
    lo_sum += g.linf_lo;
    hi_sum += g.linf_hi;
    l2 = std::max(l2, g.l2);
  }
  DetcgdGeometry w = geometry(p, -1);
  EXPECT_NEAR(w.linf_lo, lo_sum, 1e-12 * lo_sum);
  EXPECT_NEAR(w.linf_hi, hi_sum, 1e-12 * hi_sum);
  EXPECT_EQ(w.l2, l2);
  EXPECT_EQ(w.dim, 73);
  EXPECT_GE(w.advantage_lo, w.advantage_bound * (1 - 1e-12));
  EXPECT_LE(w.advantage_lo, w.advantage_hi);
  DetcgdGeometry bad{};
  EXPECT_EQ(detcgd_geometry(p, 2, &bad), DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("layer 2, the problem has layers 0 .. 1"), std::string::npos);
  detcgd_problem_destroy(&p);
}
