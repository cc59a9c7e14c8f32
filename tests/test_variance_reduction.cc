// Variance reduction (diana.c, marina.c, optimum.c, prox.c): the convex problems and their x*, the prox steps, DCGD,
// DIANA, MARINA's coin.
// Oracles: closed forms (quad-nc's planted centre; box, l1 and ball on separable quadratics), an independent Newton
// solve of l2-logistic regression, central differences, the strong convexity inequality, Monte Carlo means of
// ||x^K - x*||^2 against the rates derived in diana.c, the CPU backend.
#include <algorithm>
#include <cmath>
#include "test_util.h"
extern "C" {
#include "backend.h"
#include "method.h"
#include "prox.h"
}

namespace {

using Options = std::vector<std::pair<std::string, std::string>>;

DetcgdProblem* make_problem(const Options& opts) {
  DetcgdProblemSpec ps;
  DetcgdSettings s = quiet_settings();
  detcgd_problem_spec_default(&ps);
  for (const auto& kv : opts) EXPECT_EQ(detcgd_set(&ps, &s, kv.first.c_str(), kv.second.c_str()), DETCGD_OK) << kv.first;
  DetcgdProblem* p = nullptr;
  EXPECT_EQ(detcgd_problem_create(&p, &ps), DETCGD_OK) << detcgd_last_error();
  return p;
}

DetcgdSettings settings_with(const Options& opts, int backend = DETCGD_BACKEND_CPU) {
  DetcgdProblemSpec ps;
  DetcgdSettings s = quiet_settings(backend);
  detcgd_problem_spec_default(&ps);
  for (const auto& kv : opts) EXPECT_EQ(detcgd_set(&ps, &s, kv.first.c_str(), kv.second.c_str()), DETCGD_OK) << kv.first;
  return s;
}

const Options kQuad = {{"problem", "quad-nc"}, {"layers", "4x8"}, {"lambda", "0"}, {"spec-min", "0.2"}};
const Options kSeparable = {{"problem", "quad-nc"}, {"layers", "4x8"}, {"lambda", "0"}, {"spec-min", "0.2"},
                            {"diag-dominance", "1"}, {"center-scale", "2"}};

std::vector<double> optimum(const DetcgdProblem* p, const DetcgdSettings& s, DetcgdOptimumInfo* info) {
  std::vector<double> x(p->layout.dim);
  EXPECT_EQ(detcgd_optimum(p, &s, x.data(), info), DETCGD_OK) << detcgd_last_error();
  return x;
}

double dist(const std::vector<double>& a, const double* b) {
  double s = 0;
  for (size_t j = 0; j < a.size(); ++j) s += (a[j] - b[j]) * (a[j] - b[j]);
  return std::sqrt(s);
}

// One run of the problem's options and the settings' options; its trace's rows and the summary's text.
struct RunResult {
  int status;
  std::vector<std::vector<double>> rows;
  std::string summary;
};
RunResult run(const Options& problem, const Options& settings, const std::string& tag, int backend = DETCGD_BACKEND_CPU) {
  DetcgdProblem* p = make_problem(problem);
  DetcgdSettings s = settings_with(settings, backend);
  const std::string trace = temp_path("diana_" + tag + ".csv"), summary = temp_path("diana_" + tag + ".json");
  snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", trace.c_str());
  snprintf(s.output.summary_path, sizeof s.output.summary_path, "%s", summary.c_str());
  DetcgdSolver* solver = nullptr;
  RunResult r;
  r.status = detcgd_create(&solver, p, &s);
  if (r.status == DETCGD_OK) r.status = detcgd_run(solver);
  detcgd_destroy(&solver);
  detcgd_problem_destroy(&p);
  if (r.status == DETCGD_OK) {
    r.rows = trace_numbers(trace);
    r.summary = read_file(summary);
  }
  return r;
}

std::string number(double v) {
  char b[32];
  snprintf(b, sizeof b, "%.17g", v);
  return b;
}

// The number after "key": in a summary's text (NaN when absent).
double summary_number(const std::string& text, const std::string& key) {
  size_t at = text.find("\"" + key + "\": ");
  return at == std::string::npos ? NAN : std::strtod(text.c_str() + at + key.size() + 4, nullptr);
}

}  // namespace

TEST(Optimum, QuadNcIsItsPlantedCentre) {
  DetcgdProblem* p = make_problem(kQuad);
  DetcgdSettings s = quiet_settings();
  DetcgdOptimumInfo info;
  std::vector<double> x = optimum(p, s, &info);
  EXPECT_LE(info.dist_bound, 1e-12 * std::max(1.0, dist(std::vector<double>(x.size(), 0.0), p->c)));
  EXPECT_LE(dist(x, p->c), info.dist_bound + 1e-15) << "the certificate holds";
  EXPECT_NEAR(info.f_star, 0.0, 1e-24);
  EXPECT_LE(info.f_star, info.gap_bound + 1e-30);
  EXPECT_DOUBLE_EQ(info.mu, 0.2);
  detcgd_problem_destroy(&p);
}

