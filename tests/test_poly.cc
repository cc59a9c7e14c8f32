// poly-nc: f = sum_j a_j x_j^4 + lam sum_j x_j^2 / (1 + x_j^2).  Oracles: its closed-form gradient and Hessian,
// central differences, the derived (L0, L1) pair and box bound checked at sampled points, the CPU backend.
#include <algorithm>
#include <cmath>
#include "test_util.h"
extern "C" {
#include "backend.h"
}

namespace {

DetcgdProblem* make_poly(const char* layers, double lambda, double a_min, double a_max, double l1 = 3.0,
                         uint64_t seed = 7, double radius = 30.0) {
  DetcgdProblemSpec p;
  detcgd_problem_spec_default(&p);
  EXPECT_EQ(detcgd_problem_spec_set(&p, "problem", "poly-nc"), DETCGD_OK);
  snprintf(p.layers, sizeof p.layers, "%s", layers);
  p.lambda = lambda;
  p.spec_min = a_min;
  p.spec_max = a_max;
  p.poly_l1 = l1;
  p.poly_radius = radius;
  p.seed = seed;
  DetcgdProblem* prob = nullptr;
  EXPECT_EQ(detcgd_problem_create(&prob, &p), DETCGD_OK) << detcgd_last_error();
  return prob;
}

double reg_d1(double x, double lam) { return 2 * lam * x / ((1 + x * x) * (1 + x * x)); }
double reg_d2(double x, double lam) { return lam * (2 - 6 * x * x) / std::pow(1 + x * x, 3); }

}  // namespace

TEST(PolyNc, CoefficientsAreTheLogSpacedRangeShuffledByTheSeed) {
  DetcgdProblem *p = make_poly("3,5", 0.1, 0.1, 10), *q = make_poly("3,5", 0.1, 0.1, 10, 3.0, 8);
  ASSERT_TRUE(p && q);
  std::vector<double> a(p->coef, p->coef + 8), sorted = a, b(q->coef, q->coef + 8);
  std::sort(sorted.begin(), sorted.end());
  for (int j = 0; j < 8; ++j) EXPECT_NEAR(sorted[j], 0.1 * std::pow(100.0, j / 7.0), 1e-12) << j;
  EXPECT_NE(a, b) << "another data-seed, another order";
  std::sort(b.begin(), b.end());
  EXPECT_EQ(sorted, b);
  EXPECT_NE(dc_problem_data_hash(p), dc_problem_data_hash(q));
  detcgd_problem_destroy(&p);
  detcgd_problem_destroy(&q);
}

TEST(PolyNc, ValueAndGradientAreTheClosedFormAndMatchCentralDifferences) {
  DetcgdProblem* p = make_poly("2,3", 0.7, 0.5, 2);
  ASSERT_NE(p, nullptr);
  const std::vector<double> x = {1.5, -0.3, 0.0, 2.2, -4.0};
  std::vector<double> g(5);
  double f;
  ASSERT_EQ(detcgd_problem_eval(p, x.data(), &f, g.data()), DETCGD_OK);
  double fc = 0;
  for (int j = 0; j < 5; ++j) {
    const double a = p->coef[j];
    fc += a * std::pow(x[j], 4) + 0.7 * x[j] * x[j] / (1 + x[j] * x[j]);
    EXPECT_NEAR(g[j], 4 * a * std::pow(x[j], 3) + reg_d1(x[j], 0.7), 1e-12 * (1 + std::fabs(g[j]))) << j;
    std::vector<double> xp = x, xm = x;
    const double h = 1e-5;
    xp[j] += h;
    xm[j] -= h;
    double fp, fm;
    detcgd_problem_eval(p, xp.data(), &fp, nullptr);
    detcgd_problem_eval(p, xm.data(), &fm, nullptr);
    EXPECT_NEAR((fp - fm) / (2 * h), g[j], 1e-6 * (1 + std::fabs(g[j]))) << j;
  }
  EXPECT_NEAR(f, fc, 1e-12 * fc);
  detcgd_problem_destroy(&p);
}

