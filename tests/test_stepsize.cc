// Stepsizes: every built D satisfies its condition, Theorem 2 / (12) factors
// equal the closed forms of the paper's Table 1 where those are exact, and the
// user-given D is checked.
#include <cmath>
#include "test_util.h"
extern "C" {
#include "linalg.h"
#include "compressor.h"
#include "stepsize.h"
}

namespace {

struct Blocks {  // the smoothness blocks of a problem, through the public API
  std::vector<std::vector<double>> L;
  std::vector<int> d;
  int dim = 0;
  explicit Blocks(DetcgdProblem* p) {
    DetcgdProblemInfo info;
    detcgd_problem_info(p, &info);
    for (int i = 0; i < info.nlayers; ++i) {
      int m = detcgd_problem_layer_size(p, i);
      d.push_back(m);
      dim += m;
      L.emplace_back(m * m);
      detcgd_problem_smoothness_block(p, i, L.back().data());
    }
  }
};

double logdet(const std::vector<double>& A, int m) {
  double v;
  EXPECT_EQ(dc_chol_logdet(A.data(), m, &v), DETCGD_OK);
  return v;
}
double lmax(const std::vector<double>& A, int m) {
  double v;
  EXPECT_EQ(dc_lambda_max(A.data(), m, &v), DETCGD_OK);
  return v;
}
std::vector<double> power(const std::vector<double>& A, int m, double p) {
  std::vector<double> out(m * m);
  EXPECT_EQ(dc_sym_power(A.data(), m, p, out.data()), DETCGD_OK);
  return out;
}

DetcgdTheory theory(DetcgdProblem* p, const char* method, const char* sketch, const char* step,
                    const char* weight = "diag-inv", int k = 1, double q = 0.5) {
  DetcgdSettings s = quiet_settings();
  EXPECT_EQ(detcgd_settings_set(&s, "method", method), DETCGD_OK);
  EXPECT_EQ(detcgd_settings_set(&s, "sketch", sketch), DETCGD_OK);
  EXPECT_EQ(detcgd_settings_set(&s, "stepsize", step), DETCGD_OK);
  EXPECT_EQ(detcgd_settings_set(&s, "weight", weight), DETCGD_OK);
  s.sketch.k = k;
  s.sketch.q = q;
  DetcgdTheory t{};
  EXPECT_EQ(detcgd_theory(p, &s, &t), DETCGD_OK) << detcgd_last_error();
  return t;
}

void expect_rel(double got, double want, const char* what) {
  EXPECT_NEAR(got, want, 1e-9 * std::fabs(want)) << what;
}

}  // namespace

class Table1 : public testing::Test {
 protected:
  void SetUp() override { p = make_quad("5,8,3", 0.1, 0.4); }
  void TearDown() override { detcgd_problem_destroy(&p); }
  DetcgdProblem* p = nullptr;
};

