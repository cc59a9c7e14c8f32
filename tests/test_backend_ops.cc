// Every backend op against a plain host reference on random inputs of sizes
// 0, 1, 31, 32, 33, 1025 and 10^6, for every backend (CUDA cases skip without a
// device); the CUDA backend draws exactly the CPU's sketches; whole runs agree.
#include <cfloat>
#include <cmath>
#include <cstring>
#include <algorithm>
#include <numeric>
#include <random>
#include "test_util.h"
#ifdef DETCGD_TEST_OPENMP
#include <omp.h>
#endif
extern "C" {
#include "backend.h"
#include "cpu_math.h"
#include "problem.h"
#include "compressor.h"
#include "method.h"
#include "round.h"
#include "minibatch.h"
#include "stepsize.h"
}

namespace {

// |a - b| <= 1e-12 (1 + scale): scale is the sum of |terms| of the reference
void expect_close(const std::vector<double>& a, const std::vector<double>& b, const std::vector<double>& scale,
                  const char* what) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    ASSERT_LE(std::fabs(a[i] - b[i]), 1e-12 * (1 + scale[i])) << what << " entry " << i;
}

struct Be {
  DcBackend be{};
  explicit Be(int kind) { EXPECT_EQ(dc_backend_open(&be, kind), DETCGD_OK) << detcgd_last_error(); }
  ~Be() { dc_backend_close(&be); }
  const DcBackendOps* o() const { return be.ops; }
  DcVec* vec(const std::vector<double>& h) {
    DcVec* v = nullptr;
    EXPECT_EQ(be.ops->vec_create(&be, (int64_t)h.size(), &v), DETCGD_OK);
    if (!h.empty()) EXPECT_EQ(be.ops->vec_upload(&be, v, h.data()), DETCGD_OK);
    return v;
  }
  std::vector<double> get(DcVec* v, int64_t n) {
    std::vector<double> h(n);
    if (n) EXPECT_EQ(be.ops->vec_download(&be, v, h.data()), DETCGD_OK);
    return h;
  }
};

const int64_t kSizes[] = {0, 1, 31, 32, 33, 1025, 1000000};

}  // namespace

class Ops : public testing::TestWithParam<int> {
 protected:
  void SetUp() override { SKIP_WITHOUT_DEVICE(GetParam()); }
};

TEST_P(Ops, VectorOpsAndReductions) {
  Be b(GetParam());
  for (int64_t n : kSizes) {
    auto x = random_vec(n, 1), y = random_vec(n, 2);
    DcVec *dx = b.vec(x), *dy = b.vec(y), *m = b.vec({0, 0, 0, 0});
    ASSERT_EQ(b.o()->axpy(&b.be, 0.75, dx, dy), DETCGD_OK);
    std::vector<double> want(n), scale(n);
    for (int64_t i = 0; i < n; ++i) { want[i] = y[i] + 0.75 * x[i]; scale[i] = std::fabs(y[i]) + std::fabs(x[i]); }
    expect_close(b.get(dy, n), want, scale, "axpy");
    ASSERT_EQ(b.o()->dot(&b.be, dx, dx, m, 2), DETCGD_OK);
    double dot = 0;
    for (double v : x) dot += v * v;
    expect_close({b.get(m, 4)[2]}, {dot}, {dot}, "dot");
    ASSERT_EQ(b.o()->metric_set(&b.be, m, 0, 7.5), DETCGD_OK);
    auto mh = b.get(m, 4);
    EXPECT_EQ(mh[0], 7.5);
    EXPECT_EQ(mh[3], 0.0);
    ASSERT_EQ(b.o()->vec_fill(&b.be, dy, -2.0), DETCGD_OK);
    for (double v : b.get(dy, n)) ASSERT_EQ(v, -2.0);
    b.o()->vec_destroy(&b.be, &dx);
    b.o()->vec_destroy(&b.be, &dy);
    b.o()->vec_destroy(&b.be, &m);
  }
}

// rows_sum: y = (fresh ? 0 : y) + alpha (R_0 + ... + R_{nr-1}) into a window of y, with the bits of filling
// and an axpy per row, the entries outside the window untouched.
TEST_P(Ops, RowsSumHasTheBitsOfFillAndAnAxpyPerRow) {
  Be b(GetParam());
  for (int64_t n : kSizes)
    for (int nr : {1, 3})
      for (int fresh : {0, 1}) {
        auto R = random_vec(n * nr, 7), y0 = random_vec(n + 2, 8);
        DcVec *dR = b.vec(R), *dy = b.vec(y0), *row = b.vec(std::vector<double>(n, 0)), *ref = b.vec(std::vector<double>(n, 0));
        ASSERT_EQ(b.o()->rows_sum(&b.be, dR, nr, n, 0.3, fresh, dy, 1), DETCGD_OK);
        std::vector<double> start(y0.begin() + 1, y0.begin() + 1 + n);
        if (n) ASSERT_EQ(b.o()->vec_upload(&b.be, ref, start.data()), DETCGD_OK);
        if (fresh) ASSERT_EQ(b.o()->vec_fill(&b.be, ref, 0.0), DETCGD_OK);
        for (int r = 0; r < nr; ++r) {
          std::vector<double> Rr(R.begin() + r * n, R.begin() + (r + 1) * n);
          if (n) ASSERT_EQ(b.o()->vec_upload(&b.be, row, Rr.data()), DETCGD_OK);
          ASSERT_EQ(b.o()->axpy(&b.be, 0.3, row, ref), DETCGD_OK);
        }
        auto got = b.get(dy, n + 2), want = b.get(ref, n);
        ASSERT_EQ(got[0], y0[0]) << n;
        ASSERT_EQ(got[n + 1], y0[n + 1]) << n;
        ASSERT_EQ(std::vector<double>(got.begin() + 1, got.begin() + 1 + n), want) << "n " << n << ", rows " << nr;
        for (DcVec* v : {dR, dy, row, ref}) b.o()->vec_destroy(&b.be, &v);
      }
  // one value per row: a chunk's losses into a metric slot, left to right
  DcVec *F = b.vec({0.1, 0.2, 0.3}), *m = b.vec({5, 5, 5});
  ASSERT_EQ(b.o()->rows_sum(&b.be, F, 3, 1, 1.0, 1, m, 1), DETCGD_OK);
  EXPECT_EQ(b.get(m, 3), std::vector<double>({5, (0.0 + 0.1 + 0.2) + 0.3, 5}));
  ASSERT_EQ(b.o()->rows_sum(&b.be, F, 2, 1, 1.0, 0, m, 1), DETCGD_OK);
  EXPECT_EQ(b.get(m, 3)[1], ((0.0 + 0.1 + 0.2) + 0.3 + 0.1) + 0.2);
  b.o()->vec_destroy(&b.be, &F);
  b.o()->vec_destroy(&b.be, &m);
}

// axpby and the elementwise maps, with constant scalars and scalars read from a metric slot on the backend
// Row views (vec_view): a view of rows r0 .. r0 + nr of an R-row vector reads and writes those rows only, through
// the ops (copy, axpby, dot); re-pointed it follows the new rows without a new handle; destroying it leaves the
// vector.  Row widths of every size; a view outside the vector is refused.
TEST_P(Ops, RowViewsReadAndWriteTheirRowsOnly) {
  Be b(GetParam());
  DcVec* m = b.vec({0.0});
  for (int64_t n : kSizes) {
    const int R = 4;
    const std::vector<double> h = random_vec(R * n, 50), x = random_vec(n, 51);
    DcVec *v = b.vec(h), *dx = b.vec(x), *view = nullptr;
    for (int r0 : {1, 3}) {
      DcVec* const before = view;
      ASSERT_EQ(b.o()->vec_view(&b.be, v, r0 * n, n, &view), DETCGD_OK);
      if (before) EXPECT_EQ(view, before) << "re-pointed, not a new handle";
      const DcScalar a = {2.0, nullptr, 0, 1}, c = {-0.5, nullptr, 0, 1};
      ASSERT_EQ(b.o()->axpby(&b.be, a, dx, c, view), DETCGD_OK);
      const std::vector<double> got = b.get(v, R * n);
      std::vector<double> expect = h;
      for (int rr = 1; rr <= r0; rr += 2)  // rows written so far: 1, then 3
        for (int64_t i = 0; i < n; ++i) expect[rr * n + i] = 2.0 * x[i] - 0.5 * h[rr * n + i];
      EXPECT_EQ(got, expect) << "n " << n << ", rows from " << r0;
      if (n > 0) {
        ASSERT_EQ(b.o()->dot(&b.be, view, dx, m, 0), DETCGD_OK);
        double d = 0;
        for (int64_t i = 0; i < n; ++i) d += expect[r0 * n + i] * x[i];
        EXPECT_NEAR(b.get(m, 1)[0], d, 1e-12 * (1 + std::fabs(d)));
      }
    }
    DcVec* bad = nullptr;
    EXPECT_NE(b.o()->vec_view(&b.be, v, 3 * n + 1, n, &bad), DETCGD_OK);
    b.o()->vec_destroy(&b.be, &view);
    EXPECT_EQ(view, nullptr);
    EXPECT_EQ(b.get(v, R * n).size(), (size_t)(R * n));  // the vector outlives its view
    b.o()->vec_destroy(&b.be, &v);
    b.o()->vec_destroy(&b.be, &dx);
  }
  b.o()->vec_destroy(&b.be, &m);
}

