// The compressors of the values (compress/values.c, value_ops.h) through the backend's compress_values_rows, on
// every backend (CUDA on a device or the emulation), each against what it must be:
//   - top-k: the k largest |x_j| of every layer, ties to the lower index, exactly (a sort is the oracle), and the
//     contraction ||C(x) - x||^2 <= (1 - k/m) ||x||^2; layers of widths 1, 31, 32, 33, 1025 and 10^6;
//   - rand-k-c: the indices of rand-k's draw, unscaled, and E||C(x) - x||^2 = (1 - k/m) ||x||^2 within 5 standard
//     errors;
//   - sign and scaled sign exactly, scaled sign's ||C(x) - x||^2 = ||x||^2 - ||x||_1^2 / m;
//   - QSGD and natural compression unbiased within 5 standard errors, with the variance against omega (natural:
//     each coordinate's (2^(a+1) - t)(t - 2^a));
//   - the exact bits and values counted by the tally, against the formulas written out here;
//   - the shift H (C(X - H), H's rows at an offset) and several client rows at once;
//   - the CUDA backend gives the CPU's messages: equal for the selections, to rounding for the norms.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include "test_util.h"
extern "C" {
#include "backend.h"
#include "codec.h"
#include "compressor.h"
#include "problem.h"
#include "value_ops.h"
}

namespace {

// A compressor on a layout, on one backend (64-bit values unless opts say otherwise): its spec, a sketch of `rows` rows, and the op.
struct Values {
  DetcgdSettings s{};
  DetcgdProblem* p = nullptr;
  DcSketchSpec sp{};
  DcBackend be{};
  DcSketch* S = nullptr;
  int64_t dim = 0;
  Values(int backend, const char* layers, const char* name, std::vector<std::pair<const char*, const char*>> opts,
         int rows = 1) {
    s = quiet_settings(backend);
    EXPECT_EQ(detcgd_settings_set(&s, "sketch", name), DETCGD_OK) << detcgd_last_error();
    EXPECT_EQ(detcgd_settings_set(&s, "value-bits", "64"), DETCGD_OK);  // unless opts say 32: values unrounded
    for (auto& kv : opts) EXPECT_EQ(detcgd_settings_set(&s, kv.first, kv.second), DETCGD_OK) << kv.first;
    p = layout_only(layers);
    EXPECT_EQ(dc_sketch_spec_build(&sp, &s.sketch, &s.comm, p), DETCGD_OK) << detcgd_last_error();
    EXPECT_EQ(dc_backend_open(&be, backend), DETCGD_OK) << detcgd_last_error();
    EXPECT_EQ(be.ops->sketch_create(&be, &sp, rows, &S), DETCGD_OK) << detcgd_last_error();
    dim = p->layout.dim;
  }
  ~Values() {
    be.ops->sketch_destroy(&be, &S);
    dc_backend_close(&be);
    dc_sketch_spec_free(&sp);
    dc_layout_free(&p->layout);
    delete p;
  }
  // a problem holding only its layout (all the compressors of the values read of it)
  static DetcgdProblem* layout_only(const char* layers) {
    int *sizes = nullptr, n = 0;
    DetcgdProblem* q = new DetcgdProblem();
    EXPECT_EQ(dc_parse_layers(layers, &sizes, &n, "layers"), DETCGD_OK);
    EXPECT_EQ(dc_layout_init(&q->layout, n, sizes), DETCGD_OK);
    free(sizes);
    return q;
  }
  DcVec* vec(const std::vector<double>& h) {
    DcVec* v = nullptr;
    EXPECT_EQ(be.ops->vec_create(&be, (int64_t)h.size(), &v), DETCGD_OK);
    if (!h.empty()) EXPECT_EQ(be.ops->vec_upload(&be, v, h.data()), DETCGD_OK);
    return v;
  }
  // C(x - h) of nc rows (h empty: C(x)); h's rows start at hoff
  std::vector<double> compress(const std::vector<double>& x, uint32_t iter = 0, int nc = 1,
                               const std::vector<double>& h = {}, int64_t hoff = 0, uint32_t c0 = 0) {
    DcVec *X = vec(x), *H = h.empty() ? nullptr : vec(h), *Y = vec(std::vector<double>(nc * dim, 7.0));
    EXPECT_EQ(be.ops->compress_values_rows(&be, S, X, H, hoff, nc, s.seed, iter, c0, s.comm.value_bits == 32, Y),
              DETCGD_OK) << detcgd_last_error();
    std::vector<double> y(nc * dim);
    EXPECT_EQ(be.ops->vec_download(&be, Y, y.data()), DETCGD_OK);
    be.ops->vec_destroy(&be, &X);
    be.ops->vec_destroy(&be, &H);
    be.ops->vec_destroy(&be, &Y);
    return y;
  }
  std::pair<int64_t, int64_t> tally() {
    int64_t c = 0, b = 0;
    EXPECT_EQ(be.ops->sketch_tally(&be, S, &c, &b), DETCGD_OK);
    return {c, b};
  }
  const DcLayout& lay() const { return p->layout; }
};

// Top-k's oracle: the first k of the layer's indices sorted by |x| descending, then index ascending.
std::vector<double> topk_reference(const std::vector<double>& x, const DcLayout& lay, const std::vector<int>& k) {
  std::vector<double> y(x.size(), 0.0);
  for (int i = 0; i < lay.nblocks; ++i) {
    std::vector<int> idx(lay.size[i]);
    std::iota(idx.begin(), idx.end(), 0);
    const double* xi = x.data() + lay.voff[i];
    std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return std::fabs(xi[a]) > std::fabs(xi[b]); });
    for (int t = 0; t < k[i]; ++t) y[lay.voff[i] + idx[t]] = xi[idx[t]];
  }
  return y;
}

