// Philox known answers, closed-form sketch moments against exact enumeration,
// Monte Carlo moments against the closed forms, and sampling statistics.
#include <algorithm>
#include <cmath>
#include <set>
#include "test_util.h"
extern "C" {
#include "backend.h"
#include "philox.h"
#include "problem.h"
#include "compressor.h"
}

TEST(Philox, KnownAnswersRandom123) {
  struct Kat { uint32_t ctr[4], key[2], out[4]; };
  const Kat kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}}};
  for (const Kat& k : kats) {
    DcPhiloxOut r = dc_philox4x32_10(k.ctr, k.key);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(r.v[i], k.out[i]);
  }
}

TEST(Philox, KeyingIsSeedSlotLayerClientIteration) {
  DcPhiloxOut a = dc_philox_draw(0x1122334455667788ull, 9, 8, 7, 6);
  uint32_t ctr[4] = {6, 7, 8, 9}, key[2] = {0x55667788u, 0x11223344u};
  DcPhiloxOut b = dc_philox4x32_10(ctr, key);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(a.v[i], b.v[i]);
}

// ---- exact enumeration of E[S A S] ----

static std::vector<double> random_sym(int m, unsigned seed) {
  std::vector<double> A(m * m);
  for (int c = 0; c < m; ++c)
    for (int r = 0; r <= c; ++r) {
      double v = std::sin(1.0 + seed * 31 + r * 7 + c * 13);
      A[r + c * m] = A[c + r * m] = v + (r == c ? 3.0 : 0.0);
    }
  return A;
}

// Adds prob * S A S for S = Diag(s) into E.
static void add_outcome(std::vector<double>& E, const std::vector<double>& A, const std::vector<double>& s,
                        double prob) {
  int m = (int)s.size();
  for (int c = 0; c < m; ++c)
    for (int r = 0; r < m; ++r) E[r + c * m] += prob * s[r] * s[c] * A[r + c * m];
}

struct OneLayer {
  DcLayout lay{};
  DcSketchSpec spec{};
  explicit OneLayer(int m, int kind, int k = 1, double prob = 1.0, const std::vector<double>& p = {}) {
    EXPECT_EQ(dc_layout_init(&lay, 1, &m), DETCGD_OK);
    spec.kind = kind;
    spec.layout = &lay;
    spec.layers = (DcSketchLayer*)calloc(1, sizeof(DcSketchLayer));
    spec.cap_off = (int64_t*)calloc(2, sizeof(int64_t));
    spec.layers[0] = {kind, m, k, prob, 0};
    if (!p.empty()) {
      spec.aux_len = 2 * m;
      spec.aux = (double*)calloc(2 * m, sizeof(double));
      double acc = 0;
      for (int j = 0; j < m; ++j) { spec.aux[j] = p[j]; acc += p[j]; spec.aux[m + j] = acc; }
      spec.aux[2 * m - 1] = 1.0;
    }
    spec.cap_off[1] = dc_sketch_layer_capacity(&spec.layers[0]);
    spec.value_bits = 32;
  }
  ~OneLayer() { dc_sketch_spec_free(&spec); dc_layout_free(&lay); }
};

static void expect_matrix_near(const std::vector<double>& a, const double* b, double tol) {
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], tol * (1 + std::fabs(a[i]))) << "entry " << i;
}

TEST(SketchMoments, RandKEqualsEnumeration) {
  for (int m = 1; m <= 5; ++m)
    for (int k = 1; k <= m; ++k) {
      std::vector<double> A = random_sym(m, m * 10 + k), E(m * m, 0.0), got(m * m);
      int subsets = 0;
      for (int mask = 0; mask < (1 << m); ++mask) subsets += __builtin_popcount(mask) == k;
      for (int mask = 0; mask < (1 << m); ++mask) {
        if (__builtin_popcount(mask) != k) continue;
        std::vector<double> s(m);
        for (int j = 0; j < m; ++j) s[j] = (mask >> j & 1) ? double(m) / k : 0.0;
        add_outcome(E, A, s, 1.0 / subsets);
      }
      OneLayer L(m, DC_SK_RANDK, k);
      dc_sketch_second_moment(&L.spec, 0, A.data(), got.data());
      expect_matrix_near(E, got.data(), 1e-13);
      // variance form ((m-k)/(k(m-1))) (m diag(A) - A)
      dc_sketch_variance(&L.spec, 0, A.data(), got.data());
      for (int c = 0; c < m && m > 1; ++c)
        for (int r = 0; r < m; ++r) {
          double want = double(m - k) / (k * (m - 1.0)) * ((r == c ? m : 0) * A[r + c * m] - A[r + c * m]);
          EXPECT_NEAR(got[r + c * m], want, 1e-12);
        }
    }
}

