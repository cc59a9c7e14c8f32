// The CUDA backend's device arena (src/host/arena.c), with aligned host memory as its provider:
// alignment, no overlap, stack reuse, chunks returned when empty, byte counts and their peaks,
// provider failure and bad releases.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include "test_util.h"
extern "C" {
#include "arena.h"
}

namespace {

// Counts what the arena takes from and gives back to its provider; can be told to fail.
struct Provider {
  std::map<void*, size_t> out;  // chunks handed out
  int allocs = 0, releases = 0;
  bool fail = false;
  static void* alloc(void* ctx, size_t bytes) {
    auto* p = static_cast<Provider*>(ctx);
    if (p->fail) return nullptr;
    void* m = std::aligned_alloc(DC_ARENA_ALIGN, bytes);
    if (m) { p->out[m] = bytes; ++p->allocs; }
    return m;
  }
  static void release(void* ctx, void* m) {
    auto* p = static_cast<Provider*>(ctx);
    EXPECT_EQ(p->out.erase(m), 1u) << "released a chunk that was not handed out";
    ++p->releases;
    std::free(m);
  }
  size_t held() const {
    size_t s = 0;
    for (auto& kv : out) s += kv.second;
    return s;
  }
};

struct Arena {
  Provider prov;
  DcArena a{};
  explicit Arena(size_t min_chunk) { dc_arena_init(&a, {Provider::alloc, Provider::release, &prov}, min_chunk); }
  ~Arena() { dc_arena_destroy(&a); }
  void* get(size_t bytes) {
    void* p = nullptr;
    EXPECT_EQ(dc_arena_alloc(&a, bytes, &p), DETCGD_OK);
    return p;
  }
};

const size_t kChunk = 64 * 1024;

}  // namespace

TEST(Arena, SmallAllocationsShareAChunkAlignedAndApart) {
  Arena A(kChunk);
  char* p = (char*)A.get(1);
  char* q = (char*)A.get(300);
  char* r = (char*)A.get(0);
  EXPECT_EQ(A.prov.allocs, 1);
  for (char* x : {p, q, r}) EXPECT_EQ((uintptr_t)x % DC_ARENA_ALIGN, 0u);
  EXPECT_EQ(q - p, 256);  // 1 byte rounds up to one alignment unit
  EXPECT_EQ(r - q, 512);  // 300 bytes take two
  EXPECT_EQ(A.a.in_use, 256u + 512u + 256u);
  EXPECT_EQ(A.a.held, kChunk);
}

TEST(Arena, ALargeRequestGetsAChunkOfItsOwnAndSmallOnesStillFillTheFirst) {
  Arena A(kChunk);
  void* small = A.get(100);
  void* big = A.get(3 * kChunk + 1);
  void* small2 = A.get(100);
  EXPECT_EQ(A.prov.allocs, 2);
  EXPECT_EQ(A.prov.out.at(big), 3 * kChunk + DC_ARENA_ALIGN);  // exactly its aligned size
  EXPECT_EQ((char*)small2 - (char*)small, 256);                 // first fit: back in the first chunk
  EXPECT_EQ(A.a.held, A.prov.held());
}

TEST(Arena, ReleasedSpaceIsReusedOnceEverythingAboveItIsReleased) {
  Arena A(kChunk);
  void* a = A.get(1000);
  void* b = A.get(1000);
  ASSERT_EQ(dc_arena_free(&A.a, a), DETCGD_OK);
  void* c = A.get(1000);
  EXPECT_GT((char*)c, (char*)b);  // a lies below the live b: not reused yet
  ASSERT_EQ(dc_arena_free(&A.a, c), DETCGD_OK);
  void* c2 = A.get(1000);
  EXPECT_EQ(c2, c);  // the top came down over c
  ASSERT_EQ(dc_arena_free(&A.a, c2), DETCGD_OK);
  ASSERT_EQ(dc_arena_free(&A.a, b), DETCGD_OK);  // the top comes down over b and the released a
  EXPECT_EQ(A.a.in_use, 0u);
  EXPECT_EQ(A.a.held, 0u);  // the empty chunk went back
  EXPECT_EQ(A.prov.releases, 1);
  EXPECT_EQ(A.a.peak_in_use, 2u * 1024u);  // never more than two live at once
  EXPECT_EQ(A.a.peak_held, kChunk);
}

