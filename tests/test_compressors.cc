// The compressor test table: one row per compressor (and setting), each checked for
//   - its registry entry (kind, name, class, flags) and its settings' own validation;
//   - omega = lambda_max(E[(S_i - I)^2]) from the moment weights, against a dense eigenvalue computation;
//   - unbiasedness and E||C(x) - x||^2 = sum_j (w_jj - 1) x_j^2 by Monte Carlo within 5 standard errors,
//     with draws made by the backend (CPU, and CUDA on a device or the emulation);
//   - exact bits: every draw's tally = sum_i count_i (value bits + index bits) + flag bits, and the mean
//     count against the expected count;
//   - the check of a received draw: every drawn one accepted, a wrong count, an index out of range and a
//     repeated index refused.
// A new compressor adds a row here.
#include <cmath>
#include "test_util.h"
extern "C" {
#include "backend.h"
#include "compressor.h"
#include "linalg.h"
}

namespace {

struct CompressorRow {
  const char* name;
  const char* layers;
  std::vector<std::pair<const char*, const char*>> options;
};

const CompressorRow kRows[] = {
    {"identity", "4,3", {}},
    {"rand-k", "8,5,1", {{"k-list", "3,2,1"}}},
    {"rand-k", "6x4", {{"k-ratio", "0.5"}}},
    {"rand-1", "7,2", {}},
    {"importance-1", "5,4", {{"importance", "lii"}}},
    {"importance-1", "5,4", {{"importance", "uniform"}}},
    {"bernoulli", "6,3", {{"p", "0.3"}}},
    {"bern-q", "4,6", {{"q-list", "0.25,0.8"}}},
    {"bern-q", "4,6", {{"q", "0.5"}, {"shared-seed", "1"}, {"value-bits", "64"}}},
};

std::string row_name(const testing::TestParamInfo<std::tuple<int, int>>& i) {
  std::string n = std::string(kRows[std::get<1>(i.param)].name) + "_" + std::to_string(std::get<1>(i.param)) + "_" +
                  (std::get<0>(i.param) == DETCGD_BACKEND_CPU ? "cpu" : "cuda");
  for (char& c : n) if (c == '-') c = '_';
  return n;
}

class Compressors : public testing::TestWithParam<std::tuple<int, int>> {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_DEVICE(std::get<0>(GetParam()));
    row = &kRows[std::get<1>(GetParam())];
    s = quiet_settings(std::get<0>(GetParam()));
    ASSERT_EQ(detcgd_settings_set(&s, "sketch", row->name), DETCGD_OK);
    for (const auto& kv : row->options) ASSERT_EQ(detcgd_settings_set(&s, kv.first, kv.second), DETCGD_OK);
    p = make_quad(row->layers);
    ASSERT_NE(p, nullptr);
    ASSERT_EQ(dc_sketch_spec_build(&sp, &s.sketch, &s.comm, p), DETCGD_OK) << detcgd_last_error();
    type = dc_compressor_type(sp.kind);
    ASSERT_NE(type, nullptr);
  }
  void TearDown() override {
    dc_sketch_spec_free(&sp);
    detcgd_problem_destroy(&p);
  }
  const CompressorRow* row = nullptr;
  DetcgdSettings s{};
  DetcgdProblem* p = nullptr;
  DcSketchSpec sp{};
  const DcCompressorType* type = nullptr;
};

TEST_P(Compressors, RegistryEntryAndClass) {
  EXPECT_EQ(type, dc_compressor_find(row->name));
  EXPECT_STREQ(detcgd_sketch_name(type->kind), row->name);
  EXPECT_EQ(type->cls, DC_CC_UNBIASED);  // every sketch so far: E[S] = I
  EXPECT_TRUE(type->flags & DC_CF_LINEAR);
  EXPECT_EQ(type->alpha, nullptr);
  EXPECT_EQ(type->validate(&s.sketch), DETCGD_OK);
  EXPECT_EQ(dc_compressor_find("no-such-compressor"), nullptr);
}

TEST_P(Compressors, OmegaIsTheLargestEigenvalueOfTheVariance) {
  const DcLayout& lay = p->layout;
  double omega = 0;
  for (int i = 0; i < lay.nblocks; ++i) {
    int m = lay.size[i];
    std::vector<double> I(m * m, 0.0), V(m * m);
    for (int r = 0; r < m; ++r) I[r + r * m] = 1.0;
    dc_sketch_variance(&sp, i, I.data(), V.data());
    double lm = 0;
    ASSERT_EQ(dc_lambda_max(V.data(), m, &lm), DETCGD_OK);
    EXPECT_NEAR(type->omega(&sp, i), lm, 1e-13 * (1 + lm)) << "layer " << i;
    omega = std::max(omega, lm);
  }
  EXPECT_NEAR(dc_sketch_omega(&sp), omega, 1e-13 * (1 + omega));
}