TEST(Optimum, BoxL1AndBallMatchTheirClosedFormsOnSeparableQuadratics) {
  DetcgdProblem* p = make_problem(kSeparable);
  const int64_t d = p->layout.dim;
  std::vector<double> s_diag(d);  // A_i = Diag(s) with diag-dominance 1
  for (int i = 0; i < p->layout.nblocks; ++i)
    for (int r = 0; r < p->layout.size[i]; ++r)
      s_diag[p->layout.voff[i] + r] = p->A[p->layout.moff[i] + r + (int64_t)r * p->layout.size[i]];
  DetcgdOptimumInfo info;
  std::vector<double> box(d), l1(d);
  for (int64_t j = 0; j < d; ++j) {
    const double c = p->c[j], t = 0.05 / s_diag[j];
    box[j] = std::max(-1.0, std::min(1.0, c));
    l1[j] = c > t ? c - t : c < -t ? c + t : 0.0;
  }
  int clipped = 0, zeroed = 0;
  for (int64_t j = 0; j < d; ++j) clipped += std::fabs(p->c[j]) > 1.0, zeroed += l1[j] == 0.0;
  ASSERT_GT(clipped, 4) << "the box binds";
  ASSERT_GT(zeroed, 0) << "the l1 prox zeroes some coordinates";
  std::vector<double> x = optimum(p, settings_with({{"method", "diana"}, {"prox", "box"}, {"prox-radius", "1"}}), &info);
  EXPECT_LE(dist(box, x.data()), info.dist_bound + 1e-15);
  EXPECT_LE(info.dist_bound, 1e-11);
  x = optimum(p, settings_with({{"method", "diana"}, {"prox", "l1"}, {"prox-weight", "0.05"}}), &info);
  EXPECT_LE(dist(l1, x.data()), info.dist_bound + 1e-15);
  double l1_norm = 0, f = 0;
  for (int64_t j = 0; j < d; ++j) l1_norm += std::fabs(l1[j]), f += 0.5 * s_diag[j] * (l1[j] - p->c[j]) * (l1[j] - p->c[j]);
  EXPECT_NEAR(info.f_star, f + 0.05 * l1_norm, 1e-12);
  detcgd_problem_destroy(&p);
  // the ball on A = I: x* = c min(1, r / ||c||)
  Options iso = kSeparable;
  iso.push_back({"spec-max", "0.2"});
  p = make_problem(iso);
  const double cn = dist(std::vector<double>(d, 0.0), p->c), r = 0.5 * cn;
  std::vector<double> ball(p->c, p->c + d);
  for (double& v : ball) v *= r / cn;
  x = optimum(p, settings_with({{"method", "diana"}, {"prox", "ball"}, {"prox-radius", number(r)}}), &info);
  EXPECT_LE(dist(ball, x.data()), info.dist_bound + 1e-14);
  detcgd_problem_destroy(&p);
}

TEST(Optimum, L2LogisticRegressionAgreesWithAnIndependentNewtonSolve) {
  const Options prob = {{"samples", "300"}, {"features", "6"}, {"lambda", "0"}, {"l2", "0.05"}, {"clients", "3"}};
  DetcgdProblem* p = make_problem(prob);
  DetcgdOptimumInfo info;
  std::vector<double> x = optimum(p, quiet_settings(), &info);
  // Newton on f = (1/n) sum_c [(1/N_c) sum_{j in c} log(1 + exp(-b_j a_j.x))] + (mu/2) ||x||^2, dense, from 0
  const int d = 6, n = 3;
  std::vector<double> w(d, 0.0);
  for (int it = 0; it < 30; ++it) {
    std::vector<double> g(d, 0.0), H(d * d, 0.0);
    for (int c = 0; c < n; ++c) {
      const DcHostProblem& h = p->client_host[c];
      for (int64_t j = 0; j < h.nrows; ++j) {
        std::vector<double> a(d, 0.0);
        for (int64_t q = h.rowptr[j]; q < h.rowptr[j + 1]; ++q) a[h.colidx[q]] = h.val[q];
        double z = 0;
        for (int k = 0; k < d; ++k) z += a[k] * w[k];
        const double b = h.label[j], sg = 1.0 / (1.0 + std::exp(b * z)), scale = 1.0 / (n * (double)h.nrows);
        for (int k = 0; k < d; ++k) g[k] -= scale * b * sg * a[k];
        for (int k = 0; k < d; ++k)
          for (int l = 0; l < d; ++l) H[k * d + l] += scale * sg * (1 - sg) * a[k] * a[l];
      }
    }
    for (int k = 0; k < d; ++k) g[k] += 0.05 * w[k], H[k * d + k] += 0.05;
    for (int k = 0; k < d; ++k) {  // solve H s = g by Gaussian elimination (H is SPD)
      for (int r = k + 1; r < d; ++r) {
        const double m = H[r * d + k] / H[k * d + k];
        for (int l = k; l < d; ++l) H[r * d + l] -= m * H[k * d + l];
        g[r] -= m * g[k];
      }
    }
    for (int k = d - 1; k >= 0; --k) {
      double v = g[k];
      for (int l = k + 1; l < d; ++l) v -= H[k * d + l] * g[l];
      g[k] = v / H[k * d + k];
    }
    for (int k = 0; k < d; ++k) w[k] -= g[k];
  }
  EXPECT_LE(dist(w, x.data()), info.dist_bound + 1e-14);
  EXPECT_LE(info.dist_bound, 1e-12 * std::max(1.0, dist(w, std::vector<double>(d, 0.0).data())));
  double f = 0;
  ASSERT_EQ(detcgd_problem_eval(p, w.data(), &f, nullptr), DETCGD_OK);
  EXPECT_NEAR(info.f_star, f, 1e-9) << "the whole data's f and the clients' mean differ by N_c rounding only here";
  detcgd_problem_destroy(&p);
}

TEST(Optimum, RefusesAProblemWithoutStrongConvexity) {
  DetcgdProblem* p = make_problem({{"samples", "50"}, {"features", "4"}, {"lambda", "0.3"}, {"l2", "0.1"}});
  DetcgdOptimumInfo info;
  std::vector<double> x(4);
  DetcgdSettings s = quiet_settings();
  EXPECT_EQ(detcgd_optimum(p, &s, x.data(), &info), DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("strongly convex"), std::string::npos) << detcgd_last_error();
  detcgd_problem_destroy(&p);
}