// ||Hess f(x)|| = max_j |12 a_j x_j^2 + lam r''(x_j)| <= L0 + L1 ||grad f(x)|| at points spread over scales; without
// the regulariser the pair is attained at x = (2 / L1) e_j for the largest a_j.
TEST(PolyNc, DerivedL0L1PairBoundsTheHessianAndIsAttainedWithoutTheRegulariser) {
  for (double l1 : {0.3, 1.0, 3.0, 10.0}) {
    for (double lam : {0.2, 0.0}) {
      DetcgdProblem* p = make_poly("4", lam, 0.1, 1, l1);
      ASSERT_NE(p, nullptr);
      DetcgdProblemInfo info;
      ASSERT_EQ(detcgd_problem_info(p, &info), DETCGD_OK);
      EXPECT_EQ(info.L1, l1);
      const int jmax = (int)(std::max_element(p->coef, p->coef + 4) - p->coef);
      const double amax = p->coef[jmax];
      EXPECT_NEAR(info.L0, 16 * amax / (l1 * l1) + (2 + 3 * std::sqrt(3.0) * l1 / 8) * lam, 1e-12 * info.L0);
      auto ratio = [&](const std::vector<double>& x) {
        std::vector<double> g(4);
        detcgd_problem_eval(p, x.data(), nullptr, g.data());
        double hess = 0, gn = 0;
        for (int j = 0; j < 4; ++j) {
          hess = std::max(hess, std::fabs(12 * p->coef[j] * x[j] * x[j] + reg_d2(x[j], lam)));
          gn += g[j] * g[j];
        }
        return hess / (info.L0 + l1 * std::sqrt(gn));
      };
      std::mt19937_64 rng(5);
      for (int t = 0; t < 20000; ++t) {
        std::vector<double> x(4);
        const double scale = std::pow(10.0, std::uniform_real_distribution<double>(-3, 2)(rng));
        for (double& v : x) v = scale * std::normal_distribution<double>()(rng);
        if (t % 4 == 0) x[t / 4 % 4] = (t % 8 ? 2 : -2) / l1;  // where the quartic's part of the bound is tight
        ASSERT_LE(ratio(x), 1 + 1e-12) << "L1 " << l1 << " lambda " << lam << " point " << t;
      }
      if (lam == 0.0) {
        std::vector<double> x(4, 0.0);
        x[jmax] = 2 / l1;
        EXPECT_NEAR(ratio(x), 1.0, 1e-12) << "L1 " << l1;
      }
      detcgd_problem_destroy(&p);
    }
  }
}

// On the box |x_j| <= R the Hessian is at most L = Diag(12 a_j R^2 + 2 lam); outside it is not.
TEST(PolyNc, BoxSmoothnessHoldsOnTheBoxOnly) {
  DetcgdProblem* p = make_poly("2,2", 0.3, 0.5, 3, 3.0, 7, 5.0);
  ASSERT_NE(p, nullptr);
  std::vector<double> L0(4), L1(4);
  ASSERT_EQ(detcgd_problem_smoothness_block(p, 0, L0.data()), DETCGD_OK);
  ASSERT_EQ(detcgd_problem_smoothness_block(p, 1, L1.data()), DETCGD_OK);
  const double Ld[4] = {L0[0], L0[3], L1[0], L1[3]};
  EXPECT_EQ(L0[1], 0.0);
  EXPECT_EQ(L1[2], 0.0);
  for (int j = 0; j < 4; ++j) {
    EXPECT_NEAR(Ld[j], 12 * p->coef[j] * 25 + 0.6, 1e-12 * Ld[j]);
    for (double x = -5; x <= 5; x += 0.01) ASSERT_LE(12 * p->coef[j] * x * x + reg_d2(x, 0.3), Ld[j] * (1 + 1e-12));
    EXPECT_GT(12 * p->coef[j] * 5.1 * 5.1 + reg_d2(5.1, 0.3), Ld[j]);
  }
  detcgd_problem_destroy(&p);
}

TEST(PolyNc, RefusesRowsAndClients) {
  DetcgdProblemSpec p;
  detcgd_problem_spec_default(&p);
  ASSERT_EQ(detcgd_problem_spec_set(&p, "problem", "poly-nc"), DETCGD_OK);
  DetcgdProblem* prob = nullptr;
  EXPECT_EQ(detcgd_problem_create(&prob, &p), DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("poly-nc needs layer widths"), std::string::npos) << detcgd_last_error();
  snprintf(p.layers, sizeof p.layers, "4");
  p.clients = 2;
  EXPECT_EQ(detcgd_problem_create(&prob, &p), DETCGD_ERR_ARG);
  p.clients = 0;
  p.samples = 10;
  EXPECT_EQ(detcgd_problem_create(&prob, &p), DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("poly-nc has no rows"), std::string::npos) << detcgd_last_error();
}

TEST(PolyNc, StartingPointSpreadIsSeededGaussian) {
  DetcgdSettings s = quiet_settings();
  s.x0 = 40;
  s.x0_spread = 0;
  std::vector<double> x(4), y(4), z(20000);
  detcgd_starting_point(&s, 4, x.data());
  for (double v : x) EXPECT_EQ(v, 20.0);
  s.x0_spread = 1;
  detcgd_starting_point(&s, 4, x.data());
  detcgd_starting_point(&s, 4, y.data());
  EXPECT_EQ(x, y);
  s.seed += 1;
  detcgd_starting_point(&s, 4, y.data());
  EXPECT_NE(x, y);
  s.x0 = 0;
  detcgd_starting_point(&s, 20000, z.data());
  double mean = 0, var = 0;
  for (double v : z) mean += v / 20000;
  for (double v : z) var += (v - mean) * (v - mean) / 19999;
  EXPECT_LT(std::fabs(mean), 4 / std::sqrt(20000.0));  // 4 standard errors
  EXPECT_NEAR(var, 1.0, 4 * std::sqrt(2.0 / 20000));
}