double norm2_sq(const double* v, int n) {
  double s = 0;
  for (int j = 0; j < n; ++j) s += v[j] * v[j];
  return s;
}

}  // namespace

class ValueCompressors : public testing::TestWithParam<int> {
 protected:
  void SetUp() override { SKIP_WITHOUT_DEVICE(GetParam()); }
};

TEST_P(ValueCompressors, TopKKeepsTheLargestWithTiesToTheLowerIndex) {
  Values v(GetParam(), "1,31,32,33,1025", "top-k", {{"k-list", "1,5,32,1,100"}});
  std::vector<int> k = {1, 5, 32, 1, 100};
  auto x = random_vec(v.dim, 3);
  EXPECT_EQ(v.compress(x), topk_reference(x, v.lay(), k));
  // ties: |x_j| on a grid of four values (and zeros), so most candidates tie; both signs
  auto t = random_vec(v.dim, 4);
  for (double& e : t) e = std::round(e * 2.0) / 2.0;
  auto y = v.compress(t);
  EXPECT_EQ(y, topk_reference(t, v.lay(), k));
  for (int i = 0; i < v.lay().nblocks; ++i) {  // contraction, exactly (a sum of the dropped squares)
    std::vector<double> r(v.lay().size[i]);
    for (int j = 0; j < v.lay().size[i]; ++j) r[j] = t[v.lay().voff[i] + j] - y[v.lay().voff[i] + j];
    EXPECT_LE(norm2_sq(r.data(), (int)r.size()),
              (1.0 - (double)k[i] / v.lay().size[i]) * norm2_sq(t.data() + v.lay().voff[i], v.lay().size[i]) + 1e-15);
  }
  // all equal: the first k; NaN ranks above infinity, infinity above every number
  std::vector<double> same(v.dim, -0.5);
  EXPECT_EQ(v.compress(same), topk_reference(same, v.lay(), k));
  auto z = x;
  z[v.lay().voff[1] + 7] = INFINITY;
  z[v.lay().voff[1] + 2] = NAN;
  auto yz = v.compress(z);
  EXPECT_TRUE(std::isnan(yz[v.lay().voff[1] + 2]));
  EXPECT_EQ(yz[v.lay().voff[1] + 7], INFINITY);
}