TEST(L2Logistic, GradientMatchesCentralDifferencesAndMuIsL2LessHalfLambda) {
  DetcgdProblem* p = make_problem({{"samples", "80"}, {"features", "5"}, {"lambda", "0.1"}, {"l2", "0.3"}});
  DetcgdProblemInfo info;
  ASSERT_EQ(detcgd_problem_info(p, &info), DETCGD_OK);
  EXPECT_DOUBLE_EQ(info.mu, 0.25);
  std::vector<double> x = random_vec(5, 3), g(5), e(5);
  double f;
  ASSERT_EQ(detcgd_problem_eval(p, x.data(), &f, g.data()), DETCGD_OK);
  for (int j = 0; j < 5; ++j) {
    std::vector<double> a = x, b = x;
    double fa, fb;
    a[j] += 1e-6;
    b[j] -= 1e-6;
    detcgd_problem_eval(p, a.data(), &fa, nullptr);
    detcgd_problem_eval(p, b.data(), &fb, nullptr);
    EXPECT_NEAR(g[j], (fa - fb) / 2e-6, 1e-7) << j;
  }
  for (unsigned t = 0; t < 200; ++t) {  // f(y) >= f(x) + g(x).(y - x) + (mu/2) ||y - x||^2
    std::vector<double> u = random_vec(5, 100 + t), v = random_vec(5, 500 + t), gu(5);
    for (double& c : u) c *= 3;
    for (double& c : v) c *= 3;
    double fu, fv, lin = 0, sq = 0;
    detcgd_problem_eval(p, u.data(), &fu, gu.data());
    detcgd_problem_eval(p, v.data(), &fv, nullptr);
    for (int j = 0; j < 5; ++j) lin += gu[j] * (v[j] - u[j]), sq += (v[j] - u[j]) * (v[j] - u[j]);
    EXPECT_GE(fv - fu - lin, 0.5 * info.mu * sq - 1e-12) << t;
  }
  detcgd_problem_destroy(&p);
}

TEST(Diana, LinearRateOnAStronglyConvexQuadraticWithinTheTheoryBound) {
  // quad-nc (mu = spec-min = 0.2) with a binding box: grad f(x*) != 0, so DCGD stalls where DIANA converges.
  const Options box = {{"prox", "box"}, {"prox-radius", "0.5"}, {"sketch", "qsgd"}, {"iters", "2000"},
                       {"trace-every", "1999"}, {"optimum", "solve"}};
  DetcgdProblem* p = make_problem(kQuad);
  DetcgdOptimumInfo oi;
  DetcgdSettings s0 = settings_with(box);
  std::vector<double> xs = optimum(p, s0, &oi), g(p->layout.dim), x0(p->layout.dim);
  double f, g2 = 0, d0 = 0;
  detcgd_problem_eval(p, xs.data(), &f, g.data());
  for (double v : g) g2 += v * v;
  detcgd_starting_point(&s0, p->layout.dim, x0.data());
  d0 = dist(x0, xs.data()) * dist(x0, xs.data());
  ASSERT_GT(g2, 1e-2) << "the box binds";
  // diana.c's constants from the problem alone: n = 1, L = L_max = lambda_max, omega = QSGD's sqrt(8) (s = 1, m = 8)
  const double L = p->lmax, mu = 0.2, omega = std::sqrt(8.0), alpha = 1 / (omega + 1), K = 1999;
  const double gd = 1 / (L + 6 * omega * L), rho = std::max(1 - gd * mu, 1 - alpha / 2);
  const double psi0 = d0 + 4 * omega * gd * gd / alpha * g2;
  const double gc = 1 / (L + 2 * omega * L), plateau = 2 * gc * omega * g2 / mu;
  detcgd_problem_destroy(&p);
  const int seeds = 24;
  double diana = 0, dcgd = 0;
  for (int k = 0; k < seeds; ++k) {
    Options a = box, b = box;
    a.push_back({"method", "diana"});
    b.push_back({"method", "dcgd"});
    a.push_back({"seed", std::to_string(10 + k)});
    b.push_back({"seed", std::to_string(10 + k)});
    RunResult ra = run(kQuad, a, "rate_diana"), rb = run(kQuad, b, "rate_dcgd");
    ASSERT_EQ(ra.status, DETCGD_OK) << detcgd_last_error();
    ASSERT_EQ(rb.status, DETCGD_OK) << detcgd_last_error();
    diana += ra.rows.back()[12] / seeds;  // dist2, after the common columns
    dcgd += rb.rows.back()[12] / seeds;
    if (k == 0) {
      EXPECT_NEAR(summary_number(ra.summary, "rate"), rho, 1e-12 * rho);
      EXPECT_NEAR(summary_number(ra.summary, "psi0"), psi0, 1e-9 * psi0);
      EXPECT_NEAR(summary_number(rb.summary, "plateau_bound"), plateau, 1e-9 * plateau);
    }
  }
  EXPECT_LE(diana, std::pow(rho, K) * psi0) << "E||x^K - x*||^2 <= rho^K Psi^0";
  EXPECT_LE(diana, 1e-12 * d0) << "linear convergence to x*";
  EXPECT_GE(dcgd, 1e-6 * d0) << "DCGD stalls";
  EXPECT_LE(dcgd, std::pow(1 - gc * mu, K) * d0 + plateau) << "within its plateau bound";
}

TEST(Diana, RefusesABiasedCompressor) {
  DetcgdProblem* p = make_problem(kQuad);
  DetcgdSettings s = quiet_settings();
  DetcgdSolver* solver = nullptr;
  ASSERT_EQ(detcgd_settings_set(&s, "method", "diana"), DETCGD_OK);
  ASSERT_EQ(detcgd_settings_set(&s, "sketch", "top-k"), DETCGD_OK);
  EXPECT_EQ(detcgd_create(&solver, p, &s), DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("diana needs an unbiased compressor"), std::string::npos)
      << detcgd_last_error();
  detcgd_problem_destroy(&p);
}