// (c m[slot]^power): the bits of the plain formulas, at every size, on every backend.
TEST_P(Ops, AxpbyAndMapsWithScalarsOnTheBackend) {
  Be b(GetParam());
  DcVec* m = b.vec({0.0, 4.0, 2.25, 0.5});
  auto value = [](DcScalar s, const std::vector<double>& mh) {
    if (!s.m) return s.c;
    double v = mh[s.slot];
    return s.power == 1.0 ? s.c * v : s.power == -1.0 ? s.c / v : s.power == 0.5 ? s.c * std::sqrt(v) : s.c / std::sqrt(v);
  };
  const std::vector<double> mh = {0.0, 4.0, 2.25, 0.5};
  const DcScalar scalars[] = {{0.5, nullptr, 0, 1}, {-1.5, nullptr, 0, 1}, {2.0, m, 1, -0.5}, {0.2, m, 2, 0.5},
                              {3.0, m, 3, 1.0}, {1.0, m, 3, -1.0}, {0.0, nullptr, 0, 1}};
  for (int64_t n : kSizes) {
    auto x = random_vec(n, 40), y = random_vec(n, 41);
    for (int64_t i = 0; i < n; i += 7) x[i] = i % 2 ? 0.0 : (i % 3 ? 0.3 : -0.3);  // zeros and +-t exactly
    DcVec* dx = b.vec(x);
    for (const DcScalar& a : scalars)
      for (const DcScalar& c : scalars) {
        DcVec* dy = b.vec(y);
        ASSERT_EQ(b.o()->axpby(&b.be, a, dx, c, dy), DETCGD_OK);
        std::vector<double> want(n);
        const double av = value(a, mh), cv = value(c, mh);
        for (int64_t i = 0; i < n; ++i) want[i] = !c.m && c.c == 0.0 ? av * x[i] : av * x[i] + cv * y[i];
        ASSERT_EQ(b.get(dy, n), want) << "axpby, n " << n;
        b.o()->vec_destroy(&b.be, &dy);
      }
    for (int map : {DC_MAP_SIGN, DC_MAP_SOFT_THRESHOLD, DC_MAP_CLIP, DC_MAP_SCALE})
      for (const DcScalar& t : {DcScalar{0.3, nullptr, 0, 1}, DcScalar{0.2, m, 2, 0.5}}) {
        DcVec* dy = b.vec(std::vector<double>(n, 7.0));
        ASSERT_EQ(b.o()->vec_map(&b.be, map, dx, t, dy), DETCGD_OK);
        const double tv = value(t, mh);
        std::vector<double> want(n);
        for (int64_t i = 0; i < n; ++i) {
          const double v = x[i];
          want[i] = map == DC_MAP_SIGN ? (v > 0 ? 1.0 : v < 0 ? -1.0 : v)
                    : map == DC_MAP_SOFT_THRESHOLD ? (v > tv ? v - tv : v < -tv ? v + tv : 0.0)
                    : map == DC_MAP_CLIP ? (v > tv ? tv : v < -tv ? -tv : v) : tv * v;
        }
        ASSERT_EQ(b.get(dy, n), want) << "map " << map << ", n " << n;
        ASSERT_EQ(b.o()->vec_map(&b.be, map, dy, t, dy), DETCGD_OK);  // in place
        b.o()->vec_destroy(&b.be, &dy);
      }
    b.o()->vec_destroy(&b.be, &dx);
  }
  b.o()->vec_destroy(&b.be, &m);
}

// A request the device cannot meet fails with a message naming it, the bytes needed and the bytes free, and
// leaves the backend working (the arena records nothing for it).
TEST(CudaMemory, RunningOutNamesTheBytesNeededAndFreeAndLeavesTheBackendWorking) {
  SKIP_WITHOUT_DEVICE(DETCGD_BACKEND_CUDA);
  Be b(DETCGD_BACKEND_CUDA);
  DcVec* huge = nullptr;
  ASSERT_EQ(b.o()->vec_create(&b.be, (int64_t)1 << 47, &huge), DETCGD_ERR_ALLOC);
  EXPECT_EQ(huge, nullptr);
  std::string msg = detcgd_last_error();
  for (const char* part : {"vector", "1125899906842624 bytes needed", "bytes free of", "this solver holds"})
    EXPECT_NE(msg.find(part), std::string::npos) << msg;
  DcVec* v = b.vec({1.0, 2.0, 3.0});
  ASSERT_EQ(b.o()->vec_fill(&b.be, v, 4.0), DETCGD_OK);
  EXPECT_EQ(b.get(v, 3), std::vector<double>({4.0, 4.0, 4.0}));
  b.o()->vec_destroy(&b.be, &v);
}

// Layouts exercising tiles: 1, 31, 32 + 33, 5 + 1025, 100 x 64 (dense); 10^6 diagonal / scalar.
struct LayoutCase { std::vector<int> sizes; int kind; };

class BlockOps : public testing::TestWithParam<int> {
 protected:
  void SetUp() override { SKIP_WITHOUT_DEVICE(GetParam()); }
};

static std::vector<LayoutCase> layout_cases() {
  std::vector<LayoutCase> c;
  for (int kind : {DC_BLOCKS_DENSE, DC_BLOCKS_DIAG, DC_BLOCKS_SCALAR}) {
    c.push_back({{1}, kind});
    c.push_back({{31}, kind});
    c.push_back({{32, 33}, kind});
    c.push_back({{5, 1025}, kind});
    c.push_back({std::vector<int>(100, 64), kind});
    if (kind != DC_BLOCKS_DENSE) c.push_back({std::vector<int>(1000, 1000), kind});
  }
  return c;
}

// Random entries in [-1, 1) from `seed`; dense blocks symmetric (the upper triangle mirrored).
static void fill_random(DcHostBlocks& H, unsigned seed) {
  const DcLayout& lay = *H.layout;
  auto data = random_vec(dc_blocks_count(&H), seed);
  for (int i = 0; H.kind == DC_BLOCKS_DENSE && i < lay.nblocks; ++i)
    for (int c = 0; c < lay.size[i]; ++c)
      for (int r = 0; r < c; ++r) data[lay.moff[i] + c + (int64_t)r * lay.size[i]] = data[lay.moff[i] + r + (int64_t)c * lay.size[i]];
  std::copy(data.begin(), data.end(), H.data);
}

// rand-k with k_i = ceil(d_i / 3) on every layer, 32-bit values (free with dc_sketch_spec_free).
static DcSketchSpec randk_third(const DcLayout& lay) {
  DcSketchSpec sp{};
  sp.kind = DC_SK_RANDK;
  sp.layout = &lay;
  sp.layers = (DcSketchLayer*)calloc(lay.nblocks, sizeof(DcSketchLayer));
  sp.cap_off = (int64_t*)calloc(lay.nblocks + 1, sizeof(int64_t));
  sp.value_bits = 32;
  for (int i = 0; i < lay.nblocks; ++i) {
    sp.layers[i] = {DC_SK_RANDK, lay.size[i], (lay.size[i] + 2) / 3, 0, 0};
    sp.cap_off[i + 1] = sp.cap_off[i] + sp.layers[i].k;
  }
  return sp;
}

// Dense host copy of block i.
static std::vector<double> dense_block(const DcHostBlocks& B, int i) {
  int m = B.layout->size[i];
  std::vector<double> out((size_t)m * m);
  dc_blocks_get_dense(&B, i, out.data());
  return out;
}

TEST_P(BlockOps, ApplyColsRowsQuadformCompressAccumulate) {
  Be b(GetParam());
  for (const LayoutCase& lc : layout_cases()) {
    DcLayout lay;
    ASSERT_EQ(dc_layout_init(&lay, (int)lc.sizes.size(), lc.sizes.data()), DETCGD_OK);
    DcHostBlocks H;
    ASSERT_EQ(dc_blocks_alloc(&H, &lay, lc.kind), DETCGD_OK);
    fill_random(H, 3);
    DcBlocks* B = nullptr;
    ASSERT_EQ(b.o()->blocks_create(&b.be, &H, &B), DETCGD_OK) << detcgd_last_error();
    // a rand-k sketch with k_i = ceil(d_i / 3), drawn at (seed 9, iter 4, client 2)
    DcSketchSpec sp = randk_third(lay);
    DcSketch* S = nullptr;
    ASSERT_EQ(b.o()->sketch_create(&b.be, &sp, 1, &S), DETCGD_OK);
    ASSERT_EQ(b.o()->sketch_sample(&b.be, S, 9, 4, 2), DETCGD_OK);
    int64_t cap = sp.cap_off[lay.nblocks];
    std::vector<int> idx(cap), cnt(lay.nblocks);
    std::vector<double> sc(cap);
    DcSketchDraw draw = {idx.data(), sc.data(), cnt.data()};
    ASSERT_EQ(b.o()->sketch_read(&b.be, S, &draw), DETCGD_OK);

    auto x = random_vec(lay.dim, 4), y0 = random_vec(lay.dim, 5);
    std::vector<double> full(lay.dim), cols(y0), rows(y0), scale_full(lay.dim, 0), scale_cols(lay.dim, 0),
        scale_rows(lay.dim, 0), vals(cap, 0), acc(lay.dim, 0);
    double quad = 0, quad_scale = 0;
    for (int i = 0; i < lay.nblocks; ++i) {
      int m = lay.size[i];
      auto Bi = dense_block(H, i);
      const double* xi = x.data() + lay.voff[i];
      for (int r = 0; r < m; ++r) {
        double s = 0, a = 0;
        for (int c = 0; c < m; ++c) { s += Bi[r + (int64_t)c * m] * xi[c]; a += std::fabs(Bi[r + (int64_t)c * m] * xi[c]); }
        full[lay.voff[i] + r] = y0[lay.voff[i] + r] - 0.5 * s;
        scale_full[lay.voff[i] + r] = std::fabs(y0[lay.voff[i] + r]) + a;
        quad += xi[r] * s;
        quad_scale += std::fabs(xi[r]) * a;
      }
      for (int t = 0; t < cnt[i]; ++t) {
        int j = idx[sp.cap_off[i] + t];
        double s_t = sc[sp.cap_off[i] + t], row = 0, arow = 0;
        ASSERT_EQ(s_t, double(m) / sp.layers[i].k);
        for (int r = 0; r < m; ++r) {  // kept column j
          cols[lay.voff[i] + r] += -0.5 * Bi[r + (int64_t)j * m] * s_t * xi[j];
          scale_cols[lay.voff[i] + r] += std::fabs(Bi[r + (int64_t)j * m] * s_t * xi[j]);
        }
        for (int c = 0; c < m; ++c) { row += Bi[j + (int64_t)c * m] * xi[c]; arow += std::fabs(Bi[j + (int64_t)c * m] * xi[c]); }
        rows[lay.voff[i] + j] += -0.5 * s_t * row;
        scale_rows[lay.voff[i] + j] += std::fabs(s_t) * arow;
        vals[sp.cap_off[i] + t] = s_t * row;  // compress with B (det-CGD2 message)
        acc[lay.voff[i] + j] += 2.0 * s_t * row;
      }
    }
    for (int64_t j = 0; j < lay.dim; ++j) { scale_cols[j] += std::fabs(y0[j]); scale_rows[j] += std::fabs(y0[j]); }
    DcVec *dx = b.vec(x), *dy = b.vec(y0), *dc = b.vec(y0), *dr = b.vec(y0), *m = b.vec({0, 0, 0.25}), *dv = b.vec(std::vector<double>(cap, 0)),
          *da = b.vec(std::vector<double>(lay.dim, 0));
    ASSERT_EQ(b.o()->bd_apply(&b.be, B, DC_SEL_FULL, nullptr, dx, -0.5, dy), DETCGD_OK);
    ASSERT_EQ(b.o()->bd_apply(&b.be, B, DC_SEL_COLS, S, dx, -0.5, dc), DETCGD_OK);
    ASSERT_EQ(b.o()->bd_apply(&b.be, B, DC_SEL_ROWS, S, dx, -0.5, dr), DETCGD_OK);
    ASSERT_EQ(b.o()->bd_quadform(&b.be, B, dx, m, 1, 2), DETCGD_OK);  // and the running sum m[2] += m[1]
    ASSERT_EQ(b.o()->bd_quadform(&b.be, B, dx, m, 1, 2), DETCGD_OK);
    ASSERT_EQ(b.o()->sketch_compress(&b.be, B, S, dx, 0, dv), DETCGD_OK);
    ASSERT_EQ(b.o()->sketch_accumulate(&b.be, S, dv, 2.0, da), DETCGD_OK);
    expect_close(b.get(dy, lay.dim), full, scale_full, "bd_apply");
    expect_close(b.get(dc, lay.dim), cols, scale_cols, "bd_apply COLS");
    expect_close(b.get(dr, lay.dim), rows, scale_rows, "bd_apply ROWS");
    auto mq = b.get(m, 3);
    expect_close({mq[1]}, {quad}, {quad_scale}, "bd_quadform");
    EXPECT_EQ(mq[2], (0.25 + mq[1]) + mq[1]) << "bd_quadform's running sum";
    std::vector<double> vscale(cap), ascale(lay.dim);
    for (int64_t g = 0; g < cap; ++g) vscale[g] = std::fabs(vals[g]) * 1e3;
    for (int64_t j = 0; j < lay.dim; ++j) ascale[j] = std::fabs(acc[j]) * 1e3;
    expect_close(b.get(dv, cap), vals, vscale, "sketch_compress");
    expect_close(b.get(da, lay.dim), acc, ascale, "sketch_accumulate");
    for (DcVec* v : {dx, dy, dc, dr, m, dv, da}) b.o()->vec_destroy(&b.be, &v);
    b.o()->sketch_destroy(&b.be, &S);
    b.o()->blocks_destroy(&b.be, &B);
    dc_sketch_spec_free(&sp);
    dc_blocks_free(&H);
    dc_layout_free(&lay);
  }
}