TEST_F(Table1, ExactRowsForGeneralBlocks) {
  Blocks B(p);
  const int l = (int)B.d.size(), d = B.dim;
  double sum_logdet = 0, row3 = 0, row4 = 0, row5 = 0, row6 = 0, row10 = 0, row13 = 0;
  for (int i = 0; i < l; ++i) {
    int m = B.d[i];
    const auto& L = B.L[i];
    std::vector<double> dinv(m * m, 0.0);
    double maxjj = 0, logdiag = 0;
    for (int j = 0; j < m; ++j) {
      maxjj = std::max(maxjj, L[j + j * m]);
      logdiag += std::log(L[j + j * m]);
    }
    std::vector<double> Linv = power(L, m, -1.0), Lh = power(L, m, 0.5), M(m * m), T(m * m);
    for (int j = 0; j < m; ++j) dinv[j + j * m] = Linv[j + j * m];  // diag(L^{-1})
    dc_matmul(Lh.data(), dinv.data(), m, T.data());
    dc_matmul(T.data(), Lh.data(), m, M.data());  // L^{1/2} diag(L^{-1}) L^{1/2}
    sum_logdet += logdet(L, m);
    row3 += m * std::log(lmax(L, m));
    row4 += m * std::log(m * maxjj);
    row5 += m * std::log(m * lmax(M, m)) + logdet(L, m);
    row6 += m * std::log(m * lmax(Lh, m)) + 0.5 * logdet(L, m);
    row10 += m * std::log(double(m)) + logdiag;
    row13 = std::max(row13, lmax(L, m));
  }
  // det(D)^{-1/d} = exp(sum_i log(...) / d)
  expect_rel(theory(p, "det-cgd1", "identity", "thm2", "inv").det_factor, std::exp(sum_logdet / d), "row 1");
  expect_rel(theory(p, "det-cgd1", "identity", "thm2", "identity").det_factor, std::exp(row3 / d), "row 3");
  expect_rel(theory(p, "det-cgd1", "rand-1", "thm2", "identity").det_factor, std::exp(row4 / d), "row 4");
  expect_rel(theory(p, "det-cgd1", "rand-1", "thm2", "inv").det_factor, std::exp(row5 / d), "row 5");
  expect_rel(theory(p, "det-cgd1", "rand-1", "thm2", "inv-sqrt").det_factor, std::exp(row6 / d), "row 6");
  expect_rel(theory(p, "det-cgd1", "rand-1", "thm2", "diag-inv").det_factor, std::exp(row10 / d), "row 7");
  expect_rel(theory(p, "det-cgd2", "identity", "det2-opt").det_factor, std::exp(sum_logdet / d), "row 9");
  expect_rel(theory(p, "det-cgd2", "rand-1", "det2-opt").det_factor, std::exp(row10 / d), "row 10");
  expect_rel(theory(p, "gd", "identity", "gd").det_factor, row13, "row 13");
  EXPECT_EQ(theory(p, "det-cgd2", "rand-1", "det2-opt").coords_per_iter, l);
  EXPECT_EQ(theory(p, "gd", "identity", "gd").coords_per_iter, d);
}

TEST_F(Table1, RandKAndBernQRowsOfDetCgd2) {
  Blocks B(p);
  const int d = B.dim, k = 2;
  const double q = 0.3;
  double row11 = 0, row12 = 0;
  for (size_t i = 0; i < B.d.size(); ++i) {
    int m = B.d[i];
    std::vector<double> Lt(m * m);  // L~ = ((m-k)/(m-1)) diag(L) + ((k-1)/(m-1)) L
    for (int c = 0; c < m; ++c)
      for (int r = 0; r < m; ++r)
        Lt[r + c * m] = (r == c ? double(m - k) / (m - 1) : 0.0) * B.L[i][r + c * m] +
                        double(k - 1) / (m - 1) * B.L[i][r + c * m];
    row11 += m * std::log(double(m) / k) + logdet(Lt, m);
    row12 += m * std::log(1 / q) + logdet(B.L[i], m);
  }
  DetcgdTheory t11 = theory(p, "det-cgd2", "rand-k", "det2-opt", "diag-inv", k);
  expect_rel(t11.det_factor, std::exp(row11 / d), "row 11");
  EXPECT_EQ(t11.coords_per_iter, 3 * k);
  DetcgdTheory t12 = theory(p, "det-cgd2", "bern-q", "det2-opt", "diag-inv", 1, q);
  expect_rel(t12.det_factor, std::exp(row12 / d), "row 12");
  expect_rel(t12.coords_per_iter, q * d, "row 12 coordinates");
  // "compression for free": Bern-q's communication factor equals uncompressed det-CGD2's times q^(1-1) = 1
  expect_rel(t12.comm_factor, theory(p, "det-cgd2", "identity", "det2-opt").comm_factor, "row 12 vs row 9");
}