TEST(Diana, DcgdWithASketchIsDetCgd1WithTheSameScalarStep) {
  // over 3 clients with rand-k (64-bit values, so that no message rounds): dcgd's x - gamma (1/n) sum_c S_c g_c and
  // det-cgd1's x - (1/n) sum_c S_c D g_c with D = gamma I (dcgd-kr) draw the same S_c and send the same bits
  const Options lr = {{"samples", "240"}, {"features", "24"}, {"layers", "3x8"}, {"lambda", "0.1"}, {"clients", "3"}};
  const Options common = {{"sketch", "rand-k"}, {"k", "2"}, {"value-bits", "64"}, {"iters", "200"}, {"trace-every", "1"}};
  Options det = common, dcgd = common;
  det.insert(det.end(), {{"method", "det-cgd1"}, {"stepsize", "dcgd-kr"}});
  RunResult a = run(lr, det, "kr");
  ASSERT_EQ(a.status, DETCGD_OK) << detcgd_last_error();
  const double gamma = 1.0 / summary_number(a.summary, "det_factor");  // det(D)^{-1/d} of gamma I
  ASSERT_TRUE(gamma > 0) << a.summary;
  dcgd.insert(dcgd.end(), {{"method", "dcgd"}, {"vr-step", number(gamma)}, {"force", "1"}});
  RunResult b = run(lr, dcgd, "dcgd_randk");
  ASSERT_EQ(b.status, DETCGD_OK) << detcgd_last_error();
  ASSERT_EQ(a.rows.size(), b.rows.size());
  for (size_t k = 0; k < a.rows.size(); ++k) {
    EXPECT_NEAR(b.rows[k][1], a.rows[k][1], 1e-12 * std::fabs(a.rows[k][1])) << "f at row " << k;
    EXPECT_NEAR(b.rows[k][2], a.rows[k][2], 1e-9 * a.rows[k][2] + 1e-300) << "||grad f||^2 at row " << k;
    EXPECT_EQ(b.rows[k][5], a.rows[k][5]) << "coords_sent at row " << k;
    EXPECT_EQ(b.rows[k][6], a.rows[k][6]) << "bits_up at row " << k;
  }
  EXPECT_LT(a.rows.back()[2], 0.5 * a.rows.front()[2]) << "the runs move";
}

TEST(DetMarina, TakesTheSketchesRefusesQsgdAndReportsItsMatrixStep) {
  const Options lr = {{"samples", "150"}, {"features", "6"}, {"lambda", "0"}, {"l2", "0.01"}, {"clients", "3"}};
  RunResult q = run(lr, {{"method", "det-marina"}, {"sketch", "qsgd"}, {"iters", "5"}}, "det_marina_qsgd");
  EXPECT_EQ(q.status, DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("det-marina's condition"), std::string::npos) << detcgd_last_error();
  RunResult r = run(lr, {{"method", "det-marina"}, {"sketch", "rand-1"}, {"marina-p", "0.2"}, {"iters", "5"}},
                    "det_marina_rand1");
  ASSERT_EQ(r.status, DETCGD_OK) << detcgd_last_error();
  // rand-1 on one layer of 6: omega = 5, so b = ((1 - p) 5 / (p n)) mean_c lambda_c^2 > 0, and gamma a + gamma^2 b = 1
  EXPECT_NEAR(summary_number(r.summary, "omega"), 5.0, 1e-12);
  EXPECT_NEAR(summary_number(r.summary, "condition"), 1.0, 1e-12);
  // the run's det(D)^{-1/d} and certificate are the method's (not the identity's), in the result and the theory
  DetcgdProblem* p = make_problem(lr);
  DetcgdSettings s = settings_with({{"method", "det-marina"}, {"sketch", "rand-1"}, {"marina-p", "0.2"}});
  DetcgdTheory t;
  ASSERT_EQ(detcgd_theory(p, &s, &t), DETCGD_OK) << detcgd_last_error();
  detcgd_problem_destroy(&p);
  const double det_factor = summary_number(r.summary.substr(r.summary.find("\"method\": {")), "det_factor");
  EXPECT_GT(det_factor, 1.0);
  EXPECT_NEAR(t.det_factor, det_factor, 1e-12 * det_factor);
  EXPECT_NEAR(t.certificate, 1.0, 1e-12);
}

TEST(Diana, StepAboveTheTheoryIsRefusedUnlessForced) {
  const Options o = {{"method", "diana"}, {"sketch", "natural"}, {"vr-step", "10"}, {"iters", "5"}};
  EXPECT_EQ(run(kQuad, o, "forced_no").status, DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("vr-step"), std::string::npos) << detcgd_last_error();
  Options f = o;
  f.push_back({"force", "1"});
  RunResult r = run(kQuad, f, "forced");
  ASSERT_EQ(r.status, DETCGD_OK) << detcgd_last_error();
  EXPECT_NE(r.summary.find("(forced)"), std::string::npos);
}

class DianaBackends : public testing::TestWithParam<int> {};

TEST_P(DianaBackends, BallProxRunFollowsTheCpu) {
  SKIP_WITHOUT_DEVICE(GetParam());
  const Options o = {{"method", "diana"}, {"sketch", "natural"}, {"prox", "ball"}, {"prox-radius", "1.5"},
                     {"iters", "200"}, {"trace-every", "20"}, {"optimum", "solve"}};
  RunResult c = run(kQuad, o, "ball_cpu"), g = run(kQuad, o, "ball_" + backend_name({GetParam(), 0}), GetParam());
  ASSERT_EQ(c.status, DETCGD_OK) << detcgd_last_error();
  ASSERT_EQ(g.status, DETCGD_OK) << detcgd_last_error();
  ASSERT_EQ(c.rows.size(), g.rows.size());
  for (size_t i = 0; i < c.rows.size(); ++i)
    for (int col : {1, 2, 12}) EXPECT_NEAR(g.rows[i][col], c.rows[i][col], 1e-10 * std::fabs(c.rows[0][col])) << i;
  EXPECT_LT(c.rows.back()[12], 1e-8 * c.rows.front()[12]) << "DIANA reaches x* on the ball";
}