TEST_P(ValueCompressors, TopKOnAMillionWideLayerAndWithAShiftOverSeveralRows) {
  Values big(GetParam(), "1000000", "top-k", {{"k", "1000"}});
  auto x = random_vec(big.dim, 5);
  EXPECT_EQ(big.compress(x), topk_reference(x, big.lay(), {1000}));
  Values v(GetParam(), "40,24", "top-k", {{"k", "3"}}, 3);
  auto X = random_vec(3 * v.dim, 6), H = random_vec(5 * v.dim, 7);
  auto y = v.compress(X, 0, 3, H, 2 * v.dim);
  for (int r = 0; r < 3; ++r) {
    std::vector<double> d(v.dim);
    for (int64_t j = 0; j < v.dim; ++j) d[j] = X[r * v.dim + j] - H[(2 + r) * v.dim + j];
    EXPECT_EQ(std::vector<double>(y.begin() + r * v.dim, y.begin() + (r + 1) * v.dim), topk_reference(d, v.lay(), {3, 3}))
        << "row " << r;
  }
  EXPECT_EQ(v.tally().first, 3 * 6);                        // 3 rows, k = 3 of each of 2 layers
  EXPECT_EQ(v.tally().second, 3 * (3 * (64 + 6) + 3 * (64 + 5)));  // values and indices: ceil(log2 40) = 6, of 24: 5
}

TEST_P(ValueCompressors, RandKCKeepsRandKsDrawUnscaledAndContractsByKOverM) {
  Values v(GetParam(), "9,40", "rand-k-c", {{"k-list", "2,35"}});
  auto x = random_vec(v.dim, 8);
  const int N = 3000;
  double mean = 0, sq = 0, want = 0;
  for (int i = 0; i < 2; ++i)
    want += (1.0 - (double)v.sp.layers[i].k / v.lay().size[i]) * norm2_sq(x.data() + v.lay().voff[i], v.lay().size[i]);
  for (int s = 0; s < N; ++s) {
    auto y = v.compress(x, (uint32_t)s);
    double e = 0;
    for (int i = 0; i < 2; ++i) {  // exactly rand-k's indices (sketch_draw.h), x unscaled there, 0 elsewhere
      const DcSketchLayer& L = v.sp.layers[i];
      std::vector<int> idx(L.k);
      std::vector<double> sc(L.k);
      dc_draw_randk(&L, v.s.seed, (uint32_t)s, 0, (uint32_t)i, idx.data(), sc.data(), nullptr);
      std::vector<double> want_y(L.m, 0.0);
      for (int j : idx) want_y[j] = x[v.lay().voff[i] + j];
      ASSERT_EQ(std::vector<double>(y.begin() + v.lay().voff[i], y.begin() + v.lay().voff[i] + L.m), want_y) << s;
      for (int j = 0; j < L.m; ++j) e += std::pow(x[v.lay().voff[i] + j] - want_y[j], 2);
    }
    mean += e;
    sq += e * e;
  }
  mean /= N;
  double se = std::sqrt((sq / N - mean * mean) / N);
  EXPECT_NEAR(mean, want, 5 * se + 1e-12);
  EXPECT_EQ(v.tally().second, (int64_t)N * (2 * (64 + 4) + 35 * (64 + 6)));
}

TEST_P(ValueCompressors, SignAndScaledSignExactly) {
  Values sign(GetParam(), "7,33", "sign", {});
  auto x = random_vec(sign.dim, 9);
  x[3] = 0.0;
  auto y = sign.compress(x);
  for (int64_t j = 0; j < sign.dim; ++j) EXPECT_EQ(y[j], x[j] < 0 ? -1.0 : 1.0) << j;  // sign(0) = +1
  EXPECT_EQ(sign.tally().second, 40);
  Values sc(GetParam(), "7,33", "scaled-sign", {{"value-bits", "32"}});
  auto z = sc.compress(x);
  for (int i = 0; i < 2; ++i) {
    int m = sc.lay().size[i];
    const double* xi = x.data() + sc.lay().voff[i];
    double l1 = 0;
    for (int j = 0; j < m; ++j) l1 += std::fabs(xi[j]);
    double scale = (double)(float)(l1 / m), r2 = 0;  // the norm travels as a float
    for (int j = 0; j < m; ++j) {
      EXPECT_NEAR(z[sc.lay().voff[i] + j], (xi[j] < 0 ? -1 : 1) * scale, 1e-15) << i << " " << j;
      r2 += std::pow(xi[j] - z[sc.lay().voff[i] + j], 2);
    }
    // ||C(x) - x||^2 = ||x||^2 - 2 s ||x||_1 + m s^2: with s = ||x||_1 / m, ||x||^2 - ||x||_1^2 / m (<= (1 - 1/m)||x||^2)
    EXPECT_NEAR(r2, norm2_sq(xi, m) - 2 * scale * l1 + m * scale * scale, 1e-12);
    EXPECT_LE(r2, (1.0 - 1.0 / m) * norm2_sq(xi, m) + 1e-6);
  }
  EXPECT_EQ(sc.tally().second, (7 + 32) + (33 + 32));
}