// Dense blocks kept as float (fp32 stepsize storage): every op gives the bits of double storage of the
// same float values, on every backend; entries that are not floats are taken as their float roundings.
TEST_P(BlockOps, Fp32DenseStorageGivesTheBitsOfDoubleStorage) {
  Be b(GetParam());
  for (const std::vector<int>& sizes : {std::vector<int>{1}, std::vector<int>{32, 33}, std::vector<int>{5, 1025},
                                        std::vector<int>(100, 64)}) {
    DcLayout lay;
    ASSERT_EQ(dc_layout_init(&lay, (int)sizes.size(), sizes.data()), DETCGD_OK);
    DcHostBlocks H;
    ASSERT_EQ(dc_blocks_alloc(&H, &lay, DC_BLOCKS_DENSE), DETCGD_OK);
    fill_random(H, 21);
    ASSERT_EQ(dc_blocks_round_float(&H, "test"), DETCGD_OK);
    ASSERT_EQ(H.store32, 1);
    DcBlocks *B32 = nullptr, *B64 = nullptr;
    ASSERT_EQ(b.o()->blocks_create(&b.be, &H, &B32), DETCGD_OK) << detcgd_last_error();
    H.store32 = 0;
    ASSERT_EQ(b.o()->blocks_create(&b.be, &H, &B64), DETCGD_OK) << detcgd_last_error();
    DcSketchSpec sp = randk_third(lay);
    DcSketch* S = nullptr;
    ASSERT_EQ(b.o()->sketch_create(&b.be, &sp, 1, &S), DETCGD_OK);
    ASSERT_EQ(b.o()->sketch_sample(&b.be, S, 9, 4, 2), DETCGD_OK);
    int64_t d = lay.dim, cap = sp.cap_off[lay.nblocks];
    auto x = random_vec(d, 22), y0 = random_vec(d, 23);
    std::vector<double> out[2][5];
    const DcBlocks* Bs[2] = {B64, B32};
    for (int w = 0; w < 2; ++w) {
      DcVec *dx = b.vec(x), *dy = b.vec(y0), *dc = b.vec(y0), *dr = b.vec(y0), *m = b.vec({0}), *dv = b.vec(std::vector<double>(cap, 0));
      ASSERT_EQ(b.o()->bd_apply(&b.be, Bs[w], DC_SEL_FULL, nullptr, dx, -0.5, dy), DETCGD_OK);
      ASSERT_EQ(b.o()->bd_apply(&b.be, Bs[w], DC_SEL_COLS, S, dx, -0.5, dc), DETCGD_OK);
      ASSERT_EQ(b.o()->bd_apply(&b.be, Bs[w], DC_SEL_ROWS, S, dx, -0.5, dr), DETCGD_OK);
      ASSERT_EQ(b.o()->bd_quadform(&b.be, Bs[w], dx, m, 0, -1), DETCGD_OK);
      ASSERT_EQ(b.o()->sketch_compress(&b.be, Bs[w], S, dx, 0, dv), DETCGD_OK);
      out[w][0] = b.get(dy, d);
      out[w][1] = b.get(dc, d);
      out[w][2] = b.get(dr, d);
      out[w][3] = b.get(m, 1);
      out[w][4] = b.get(dv, cap);
      for (DcVec* v : {dx, dy, dc, dr, m, dv}) b.o()->vec_destroy(&b.be, &v);
    }
    const char* ops[5] = {"bd_apply FULL", "bd_apply COLS", "bd_apply ROWS", "bd_quadform", "sketch_compress"};
    for (int op = 0; op < 5; ++op) EXPECT_EQ(out[0][op], out[1][op]) << ops[op] << ", layers " << sizes.size();
    EXPECT_NE(out[0][0], y0);
    b.o()->blocks_destroy(&b.be, &B32);
    b.o()->blocks_destroy(&b.be, &B64);
    // entries given in double are stored as their float roundings: B = 0.1 I applied to e_0
    std::fill(H.data, H.data + dc_blocks_count(&H), 0.0);
    for (int i = 0; i < lay.nblocks; ++i)
      for (int r = 0; r < lay.size[i]; ++r) H.data[lay.moff[i] + r + (int64_t)r * lay.size[i]] = 0.1;
    H.store32 = 1;
    ASSERT_EQ(b.o()->blocks_create(&b.be, &H, &B32), DETCGD_OK);
    std::vector<double> e0(d, 0.0);
    e0[0] = 1.0;
    DcVec *de = b.vec(e0), *dy = b.vec(std::vector<double>(d, 0.0));
    ASSERT_EQ(b.o()->bd_apply(&b.be, B32, DC_SEL_FULL, nullptr, de, 1.0, dy), DETCGD_OK);
    EXPECT_EQ(b.get(dy, d)[0], (double)0.1f);
    EXPECT_NE((double)0.1f, 0.1);
    for (DcVec* v : {de, dy}) b.o()->vec_destroy(&b.be, &v);
    b.o()->blocks_destroy(&b.be, &B32);
    b.o()->sketch_destroy(&b.be, &S);
    dc_sketch_spec_free(&sp);
    dc_blocks_free(&H);
    dc_layout_free(&lay);
  }
}

// ---- n clients in one round against client after client ----

// quad-nc with sparse steps: quad_residual gives problem_grad's bits (g, f) and q = A (x - c); after steps
// x_kept -= v (v from sketch_compress: rand-k, Bern-q, coordinate Bernoulli), quad_step's q and g equal a
// fresh quad_residual at the new x to rounding; fp64 and fp32 A; layers of 1, 31, 32, 33 and 130.
TEST_P(BlockOps, QuadStepsKeepTheGradientFromTheKeptColumnsOfA) {
  for (int prec : {DETCGD_PREC_FP64, DETCGD_PREC_FP32}) {
    DetcgdProblem* p = make_quad("1,31,32,33,130", 0.1, 0.5, 7, prec);
    ASSERT_NE(p, nullptr);
    const DcLayout& lay = p->layout;
    const int64_t d = lay.dim;
    Be b(GetParam());
    DcHostBlocks H;
    ASSERT_EQ(dc_blocks_alloc(&H, &lay, DC_BLOCKS_DENSE), DETCGD_OK);
    fill_random(H, 21);
    DcBlocks* D = nullptr;
    DcProbData* P = nullptr;
    ASSERT_EQ(b.o()->blocks_create(&b.be, &H, &D), DETCGD_OK);
    ASSERT_EQ(b.o()->problem_create(&b.be, &p->host, &P), DETCGD_OK);
    for (int sketch : {DETCGD_SKETCH_RANDK, DETCGD_SKETCH_BERNQ, DETCGD_SKETCH_BERNOULLI}) {
      DetcgdSettings s = quiet_settings(GetParam());
      s.sketch.kind = sketch;
      s.sketch.k_ratio = 0.1;  // k_i = 1 for the layer of 1
      DcSketchSpec sp;
      ASSERT_EQ(dc_sketch_spec_build(&sp, &s.sketch, &s.comm, p), DETCGD_OK);
      DcSketch* S = nullptr;
      ASSERT_EQ(b.o()->sketch_create(&b.be, &sp, 1, &S), DETCGD_OK);
      DcVec *x = b.vec(random_vec(d, 31)), *q = b.vec(std::vector<double>(d, 7)), *g = b.vec(std::vector<double>(d, 7)),
            *g0 = b.vec(std::vector<double>(d, 0)), *m = b.vec({0, 0}),
            *vals = b.vec(std::vector<double>(sp.cap_off[lay.nblocks], 0)), *qf = b.vec(std::vector<double>(d, 0)),
            *gf = b.vec(std::vector<double>(d, 0));
      ASSERT_EQ(b.o()->quad_residual(&b.be, P, x, q, g, m, 0), DETCGD_OK);
      ASSERT_EQ(b.o()->problem_grad(&b.be, P, x, g0, m, 1), DETCGD_OK);
      const std::vector<double> mm = b.get(m, 2);
      EXPECT_EQ(mm[0], mm[1]) << "f, sketch " << sketch;
      EXPECT_EQ(b.get(g, d), b.get(g0, d)) << "g, sketch " << sketch;
      const std::vector<double> q0 = b.get(q, d);
      for (uint32_t it = 0; it < 6; ++it) {
        ASSERT_EQ(b.o()->sketch_sample(&b.be, S, 3, it, 0), DETCGD_OK);
        ASSERT_EQ(b.o()->sketch_compress(&b.be, D, S, g, 0, vals), DETCGD_OK);
        ASSERT_EQ(b.o()->sketch_accumulate(&b.be, S, vals, -0.3, x), DETCGD_OK);
        ASSERT_EQ(b.o()->quad_step(&b.be, P, S, vals, -0.3, x, q, g), DETCGD_OK);
      }
      ASSERT_EQ(b.o()->quad_residual(&b.be, P, x, qf, gf, m, -1), DETCGD_OK);
      const std::vector<double> qs = b.get(q, d), qx = b.get(qf, d), gs = b.get(g, d), gx = b.get(gf, d);
      double scale = 0;
      for (double v : qx) scale = std::max(scale, std::fabs(v));
      for (int64_t j = 0; j < d; ++j) {
        ASSERT_NEAR(qs[j], qx[j], 1e-13 * (1 + scale)) << "q, sketch " << sketch << " entry " << j;
        ASSERT_NEAR(gs[j], gx[j], 1e-13 * (1 + scale)) << "g, sketch " << sketch << " entry " << j;
      }
      EXPECT_NE(qs, q0) << "the steps moved q, sketch " << sketch;
      for (DcVec* v : {x, q, g, g0, m, vals, qf, gf}) b.o()->vec_destroy(&b.be, &v);
      b.o()->sketch_destroy(&b.be, &S);
      dc_sketch_spec_free(&sp);
    }
    b.o()->problem_destroy(&b.be, &P);
    b.o()->blocks_destroy(&b.be, &D);
    dc_blocks_free(&H);
    detcgd_problem_destroy(&p);
  }
}