INSTANTIATE_TEST_SUITE_P(Backends, DianaBackends, testing::ValuesIn(available_backends()), backend_name);

TEST(Marina, CoinIsBernoulliPFromTheSeedAndTheRoundOnly) {
  const double p = 0.3;
  const int K = 40000;
  int heads = 0, differ = 0;
  EXPECT_EQ(dc_marina_coin(7, 0, 1e-9), 1) << "round 0 is a sync round: g^0 = grad f(x^0)";
  for (int k = 1; k <= K; ++k) {
    const int c = dc_marina_coin(7, (uint32_t)k, p);
    heads += c;
    EXPECT_EQ(c, dc_marina_coin(7, (uint32_t)k, p));
    differ += c != dc_marina_coin(8, (uint32_t)k, p);
  }
  EXPECT_NEAR(heads / (double)K, p, 4 * std::sqrt(p * (1 - p) / K));
  EXPECT_GT(differ, K / 4) << "another seed, other coins";
}

TEST(Marina, SyncRoundsAreCountedAndABiasedCompressorRefused) {
  const Options lr = {{"samples", "120"}, {"features", "8"}, {"lambda", "0.1"}, {"clients", "4"}};
  RunResult r = run(lr, {{"method", "marina"}, {"sketch", "natural"}, {"marina-p", "0.25"}, {"iters", "200"}}, "marina");
  ASSERT_EQ(r.status, DETCGD_OK) << detcgd_last_error();
  int sync = 0;
  for (int k = 0; k < 200; ++k) sync += dc_marina_coin(42, (uint32_t)k, 0.25);
  EXPECT_EQ(summary_number(r.summary, "sync_rounds"), sync);
  EXPECT_EQ(summary_number(r.summary, "bits_up"), (200.0 - sync) * 4 * 9 * 8 + sync * 4 * 8 * 32.0);
  EXPECT_EQ(run(lr, {{"method", "marina"}, {"sketch", "top-k"}}, "marina_topk").status, DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("marina needs an unbiased compressor"), std::string::npos);
  EXPECT_EQ(run(lr, {{"method", "dasha"}, {"sketch", "scaled-sign"}}, "dasha_sign").status, DETCGD_ERR_ARG);
}

TEST(Sega, StepIsTheLargestTheTwoConditionsAllowAndTheRateHolds) {
  // quad-nc 4x8 with rand-1 on each layer: Theta = 8 I, E[Z] = I / 8, C = 8 I, L = Blockdiag(A_i) with lambda_max L_max:
  // (i) gamma (2 (8 - 1) + sigma mu) <= sigma / 8 and (ii) (16 gamma + sigma / 8) L_max <= 1; the optimum is where the
  // increasing bound (i) meets the decreasing (ii), found here by bisection on sigma
  const Options ball = {{"method", "sega"}, {"sketch", "rand-1"}, {"prox", "ball"}, {"prox-radius", "1.5"},
                        {"iters", "3000"}, {"trace-every", "2999"}, {"optimum", "solve"}};
  DetcgdProblem* p = make_problem(kQuad);
  const double L = p->lmax, mu = 0.2, m = 8;
  auto g1 = [&](double s) { return s / (m * (2 * (m - 1) + s * mu)); };
  auto g2 = [&](double s) { return (1 / L - s / m) / (2 * m); };
  double lo = 0, hi = m / L;
  for (int it = 0; it < 200; ++it) {
    const double mid = 0.5 * (lo + hi);
    if (g1(mid) < g2(mid)) lo = mid; else hi = mid;
  }
  const double sigma = lo, gamma = g1(sigma);
  DetcgdOptimumInfo oi;
  DetcgdSettings s0 = settings_with(ball);
  std::vector<double> xs = optimum(p, s0, &oi), g(p->layout.dim), x0(p->layout.dim);
  double f, g2n = 0;
  detcgd_problem_eval(p, xs.data(), &f, g.data());
  for (double v : g) g2n += v * v;
  detcgd_starting_point(&s0, p->layout.dim, x0.data());
  const double d0 = dist(x0, xs.data()) * dist(x0, xs.data()), phi0 = d0 + sigma * gamma * g2n;
  ASSERT_GT(g2n, 1e-2) << "the ball binds";
  detcgd_problem_destroy(&p);
  double sega = 0, plain = 0, gauss = 0;  // gauss: a Gaussian direction per layer, theta = m_i = 8 as rand-1's
  const int seeds = 10;
  for (int k = 0; k < seeds; ++k) {
    Options a = ball, b = ball, c = ball;
    a.push_back({"seed", std::to_string(30 + k)});
    b.push_back({"seed", std::to_string(30 + k)});
    b.push_back({"sega-estimator", "plain"});
    c.insert(c.end(), {{"seed", std::to_string(30 + k)}, {"sega-sketch", "gaussian"}});
    RunResult ra = run(kQuad, a, "sega"), rb = run(kQuad, b, "sega_plain"), rc = run(kQuad, c, "sega_gauss");
    ASSERT_EQ(ra.status, DETCGD_OK) << detcgd_last_error();
    ASSERT_EQ(rb.status, DETCGD_OK) << detcgd_last_error();
    ASSERT_EQ(rc.status, DETCGD_OK) << detcgd_last_error();
    gauss += rc.rows.back()[12] / seeds;
    if (k == 0) {
      EXPECT_NEAR(summary_number(rc.summary, "step"), gamma, 1e-6 * gamma);
      EXPECT_EQ(rc.rows.back()[5], 2999 * 4) << "gaussian: s_i^T grad f, one value per layer";
      EXPECT_EQ(rc.rows.back()[6], 2999 * 4 * 32) << "gaussian: 32 bits a value, no index";
    }
    if (k == 0) {
      EXPECT_NEAR(summary_number(ra.summary, "step"), gamma, 1e-6 * gamma);
      EXPECT_NEAR(summary_number(ra.summary, "sigma"), sigma, 1e-3 * sigma);
      EXPECT_LE(summary_number(ra.summary, "condition_i"), 1 + 1e-12);
      EXPECT_LE(summary_number(ra.summary, "condition_ii"), 1 + 1e-12);
      EXPECT_EQ(ra.rows.back()[5], 2999 * 4) << "one coordinate of each layer per oracle call, iterations 0 .. K - 2";
    }
    sega += ra.rows.back()[12] / seeds;
    plain += rb.rows.back()[12] / seeds;
  }
  EXPECT_LE(sega, std::pow(1 - gamma * mu, 2999) * phi0) << "E Phi^K <= (1 - gamma mu)^K Phi^0";
  EXPECT_LE(gauss, std::pow(1 - gamma * mu, 2999) * phi0) << "gaussian: E Phi^K <= (1 - gamma mu)^K Phi^0";
  EXPECT_LE(gauss, 1e-10 * d0);
  EXPECT_LE(sega, 1e-10 * d0);
  EXPECT_GE(plain, 1e-6 * d0) << "coordinate descent keeps the sketch's noise at x*";
}