class PolyBackends : public testing::TestWithParam<int> {
 protected:
  void SetUp() override { SKIP_WITHOUT_DEVICE(GetParam()); }
};

// The backend's gradient and f are the host's (CPU: the same code; CUDA: its kernel and block sums).
TEST_P(PolyBackends, GradientAndValueAreTheHosts) {
  DetcgdProblem* p = make_poly("31,1000,2", 0.1, 0.01, 1);
  ASSERT_NE(p, nullptr);
  const int64_t d = p->layout.dim;
  DcBackend be{};
  ASSERT_EQ(dc_backend_open(&be, GetParam()), DETCGD_OK) << detcgd_last_error();
  const DcBackendOps* o = be.ops;
  DcProbData* P = nullptr;
  DcVec *x = nullptr, *g = nullptr, *m = nullptr;
  ASSERT_EQ(o->problem_create(&be, &p->host, &P), DETCGD_OK);
  const std::vector<double> xh = random_vec(d, 3);
  ASSERT_EQ(o->vec_create(&be, d, &x), DETCGD_OK);
  ASSERT_EQ(o->vec_create(&be, d, &g), DETCGD_OK);
  ASSERT_EQ(o->vec_create(&be, 2, &m), DETCGD_OK);
  ASSERT_EQ(o->vec_upload(&be, x, xh.data()), DETCGD_OK);
  ASSERT_EQ(o->problem_grad(&be, P, x, g, m, 1), DETCGD_OK);
  std::vector<double> gb(d), mb(2), gh(d);
  ASSERT_EQ(o->vec_download(&be, g, gb.data()), DETCGD_OK);
  ASSERT_EQ(o->vec_download(&be, m, mb.data()), DETCGD_OK);
  double fh;
  ASSERT_EQ(detcgd_problem_eval(p, xh.data(), &fh, gh.data()), DETCGD_OK);
  for (int64_t j = 0; j < d; ++j) ASSERT_NEAR(gb[j], gh[j], 1e-14 * (1 + std::fabs(gh[j]))) << j;
  EXPECT_NEAR(mb[1], fh, 1e-12 * fh);
  for (DcVec* v : {x, g, m}) o->vec_destroy(&be, &v);
  o->problem_destroy(&be, &P);
  dc_backend_close(&be);
  detcgd_problem_destroy(&p);
}
INSTANTIATE_TEST_SUITE_P(Backends, PolyBackends, testing::ValuesIn(available_backends()), backend_name);

// The reproduction's claim on a small horizon: from x0_j ~ N(20, 1), ||EF21|| at 1 / (2 c_1) reaches
// ||grad f||^2 < 1e-4 while EF21 at its box-L step has not left the quartic's steep region; f^inf = 0 is exact.
TEST(PolyNc, NormalizedEf21ReachesTheTargetWhereEf21AtItsBoxStepCrawls) {
  DetcgdProblem* p = make_poly("4", 0.1, 0.1, 1);
  ASSERT_NE(p, nullptr);
  DetcgdResult r[2];
  for (int i = 0; i < 2; ++i) {
    DetcgdSettings s = quiet_settings();
    s.f_inf = NAN;
    ASSERT_EQ(detcgd_settings_set(&s, "method", i ? "ef21-norm" : "ef21"), DETCGD_OK);
    ASSERT_EQ(detcgd_settings_set(&s, "sketch", "top-k"), DETCGD_OK);
    s.sketch.k = 1;
    s.ef_norm_rule = 1;
    s.x0 = 40;
    s.x0_spread = 1;
    s.term.max_iter = 5000;
    DetcgdSolver* sv = nullptr;
    ASSERT_EQ(detcgd_create(&sv, p, &s), DETCGD_OK) << detcgd_last_error();
    ASSERT_EQ(detcgd_run(sv), DETCGD_OK);
    ASSERT_EQ(detcgd_get_result(sv, &r[i]), DETCGD_OK);
    detcgd_destroy(&sv);
    EXPECT_EQ(r[i].f_inf, 0.0);
  }
  EXPECT_GT(r[0].grad_norm2_final, 1.0);
  EXPECT_LT(r[1].grad_norm2_final, 1e-4);
  detcgd_problem_destroy(&p);
}