class ClientOps : public testing::TestWithParam<int> {
 protected:
  void SetUp() override { SKIP_WITHOUT_DEVICE(GetParam()); }
};

// A chunk of clients' draws, messages and their sum or rows (sketch_*_rows) give the bits of the single-draw
// ops run client after client: layouts of widths 1 to 1025, fixed-size, random-size and whole-layer draws,
// messages through a dense matrix or not, of X or of X less a shift H, summed or kept per row, written fresh
// or added to what is there.
TEST_P(ClientOps, SketchRowsHaveTheBitsOfSingleDrawsClientAfterClient) {
  const std::vector<std::vector<int>> layouts = {{1}, {31}, {32, 33}, {5, 1025}};
  Be b(GetParam());
  for (const auto& sizes : layouts) {
    std::string spec_layers;
    for (int w : sizes) spec_layers += (spec_layers.empty() ? "" : ",") + std::to_string(w);
    DetcgdProblem* p = make_quad(spec_layers.c_str(), 0.1, 1.0);  // the layout is what counts here
    ASSERT_NE(p, nullptr);
    const DcLayout& lay = p->layout;
    for (int sketch : {DETCGD_SKETCH_RANDK, DETCGD_SKETCH_BERNOULLI, DETCGD_SKETCH_BERNQ})
      for (int fresh : {0, 1}) {
        DetcgdSettings s = quiet_settings(GetParam());
        s.sketch.kind = sketch;
        s.sketch.k = 1;
        s.sketch.p = 0.3;
        s.sketch.q = 0.6;
        DcSketchSpec sp;
        ASSERT_EQ(dc_sketch_spec_build(&sp, &s.sketch, &s.comm, p), DETCGD_OK) << detcgd_last_error();
        const int nc = 3, c0 = 2;
        int64_t d = lay.dim, cap = sp.cap_off[lay.nblocks], len = b.o()->message_row_len(&b.be, &sp);
        DcHostBlocks H;
        ASSERT_EQ(dc_blocks_alloc(&H, &lay, DC_BLOCKS_DENSE), DETCGD_OK);
        fill_random(H, 31);
        DcBlocks* D = nullptr;
        ASSERT_EQ(b.o()->blocks_create(&b.be, &H, &D), DETCGD_OK);
        DcSketch *rows = nullptr, *one = nullptr;
        ASSERT_EQ(b.o()->sketch_create(&b.be, &sp, nc, &rows), DETCGD_OK);
        ASSERT_EQ(b.o()->sketch_create(&b.be, &sp, 1, &one), DETCGD_OK);
        auto X = random_vec(nc * d, 32), Hs = random_vec(nc * d, 34), y0 = random_vec(nc * d, 33);
        for (const DcBlocks* B : {(const DcBlocks*)nullptr, (const DcBlocks*)D})
          for (int shift = 0; shift < 2; ++shift)
            for (int per_row = 0; per_row < 2; ++per_row) {
              SCOPED_TRACE("sketch " + std::to_string(sketch) + ", d " + std::to_string(d) + ", B " +
                           std::to_string(B != nullptr) + ", shift " + std::to_string(shift) + ", per row " +
                           std::to_string(per_row) + ", fresh " + std::to_string(fresh));
              const int64_t ny = per_row ? nc * d : d;
              std::vector<double> ystart(y0.begin(), y0.begin() + ny);
              DcVec *dX = b.vec(X), *dH = b.vec(Hs), *M = b.vec(std::vector<double>(nc * len, 0)), *y1 = b.vec(ystart),
                    *x = b.vec(std::vector<double>(d, 0)), *vals = b.vec(std::vector<double>(cap, 0));
              ASSERT_EQ(b.o()->sketch_sample_rows(&b.be, rows, 9, 4, c0, nc), DETCGD_OK);
              ASSERT_EQ(b.o()->sketch_compress_rows(&b.be, B, rows, dX, shift ? dH : nullptr, nc, 1, M), DETCGD_OK);
              ASSERT_EQ(b.o()->sketch_accumulate_rows(&b.be, rows, M, nc, 0.5, fresh, per_row, y1), DETCGD_OK);
              // the same client after client: x = X_r - H_r formed on the host, one draw, one message
              std::vector<double> want(ny, 0.0);
              DcVec* y2 = b.vec(fresh ? std::vector<double>(d, 0.0) : std::vector<double>(y0.begin(), y0.begin() + d));
              for (int r = 0; r < nc; ++r) {
                std::vector<double> xr(X.begin() + r * d, X.begin() + (r + 1) * d);
                if (shift) for (int64_t j = 0; j < d; ++j) xr[j] -= Hs[r * d + j];
                ASSERT_EQ(b.o()->vec_upload(&b.be, x, xr.data()), DETCGD_OK);
                ASSERT_EQ(b.o()->sketch_sample(&b.be, one, 9, 4, c0 + r), DETCGD_OK);
                ASSERT_EQ(b.o()->sketch_compress(&b.be, B, one, x, 1, vals), DETCGD_OK);
                if (per_row && r > 0) {  // row r's own start
                  std::vector<double> yr = fresh ? std::vector<double>(d, 0.0)
                                                 : std::vector<double>(y0.begin() + r * d, y0.begin() + (r + 1) * d);
                  ASSERT_EQ(b.o()->vec_upload(&b.be, y2, yr.data()), DETCGD_OK);
                }
                ASSERT_EQ(b.o()->sketch_accumulate(&b.be, one, vals, 0.5, y2), DETCGD_OK);
                if (per_row) {
                  auto got = b.get(y2, d);
                  std::copy(got.begin(), got.end(), want.begin() + r * d);
                }
              }
              if (!per_row) want = b.get(y2, d);
              EXPECT_EQ(b.get(y1, ny), want);
              for (DcVec* v : {dX, dH, M, y1, y2, x, vals}) b.o()->vec_destroy(&b.be, &v);
            }
        int64_t c1, b1, c2, b2;
        ASSERT_EQ(b.o()->sketch_tally(&b.be, rows, &c1, &b1), DETCGD_OK);
        ASSERT_EQ(b.o()->sketch_tally(&b.be, one, &c2, &b2), DETCGD_OK);
        EXPECT_EQ(c1, c2);
        EXPECT_EQ(b1, b2);
        b.o()->sketch_destroy(&b.be, &rows);
        b.o()->sketch_destroy(&b.be, &one);
        b.o()->blocks_destroy(&b.be, &D);
        dc_blocks_free(&H);
        dc_sketch_spec_free(&sp);
      }
    detcgd_problem_destroy(&p);
  }
}