TEST_P(ValueCompressors, QsgdAndNaturalAreUnbiasedWithTheirVariance) {
  for (const char* name : {"qsgd", "natural"}) {
    Values v(GetParam(), "6,10", name, name[0] == 'q' ? std::vector<std::pair<const char*, const char*>>{{"levels", "2"}}
                                                      : std::vector<std::pair<const char*, const char*>>{});
    auto x = random_vec(v.dim, 10);
    x[4] = 0.0;
    const int N = 2000;
    std::vector<double> sum(v.dim, 0.0), sq(v.dim, 0.0), quad(v.dim, 0.0);
    for (int s = 0; s < N; ++s) {
      auto y = v.compress(x, (uint32_t)s);
      for (int64_t j = 0; j < v.dim; ++j) {
        double e2 = (y[j] - x[j]) * (y[j] - x[j]);
        sum[j] += y[j];
        sq[j] += e2;
        quad[j] += e2 * e2;
      }
    }
    for (int64_t j = 0; j < v.dim; ++j) {
      double mean = sum[j] / N, var = sq[j] / N - (mean - x[j]) * (mean - x[j]);
      double se = std::sqrt(std::max(var, 0.0) / N);
      EXPECT_NEAR(mean, x[j], 5 * se + 1e-15) << name << " coordinate " << j;
      if (name[0] == 'n' && x[j] != 0) {  // natural: values 2^a, 2^(a+1): variance (2^(a+1) - t)(t - 2^a) <= t^2 / 8
        double t = std::fabs(x[j]), lo = std::ldexp(1.0, std::ilogb(t));
        double se_sq = std::sqrt(std::max(quad[j] / N - std::pow(sq[j] / N, 2), 0.0) / N);
        EXPECT_NEAR(sq[j] / N, (2 * lo - t) * (t - lo), 5 * se_sq + 1e-15) << j;
        EXPECT_LE((2 * lo - t) * (t - lo), t * t / 8 + 1e-18);
      }
    }
    for (int i = 0; i < 2; ++i) {  // E||C(x_i) - x_i||^2 <= omega_i ||x_i||^2
      const DcCompressorType* t = dc_compressor_type(v.sp.kind);
      double e = 0;
      for (int j = 0; j < v.lay().size[i]; ++j) e += sq[v.lay().voff[i] + j] / N;
      EXPECT_LE(e, t->omega(&v.sp, i) * norm2_sq(x.data() + v.lay().voff[i], v.lay().size[i]) * 1.05) << name << " " << i;
    }
  }
}

TEST_P(ValueCompressors, QsgdLevelsAreMultiplesOfTheNormAndBitsAreExact) {
  Values v(GetParam(), "6,10", "qsgd", {{"levels", "3"}, {"value-bits", "32"}});
  auto x = random_vec(v.dim, 11);
  auto y = v.compress(x, 5);
  for (int i = 0; i < 2; ++i) {
    double norm = (double)(float)std::sqrt(norm2_sq(x.data() + v.lay().voff[i], v.lay().size[i]));
    for (int j = 0; j < v.lay().size[i]; ++j) {
      double level = std::fabs(y[v.lay().voff[i] + j]) * 3 / norm, r = 3 * std::fabs(x[v.lay().voff[i] + j]) / norm;
      EXPECT_NEAR(level, std::round(level), 1e-9);
      EXPECT_TRUE(std::round(level) == std::floor(r) || std::round(level) == std::floor(r) + 1) << j;
      if (y[v.lay().voff[i] + j] != 0) EXPECT_EQ(std::signbit(y[v.lay().voff[i] + j]), std::signbit(x[v.lay().voff[i] + j]));
    }
  }
  // a norm and, per coordinate, a sign and a level in 0..3 (2 bits)
  EXPECT_EQ(v.tally().second, (32 + 6 * 3) + (32 + 10 * 3));
  EXPECT_EQ(v.tally().first, 16);
  Values n(GetParam(), "6,10", "natural", {});
  n.compress(x);
  EXPECT_EQ(n.tally().second, 16 * 12);  // sign and the 11 exponent bits of a double
  EXPECT_EQ(dc_sketch_expected_bits(&n.sp), 16 * 12);
  EXPECT_EQ(dc_sketch_expected_bits(&v.sp), (32 + 6 * 3) + (32 + 10 * 3));
}