TEST(Sega, GaussianDirectionsAreStandardNormalAndTheirScaledProjectionHasMeanI) {
  // N draws of d = 4 entries at (seed, k): each entry's mean 0 and variance 1, and E[m s s^T / ||s||^2] = I (theta Z,
  // E[Z] = I / m by symmetry), every entry within 5 standard errors of the sample; another round gives another s
  const int N = 20000, m = 4;
  std::vector<double> s(m), sum(m, 0), sq(m, 0), P(m * m, 0), P2(m * m, 0), t(m);
  for (int k = 0; k < N; ++k) {
    dc_sega_gaussian_direction(7, (uint32_t)k, m, s.data());
    double n2 = 0;
    for (int j = 0; j < m; ++j) {
      sum[j] += s[j];
      sq[j] += s[j] * s[j];
      n2 += s[j] * s[j];
    }
    for (int a = 0; a < m; ++a)
      for (int b = 0; b < m; ++b) {
        const double v = m * s[a] * s[b] / n2;
        P[a * m + b] += v;
        P2[a * m + b] += v * v;
      }
  }
  for (int j = 0; j < m; ++j) {
    EXPECT_NEAR(sum[j] / N, 0.0, 5.0 / std::sqrt(N)) << j;
    EXPECT_NEAR(sq[j] / N, 1.0, 5.0 * std::sqrt(2.0 / N)) << j;
  }
  for (int e = 0; e < m * m; ++e) {
    const double mean = P[e] / N, se = std::sqrt((P2[e] / N - mean * mean) / N);
    EXPECT_NEAR(mean, e % (m + 1) == 0 ? 1.0 : 0.0, 5 * se) << e;
  }
  dc_sega_gaussian_direction(7, 0, m, s.data());
  dc_sega_gaussian_direction(7, 1, m, t.data());
  EXPECT_NE(s, t);
  dc_sega_gaussian_direction(7, 1, m, s.data());
  EXPECT_EQ(s, t) << "the same (seed, k), the same direction";
}

TEST(VrDiana, VrDianaVrMarinaAndDashaPageReachXStarWhereDianaSgdStalls) {
  const Options lr = {{"samples", "200"}, {"features", "6"}, {"lambda", "0"}, {"l2", "0.1"}, {"clients", "4"}};
  Options o = {{"sketch", "natural"}, {"batch", "2"}, {"iters", "4000"}, {"trace-every", "3999"}, {"optimum", "solve"}};
  Options v = o, d = o;
  v.push_back({"method", "vr-diana"});
  d.push_back({"method", "diana"});
  RunResult rv = run(lr, v, "vr"), rd = run(lr, d, "diana_sgd");
  ASSERT_EQ(rv.status, DETCGD_OK) << detcgd_last_error();
  ASSERT_EQ(rd.status, DETCGD_OK) << detcgd_last_error();
  const double d0 = rv.rows.front()[12];
  EXPECT_LE(rv.rows.back()[12], 1e-16 * d0) << "the L-SVRG estimator's variance vanishes at x*";
  EXPECT_GE(rd.rows.back()[12], 1e-8 * d0) << "DIANA-SGD keeps the minibatch noise";
  Options sg = {{"method", "vr-diana"}, {"vr-estimator", "saga"}, {"sketch", "natural"}, {"batch", "1"},
                {"iters", "6000"}, {"trace-every", "5999"}, {"optimum", "solve"}};
  RunResult rs = run(lr, sg, "saga");
  ASSERT_EQ(rs.status, DETCGD_OK) << detcgd_last_error();
  EXPECT_LE(rs.rows.back()[12], 1e-12 * d0) << "SAGA's table removes the sample noise too";
  Options dp = o;  // DASHA-PAGE
  dp.push_back({"method", "dasha-page"});
  RunResult rp = run(lr, dp, "dasha_page");
  ASSERT_EQ(rp.status, DETCGD_OK) << detcgd_last_error();
  EXPECT_LE(rp.rows.back()[12], 1e-12 * d0) << "PAGE's estimator reaches x* too";
  Options vm = o;  // VR-MARINA: MARINA on the same minibatch at both points, stationarity (grad f(x*) = 0 here)
  vm.push_back({"method", "marina"});
  RunResult rm = run(lr, vm, "vr_marina");
  ASSERT_EQ(rm.status, DETCGD_OK) << detcgd_last_error();
  EXPECT_LE(rm.rows.back()[12], 1e-12 * d0) << "the minibatch differences' variance vanishes at x*";
  EXPECT_EQ(run(lr, {{"method", "vr-diana"}, {"sketch", "natural"}}, "vr_full").status, DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("batch"), std::string::npos) << detcgd_last_error();
}