// The round over every client (run/round.c, a chunk at a time: the backend's chunk, 3 and 1, the messages made
// by the method's client op and summed by its absorb) gives the bits of the per-client ops run client after
// client, for Algorithm 1 (S_c g_c, float values) and Algorithm 2 (T_c D g_c), fixed-size and random-size draws, and a server sending only its first clients' messages.
TEST_P(ClientOps, RoundOverAllClientsEqualsClientByClientBitForBit) {
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  snprintf(ps.data_path, sizeof ps.data_path, "%s", DETCGD_SHARED_DATA "/a1a");
  ps.nlayers = 3;
  ps.clients = 7;
  ps.split = DETCGD_SPLIT_SHUFFLED;
  DetcgdProblem* p = nullptr;
  ASSERT_EQ(detcgd_problem_create(&p, &ps), DETCGD_OK) << detcgd_last_error();
  const DcLayout& lay = p->layout;
  Be b(GetParam());
  DcHostBlocks H;
  ASSERT_EQ(dc_blocks_alloc(&H, &lay, DC_BLOCKS_DENSE), DETCGD_OK);
  fill_random(H, 11);
  DcBlocks* D = nullptr;
  ASSERT_EQ(b.o()->blocks_create(&b.be, &H, &D), DETCGD_OK);
  std::vector<DcProbData*> Pc(p->nclients);
  for (int c = 0; c < p->nclients; ++c) ASSERT_EQ(b.o()->problem_create(&b.be, &p->client_host[c], &Pc[c]), DETCGD_OK);
  for (int sketch : {DETCGD_SKETCH_RANDK, DETCGD_SKETCH_BERNOULLI})
    for (int alg2 = 0; alg2 < 2; ++alg2)
      for (int chunk : {0, 3, 1}) {
      DetcgdSettings s = quiet_settings(GetParam());
      s.sketch.kind = sketch;
      s.sketch.k = 5;
      s.sketch.p = 0.2;
      DcSketchSpec sp;
      ASSERT_EQ(dc_sketch_spec_build(&sp, &s.sketch, &s.comm, p), DETCGD_OK);
      int64_t d = lay.dim, cap = sp.cap_off[lay.nblocks];
      DcRound R;
      DcSketch* S2 = nullptr;
      DcPhases ph = {&b.be, 0, 0, {0}};
      const DcMethodType* method = alg2 ? &dc_method_det_cgd2 : &dc_method_det_cgd1;
      ASSERT_EQ(dc_round_open_clients(&R, &b.be, method, &ph, p->nclients, p->client_host, &sp), DETCGD_OK)
          << detcgd_last_error();
      if (chunk > 0 && chunk < R.chunk) R.chunk = chunk;  // a smaller chunk fits the scratch
      ASSERT_EQ(b.o()->sketch_create(&b.be, &sp, 1, &S2), DETCGD_OK);
      DcVec *x = b.vec(random_vec(d, 12)), *g1 = b.vec(std::vector<double>(d, 9)), *y1 = b.vec(std::vector<double>(d, 9)),
            *m1 = b.vec({0, 0}), *g2 = b.vec(std::vector<double>(d, 0)), *y2 = b.vec(std::vector<double>(d, 0)),
            *m2 = b.vec({0, 0}), *gc = b.vec(std::vector<double>(d, 0)), *vals = b.vec(std::vector<double>(cap, 0));
      const DcBlocks* B = alg2 ? D : nullptr;
      const int nsend = 4, round32 = !alg2;
      dc_round_bind(&R, D, x, g1, y1, m1, 5, round32 ? 32 : 64);
      ASSERT_EQ(dc_round_run(&R, 17, 1, nsend), DETCGD_OK) << detcgd_last_error();
      double f = 0;
      for (int c = 0; c < p->nclients; ++c) {
        ASSERT_EQ(b.o()->problem_grad(&b.be, Pc[c], x, gc, m2, 0), DETCGD_OK);
        f += b.get(m2, 2)[0];
        ASSERT_EQ(b.o()->axpy(&b.be, 1.0 / p->nclients, gc, g2), DETCGD_OK);
        if (c >= nsend) continue;
        ASSERT_EQ(b.o()->sketch_sample(&b.be, S2, 5, 17, c), DETCGD_OK);
        ASSERT_EQ(b.o()->sketch_compress(&b.be, B, S2, gc, round32, vals), DETCGD_OK);
        ASSERT_EQ(b.o()->sketch_accumulate(&b.be, S2, vals, 1.0, y2), DETCGD_OK);
      }
      SCOPED_TRACE("sketch " + std::to_string(sketch) + ", alg " + std::to_string(1 + alg2) + ", chunk " +
                   std::to_string(R.chunk));
      EXPECT_EQ(b.get(g1, d), b.get(g2, d)) << "gradient";
      EXPECT_EQ(b.get(y1, d), b.get(y2, d)) << "messages";
      EXPECT_EQ(b.get(m1, 2)[1], f);
      double nonzero = 0;
      for (double v : b.get(y1, d)) nonzero += v != 0;
      EXPECT_GT(nonzero, 0);
      int64_t c1, b1, c2, b2;
      ASSERT_EQ(b.o()->sketch_tally(&b.be, R.S, &c1, &b1), DETCGD_OK);
      ASSERT_EQ(b.o()->sketch_tally(&b.be, S2, &c2, &b2), DETCGD_OK);
      EXPECT_EQ(c1, c2);
      EXPECT_EQ(b1, b2);
      if (sketch == DETCGD_SKETCH_RANDK) EXPECT_EQ(c1, nsend * 5 * lay.nblocks);
      for (DcVec* v : {x, g1, y1, m1, g2, y2, m2, gc, vals}) b.o()->vec_destroy(&b.be, &v);
      b.o()->sketch_destroy(&b.be, &S2);
      dc_round_close(&R);
      dc_sketch_spec_free(&sp);
    }
  for (DcProbData*& P : Pc) b.o()->problem_destroy(&b.be, &P);
  b.o()->blocks_destroy(&b.be, &D);
  dc_blocks_free(&H);
  detcgd_problem_destroy(&p);
}

// compress_values_rows at the harness's sizes (one layer of n; a layer holds at least one coordinate, so no 0):
// Y_r = C(X_r - H_r) for two rows with a shift, against plain host formulas -- the identity, sign (sign(0) = +1)
// and top-k, k = min(3, n) (the k largest |v|, ties to the lower index: the reference sorts) -- and the exact bits.
TEST_P(ClientOps, CompressValuesRowsAtEverySize) {
  Be b(GetParam());
  for (int64_t n : kSizes) {
    if (n == 0) continue;
    DetcgdProblem q{};
    const int width = (int)n;
    ASSERT_EQ(dc_layout_init(&q.layout, 1, &width), DETCGD_OK);
    const int nc = 2;
    std::vector<double> X = random_vec(nc * n, 61), H = random_vec(nc * n, 62);
    for (int64_t j = 0; j < nc * n; j += 5) X[j] = H[j];  // zeros of X - H (sign's +1) and ties of |v| (top-k)
    for (const char* name : {"identity", "sign", "top-k"}) {
      SCOPED_TRACE(std::string(name) + ", n " + std::to_string(n));
      DetcgdSettings s = quiet_settings(GetParam());
      ASSERT_EQ(detcgd_settings_set(&s, "sketch", name), DETCGD_OK);
      ASSERT_EQ(detcgd_settings_set(&s, "k", std::to_string(std::min<int64_t>(3, n)).c_str()), DETCGD_OK);
      ASSERT_EQ(detcgd_settings_set(&s, "value-bits", "64"), DETCGD_OK);
      DcSketchSpec sp{};
      ASSERT_EQ(std::string(name) == "identity" ? dc_sketch_spec_identity(&sp, &q.layout, &s.comm)
                                                : dc_sketch_spec_build(&sp, &s.sketch, &s.comm, &q),
                DETCGD_OK) << detcgd_last_error();
      DcSketch* S = nullptr;
      ASSERT_EQ(b.o()->sketch_create(&b.be, &sp, nc, &S), DETCGD_OK);
      DcVec *dX = b.vec(X), *dH = b.vec(H), *Y = b.vec(std::vector<double>(nc * n, 7.0));
      ASSERT_EQ(b.o()->compress_values_rows(&b.be, S, dX, dH, 0, nc, 3, 8, 0, 0, Y), DETCGD_OK) << detcgd_last_error();
      const std::vector<double> got = b.get(Y, nc * n);
      int64_t want_bits = 0;
      for (int r = 0; r < nc; ++r) {
        std::vector<double> v(n), want(n, 0.0);
        for (int64_t j = 0; j < n; ++j) v[j] = X[r * n + j] - H[r * n + j];
        if (std::string(name) == "identity") {
          want = v;
          want_bits += 64 * n;
        } else if (std::string(name) == "sign") {
          for (int64_t j = 0; j < n; ++j) want[j] = v[j] < 0 ? -1.0 : 1.0;
          want_bits += n;
        } else {
          std::vector<int64_t> idx(n);
          std::iota(idx.begin(), idx.end(), 0);
          const int64_t k = std::min<int64_t>(3, n);
          std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int64_t a, int64_t c) {
            return std::fabs(v[a]) != std::fabs(v[c]) ? std::fabs(v[a]) > std::fabs(v[c]) : a < c;
          });
          for (int64_t t = 0; t < k; ++t) want[idx[t]] = v[idx[t]];
          int index_bits = 0;
          while (((int64_t)1 << index_bits) < n) ++index_bits;
          want_bits += k * (64 + index_bits);
        }
        ASSERT_EQ(std::vector<double>(got.begin() + r * n, got.begin() + (r + 1) * n), want) << "row " << r;
      }
      int64_t coords = 0, bits = 0;
      ASSERT_EQ(b.o()->sketch_tally(&b.be, S, &coords, &bits), DETCGD_OK);
      EXPECT_EQ(bits, want_bits);
      for (DcVec* v : {dX, dH, Y}) b.o()->vec_destroy(&b.be, &v);
      b.o()->sketch_destroy(&b.be, &S);
      dc_sketch_spec_free(&sp);
    }
    dc_layout_free(&q.layout);
  }
}

// dc_exp, the CPU backend's vectorisable exp, is within an ulp of glibc's over its whole range [-708, 708] (a grid
// of 10^6 points, and 10^6 random points in [-5, 5] where the logistic weights live); its clamp keeps NaN and maps
// the rest of the line to the range's ends; the weight 1 / (1 + exp(z)) stays within 3 epsilon of glibc's (relative:
// dc_exp's ulp, and the roundings of 1 + e and of the quotient on either side).
TEST(CpuMath, ExpIsWithinAnUlpOfGlibc) {
  auto ulps = [](double a, double b) { return std::fabs(a - b) / (std::nextafter(std::fabs(b), INFINITY) - std::fabs(b)); };
  double worst = 0, worst_weight = 0;
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> near(-5.0, 5.0);
  for (int i = 0; i <= 2000000; ++i) {
    const double z = i <= 1000000 ? -DC_EXP_MAX + 2 * DC_EXP_MAX * i / 1000000.0 : near(rng);
    worst = std::max(worst, ulps(dc_exp(z), std::exp(z)));
    const double w = 1.0 / (1.0 + std::exp(z));
    worst_weight = std::max(worst_weight, std::fabs(1.0 / (1.0 + dc_exp(z)) - w) / w);
  }
  EXPECT_LE(worst, 1.0);
  EXPECT_LE(worst_weight, 3 * DBL_EPSILON);
  for (double z : {0.0, 1e-300, -1e-300, 0.5 * M_LN2, -0.5 * M_LN2, 1.0, -1.0}) EXPECT_LE(ulps(dc_exp(z), std::exp(z)), 1.0) << z;
  EXPECT_EQ(dc_exp(0.0), 1.0);
  EXPECT_TRUE(std::isnan(dc_exp(dc_exp_clamp(NAN))));
  EXPECT_EQ(dc_exp_clamp(1e6), DC_EXP_MAX);
  EXPECT_EQ(dc_exp_clamp(-INFINITY), -DC_EXP_MAX);
  EXPECT_EQ(dc_exp_clamp(-3.5), -3.5);
  EXPECT_GT(1.0 / (1.0 + dc_exp(dc_exp_clamp(1e6))), 0.0);  // a weight past the range: tiny, never NaN
  EXPECT_LT(1.0 / (1.0 + dc_exp(dc_exp_clamp(1e6))), 4e-308);
}