TEST(SketchMoments, BernoulliEqualsEnumeration) {
  const int m = 4;
  const double p = 0.3;
  std::vector<double> A = random_sym(m, 3), E(m * m, 0.0), got(m * m);
  for (int mask = 0; mask < (1 << m); ++mask) {
    std::vector<double> s(m);
    double prob = 1;
    for (int j = 0; j < m; ++j) {
      bool keep = mask >> j & 1;
      s[j] = keep ? 1 / p : 0;
      prob *= keep ? p : 1 - p;
    }
    add_outcome(E, A, s, prob);
  }
  OneLayer L(m, DC_SK_BERNOULLI, 0, p);
  dc_sketch_second_moment(&L.spec, 0, A.data(), got.data());
  expect_matrix_near(E, got.data(), 1e-13);
}

TEST(SketchMoments, BernQAndImportanceAndIdentityEqualEnumeration) {
  const int m = 4;
  std::vector<double> A = random_sym(m, 5), got(m * m);
  {  // Bern-q: whole layer with prob q, scale 1/q
    const double q = 0.35;
    std::vector<double> E(m * m, 0.0);
    add_outcome(E, A, std::vector<double>(m, 1 / q), q);
    OneLayer L(m, DC_SK_BERNQ, 0, q);
    dc_sketch_second_moment(&L.spec, 0, A.data(), got.data());
    expect_matrix_near(E, got.data(), 1e-13);
  }
  {  // importance rand-1
    std::vector<double> p = {0.1, 0.2, 0.3, 0.4}, E(m * m, 0.0);
    for (int j = 0; j < m; ++j) {
      std::vector<double> s(m, 0.0);
      s[j] = 1 / p[j];
      add_outcome(E, A, s, p[j]);
    }
    OneLayer L(m, DC_SK_IMPORTANCE1, 1, 0, p);
    dc_sketch_second_moment(&L.spec, 0, A.data(), got.data());
    expect_matrix_near(E, got.data(), 1e-13);
  }
  {
    OneLayer L(m, DC_SK_IDENTITY);
    dc_sketch_second_moment(&L.spec, 0, A.data(), got.data());
    expect_matrix_near(A, got.data(), 0);
  }
}

// ---- Monte Carlo through the backend, against the closed forms ----

class MonteCarlo : public testing::TestWithParam<int> {};

TEST_P(MonteCarlo, AgreesWithClosedFormsWithinStandardErrors) {
  SKIP_WITHOUT_DEVICE(GetParam());
  DcBackend be;
  ASSERT_EQ(dc_backend_open(&be, GetParam()), DETCGD_OK) << detcgd_last_error();
  const int m = 6;
  const int64_t N = 40000;
  std::vector<double> A = random_sym(m, 11);
  std::vector<OneLayer*> cases = {new OneLayer(m, DC_SK_RANDK, 2), new OneLayer(m, DC_SK_RAND1, 1),
                                  new OneLayer(m, DC_SK_BERNOULLI, 0, 0.4), new OneLayer(m, DC_SK_BERNQ, 0, 0.3),
                                  new OneLayer(m, DC_SK_IMPORTANCE1, 1, 0, {0.05, 0.1, 0.15, 0.2, 0.2, 0.3})};
  for (OneLayer* L : cases) {
    std::vector<double> exact(m * m), mean(m * m), se(m * m);
    dc_sketch_second_moment(&L->spec, 0, A.data(), exact.data());
    ASSERT_EQ(be.ops->mc_moments(&be, &L->spec, A.data(), N, 123, mean.data(), se.data()), DETCGD_OK);
    int outside3 = 0;
    for (int e = 0; e < m * m; ++e) {
      double z = se[e] > 0 ? std::fabs(mean[e] - exact[e]) / se[e] : std::fabs(mean[e] - exact[e]) * 1e12;
      EXPECT_LT(z, 5.0) << "kind " << L->spec.kind << " entry " << e << " mean " << mean[e] << " exact " << exact[e];
      outside3 += z > 3.0;
    }
    EXPECT_LE(outside3, 2) << "kind " << L->spec.kind;  // ~0.3% of 36 entries expected beyond 3 SE
    delete L;
  }
  dc_backend_close(&be);
}