TEST(Table1Diagonal, Rows2And8AreExactForDiagonalL) {
  DetcgdProblem* p = make_quad("6,4", 0.1, 1.0);  // diag_dominance 1: every L_i is diagonal
  Blocks B(p);
  double logdiag = 0, row8 = 0;
  const int k = 3;
  for (size_t i = 0; i < B.d.size(); ++i)
    for (int j = 0; j < B.d[i]; ++j) {
      logdiag += std::log(B.L[i][j + j * B.d[i]]);
      row8 += std::log(double(B.d[i]) / k);
    }
  expect_rel(theory(p, "det-cgd1", "identity", "thm2", "diag-inv").det_factor, std::exp(logdiag / B.dim), "row 2");
  expect_rel(theory(p, "det-cgd1", "rand-k", "thm2", "diag-inv", k).det_factor, std::exp((row8 + logdiag) / B.dim),
             "row 8");
  detcgd_problem_destroy(&p);
}

TEST(Table1General, Row8IsALowerBoundForGeneralL) {
  DetcgdProblem* p = make_quad("6,4", 0.1, 0.3);
  Blocks B(p);
  double logdiag = 0, row8 = 0;
  const int k = 3;
  for (size_t i = 0; i < B.d.size(); ++i)
    for (int j = 0; j < B.d[i]; ++j) {
      logdiag += std::log(B.L[i][j + j * B.d[i]]);
      row8 += std::log(double(B.d[i]) / k);
    }
  EXPECT_GE(theory(p, "det-cgd1", "rand-k", "thm2", "diag-inv", k).det_factor,
            std::exp((row8 + logdiag) / B.dim) * (1 - 1e-12));
  detcgd_problem_destroy(&p);
}

// stepsize table1, Table 1 row 8's D = (k/d) diag^{-1}(L): Theorem 2's D for rand-1 (certificate 1); for k > 1
// the row's closed-form det factor, and (one layer: D_table1 = c D_thm2) the certificate c > 1 of a D that
// fails (7).  Sketches other than rand-k are refused, naming the stepsize.
TEST(Table1General, Row8StepIsTheoremTwoForRandOneAndFailsConditionSevenForLargerK) {
  DetcgdProblem* p = make_quad("8", 0.1, 0.3);
  Blocks B(p);
  const int k = 3, m = B.d[0];
  double logdiag = 0;
  for (int j = 0; j < m; ++j) logdiag += std::log(B.L[0][j + j * m]);
  DetcgdTheory one = theory(p, "det-cgd1", "rand-1", "table1");
  expect_rel(one.certificate, 1.0, "rand-1 certificate");
  expect_rel(one.det_factor, theory(p, "det-cgd1", "rand-1", "thm2", "diag-inv").det_factor, "rand-1 = Theorem 2");
  DetcgdTheory t = theory(p, "det-cgd1", "rand-k", "table1", "diag-inv", k);
  DetcgdTheory thm2 = theory(p, "det-cgd1", "rand-k", "thm2", "diag-inv", k);
  expect_rel(t.det_factor, std::exp(std::log(double(m) / k) + logdiag / m), "row 8's det factor");
  expect_rel(t.certificate, thm2.det_factor / t.det_factor, "certificate = (k/d) / Theorem 2's gamma");
  EXPECT_GT(t.certificate, 1.0 + 1e-6);
  DetcgdSettings s = quiet_settings();
  ASSERT_EQ(detcgd_settings_set(&s, "sketch", "bernoulli"), DETCGD_OK);
  ASSERT_EQ(detcgd_settings_set(&s, "stepsize", "table1"), DETCGD_OK);
  DetcgdTheory out{};
  EXPECT_EQ(detcgd_theory(p, &s, &out), DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("table1 is Table 1 row 8's gamma = k/d for rand-k"), std::string::npos)
      << detcgd_last_error();
  detcgd_problem_destroy(&p);
}