// Draws through the backend: unbiased, variance sum_j (w_jj - 1) x_j^2, exact bits, accepted by the check.
TEST_P(Compressors, BackendDrawsAreUnbiasedWithTheStatedVarianceBitsAndChecks) {
  DcBackend be{};
  ASSERT_EQ(dc_backend_open(&be, s.backend), DETCGD_OK) << detcgd_last_error();
  DcSketch* S = nullptr;
  ASSERT_EQ(be.ops->sketch_create(&be, &sp, 1, &S), DETCGD_OK);
  const DcLayout& lay = p->layout;
  const int64_t d = lay.dim, cap = sp.cap_off[lay.nblocks];
  const int N = 4000;
  std::vector<double> x(d), sum(d, 0.0), sumsq(d, 0.0), scale(cap), check_scale(cap);
  for (int64_t j = 0; j < d; ++j) x[j] = 1.0 + 0.1 * j;
  std::vector<int> idx(cap), cnt(lay.nblocks);
  std::vector<unsigned char> seen(lay.max_size, 0);
  DcSketchDraw draw = {idx.data(), scale.data(), cnt.data()};
  double err_sum = 0, err_sumsq = 0, count_sum = 0;
  int64_t coords_before = 0, bits_before = 0;
  for (int it = 0; it < N; ++it) {
    ASSERT_EQ(be.ops->sketch_sample(&be, S, 5, it, 2), DETCGD_OK);
    ASSERT_EQ(be.ops->sketch_read(&be, S, &draw), DETCGD_OK);
    std::vector<double> cx(d, 0.0);
    int64_t want_bits = 0, coords = 0;
    for (int i = 0; i < lay.nblocks; ++i) {
      const int* li = idx.data() + sp.cap_off[i];
      ASSERT_EQ(dc_sketch_check_draw(&sp, i, li, cnt[i], seen.data(), check_scale.data() + sp.cap_off[i]), nullptr);
      for (int t = 0; t < cnt[i]; ++t) {
        EXPECT_EQ(check_scale[sp.cap_off[i] + t], scale[sp.cap_off[i] + t]);
        cx[lay.voff[i] + li[t]] = scale[sp.cap_off[i] + t] * x[lay.voff[i] + li[t]];
      }
      coords += cnt[i];
      want_bits += cnt[i] * (sp.value_bits + (sp.send_indices ? dc_index_bits(lay.size[i]) : 0)) + sp.layer_flag_bits;
    }
    int64_t c1, b1;
    ASSERT_EQ(be.ops->sketch_tally(&be, S, &c1, &b1), DETCGD_OK);
    ASSERT_EQ(c1 - coords_before, coords);
    ASSERT_EQ(b1 - bits_before, want_bits);
    coords_before = c1;
    bits_before = b1;
    double err = 0;
    for (int64_t j = 0; j < d; ++j) {
      sum[j] += cx[j];
      sumsq[j] += cx[j] * cx[j];
      err += (cx[j] - x[j]) * (cx[j] - x[j]);
    }
    err_sum += err;
    err_sumsq += err * err;
    count_sum += coords;
  }
  for (int64_t j = 0; j < d; ++j) {  // E[C(x)] = x
    double mean = sum[j] / N, se = std::sqrt(std::max(sumsq[j] / N - mean * mean, 0.0) / N);
    EXPECT_LE(std::fabs(mean - x[j]), 5 * se + 1e-12) << "coordinate " << j;
  }
  double want_err = 0, want_count = dc_sketch_expected_coords(&sp);
  for (int i = 0; i < lay.nblocks; ++i)
    for (int r = 0; r < lay.size[i]; ++r) {
      double xj = x[lay.voff[i] + r];
      want_err += (dc_sketch_moment_weight(&sp, i, r, r) - 1.0) * xj * xj;
    }
  double mean_err = err_sum / N, se_err = std::sqrt(std::max(err_sumsq / N - mean_err * mean_err, 0.0) / N);
  EXPECT_LE(std::fabs(mean_err - want_err), 5 * se_err + 1e-9 * (1 + want_err));
  EXPECT_LE(mean_err, dc_sketch_omega(&sp) * [&] { double n2 = 0; for (double v : x) n2 += v * v; return n2; }() * (1 + 0.05) + 5 * se_err);
  // counts: their spread is at most d per draw
  EXPECT_LE(std::fabs(count_sum / N - want_count), 5.0 * d / std::sqrt((double)N));
  be.ops->sketch_destroy(&be, &S);
  dc_backend_close(&be);
}

TEST_P(Compressors, ImpossibleDrawsAreRefused) {
  const DcLayout& lay = p->layout;
  std::vector<unsigned char> seen(lay.max_size, 0);
  for (int i = 0; i < lay.nblocks; ++i) {
    int m = lay.size[i], cap = (int)(sp.cap_off[i + 1] - sp.cap_off[i]);
    std::vector<int> idx(m + 1);
    std::vector<double> sc(m + 1);
    for (int t = 0; t <= m; ++t) idx[t] = t;
    for (int n = 0; n <= m; ++n) {  // a count one draw cannot have is refused; one it can have passes
      const char* why = dc_sketch_check_draw(&sp, i, idx.data(), n, seen.data(), sc.data());
      EXPECT_EQ(why == nullptr, (bool)type->count_ok(&sp.layers[i], n)) << "layer " << i << " count " << n;
    }
    int n = 0;
    while (n <= cap && !type->count_ok(&sp.layers[i], n)) ++n;  // the smallest possible count
    if (n == 0) continue;
    idx[n - 1] = m;  // out of range
    EXPECT_STREQ(dc_sketch_check_draw(&sp, i, idx.data(), n, seen.data(), sc.data()), "index out of range");
    if (n >= 2) {
      idx[n - 1] = idx[0];  // repeated
      EXPECT_STREQ(dc_sketch_check_draw(&sp, i, idx.data(), n, seen.data(), sc.data()), "repeated index");
    }
    for (unsigned char v : seen) ASSERT_EQ(v, 0) << "the check leaves its marks cleared";
  }
}

INSTANTIATE_TEST_SUITE_P(Table, Compressors,
                         testing::Combine(testing::ValuesIn(available_backends()),
                                          testing::Range(0, (int)(sizeof kRows / sizeof kRows[0]))),
                         row_name);

}  // namespace