// Layers of several widths in one pass (rand-k with k > 32 takes the membership-table path): each layer's
// estimate is within standard errors of its closed form, and every backend sums the CPU's draws.
TEST_P(MonteCarlo, EveryLayerInOnePassMatchesItsClosedFormAndTheCpu) {
  SKIP_WITHOUT_DEVICE(GetParam());
  const std::vector<int> sizes = {6, 1, 40, 9}, ks = {2, 1, 35, 3};
  const int64_t N = 20000;
  DcLayout lay{};
  ASSERT_EQ(dc_layout_init(&lay, (int)sizes.size(), sizes.data()), DETCGD_OK);
  DcSketchSpec spec{};
  spec.kind = DC_SK_RANDK;
  spec.layout = &lay;
  spec.layers = (DcSketchLayer*)calloc(sizes.size(), sizeof(DcSketchLayer));
  spec.cap_off = (int64_t*)calloc(sizes.size() + 1, sizeof(int64_t));
  spec.value_bits = 32;
  int64_t mm = lay.moff[lay.nblocks];
  std::vector<double> A(mm), mean(mm), se(mm), cpu_mean(mm), cpu_se(mm), exact(mm);
  for (size_t i = 0; i < sizes.size(); ++i) {
    spec.layers[i] = {DC_SK_RANDK, sizes[i], ks[i], 1.0, 0};
    spec.cap_off[i + 1] = spec.cap_off[i] + dc_sketch_layer_capacity(&spec.layers[i]);
    std::vector<double> Ai = random_sym(sizes[i], 5 + (unsigned)i);
    std::copy(Ai.begin(), Ai.end(), A.begin() + lay.moff[i]);
    dc_sketch_second_moment(&spec, (int)i, Ai.data(), exact.data() + lay.moff[i]);
  }
  DcBackend be, cpu;
  ASSERT_EQ(dc_backend_open(&be, GetParam()), DETCGD_OK) << detcgd_last_error();
  ASSERT_EQ(dc_backend_open(&cpu, DETCGD_BACKEND_CPU), DETCGD_OK);
  ASSERT_EQ(be.ops->mc_moments(&be, &spec, A.data(), N, 77, mean.data(), se.data()), DETCGD_OK) << detcgd_last_error();
  ASSERT_EQ(cpu.ops->mc_moments(&cpu, &spec, A.data(), N, 77, cpu_mean.data(), cpu_se.data()), DETCGD_OK);
  for (size_t i = 0; i < sizes.size(); ++i) {
    int outside3 = 0, m = sizes[i];
    for (int64_t e = lay.moff[i]; e < lay.moff[i + 1]; ++e) {
      double z = se[e] > 0 ? std::fabs(mean[e] - exact[e]) / se[e] : std::fabs(mean[e] - exact[e]) * 1e12;
      EXPECT_LT(z, 5.0) << "layer " << i << " entry " << e - lay.moff[i];
      outside3 += z > 3.0;
      EXPECT_NEAR(mean[e], cpu_mean[e], 1e-12 * (1 + std::fabs(cpu_mean[e]))) << "layer " << i;  // the same draws
      EXPECT_NEAR(se[e], cpu_se[e], 1e-9 * (1 + cpu_se[e])) << "layer " << i;
    }
    EXPECT_LE(outside3, 2 + m * m / 100) << "layer " << i;  // ~0.3% of entries expected beyond 3 SE
  }
  dc_backend_close(&be);
  dc_backend_close(&cpu);
  dc_sketch_spec_free(&spec);
  dc_layout_free(&lay);
}

INSTANTIATE_TEST_SUITE_P(Backends, MonteCarlo, testing::ValuesIn(available_backends()), backend_name);

// ---- sampling ----