TEST_P(ValueCompressors, ClassesConstantsAndRefusals) {
  Values t(GetParam(), "8,4", "top-k", {{"k", "2"}});
  EXPECT_DOUBLE_EQ(dc_sketch_alpha(&t.sp), 0.25);
  EXPECT_TRUE(std::isnan(dc_sketch_omega(&t.sp)));
  Values q(GetParam(), "16", "qsgd", {{"levels", "2"}});
  EXPECT_DOUBLE_EQ(dc_sketch_omega(&q.sp), 2.0);  // min(16/4, 4/2)
  EXPECT_TRUE(std::isnan(dc_sketch_alpha(&q.sp)));
  EXPECT_EQ(dc_compressor_find("sign")->cls, DC_CC_BIASED);
  EXPECT_EQ(dc_compressor_find("scaled-sign")->cls, DC_CC_CONTRACTIVE);
  EXPECT_EQ(dc_compressor_find("natural")->cls, DC_CC_UNBIASED);
  // k larger than a layer, named with the compressor
  DetcgdSettings s = quiet_settings(GetParam());
  ASSERT_EQ(detcgd_settings_set(&s, "sketch", "top-k"), DETCGD_OK);
  ASSERT_EQ(detcgd_settings_set(&s, "k", "5"), DETCGD_OK);
  DcSketchSpec sp{};
  EXPECT_EQ(dc_sketch_spec_build(&sp, &s.sketch, &s.comm, t.p), DETCGD_ERR_ARG);
  EXPECT_STREQ(detcgd_last_error(), "k: layer 1 has width 4, so k of top-k must be in [1, 4] (got 5)");
}

// The CUDA backend's messages are the CPU's: the same selections and draws; norms to rounding.
TEST_P(ValueCompressors, EveryBackendGivesTheCpusMessages) {
  struct Case { const char* name; std::vector<std::pair<const char*, const char*>> opts; bool exact; };
  const Case cases[] = {{"top-k", {{"k", "4"}}, true},      {"rand-k-c", {{"k", "40"}}, true},
                        {"sign", {}, true},                  {"scaled-sign", {}, false},
                        {"qsgd", {{"levels", "4"}}, false},  {"natural", {}, true},
                        {"identity", {}, true}};
  for (const Case& c : cases) {
    Values cpu(DETCGD_BACKEND_CPU, "50,1025", c.name, c.opts, 2), here(GetParam(), "50,1025", c.name, c.opts, 2);
    auto x = random_vec(2 * cpu.dim, 12), h = random_vec(2 * cpu.dim, 13);
    auto a = cpu.compress(x, 9, 2, h, 0, 3), b = here.compress(x, 9, 2, h, 0, 3);
    for (size_t j = 0; j < a.size(); ++j)
      if (c.exact) ASSERT_EQ(a[j], b[j]) << c.name << " " << j;
      else ASSERT_NEAR(a[j], b[j], 1e-12 * (1 + std::fabs(a[j]))) << c.name << " " << j;
    EXPECT_EQ(cpu.tally(), here.tally()) << c.name;
  }
}