namespace {
// lambda_max of a symmetric PSD d x d matrix (row-major) by power iteration
double power_lmax(const std::vector<double>& A, int d) {
  std::vector<double> v(d, 1.0), w(d);
  double lam = 0;
  for (int it = 0; it < 5000; ++it) {
    double n = 0;
    for (int i = 0; i < d; ++i) {
      w[i] = 0;
      for (int j = 0; j < d; ++j) w[i] += A[i * d + j] * v[j];
      n += w[i] * w[i];
    }
    n = std::sqrt(n);
    lam = n;
    for (int i = 0; i < d; ++i) v[i] = w[i] / n;
  }
  return lam;
}
}  // namespace

TEST(DetMarina, StepEqualsAnIndependentComputationAndTheBoundHolds) {
  // convex l2-logistic regression (lambda 0) over 3 clients, d = 6, natural compression (omega = 1/8), W = diag^-1(L):
  // a = lambda_max(W^1/2 Lbar W^1/2), b = ((1 - p) omega / (p n)) mean_c lambda_max(W^1/2 L_c W^1/2)^2, from dense
  // L_c = (1/(4 N_c)) A_c^T A_c + mu I built entry by entry; then G_{K,D} <= 2 Delta^0 / (det(D)^{1/d} K)
  const Options lr = {{"samples", "150"}, {"features", "6"}, {"lambda", "0"}, {"l2", "0.01"}, {"clients", "3"}};
  DetcgdProblem* p = make_problem(lr);
  const int d = 6, n = 3;
  std::vector<double> Lbar(d * d, 0.0), Lwhole(d * d, 0.0), w(d);
  std::vector<std::vector<double>> Lc(n, std::vector<double>(d * d, 0.0));
  int64_t N = 0;
  for (int c = 0; c < n; ++c) N += p->client_host[c].nrows;
  for (int c = 0; c < n; ++c) {
    const DcHostProblem& h = p->client_host[c];
    for (int64_t j = 0; j < h.nrows; ++j) {
      std::vector<double> a(d, 0.0);
      for (int64_t q = h.rowptr[j]; q < h.rowptr[j + 1]; ++q) a[h.colidx[q]] = h.val[q];
      for (int k = 0; k < d; ++k)
        for (int l = 0; l < d; ++l) {
          Lc[c][k * d + l] += a[k] * a[l] / (4.0 * h.nrows);
          Lwhole[k * d + l] += a[k] * a[l] / (4.0 * N);
        }
    }
    for (int k = 0; k < d; ++k) Lc[c][k * d + k] += 0.01;
    for (int e = 0; e < d * d; ++e) Lbar[e] += Lc[c][e] / n;
  }
  for (int k = 0; k < d; ++k) w[k] = 1.0 / (Lwhole[k * d + k] + 0.01);
  auto weighted = [&](const std::vector<double>& A) {
    std::vector<double> B(d * d);
    for (int k = 0; k < d; ++k)
      for (int l = 0; l < d; ++l) B[k * d + l] = std::sqrt(w[k] * w[l]) * A[k * d + l];
    return power_lmax(B, d);
  };
  const double omega = 0.125, pr = 9.0 / 32.0, a = weighted(Lbar);
  double sq = 0;
  for (int c = 0; c < n; ++c) sq += std::pow(weighted(Lc[c]), 2) / n;
  const double b = (1 - pr) * omega / (pr * n) * sq, gamma = 2 / (a + std::sqrt(a * a + 4 * b));
  detcgd_problem_destroy(&p);
  const int K = 600;
  RunResult r = run(lr, {{"method", "det-marina"}, {"sketch", "natural"}, {"iters", std::to_string(K)}, {"trace-every", "1"},
                         {"optimum", "solve"}}, "det_marina");
  ASSERT_EQ(r.status, DETCGD_OK) << detcgd_last_error();
  EXPECT_NEAR(summary_number(r.summary, "a"), a, 1e-9 * a);
  EXPECT_NEAR(summary_number(r.summary, "b"), b, 1e-9 * b);
  EXPECT_NEAR(summary_number(r.summary, "step"), gamma, 1e-9 * gamma);
  EXPECT_NEAR(summary_number(r.summary, "condition"), 1.0, 1e-12) << "gamma a + gamma^2 b";
  double gkd = 0;
  for (int k = 0; k < K; ++k) gkd += r.rows[k][12] / K;  // grad_norm2_Dhat, then dist2
  EXPECT_LE(gkd, summary_number(r.summary, "bound_G_KD")) << "G_{K,D} <= 2 Delta^0 / (det(D)^{1/d} K)";
  EXPECT_GT(gkd, 1e-3 * summary_number(r.summary, "bound_G_KD")) << "not vacuous";
}