TEST(Sampling, RandKDrawsDistinctIndicesWithUniformMarginals) {
  const int m = 10, k = 3, N = 20000;
  OneLayer L(m, DC_SK_RANDK, k);
  std::vector<int> count(m, 0), idx(k);
  std::vector<double> sc(k);
  std::vector<unsigned char> mark(m, 0);
  for (int s = 0; s < N; ++s) {
    int n = dc_draw_layer(&L.spec.layers[0], nullptr, 99, s, 0, 0, idx.data(), sc.data(), s % 2 ? mark.data() : nullptr);
    ASSERT_EQ(n, k);
    std::set<int> uniq(idx.begin(), idx.end());
    ASSERT_EQ((int)uniq.size(), k);
    for (int j : idx) { ASSERT_GE(j, 0); ASSERT_LT(j, m); ++count[j]; }
    for (double v : sc) ASSERT_EQ(v, double(m) / k);
  }
  for (int j = 0; j < m; ++j) {  // P(j kept) = k/m; binomial standard error
    double p = double(k) / m, se = std::sqrt(N * p * (1 - p));
    EXPECT_LT(std::fabs(count[j] - N * p), 5 * se) << "coordinate " << j;
  }
  for (unsigned char c : mark) EXPECT_EQ(c, 0);  // the membership table is left clean
}

TEST(Sampling, MarkerTableAndLinearScanDrawTheSameSubset) {
  const int m = 200, k = 70;
  OneLayer L(m, DC_SK_RANDK, k);
  std::vector<int> a(k), b(k);
  std::vector<double> sa(k), sb(k);
  std::vector<unsigned char> mark(m, 0);
  for (int it = 0; it < 50; ++it) {
    dc_draw_layer(&L.spec.layers[0], nullptr, 5, it, 3, 2, a.data(), sa.data(), nullptr);
    dc_draw_layer(&L.spec.layers[0], nullptr, 5, it, 3, 2, b.data(), sb.data(), mark.data());
    EXPECT_EQ(a, b);
  }
}

TEST(Sampling, SameCountersSameDrawOtherIterationOtherDraw) {
  const int m = 50, k = 5;
  OneLayer L(m, DC_SK_RANDK, k);
  std::vector<int> a(k), b(k), c(k);
  std::vector<double> s(k);
  dc_draw_layer(&L.spec.layers[0], nullptr, 1, 10, 0, 0, a.data(), s.data(), nullptr);
  dc_draw_layer(&L.spec.layers[0], nullptr, 1, 10, 0, 0, b.data(), s.data(), nullptr);
  dc_draw_layer(&L.spec.layers[0], nullptr, 1, 11, 0, 0, c.data(), s.data(), nullptr);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(Sampling, EverySketchIsUnbiased) {
  const int m = 5, N = 40000;
  std::vector<OneLayer*> cases = {new OneLayer(m, DC_SK_RANDK, 2), new OneLayer(m, DC_SK_BERNOULLI, 0, 0.3),
                                  new OneLayer(m, DC_SK_BERNQ, 0, 0.6),
                                  new OneLayer(m, DC_SK_IMPORTANCE1, 1, 0, {0.1, 0.1, 0.2, 0.25, 0.35})};
  for (OneLayer* L : cases) {
    std::vector<double> sum(m, 0), sumsq(m, 0), sc(m);
    std::vector<int> idx(m);
    for (int s = 0; s < N; ++s) {
      int n = dc_draw_layer(&L->spec.layers[0], L->spec.aux, 17, s, 0, 0, idx.data(), sc.data(), nullptr);
      for (int t = 0; t < n; ++t) { sum[idx[t]] += sc[t]; sumsq[idx[t]] += sc[t] * sc[t]; }
    }
    for (int j = 0; j < m; ++j) {  // E[S_jj] = 1
      double mean = sum[j] / N, se = std::sqrt((sumsq[j] / N - mean * mean) / N);
      EXPECT_LT(std::fabs(mean - 1.0), 5 * se) << "kind " << L->spec.kind << " coordinate " << j;
    }
    delete L;
  }
}

TEST(Sampling, BitTallyIsExact) {
  // 3 layers of widths 8, 5, 1 with rand-k k = (3, 2, 1): bits per draw = sum k_i (32 + ceil(log2 d_i))
  DetcgdProblem* p = make_quad("8,5,1");
  DetcgdSettings s = quiet_settings();
  s.sketch.kind = DETCGD_SKETCH_RANDK;
  snprintf(s.sketch.k_list, sizeof s.sketch.k_list, "3,2,1");
  DcSketchSpec sp;
  ASSERT_EQ(dc_sketch_spec_build(&sp, &s.sketch, &s.comm, p), DETCGD_OK) << detcgd_last_error();
  DcBackend be;
  ASSERT_EQ(dc_backend_open(&be, DETCGD_BACKEND_CPU), DETCGD_OK);
  DcSketch* S = nullptr;
  ASSERT_EQ(be.ops->sketch_create(&be, &sp, 1, &S), DETCGD_OK);
  for (int it = 0; it < 7; ++it) ASSERT_EQ(be.ops->sketch_sample(&be, S, 1, it, 0), DETCGD_OK);
  int64_t coords, bits;
  be.ops->sketch_tally(&be, S, &coords, &bits);
  EXPECT_EQ(coords, 7 * 6);
  EXPECT_EQ(bits, 7 * (3 * (32 + 3) + 2 * (32 + 3) + 1 * (32 + 0)));
  EXPECT_DOUBLE_EQ(dc_sketch_expected_bits(&sp), 3 * 35 + 2 * 35 + 32);
  be.ops->sketch_destroy(&be, &S);
  dc_sketch_spec_free(&sp);
  // Bern-q with a shared seed: values only, plus one flag bit per layer
  s.sketch.kind = DETCGD_SKETCH_BERNQ;
  s.sketch.q = 0.5;
  s.comm.shared_seed = 1;
  s.comm.value_bits = 64;
  ASSERT_EQ(dc_sketch_spec_build(&sp, &s.sketch, &s.comm, p), DETCGD_OK);
  ASSERT_EQ(be.ops->sketch_create(&be, &sp, 1, &S), DETCGD_OK);
  int64_t want_bits = 0, want_coords = 0;
  std::vector<int> idx(sp.cap_off[3]), cnt(3);
  std::vector<double> sc(sp.cap_off[3]);
  DcSketchDraw draw = {idx.data(), sc.data(), cnt.data()};
  for (int it = 0; it < 20; ++it) {
    be.ops->sketch_sample(&be, S, 3, it, 0);
    be.ops->sketch_read(&be, S, &draw);
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(cnt[i] == 0 || cnt[i] == detcgd_problem_layer_size(p, i));
      want_coords += cnt[i];
      want_bits += cnt[i] * 64 + 1;
    }
  }
  be.ops->sketch_tally(&be, S, &coords, &bits);
  EXPECT_EQ(coords, want_coords);
  EXPECT_EQ(bits, want_bits);
  be.ops->sketch_destroy(&be, &S);
  dc_sketch_spec_free(&sp);
  dc_backend_close(&be);
  detcgd_problem_destroy(&p);
}