// Every (method, sketch, stepsize) the library builds satisfies its condition.
TEST(Certificates, EveryBuiltStepsizeIsFeasible) {
  DetcgdProblem* p = make_quad("5,8,1,3", 0.1, 0.4);
  const char* sketches[] = {"identity", "rand-k", "rand-1", "importance-1", "bernoulli", "bern-q"};
  const char* weights[] = {"identity", "diag-inv", "inv", "inv-sqrt"};
  int checked = 0;
  for (const char* sk : sketches) {
    for (const char* st : {"cgd", "cgd-mat"})
      for (const char* m : {"det-cgd1", "det-cgd2"}) {
        EXPECT_LE(theory(p, m, sk, st, "diag-inv", 1, 0.4).certificate, 1 + 1e-9) << m << " " << sk << " " << st;
        ++checked;
      }
    for (const char* w : weights) {
      EXPECT_LE(theory(p, "det-cgd1", sk, "thm2", w, 1, 0.4).certificate, 1 + 1e-9) << sk << " " << w;
      ++checked;
    }
    EXPECT_LE(theory(p, "det-cgd2", sk, "det2-opt", "diag-inv", 1, 0.4).certificate, 1 + 1e-9) << sk;
    ++checked;
  }
  EXPECT_LE(theory(p, "gd", "identity", "gd").certificate, 1 + 1e-9);
  EXPECT_EQ(checked, 6 * 9);
  detcgd_problem_destroy(&p);
}

TEST(Certificates, Det2OptimumIsRefusedForDetCgd1WhenInfeasible) {
  // For rand-1 on a dense L, (E[TLT])^{-1} = diag^{-1}(L)/m commutes with S, so it is feasible for
  // det-CGD1 too; for rand-k with k > 1 it is not in general.  The library must check (7).
  DetcgdProblem* p = make_quad("8", 0.05, 0.0);
  DetcgdSettings s = quiet_settings();
  s.method = DETCGD_METHOD_DET1;
  s.sketch.kind = DETCGD_SKETCH_RANDK;
  s.sketch.k = 4;
  s.stepsize.kind = DETCGD_STEP_DET2_OPT;
  DetcgdTheory t;
  ASSERT_EQ(detcgd_theory(p, &s, &t), DETCGD_OK);
  ASSERT_GT(t.certificate, 1.0) << "this dense block should make the det-CGD2 optimum infeasible for det-CGD1";
  DetcgdSolver* solver = nullptr;
  EXPECT_EQ(detcgd_create(&solver, p, &s), DETCGD_ERR_CERT);
  EXPECT_NE(std::string(detcgd_last_error()).find("condition (7)"), std::string::npos) << detcgd_last_error();
  detcgd_destroy(&solver);
  detcgd_problem_destroy(&p);
}

TEST(UserStepsize, DiagonalFileIsCheckedAndForced) {
  DetcgdProblem* p = make_quad("3,2", 0.1, 1.0);
  Blocks B(p);
  std::string path = temp_path("D.txt");
  // D = diag(L)^{-1}: feasible for GD-like condition (7) with S = I (certificate 1)
  std::string text;
  for (size_t i = 0; i < B.d.size(); ++i)
    for (int j = 0; j < B.d[i]; ++j) text += std::to_string(1.0 / B.L[i][j + j * B.d[i]]) + (j % 2 ? "\n" : " ");
  write_file(path, text);
  DetcgdSettings s = quiet_settings();
  s.method = DETCGD_METHOD_DET1;
  s.sketch.kind = DETCGD_SKETCH_IDENTITY;
  s.stepsize.kind = DETCGD_STEP_USER;
  snprintf(s.stepsize.file, sizeof s.stepsize.file, "%s", path.c_str());
  DetcgdTheory t;
  ASSERT_EQ(detcgd_theory(p, &s, &t), DETCGD_OK) << detcgd_last_error();
  EXPECT_NEAR(t.certificate, 1.0, 1e-5);
  s.stepsize.scale = 0.5;
  DetcgdSolver* solver = nullptr;
  EXPECT_EQ(detcgd_create(&solver, p, &s), DETCGD_OK) << detcgd_last_error();
  detcgd_destroy(&solver);
  s.stepsize.scale = 3.0;  // certificate 3: refused unless forced
  EXPECT_EQ(detcgd_create(&solver, p, &s), DETCGD_ERR_CERT);
  s.stepsize.force = 1;
  ASSERT_EQ(detcgd_create(&solver, p, &s), DETCGD_OK);
  DetcgdResult r;
  detcgd_get_result(solver, &r);
  EXPECT_NEAR(r.certificate, 3.0, 1e-4);
  detcgd_destroy(&solver);
  write_file(path, "1 2 3\n");  // wrong count
  s.stepsize.force = 0;
  EXPECT_EQ(detcgd_create(&solver, p, &s), DETCGD_ERR_PARSE);
  EXPECT_NE(std::string(detcgd_last_error()).find("expected d = 5"), std::string::npos) << detcgd_last_error();
  write_file(path, "1 2 -3 4 5\n");  // not positive definite
  EXPECT_EQ(detcgd_create(&solver, p, &s), DETCGD_ERR_NUMERIC);
  write_file(path, "1 2 x 4 5\n");
  EXPECT_EQ(detcgd_create(&solver, p, &s), DETCGD_ERR_PARSE);
  detcgd_problem_destroy(&p);
}