TEST(DiagonalProx, L1BoxAndBallInTheDInverseNormMatchTheirClosedForms) {
  // argmin_x R(x) + (1/2) ||x - y||^2_{D^{-1}} for a diagonal D with spread entries: l1 per coordinate
  // soft(y_j, D_jj lambda_1); box the clip; ball x = (I + nu D)^{-1} y with ||x|| = r, nu found here by bisection,
  // and no point of the ball (random ones, and x's own neighbours on the sphere) closer to y in the D^{-1}-norm
  DcBackend be;
  ASSERT_EQ(dc_backend_open(&be, DETCGD_BACKEND_CPU), DETCGD_OK);
  DcLayout lay;
  const int sizes[2] = {5, 5};
  ASSERT_EQ(dc_layout_init(&lay, 2, sizes), DETCGD_OK) << detcgd_last_error();
  const int64_t d = lay.dim;
  DcHostBlocks H = {};
  ASSERT_EQ(dc_blocks_alloc(&H, &lay, DC_BLOCKS_DIAG), DETCGD_OK);
  std::vector<double> y(d);
  for (int64_t j = 0; j < d; ++j) {
    H.data[j] = 0.05 * std::pow(3.0, (double)(j % 5));  // 0.05 .. 4.05
    y[j] = std::sin(1.7 * j + 0.3) * (1.0 + j % 3);
  }
  DcBlocks* D = nullptr;
  ASSERT_EQ(be.ops->blocks_create(&be, &H, &D), DETCGD_OK);
  auto prox = [&](const Options& o) {
    DcProx p;
    DcVec* x = nullptr;
    std::vector<double> out(d);
    const DetcgdSettings s = settings_with(o);
    EXPECT_EQ(dc_prox_open_diagonal(&p, &be, &s, D, &lay, H.data), DETCGD_OK) << detcgd_last_error();
    EXPECT_EQ(be.ops->vec_create(&be, d, &x), DETCGD_OK);
    EXPECT_EQ(be.ops->vec_upload(&be, x, y.data()), DETCGD_OK);
    EXPECT_EQ(dc_prox_apply(&p, &be, 123.0, x), DETCGD_OK);  // the scalar t is not read
    EXPECT_EQ(be.ops->vec_download(&be, x, out.data()), DETCGD_OK);
    be.ops->vec_destroy(&be, &x);
    dc_prox_close(&p, &be);
    return out;
  };
  const double lam = 0.3, box = 0.7;
  std::vector<double> l1 = prox({{"prox", "l1"}, {"prox-weight", number(lam)}}),
                      clip = prox({{"prox", "box"}, {"prox-radius", number(box)}});
  for (int64_t j = 0; j < d; ++j) {
    const double t = lam * H.data[j], want = y[j] > t ? y[j] - t : y[j] < -t ? y[j] + t : 0.0;
    EXPECT_NEAR(l1[j], want, 1e-15 * (1 + std::fabs(y[j]))) << j;
    EXPECT_EQ(clip[j], std::max(-box, std::min(box, y[j]))) << j;
  }
  double ny = 0;
  for (double v : y) ny += v * v;
  const double r = 0.4 * std::sqrt(ny);
  std::vector<double> ball = prox({{"prox", "ball"}, {"prox-radius", number(r)}});
  auto phi = [&](double nu) {
    double s = 0;
    for (int64_t j = 0; j < d; ++j) s += y[j] * y[j] / std::pow(1 + nu * H.data[j], 2);
    return s;
  };
  double lo = 0, hi = 1;
  while (phi(hi) > r * r) hi *= 2;
  for (int it = 0; it < 200; ++it) (phi(0.5 * (lo + hi)) > r * r ? lo : hi) = 0.5 * (lo + hi);
  double nx = 0;
  for (int64_t j = 0; j < d; ++j) {
    EXPECT_NEAR(ball[j], y[j] / (1 + lo * H.data[j]), 1e-12 * std::sqrt(ny)) << j;
    nx += ball[j] * ball[j];
  }
  EXPECT_NEAR(std::sqrt(nx), r, 1e-12 * r);
  auto dist_dinv = [&](const std::vector<double>& x) {
    double s = 0;
    for (int64_t j = 0; j < d; ++j) s += (x[j] - y[j]) * (x[j] - y[j]) / H.data[j];
    return s;
  };
  const double best = dist_dinv(ball);
  uint64_t u = 12345;
  for (int t = 0; t < 2000; ++t) {  // random points of the ball, scaled to the sphere half the time
    std::vector<double> z(d);
    double nz = 0;
    for (int64_t j = 0; j < d; ++j) {
      u = u * 6364136223846793005ull + 1442695040888963407ull;
      z[j] = t % 2 ? ball[j] + 0.05 * r * ((double)(u >> 11) / 9007199254740992.0 - 0.5) : (double)(u >> 11) / 9007199254740992.0 - 0.5;
      nz += z[j] * z[j];
    }
    for (auto& v : z) v *= r / std::sqrt(nz) * (t % 4 == 0 ? 0.5 : 1.0);
    EXPECT_GE(dist_dinv(z), best * (1 - 1e-12));
  }
  std::vector<double> inside = y;
  for (auto& v : inside) v *= 0.1;  // inside the ball: unchanged
  y.swap(inside);
  std::vector<double> same = prox({{"prox", "ball"}, {"prox-radius", number(r)}});
  for (int64_t j = 0; j < d; ++j) EXPECT_EQ(same[j], y[j]);
  be.ops->blocks_destroy(&be, &D);
  dc_blocks_free(&H);
  dc_layout_free(&lay);
  dc_backend_close(&be);
}

TEST(DiagonalProx, DetMarinaWithTheIdentityReachesTheProxProblemsOptimum) {
  // the identity compressor: x+ = prox^{D^{-1}}(x - D grad f(x)), a fixed point exactly at x* of f + R (the prox
  // metric changes the path, not the solution), x* from optimum solve (accelerated Euclidean prox-GD); 64-bit values,
  // since 32-bit ones would round every message
  const Options lr = {{"samples", "150"}, {"features", "6"}, {"lambda", "0"}, {"l2", "0.05"}, {"clients", "3"}};
  for (const Options& prox : {Options{{"prox", "l1"}, {"prox-weight", "0.02"}}, Options{{"prox", "ball"}, {"prox-radius", "0.3"}}}) {
    Options o = {{"method", "det-marina"}, {"sketch", "identity"}, {"value-bits", "64"}, {"iters", "3000"}, {"trace-every", "2999"},
                 {"optimum", "solve"}};
    o.insert(o.end(), prox.begin(), prox.end());
    RunResult r = run(lr, o, "det_marina_prox_" + prox[0].second);
    ASSERT_EQ(r.status, DETCGD_OK) << detcgd_last_error();
    EXPECT_NE(r.summary.find("in the D^-1-norm"), std::string::npos);
    EXPECT_GT(r.rows.front()[13], 1e-3) << prox[0].second << ": x^0 is not x*";
    EXPECT_LT(r.rows.back()[13], 1e-20) << prox[0].second << ": ||x^K - x*||^2";  // dist2, after grad_norm2_Dhat
  }
}