TEST(Arena, ProviderFailureLeavesTheArenaAsItWas) {
  Arena A(kChunk);
  void* a = A.get(10);
  A.prov.fail = true;
  void* p = &A;
  EXPECT_EQ(dc_arena_alloc(&A.a, 2 * kChunk, &p), DETCGD_ERR_ALLOC);
  EXPECT_EQ(p, nullptr);
  EXPECT_EQ(dc_arena_alloc(&A.a, SIZE_MAX, &p), DETCGD_ERR_ALLOC);  // no wrap-around of the rounding
  void* b = A.get(10);  // still fits the existing chunk: no provider call
  EXPECT_NE(b, nullptr);
  EXPECT_EQ(A.a.in_use, 512u);
  EXPECT_EQ(A.a.held, kChunk);
  (void)a;
}

TEST(Arena, ReleasingWhatItDidNotGiveIsAnError) {
  Arena A(kChunk);
  char* a = (char*)A.get(1000);
  int local = 0;
  EXPECT_EQ(dc_arena_free(&A.a, nullptr), DETCGD_OK);
  EXPECT_EQ(dc_arena_free(&A.a, &local), DETCGD_ERR_INTERNAL);
  EXPECT_EQ(dc_arena_free(&A.a, a + 256), DETCGD_ERR_INTERNAL);  // inside an allocation, not its start
  void* b = A.get(1000);
  ASSERT_EQ(dc_arena_free(&A.a, a), DETCGD_OK);
  EXPECT_EQ(dc_arena_free(&A.a, a), DETCGD_ERR_INTERNAL);  // twice
  EXPECT_NE(std::string(detcgd_last_error()).find("not a live allocation"), std::string::npos);
  (void)b;
}

// Random allocations and releases against a model: live blocks are aligned, never overlap and keep
// their contents; in_use and held match the sums; everything goes back at the end.
TEST(Arena, RandomSequencesKeepBlocksApartAndCountsExact) {
  Arena A(kChunk);
  std::mt19937_64 g(11);
  std::map<char*, std::pair<size_t, unsigned char>> live;  // start -> (bytes, fill byte)
  size_t peak = 0;
  for (int step = 0; step < 4000; ++step) {
    if (live.empty() || g() % 5 < 3) {
      size_t bytes = g() % 8 == 0 ? kChunk + g() % (2 * kChunk) : g() % 5000;
      char* p = (char*)A.get(bytes);
      ASSERT_NE(p, nullptr);
      ASSERT_EQ((uintptr_t)p % DC_ARENA_ALIGN, 0u);
      unsigned char fill = (unsigned char)(g() & 0xff);
      std::memset(p, fill, bytes);
      live[p] = {bytes, fill};
    } else {
      auto it = live.begin();
      std::advance(it, g() % live.size());
      ASSERT_EQ(dc_arena_free(&A.a, it->first), DETCGD_OK);
      live.erase(it);
    }
    size_t used = 0;
    char* end = nullptr;
    for (auto& kv : live) {
      ASSERT_TRUE(end == nullptr || kv.first >= end) << "overlapping allocations at step " << step;
      end = kv.first + kv.second.first;
      used += (kv.second.first + DC_ARENA_ALIGN - 1) / DC_ARENA_ALIGN * DC_ARENA_ALIGN + (kv.second.first == 0) * DC_ARENA_ALIGN;
    }
    ASSERT_EQ(A.a.in_use, used) << "step " << step;
    ASSERT_EQ(A.a.held, A.prov.held()) << "step " << step;
    peak = std::max(peak, used);
  }
  for (auto& kv : live)
    for (size_t i = 0; i < kv.second.first; ++i)
      ASSERT_EQ((unsigned char)kv.first[i], kv.second.second) << "contents changed";
  EXPECT_EQ(A.a.peak_in_use, peak);
  for (auto& kv : live) ASSERT_EQ(dc_arena_free(&A.a, kv.first), DETCGD_OK);
  EXPECT_EQ(A.a.in_use, 0u);
  EXPECT_EQ(A.a.held, 0u);
  EXPECT_EQ(A.prov.allocs, A.prov.releases);
}