// stepsize-precision fp32: every entry of D is a float within a few float ulps of the double D, the
// certificate and log det reported are those of the rounded D, and a condition that holds in double
// (det2-opt: certificate exactly 1) still holds after rounding.
TEST(Fp32Stepsize, RoundedDKeepsItsConditionAndReportsItsOwnCertificate) {
  DetcgdProblem* p = make_quad("5,40,64", 0.1, 0.3);
  struct Case { int method, sketch, stepsize; };
  for (Case c : {Case{DETCGD_METHOD_DET2, DETCGD_SKETCH_BERNQ, DETCGD_STEP_DET2_OPT},
                 Case{DETCGD_METHOD_DET2, DETCGD_SKETCH_RANDK, DETCGD_STEP_DET2_OPT},
                 Case{DETCGD_METHOD_DET1, DETCGD_SKETCH_RANDK, DETCGD_STEP_THM2}}) {
    DetcgdSettings s = quiet_settings();
    s.method = c.method;
    s.sketch.kind = c.sketch;
    s.sketch.k = 3;
    s.stepsize.kind = c.stepsize;
    s.stepsize.weight = DETCGD_W_INV_SQRT;
    DcSketchSpec sp;
    ASSERT_EQ(dc_sketch_spec_build(&sp, &s.sketch, &s.comm, p), DETCGD_OK);
    DcStepsize d64, d32;
    ASSERT_EQ(dc_stepsize_build(&d64, p, &s, &sp, nullptr, nullptr, nullptr), DETCGD_OK) << detcgd_last_error();
    s.stepsize.precision = DETCGD_PREC_FP32;
    ASSERT_EQ(dc_stepsize_build(&d32, p, &s, &sp, nullptr, nullptr, nullptr), DETCGD_OK) << detcgd_last_error();
    ASSERT_EQ(d32.D.kind, DC_BLOCKS_DENSE);
    ASSERT_EQ(d32.D.kind, d64.D.kind);
    EXPECT_EQ(d32.D.store32, 1);
    for (int64_t e = 0; e < dc_blocks_count(&d32.D); ++e) {
      ASSERT_EQ((double)(float)d32.D.data[e], d32.D.data[e]) << "entry " << e;
      ASSERT_NEAR(d32.D.data[e], d64.D.data[e], 1e-6 * std::fabs(d64.D.data[e])) << "entry " << e;
    }
    double cert, logdet;
    ASSERT_EQ(c.method == DETCGD_METHOD_DET2 ? dc_certificate_det2(p, &sp, &d32.D, &cert)
                                             : dc_certificate_det1(p, &sp, &d32.D, &cert), DETCGD_OK);
    ASSERT_EQ(dc_log_det(&d32.D, &logdet), DETCGD_OK);
    EXPECT_EQ(d32.certificate, cert);
    EXPECT_EQ(d32.log_det, logdet);
    EXPECT_LE(d32.certificate, 1.0);
    EXPECT_NEAR(d32.certificate, d64.certificate, 1e-5);
    EXPECT_NEAR(d32.det_factor, d64.det_factor, 1e-5 * d64.det_factor);
    dc_stepsize_free(&d64);
    dc_stepsize_free(&d32);
    dc_sketch_spec_free(&sp);
  }
  detcgd_problem_destroy(&p);
}