// The message as bytes (codec.c): exactly the bits the tally counts, padded to bytes, decoded bit for bit, on
// every compressor and both value widths; a shared seed sends rand-k-c's values only.
TEST_P(ValueCompressors, MessagesRoundTripThroughTheCodecInTheirExactBits) {
  struct Case { const char* name; std::vector<std::pair<const char*, const char*>> opts; };
  const Case cases[] = {{"top-k", {{"k-list", "3,1,40"}}},  {"rand-k-c", {{"k-list", "5,1,40"}}},
                        {"rand-k-c", {{"k-list", "5,1,40"}, {"shared-seed", "1"}}}, {"sign", {}},
                        {"scaled-sign", {}},                  {"qsgd", {{"levels", "3"}}},
                        {"qsgd", {{"levels", "16"}}},         {"natural", {}},
                        {"identity", {}}};
  for (const Case& c : cases)
    for (const char* vb : {"32", "64"}) {
      auto opts = c.opts;
      opts.push_back({"value-bits", vb});
      Values v(GetParam(), "7,1,64", c.name, opts);
      std::vector<int> idx(std::max<int64_t>(v.sp.cap_off[3], 1));
      std::vector<double> scale(idx.size());
      std::vector<int> count(3);
      std::vector<unsigned char> mark(64, 0);
      DcSketchDraw d = {idx.data(), scale.data(), count.data()};
      std::vector<int> idx2(idx.size()), count2(3);
      std::vector<double> scale2(idx.size());
      DcSketchDraw room = {idx2.data(), scale2.data(), count2.data()};  // the decoder's own draw (shared seed)
      for (uint32_t it = 0; it < 5; ++it) {
        auto x = random_vec(v.dim, 20 + it);
        if (it == 1) std::fill(x.begin(), x.end(), 0.0);  // all zero: top-k keeps zeros, scaled sign's scale is 0
        if (it == 2) x[3] = 1e-310;                       // below the smallest normal (natural)
        int64_t bits0 = v.tally().second;
        auto y = v.compress(x, it);
        ASSERT_EQ(v.be.ops->sketch_read(&v.be, v.S, &d), DETCGD_OK);
        const int64_t bytes = dc_codec_bytes(&v.sp);
        EXPECT_EQ(bytes, (v.tally().second - bits0 + 7) / 8) << c.name << " " << vb;
        std::vector<unsigned char> msg(bytes);
        ASSERT_EQ(dc_codec_encode(&v.sp, y.data(), &d, msg.data()), DETCGD_OK) << c.name << " " << detcgd_last_error();
        std::vector<double> back(v.dim, 7.0);
        const char* why = dc_codec_decode(&v.sp, msg.data(), bytes, v.s.seed, it, 0, &room, mark.data(), back.data());
        ASSERT_EQ(why, nullptr) << c.name << " " << vb << ": " << why;
        ASSERT_EQ(0, memcmp(back.data(), y.data(), y.size() * sizeof(double))) << c.name << " " << vb << " iter " << it;
        EXPECT_NE(dc_codec_decode(&v.sp, msg.data(), bytes - 1, v.s.seed, it, 0, &room, mark.data(), back.data()), nullptr);
      }
    }
}

TEST(Codec, MalformedMessagesAreNamed) {
  Values t(DETCGD_BACKEND_CPU, "8", "top-k", {{"k", "2"}});
  std::vector<unsigned char> mark(8, 0), msg(dc_codec_bytes(&t.sp), 0);
  std::vector<double> y(8), scale(8);
  std::vector<int> idx(8), count(1);
  DcSketchDraw room = {idx.data(), scale.data(), count.data()};
  // (index 3 bits, value 64 bits) twice: indices 5 and 5
  auto put = [&](int64_t pos, uint64_t v, int n) {
    for (int i = 0; i < n; ++i, ++pos) if ((v >> i) & 1) msg[pos >> 3] |= (unsigned char)(1u << (pos & 7));
  };
  put(0, 5, 3);
  put(67, 5, 3);
  EXPECT_STREQ(dc_codec_decode(&t.sp, msg.data(), (int64_t)msg.size(), 1, 0, 0, &room, mark.data(), y.data()), "repeated index");
  Values q(DETCGD_BACKEND_CPU, "4", "qsgd", {{"levels", "2"}});  // norm (64 bits), then 4 x (sign, 2-bit level)
  std::vector<unsigned char> qm(dc_codec_bytes(&q.sp), 0);
  qm[8] = 0x6;  // the first level is 3 > s = 2
  EXPECT_STREQ(dc_codec_decode(&q.sp, qm.data(), (int64_t)qm.size(), 1, 0, 0, &room, mark.data(), y.data()), "QSGD: a level above s");
  Values n(DETCGD_BACKEND_CPU, "2", "natural", {});  // 2 x (sign, 11-bit exponent)
  std::vector<unsigned char> nm(dc_codec_bytes(&n.sp), 0xff);
  EXPECT_STREQ(dc_codec_decode(&n.sp, nm.data(), (int64_t)nm.size(), 1, 0, 0, &room, mark.data(), y.data()),
               "natural: an infinite or NaN exponent");
  EXPECT_STREQ(dc_codec_decode(&n.sp, nm.data(), 1, 1, 0, 0, &room, mark.data(), y.data()), "wrong message length");
}

INSTANTIATE_TEST_SUITE_P(Backends, ValueCompressors, testing::ValuesIn(available_backends()), backend_name);