// The CPU gradient's vector loops (AVX-512, AVX2 or SSE2, chosen at load) give the bits of dc_exp evaluated one value at a
// time here: a1a's data term, with the weights summed in the backend's order.
TEST(CpuMath, VectorWeightsEqualTheScalarOnes) {
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  snprintf(ps.data_path, sizeof ps.data_path, "%s", DETCGD_SHARED_DATA "/a1a");
  DetcgdProblem* p = nullptr;
  if (detcgd_problem_create(&p, &ps) != DETCGD_OK) GTEST_SKIP() << "../shared/data/libsvm/a1a not present";
  DcHostProblem h = p->host;
  h.lambda = 0.0;
  const int64_t d = h.layout->dim;
  std::vector<double> x = random_vec(d, 9), want(d, 0.0), got(d);
  for (double& v : x) v *= 4.0;
  for (int64_t j = 0; j < h.nrows; ++j) {
    double z = 0;
    for (int64_t q = h.rowptr[j]; q < h.rowptr[j + 1]; ++q) z += h.val[q] * x[h.colidx[q]];
    z *= h.label[j];
    const double w = -h.label[j] * (1.0 / (double)h.nrows) / (1.0 + dc_exp(dc_exp_clamp(z)));
    for (int64_t q = h.rowptr[j]; q < h.rowptr[j + 1]; ++q) want[h.colidx[q]] += w * h.val[q];
  }
  dc_host_problem_grad(&h, x.data(), got.data());
  EXPECT_EQ(std::memcmp(got.data(), want.data(), d * sizeof(double)), 0);
  detcgd_problem_destroy(&p);
}