// The stepsize check by Monte Carlo moments agrees with the closed forms.
TEST_P(MonteCarlo, StepsizeCertificateFromMonteCarloMatchesClosedForm) {
  SKIP_WITHOUT_DEVICE(GetParam());
  DetcgdProblem* p = make_quad("6,9", 0.1, 0.4);
  struct Case { int method, sketch, stepsize; };
  const Case cases[] = {{DETCGD_METHOD_DET1, DETCGD_SKETCH_RANDK, DETCGD_STEP_THM2},
                        {DETCGD_METHOD_DET2, DETCGD_SKETCH_BERNQ, DETCGD_STEP_DET2_OPT},
                        {DETCGD_METHOD_DET2, DETCGD_SKETCH_BERNOULLI, DETCGD_STEP_DET2_OPT},
                        {DETCGD_METHOD_DET1, DETCGD_SKETCH_IMPORTANCE1, DETCGD_STEP_CGD_MAT}};
  for (const Case& c : cases) {
    DetcgdSettings s = quiet_settings(GetParam());
    s.method = c.method;
    s.sketch.kind = c.sketch;
    s.sketch.k = 3;
    s.stepsize.kind = c.stepsize;
    DetcgdMcCheck mc;
    ASSERT_EQ(detcgd_theory_mc(p, &s, 40000, 5, &mc), DETCGD_OK) << detcgd_last_error();
    EXPECT_NEAR(mc.certificate, 1.0, 1e-9);
    EXPECT_LT(mc.max_z, 6.0) << detcgd_sketch_name(c.sketch);
    EXPECT_NEAR(mc.certificate_mc, mc.certificate, 0.08) << detcgd_sketch_name(c.sketch);
  }
  detcgd_problem_destroy(&p);
}