// Rounding is block by block: a block whose condition (8) survives rounding to the nearest floats keeps
// exactly those floats; only a block that rounding pushed over 1 is scaled down (and then holds).  D is
// the det2-opt optimum (certificate 1: rounding breaks it) on even blocks and half of it (0.5) on odd ones.
static double det2_block_certificate(const DetcgdProblem* p, const DcSketchSpec* sp, int i, const double* Di) {
  const int m = p->layout.size[i];
  std::vector<double> L(m * m), M(m * m), Dinv(m * m);
  double lm = 0;
  dc_problem_L_get(p, i, L.data());
  dc_sketch_second_moment(sp, i, L.data(), M.data());  // E[T L_i T]
  EXPECT_EQ(dc_spd_inverse(Di, m, Dinv.data()), DETCGD_OK);
  EXPECT_EQ(dc_gen_lambda_max(M.data(), Dinv.data(), m, &lm), DETCGD_OK);
  return lm;  // lambda_max(D_i^{1/2} E[T L_i T] D_i^{1/2})
}

// A block whose E[T L T] is not positive definite is named (the CUDA setup names it alike, test_backend_ops).
TEST(Stepsize, Det2OptNamesABlockThatIsNotPositiveDefinite) {
  DetcgdSettings s;
  DetcgdProblem* p = quad_with_indefinite_block(&s);
  DcSketchSpec sp;
  ASSERT_EQ(dc_sketch_spec_build(&sp, &s.sketch, &s.comm, p), DETCGD_OK);
  DcStepsize st;
  EXPECT_EQ(dc_stepsize_build(&st, p, &s, &sp, nullptr, nullptr, nullptr), DETCGD_ERR_NUMERIC);
  EXPECT_STREQ(detcgd_last_error(), "stepsize: E[T L T] of block 2 is not positive definite");
  dc_sketch_spec_free(&sp);
  detcgd_problem_destroy(&p);
}