// The CPU backend's problem_grad from DC_BY_COLUMNS_FROM nonzeros on goes by rows and then by columns over the
// cores; it gives the bits of the rows alone (dc_host_problem_grad: one core, the rows' scatter) for g and f on 1, 2,
// 3 and 7 threads: on a1a (22 249 nonzeros), on rows made here with empty rows, empty columns and repeated columns
// in a row, with the regularisers on, and on a range of those rows as a client holds it (its row pointers start past 0).
TEST(CpuMath, GradientByColumnsHasTheBitsOfTheRowsOnAnyNumberOfThreads) {
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  snprintf(ps.data_path, sizeof ps.data_path, "%s", DETCGD_SHARED_DATA "/a1a");
  DetcgdProblem* p = nullptr;
  if (detcgd_problem_create(&p, &ps) != DETCGD_OK) GTEST_SKIP() << "../shared/data/libsvm/a1a not present";
  const int64_t d = p->layout.dim, n = 5001;
  std::vector<int64_t> rowptr(1, 0);
  std::vector<int32_t> colidx;
  std::vector<double> val, label(n);
  std::mt19937_64 rng(5);
  for (int64_t j = 0; j < n; ++j) {
    const int k = j % 97 == 0 ? 0 : 1 + (int)(rng() % 16);
    for (int t = 0; t < k; ++t) {
      int32_t c = (int32_t)(rng() % (uint64_t)d);
      if (c >= 5 && c < 9) c = 0;  // columns 5..8 empty
      colidx.push_back(t == 1 && k > 3 ? colidx.back() : c);  // a repeated column now and then
      val.push_back((double)(rng() % 2001) / 1000.0 - 1.0);
    }
    rowptr.push_back((int64_t)colidx.size());
    label[j] = rng() % 2 ? 1.0 : -1.0;
  }
  DcHostProblem made = p->host;
  made.nrows = n;
  made.rowptr = rowptr.data();
  made.colidx = colidx.data();
  made.val = val.data();
  made.label = label.data();
  made.lambda = 0.05;
  made.l2 = 0.01;
  DcHostProblem client = made;  // rows 1500.. of the made ones
  client.nrows = n - 1500;
  client.rowptr = rowptr.data() + 1500;
  client.label = label.data() + 1500;
  ASSERT_GE(client.rowptr[client.nrows] - client.rowptr[0], 20000);
  DcBackend be{};
  ASSERT_EQ(dc_backend_open(&be, DETCGD_BACKEND_CPU), DETCGD_OK);
  const DcBackendOps* o = be.ops;
  for (const DcHostProblem* h : std::vector<const DcHostProblem*>{&p->host, &made, &client}) {
    SCOPED_TRACE(h == &made ? "rows made here" : h == &client ? "a client's range of them" : "a1a");
    DcProbData* P = nullptr;
    DcVec *x = nullptr, *g = nullptr, *m = nullptr;
    ASSERT_EQ(o->problem_create(&be, h, &P), DETCGD_OK);
    ASSERT_EQ(o->vec_create(&be, d, &x), DETCGD_OK);
    ASSERT_EQ(o->vec_create(&be, d, &g), DETCGD_OK);
    ASSERT_EQ(o->vec_create(&be, 2, &m), DETCGD_OK);
    for (double scale : {0.1, 4.0}) {
      std::vector<double> xs = random_vec(d, 31), want(d), got(d), f(2);
      for (double& v : xs) v *= scale;
      const double f_want = dc_host_problem_grad(h, xs.data(), want.data());
      ASSERT_EQ(o->vec_upload(&be, x, xs.data()), DETCGD_OK);
#ifdef DETCGD_TEST_OPENMP
      const int threads = omp_get_max_threads();
      for (int t : {1, 2, 3, 7}) {
        omp_set_num_threads(t);
#else
      for (int t : {1}) {
#endif
        for (int fslot : {-1, 1}) {
          ASSERT_EQ(o->problem_grad(&be, P, x, g, m, fslot), DETCGD_OK);
          ASSERT_EQ(o->vec_download(&be, g, got.data()), DETCGD_OK);
          EXPECT_EQ(std::memcmp(got.data(), want.data(), d * sizeof(double)), 0) << t << " threads, scale " << scale;
        }
        ASSERT_EQ(o->vec_download(&be, m, f.data()), DETCGD_OK);
        EXPECT_EQ(f[1], f_want) << t << " threads, scale " << scale;
      }
#ifdef DETCGD_TEST_OPENMP
      omp_set_num_threads(threads);
#endif
    }
    o->vec_destroy(&be, &x);
    o->vec_destroy(&be, &g);
    o->vec_destroy(&be, &m);
    o->problem_destroy(&be, &P);
  }
  dc_backend_close(&be);
  detcgd_problem_destroy(&p);
}

// grad phi_j(x) = -b_j sigma(-b_j a_j.x) a_j of row j of host h, added times w into g (computed here, not by the
// backend's loop: the logistic weight from its closed form).
void add_sample_gradient(const DcHostProblem& h, int64_t j, const std::vector<double>& x, double w,
                         std::vector<double>& g) {
  double z = 0;
  for (int64_t p = h.rowptr[j]; p < h.rowptr[j + 1]; ++p) z += h.val[p] * x[h.colidx[p]];
  const double s = 1.0 / (1.0 + std::exp(h.label[j] * z));
  for (int64_t p = h.rowptr[j]; p < h.rowptr[j + 1]; ++p) g[h.colidx[p]] -= w * h.label[j] * s * h.val[p];
}

// Minibatch gradients (clients_grad_sampled, problem_grad_sampled): row r is (1/b) sum_t grad phi_{j_t}(x) +
// reg'(x) over the rows j_t = dc_minibatch_row(seed, iter, c0 + r, t, N_c) of client c0 + r, for batches of 1 to
// 1025 samples (several tiles), CSR rows (a1a) and dense float rows (synthetic, fp32: the CUDA backend's dense
// path); one client alone (its problem, as an MPI rank evaluates it) gives the chunk's row bit for bit; over
// iterations the minibatch gradient's mean is the full gradient within 5 standard errors.
TEST_P(ClientOps, MinibatchGradientsAreTheMeanOfTheDrawnRowsGradients) {
  for (int dense = 0; dense < 2; ++dense) {
    DetcgdProblemSpec ps;
    detcgd_problem_spec_default(&ps);
    if (dense) {
      ps.samples = 90;
      ps.features = 12;
      ps.data_precision = DETCGD_PREC_FP32;
    } else {
      snprintf(ps.data_path, sizeof ps.data_path, "%s", DETCGD_SHARED_DATA "/a1a");
    }
    ps.nlayers = 3;
    ps.clients = 6;
    ps.split = DETCGD_SPLIT_SHUFFLED;
    DetcgdProblem* p = nullptr;
    ASSERT_EQ(detcgd_problem_create(&p, &ps), DETCGD_OK) << detcgd_last_error();
    const int64_t d = p->layout.dim;
    const double lam = p->host.lambda;
    Be b(GetParam());
    DetcgdSettings s = quiet_settings(GetParam());
    DcSketchSpec sp;
    ASSERT_EQ(dc_sketch_spec_build(&sp, &s.sketch, &s.comm, p), DETCGD_OK);
    DcClients* C = nullptr;
    ASSERT_EQ(b.o()->clients_create(&b.be, p->nclients, p->client_host, &sp, &C), DETCGD_OK) << detcgd_last_error();
    const std::vector<double> xh = random_vec(d, 21);
    const int c0 = 2, nc = 3;
    DcVec *x = b.vec(xh), *G = b.vec(std::vector<double>(nc * d, 7.0)), *g1 = b.vec(std::vector<double>(d, 0));
    for (int batch : {1, 31, 32, 33, 1025}) {
      SCOPED_TRACE("dense " + std::to_string(dense) + ", batch " + std::to_string(batch));
      ASSERT_EQ(b.o()->clients_grad_sampled(&b.be, C, c0, nc, x, 5, 17, batch, G), DETCGD_OK) << detcgd_last_error();
      const std::vector<double> got = b.get(G, nc * d);
      for (int r = 0; r < nc; ++r) {
        const DcHostProblem& h = p->client_host[c0 + r];
        std::vector<double> want(d, 0.0), scale(d, 1.0);
        for (int t = 0; t < batch; ++t) {
          const int64_t j = dc_minibatch_row(5, 17, (uint32_t)(c0 + r), t, h.nrows);
          ASSERT_GE(j, 0);
          ASSERT_LT(j, h.nrows);
          add_sample_gradient(h, j, xh, 1.0 / batch, want);
        }
        for (int64_t i = 0; i < d; ++i) {
          const double tt = 1 + xh[i] * xh[i];
          want[i] += 2 * lam * xh[i] / (tt * tt);
        }
        std::vector<double> row(got.begin() + r * d, got.begin() + (r + 1) * d);
        expect_close(row, want, scale, "minibatch gradient");
        DcProbData* P = nullptr;
        ASSERT_EQ(b.o()->problem_create(&b.be, &h, &P), DETCGD_OK);
        ASSERT_EQ(b.o()->problem_grad_sampled(&b.be, P, x, 5, 17, (uint32_t)(c0 + r), batch, g1), DETCGD_OK);
        EXPECT_EQ(b.get(g1, d), row) << "client " << c0 + r << " alone";
        b.o()->problem_destroy(&b.be, &P);
      }
    }
    // unbiased: the mean over N iterations of batch-1 gradients of client c0 against its full gradient
    const int N = 4000;
    std::vector<double> mean(d, 0.0), sq(d, 0.0);
    for (int it = 0; it < N; ++it) {
      ASSERT_EQ(b.o()->clients_grad_sampled(&b.be, C, c0, 1, x, 9, (uint32_t)it, 1, G), DETCGD_OK);
      const std::vector<double> g = b.get(G, nc * d);  // row 0
      for (int64_t i = 0; i < d; ++i) { mean[i] += g[i] / N; sq[i] += g[i] * g[i] / N; }
    }
    ASSERT_EQ(b.o()->clients_grad(&b.be, C, c0, 1, x, G, nullptr), DETCGD_OK);
    const std::vector<double> full = b.get(G, nc * d);
    int moved = 0;
    for (int64_t i = 0; i < d; ++i) {
      const double se = std::sqrt(std::max(sq[i] - mean[i] * mean[i], 0.0) / N);
      EXPECT_LE(std::fabs(mean[i] - full[i]), 5 * se + 1e-12) << "coordinate " << i;
      moved += se > 0;
    }
    EXPECT_GT(moved, 0);
    for (DcVec* v : {x, G, g1}) b.o()->vec_destroy(&b.be, &v);
    b.o()->clients_destroy(&b.be, &C);
    dc_sketch_spec_free(&sp);
    detcgd_problem_destroy(&p);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, Ops, testing::ValuesIn(available_backends()), backend_name);
INSTANTIATE_TEST_SUITE_P(Backends, BlockOps, testing::ValuesIn(available_backends()), backend_name);
INSTANTIATE_TEST_SUITE_P(Backends, ClientOps, testing::ValuesIn(available_backends()), backend_name);

// ---- CUDA against CPU ----

class CudaVsCpu : public testing::Test {
 protected:
  void SetUp() override { SKIP_WITHOUT_DEVICE(DETCGD_BACKEND_CUDA); }
};

TEST_F(CudaVsCpu, EverySketchDrawsTheSameIndices) {
  DetcgdProblem* p = make_quad("1,31,32,33,70,1025", 0.1, 1.0);
  Be cpu(DETCGD_BACKEND_CPU), gpu(DETCGD_BACKEND_CUDA);
  for (int kind : {DETCGD_SKETCH_RANDK, DETCGD_SKETCH_RAND1, DETCGD_SKETCH_IMPORTANCE1, DETCGD_SKETCH_BERNOULLI,
                   DETCGD_SKETCH_BERNQ}) {
    DetcgdSettings s = quiet_settings();
    s.sketch.kind = kind;
    s.sketch.k_ratio = 0.4;  // k > 32 on the widest layers: the marker-table path
    s.sketch.p = 0.3;
    s.sketch.q = 0.5;
    DcSketchSpec sp;
    ASSERT_EQ(dc_sketch_spec_build(&sp, &s.sketch, &s.comm, p), DETCGD_OK);
    DcSketch *a = nullptr, *g = nullptr;
    ASSERT_EQ(cpu.o()->sketch_create(&cpu.be, &sp, 1, &a), DETCGD_OK);
    ASSERT_EQ(gpu.o()->sketch_create(&gpu.be, &sp, 1, &g), DETCGD_OK);
    int64_t cap = sp.cap_off[sp.layout->nblocks];
    int nb = sp.layout->nblocks;
    for (uint32_t it = 0; it < 20; ++it) {
      std::vector<int> ia(cap), ig(cap), ca(nb), cg(nb);
      std::vector<double> sa(cap), sg(cap);
      DcSketchDraw da = {ia.data(), sa.data(), ca.data()}, dg = {ig.data(), sg.data(), cg.data()};
      cpu.o()->sketch_sample(&cpu.be, a, 77, it, 3);
      gpu.o()->sketch_sample(&gpu.be, g, 77, it, 3);
      cpu.o()->sketch_read(&cpu.be, a, &da);
      gpu.o()->sketch_read(&gpu.be, g, &dg);
      ASSERT_EQ(ca, cg) << detcgd_sketch_name(kind) << " iteration " << it;
      for (int i = 0; i < nb; ++i)
        for (int t = 0; t < ca[i]; ++t) {
          ASSERT_EQ(ia[sp.cap_off[i] + t], ig[sp.cap_off[i] + t]);
          ASSERT_EQ(sa[sp.cap_off[i] + t], sg[sp.cap_off[i] + t]);
        }
    }
    int64_t c1, b1, c2, b2;
    cpu.o()->sketch_tally(&cpu.be, a, &c1, &b1);
    gpu.o()->sketch_tally(&gpu.be, g, &c2, &b2);
    EXPECT_EQ(c1, c2);
    EXPECT_EQ(b1, b2);
    cpu.o()->sketch_destroy(&cpu.be, &a);
    gpu.o()->sketch_destroy(&gpu.be, &g);
    dc_sketch_spec_free(&sp);
  }
  detcgd_problem_destroy(&p);
}


// Synthetic logistic rows of density 1 with data-precision fp32: dense float rows on the GPU.
static DetcgdProblem* dense32_rows(int64_t samples, int features, int nlayers, int clients) {
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  ps.samples = samples;
  ps.features = features;
  ps.nlayers = nlayers;
  ps.clients = clients;
  ps.data_precision = DETCGD_PREC_FP32;
  DetcgdProblem* p = nullptr;
  return detcgd_problem_create(&p, &ps) == DETCGD_OK ? p : nullptr;
}

// Runs s on the CPU, then twice on the GPU and once more without CUDA graphs: traces agree to rounding,
// the GPU runs bit for bit, and graphs are launched when they are on.  Both build D on the host, so that the
// runs differ only by the iterations (StepsizeSetupOnTheDeviceMatchesTheHost checks the device's D).
static void expect_runs_agree(DetcgdProblem* p, DetcgdSettings s, const std::string& what) {
  s.stepsize.setup = DETCGD_SETUP_HOST;
  std::string paths[4] = {temp_path("cpu.csv"), temp_path("gpu1.csv"), temp_path("gpu2.csv"), temp_path("gpu3.csv")};
  int backends[4] = {DETCGD_BACKEND_CPU, DETCGD_BACKEND_CUDA, DETCGD_BACKEND_CUDA, DETCGD_BACKEND_CUDA};
  for (int r = 0; r < 4; ++r) {
    s.backend = backends[r];
    s.graphs = r < 3;
    snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", paths[r].c_str());
    DetcgdSolver* solver = nullptr;
    DetcgdResult res;
    ASSERT_EQ(detcgd_create(&solver, p, &s), DETCGD_OK) << detcgd_last_error();
    ASSERT_EQ(detcgd_run(solver), DETCGD_OK) << detcgd_last_error();
    detcgd_get_result(solver, &res);
    EXPECT_EQ(res.replay_launches > 0, s.graphs) << what << ": run " << r;
    detcgd_destroy(&solver);
  }
  auto a = trace_numbers(paths[0]), g1 = trace_numbers(paths[1]), g2 = trace_numbers(paths[2]);
  auto g3 = trace_numbers(paths[3]);
  ASSERT_EQ(a.size(), g1.size()) << what;
  // the columns up to samples (grad_density and sign_advantage are scale-free functions of columns 2 and 8: near
  // convergence the backends' rounding of a tiny g moves them more than 1e-9, while g itself agrees to it)
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = 0; j < a[i].size() && j < 10; ++j)
      EXPECT_NEAR(a[i][j], g1[i][j], 1e-9 * (1 + std::fabs(a[i][j]))) << what << ": row " << i << " column " << j;
  EXPECT_EQ(g1, g2) << what;  // same seed on the same GPU: bit-identical
  EXPECT_EQ(g1, g3) << what;  // with and without CUDA graphs
}

TEST_F(CudaVsCpu, WholeRunsAgreeToRoundingAndGpuReplayIsBitIdentical) {
  struct Case { const char* layers; int method, sketch, stepsize; bool logreg; };
  const Case cases[] = {{"5,40,64", DETCGD_METHOD_DET1, DETCGD_SKETCH_RANDK, DETCGD_STEP_THM2, false},
                        {"5,40,64", DETCGD_METHOD_DET2, DETCGD_SKETCH_BERNQ, DETCGD_STEP_DET2_OPT, false},
                        {"", DETCGD_METHOD_DET2, DETCGD_SKETCH_RAND1, DETCGD_STEP_DET2_OPT, true},
                        {"", DETCGD_METHOD_GD, DETCGD_SKETCH_IDENTITY, DETCGD_STEP_GD, true}};
  for (const Case& c : cases) {
    DetcgdProblem* p = nullptr;
    if (c.logreg) {
      DetcgdProblemSpec ps;
      detcgd_problem_spec_default(&ps);
      snprintf(ps.data_path, sizeof ps.data_path, "%s", DETCGD_TEST_DATA "/quirks.svm");
      ASSERT_EQ(detcgd_problem_create(&p, &ps), DETCGD_OK);
    } else {
      p = make_quad(c.layers, 0.1, 0.3);
    }
    DetcgdSettings s = quiet_settings();
    s.method = c.method;
    s.sketch.kind = c.sketch;
    s.sketch.k = 3;
    s.stepsize.kind = c.stepsize;
    s.term.max_iter = 300;
    s.output.trace_every = 10;
    expect_runs_agree(p, s, std::string(c.layers) + (c.logreg ? " logreg" : " quad"));
    detcgd_problem_destroy(&p);
  }
  // dense float rows on the GPU (data-precision fp32, density 1) against CSR on the CPU
  DetcgdProblem* p = dense32_rows(257, 70, 3, 0);
  ASSERT_NE(p, nullptr) << detcgd_last_error();
  DetcgdSettings s = quiet_settings();
  s.method = DETCGD_METHOD_DET2;
  s.sketch.kind = DETCGD_SKETCH_RANDK;
  s.sketch.k = 5;
  s.stepsize.kind = DETCGD_STEP_DET2_OPT;
  s.term.max_iter = 300;
  s.output.trace_every = 10;
  expect_runs_agree(p, s, "dense fp32 logreg");
  detcgd_problem_destroy(&p);
  // quad-nc with float A on the GPU (data-precision fp32) and float D (stepsize-precision fp32)
  p = make_quad("7x16,33", 0.1, 0.5, 7, DETCGD_PREC_FP32);
  ASSERT_NE(p, nullptr);
  s.stepsize.precision = DETCGD_PREC_FP32;
  expect_runs_agree(p, s, "fp32 quad");
  detcgd_problem_destroy(&p);
}

// D built on the GPU (batched Cholesky, triangular solves and eigenvalues) against the host's (LAPACK, block by
// block): certificates and log det to rounding, D itself through D x on both backends -- to rounding in double,
// to a float ulp or two in float (a tie can round the other way, a block can be shrunk by a different ulp).
TEST_F(CudaVsCpu, StepsizeSetupOnTheDeviceMatchesTheHost) {
  struct Case { const char* layers; int method, sketch, stepsize, weight, precision; };
  const Case cases[] = {
      {"1,5,40,64,3x17", DETCGD_METHOD_DET2, DETCGD_SKETCH_RANDK, DETCGD_STEP_DET2_OPT, 0, DETCGD_PREC_FP64},
      {"5,40,64", DETCGD_METHOD_DET2, DETCGD_SKETCH_BERNQ, DETCGD_STEP_DET2_OPT, 0, DETCGD_PREC_FP64},
      {"5,40,64", DETCGD_METHOD_DET2, DETCGD_SKETCH_IMPORTANCE1, DETCGD_STEP_DET2_OPT, 0, DETCGD_PREC_FP64},
      {"5,40,64", DETCGD_METHOD_DET2, DETCGD_SKETCH_BERNOULLI, DETCGD_STEP_DET2_OPT, 0, DETCGD_PREC_FP64},
      {"5,40,64", DETCGD_METHOD_DET1, DETCGD_SKETCH_RANDK, DETCGD_STEP_THM2, DETCGD_W_INV_SQRT, DETCGD_PREC_FP64},
      {"5,40,64", DETCGD_METHOD_DET1, DETCGD_SKETCH_RAND1, DETCGD_STEP_THM2, DETCGD_W_INV, DETCGD_PREC_FP64},
      {"1,33x8,130", DETCGD_METHOD_DET2, DETCGD_SKETCH_RANDK, DETCGD_STEP_DET2_OPT, 0, DETCGD_PREC_FP32},
      {"5,40,64", DETCGD_METHOD_DET1, DETCGD_SKETCH_RANDK, DETCGD_STEP_THM2, DETCGD_W_INV_SQRT, DETCGD_PREC_FP32}};
  for (const Case& c : cases) {
    std::string what = std::string(c.layers) + " " + detcgd_stepsize_name(c.stepsize) + " " +
                       detcgd_precision_name(c.precision) + " " + detcgd_sketch_name(c.sketch);
    DetcgdProblem* p = make_quad(c.layers, 0.1, 0.3);
    DetcgdSettings s = quiet_settings();
    s.method = c.method;
    s.sketch.kind = c.sketch;
    std::string k_list;  // rand-k keeps min(3, d_i)
    for (int i = 0; i < p->layout.nblocks; ++i) k_list += (i ? "," : "") + std::to_string(std::min(3, p->layout.size[i]));
    snprintf(s.sketch.k_list, sizeof s.sketch.k_list, "%s", k_list.c_str());
    s.sketch.p = 0.4;
    s.stepsize.kind = c.stepsize;
    s.stepsize.weight = c.weight;
    s.stepsize.precision = c.precision;
    s.stepsize.scale = 0.9;
    DcSketchSpec sp;
    ASSERT_EQ(dc_sketch_spec_build(&sp, &s.sketch, &s.comm, p), DETCGD_OK) << what << ": " << detcgd_last_error();
    Be gpu(DETCGD_BACKEND_CUDA);
    DcProbData* P = nullptr;
    DcBlocks *Dg = nullptr, *Dh = nullptr;
    DcStepsize host, dev;
    ASSERT_EQ(gpu.o()->problem_create(&gpu.be, &p->host, &P), DETCGD_OK);
    ASSERT_EQ(dc_stepsize_build(&host, p, &s, &sp, nullptr, nullptr, nullptr), DETCGD_OK) << detcgd_last_error();
    ASSERT_EQ(dc_stepsize_build(&dev, p, &s, &sp, &gpu.be, P, &Dg), DETCGD_OK) << what << ": " << detcgd_last_error();
    ASSERT_NE(Dg, nullptr) << what;
    EXPECT_STREQ(dev.built_on, "cuda");
    EXPECT_EQ(dev.D.data, nullptr);
    EXPECT_EQ(dev.D.store32, c.precision == DETCGD_PREC_FP32);
    double tol = c.precision == DETCGD_PREC_FP32 ? 1e-6 : 1e-10;
    EXPECT_NEAR(dev.certificate, host.certificate, tol) << what;
    EXPECT_LE(dev.certificate, 1.0 + DC_CERT_TOL) << what;
    EXPECT_NEAR(dev.log_det, host.log_det, tol * (1 + std::fabs(host.log_det))) << what;
    ASSERT_EQ(gpu.o()->blocks_create(&gpu.be, &host.D, &Dh), DETCGD_OK);
    int64_t d = p->layout.dim;
    std::vector<double> x = random_vec(d, 5), zero(d, 0.0);
    DcVec *xv = gpu.vec(x), *yg = gpu.vec(zero), *yh = gpu.vec(zero);
    ASSERT_EQ(gpu.o()->bd_apply(&gpu.be, Dg, DC_SEL_FULL, nullptr, xv, 1.0, yg), DETCGD_OK);
    ASSERT_EQ(gpu.o()->bd_apply(&gpu.be, Dh, DC_SEL_FULL, nullptr, xv, 1.0, yh), DETCGD_OK);
    std::vector<double> a = gpu.get(yg, d), b = gpu.get(yh, d);
    double ymax = 0;
    for (double v : b) ymax = std::max(ymax, std::fabs(v));
    for (int64_t j = 0; j < d; ++j) ASSERT_NEAR(a[j], b[j], tol * ymax) << what << ": (D x)_" << j;
    for (DcVec* v : {xv, yg, yh}) gpu.o()->vec_destroy(&gpu.be, &v);
    gpu.o()->blocks_destroy(&gpu.be, &Dg);
    gpu.o()->blocks_destroy(&gpu.be, &Dh);
    gpu.o()->problem_destroy(&gpu.be, &P);
    dc_stepsize_free(&host);
    dc_stepsize_free(&dev);
    dc_sketch_spec_free(&sp);
    detcgd_problem_destroy(&p);
  }
}

// A block whose E[T L T] is not positive definite is named, as the host names it (test_stepsize).
TEST_F(CudaVsCpu, StepsizeSetupOnTheDeviceNamesABadBlock) {
  DetcgdSettings s;
  DetcgdProblem* p = quad_with_indefinite_block(&s);
  DcSketchSpec sp;
  ASSERT_EQ(dc_sketch_spec_build(&sp, &s.sketch, &s.comm, p), DETCGD_OK);
  Be gpu(DETCGD_BACKEND_CUDA);
  DcProbData* P = nullptr;
  DcBlocks* Dg = nullptr;
  DcStepsize dev;
  ASSERT_EQ(gpu.o()->problem_create(&gpu.be, &p->host, &P), DETCGD_OK);
  EXPECT_EQ(dc_stepsize_build(&dev, p, &s, &sp, &gpu.be, P, &Dg), DETCGD_ERR_NUMERIC);
  EXPECT_STREQ(detcgd_last_error(), "stepsize: E[T L T] of block 2 is not positive definite");
  EXPECT_EQ(Dg, nullptr);
  gpu.o()->problem_destroy(&gpu.be, &P);
  dc_sketch_spec_free(&sp);
  detcgd_problem_destroy(&p);
}

TEST_F(CudaVsCpu, DistributedRunsAgreeToRoundingAndGpuReplayIsBitIdentical) {
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  snprintf(ps.data_path, sizeof ps.data_path, "%s", DETCGD_SHARED_DATA "/a1a");
  ps.clients = 20;
  DetcgdProblem* p = nullptr;
  ASSERT_EQ(detcgd_problem_create(&p, &ps), DETCGD_OK) << detcgd_last_error();
  for (int method : {DETCGD_METHOD_DET1, DETCGD_METHOD_DET2}) {
    DetcgdSettings s = quiet_settings();
    s.method = method;
    s.sketch.kind = DETCGD_SKETCH_RAND1;
    s.stepsize.kind = DETCGD_STEP_COR1;
    s.f_inf_iters = 50;
    s.term.max_iter = 200;
    s.output.trace_every = 10;
    expect_runs_agree(p, s, method == DETCGD_METHOD_DET1 ? "D-det-CGD1" : "D-det-CGD2");
  }
  detcgd_problem_destroy(&p);
  p = dense32_rows(301, 50, 2, 7);  // dense float rows of 7 clients
  ASSERT_NE(p, nullptr) << detcgd_last_error();
  DetcgdSettings s = quiet_settings();
  s.method = DETCGD_METHOD_DET1;
  s.sketch.kind = DETCGD_SKETCH_RANDK;
  s.sketch.k = 3;
  s.stepsize.kind = DETCGD_STEP_COR1;
  s.f_inf_iters = 50;
  s.term.max_iter = 200;
  s.output.trace_every = 10;
  expect_runs_agree(p, s, "D-det-CGD1, dense fp32 rows");
  detcgd_problem_destroy(&p);
}