TEST(Fp32Stepsize, OnlyBlocksThatRoundingBreaksAreScaledDown) {
  DetcgdProblem* p = make_quad("40x16", 0.1, 0.3);
  DetcgdSettings s = quiet_settings();
  s.method = DETCGD_METHOD_DET2;
  s.sketch.kind = DETCGD_SKETCH_RANDK;
  s.sketch.k = 4;
  s.stepsize.kind = DETCGD_STEP_DET2_OPT;
  DcSketchSpec sp;
  ASSERT_EQ(dc_sketch_spec_build(&sp, &s.sketch, &s.comm, p), DETCGD_OK);
  DcStepsize opt, d32;
  ASSERT_EQ(dc_stepsize_build(&opt, p, &s, &sp, nullptr, nullptr, nullptr), DETCGD_OK) << detcgd_last_error();
  std::vector<double> d64(opt.D.data, opt.D.data + dc_blocks_count(&opt.D));
  std::string text;
  char num[40];
  for (int i = 0; i < p->layout.nblocks; ++i)
    for (int64_t e = p->layout.moff[i]; e < p->layout.moff[i + 1]; ++e) {
      if (i % 2) d64[e] *= 0.5;
      snprintf(num, sizeof num, "%.17g\n", d64[e]);
      text += num;
    }
  const std::string path = temp_path("D_half.txt");
  write_file(path, text);
  s.stepsize.kind = DETCGD_STEP_USER;
  snprintf(s.stepsize.file, sizeof s.stepsize.file, "%s", path.c_str());
  s.stepsize.precision = DETCGD_PREC_FP32;
  ASSERT_EQ(dc_stepsize_build(&d32, p, &s, &sp, nullptr, nullptr, nullptr), DETCGD_OK) << detcgd_last_error();
  int kept = 0, scaled = 0;
  double largest = 0;
  for (int i = 0; i < p->layout.nblocks; ++i) {
    const int64_t o = p->layout.moff[i], mm = p->layout.moff[i + 1] - o;
    std::vector<double> nearest(d64.begin() + o, d64.begin() + o + mm);
    for (double& v : nearest) v = (float)v;
    const double* got = d32.D.data + o;
    const double cert = det2_block_certificate(p, &sp, i, got);
    EXPECT_LE(cert, 1.0) << "block " << i;
    largest = std::max(largest, cert);
    if (det2_block_certificate(p, &sp, i, nearest.data()) <= 1.0) {
      ++kept;
      for (int64_t e = 0; e < mm; ++e) ASSERT_EQ(got[e], nearest[e]) << "block " << i << " entry " << e;
    } else {
      ++scaled;
      for (int64_t e = 0; e < mm; ++e) {
        ASSERT_EQ((double)(float)got[e], got[e]);
        ASSERT_LE(std::fabs(got[e]), std::fabs(nearest[e])) << "block " << i << " entry " << e;
        ASSERT_NEAR(got[e], nearest[e], 1e-6 * std::fabs(nearest[e])) << "block " << i << " entry " << e;
      }
    }
  }
  EXPECT_GE(kept, p->layout.nblocks / 2);  // every odd block, at 0.5
  EXPECT_GT(scaled, 0);
  EXPECT_EQ(d32.certificate, largest);
  dc_stepsize_free(&opt);
  dc_stepsize_free(&d32);
  dc_sketch_spec_free(&sp);
  detcgd_problem_destroy(&p);
}

TEST(Fp32Stepsize, EntriesOutsideTheFloatRangeAreRefused) {
  DetcgdProblem* p = make_quad("3,2", 0.1, 1.0);
  DetcgdSettings s = quiet_settings();
  s.method = DETCGD_METHOD_DET2;
  s.stepsize.scale = 1e-45;  // every entry of D underflows float
  s.stepsize.precision = DETCGD_PREC_FP32;
  DetcgdSolver* solver = nullptr;
  EXPECT_EQ(detcgd_create(&solver, p, &s), DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("stepsize-precision"), std::string::npos) << detcgd_last_error();
  detcgd_problem_destroy(&p);
}

// Per-block setup on every core: every block runs once, values land at their block, and of several
// failing blocks the first one's status and message are returned.
static int fail_at_37_and_900(void* ctx, int i, double** w, double* value) {
  (void)ctx;
  w[0][0] = i;  // the scratch is this thread's own
  *value = w[0][0] * 2;
  if (i == 37 || i == 900) return dc_fail(DETCGD_ERR_NUMERIC, "block %d failed", i);
  return DETCGD_OK;
}

TEST(ForEachBlock, ValuesLandAtTheirBlockAndTheFirstFailureIsReported) {
  std::vector<double> v(1000, -1.0);
  EXPECT_EQ(dc_for_each_block(1000, 4, 1, fail_at_37_and_900, nullptr, v.data()), DETCGD_ERR_NUMERIC);
  EXPECT_STREQ(detcgd_last_error(), "block 37 failed");
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(v[i], 2.0 * i) << i;
  EXPECT_EQ(dc_max_of(v.data(), 1000), 1998.0);
  EXPECT_EQ(dc_sum_of(v.data(), 1000), 999.0 * 1000.0);
  EXPECT_EQ(dc_for_each_block(0, 4, 1, fail_at_37_and_900, nullptr, nullptr), DETCGD_OK);
}
