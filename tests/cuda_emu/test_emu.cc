// The CPU emulation of CUDA itself: what it runs right, and what it refuses that a device would fault on, hang
// on or report (so that a backend test passing on it means what it says).
#include <gtest/gtest.h>
#include <vector>
#include "device.h"

extern "C" void probe_stale_shared(int* out, int blocks);  // probe.cu

namespace {

// out[blockIdx.x] = sum of x over the block's threads: shuffles within each warp, __syncthreads, warp 0 sums.
void block_sum_kernel(const double* x, double* out) {
  __shared__ double warp_sums[32];
  int t = (int)threadIdx.x, lane = t & 31, warp = t >> 5;
  double v = x[blockIdx.x * blockDim.x + t];
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = t < (int)(blockDim.x >> 5) ? warp_sums[t] : 0.0;
    for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
    if (t == 0) out[blockIdx.x] = v;
  }
}

void early_exit_kernel() {
  if (threadIdx.x == 3) return;
  __syncthreads();
}

void half_warp_shuffle_kernel(double* out) {
  double v = 1.0;
  if (threadIdx.x < 16) v = __shfl_down_sync(0xffffffffu, v, 1);
  out[threadIdx.x] = v;
}

void noop_kernel() {}

// Thread t copies x[t + shift] to out[t].
void shifted_copy_kernel(const double* x, int shift, double* out) { out[threadIdx.x] = x[threadIdx.x + shift]; }

// Thread 0 publishes a value in shared memory that every thread reads, with or without the __syncthreads
// that orders the write before the reads.
void publish_kernel(int with_sync, int* out) {
  __shared__ int value;
  if (threadIdx.x == 0) value = (int)blockIdx.x + 1;
  if (with_sync) __syncthreads();
  out[blockIdx.x * blockDim.x + threadIdx.x] = value;
}

// Block b adds one to what block b - 1 left: a dependence between blocks of one launch that no device orders.
void chain_kernel(int* out) {
  unsigned b = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  if (threadIdx.x == 0) out[b] = (b == 0 ? 0 : out[b - 1]) + 1;
}

struct Device {
  template <typename T>
  T* alloc(size_t n) {
    void* p = nullptr;
    EXPECT_EQ(cudaMalloc(&p, n * sizeof(T)), cudaSuccess);
    return (T*)p;
  }
};

}  // namespace

TEST(CudaEmu, BlockSumsWithShufflesAndSyncthreadsAreExact) {
  const int blocks = 3, threads = 256;
  std::vector<double> x(blocks * threads), out(blocks);
  for (size_t i = 0; i < x.size(); ++i) x[i] = (double)(i % 97);
  double *dx = Device().alloc<double>(x.size()), *dout = Device().alloc<double>(blocks);
  ASSERT_EQ(cudaMemcpyAsync(dx, x.data(), x.size() * sizeof(double), cudaMemcpyHostToDevice, 0), cudaSuccess);
  dc_emu::launch(block_sum_kernel, blocks, threads)(dx, dout);
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(out.data(), dout, blocks * sizeof(double), cudaMemcpyDeviceToHost, 0), cudaSuccess);
  for (int b = 0; b < blocks; ++b) {
    double want = 0;
    for (int t = 0; t < threads; ++t) want += x[b * threads + t];
    EXPECT_EQ(out[b], want) << "block " << b;
  }
  cudaFree(dx);
  cudaFree(dout);
}

TEST(CudaEmu, AMissingSyncthreadsShowsInTheResults) {
  const int blocks = 4, threads = 64;
  int* d = Device().alloc<int>(blocks * threads);
  std::vector<int> h(blocks * threads);
  for (int with_sync : {1, 0}) {
    dc_emu::launch(publish_kernel, blocks, threads)(with_sync, d);
    ASSERT_EQ(cudaMemcpyAsync(h.data(), d, h.size() * sizeof(int), cudaMemcpyDeviceToHost, 0), cudaSuccess);
    int right = 0;
    for (int b = 0; b < blocks; ++b)
      for (int t = 0; t < threads; ++t) right += h[b * threads + t] == b + 1;
    if (with_sync) EXPECT_EQ(right, blocks * threads);
    else EXPECT_LT(right, blocks * threads) << "threads ran in one order only: the race went unseen";
  }
  cudaFree(d);
}

TEST(CudaEmu, BlocksRunOnceEachInAnOrderThatChangesFromLaunchToLaunch) {
  const dim3 grid(3, 2, 2);
  const int blocks = 12;
  int* d = Device().alloc<int>(blocks);
  std::vector<int> first(blocks), second(blocks);
  for (std::vector<int>* h : {&first, &second}) {
    ASSERT_EQ(cudaMemsetAsync(d, 0, blocks * sizeof(int), 0), cudaSuccess);
    dc_emu::launch(chain_kernel, grid, 32)(d);
    ASSERT_EQ(cudaMemcpyAsync(h->data(), d, blocks * sizeof(int), cudaMemcpyDeviceToHost, 0), cudaSuccess);
  }
  // In increasing order block b sees b, in decreasing order it sees nothing (0): every block ran exactly once.
  std::vector<int>& increasing = first[blocks - 1] == blocks ? first : second;
  std::vector<int>& decreasing = first[blocks - 1] == blocks ? second : first;
  for (int b = 0; b < blocks; ++b) {
    EXPECT_EQ(increasing[b], b + 1) << "block " << b;
    EXPECT_EQ(decreasing[b], 1) << "block " << b;
  }
  cudaFree(d);
}

TEST(CudaEmu, EveryBlockStartsWithSharedMemoryItHasNotWritten) {
  const int blocks = 3;
  int* d = Device().alloc<int>(blocks);
  std::vector<int> h(blocks);
  probe_stale_shared(d, blocks);  // block 0 writes 7 to a __shared__ int, every block reads it
  ASSERT_EQ(cudaMemcpyAsync(h.data(), d, blocks * sizeof(int), cudaMemcpyDeviceToHost, 0), cudaSuccess);
  EXPECT_EQ(h[0], 7);
  for (int b = 1; b < blocks; ++b) EXPECT_EQ(h[b], -1) << "block " << b << " saw another block's shared memory";
  cudaFree(d);
}

TEST(CudaEmu, InvalidLaunchConfigurationsAreTheLaunchesErrors) {
  dc_emu::launch(noop_kernel, 1, 1025)();
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);  // read once, then cleared
  dc_emu::launch(noop_kernel, dim3(1, 65536), 32)();
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  dc_emu::launch(noop_kernel, 1, 32, 48 * 1024 + 1)();
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
}

TEST(CudaEmu, FreshDeviceMemoryIsNaNNotZero) {
  double* d = Device().alloc<double>(4);
  double h[4] = {0, 0, 0, 0};
  ASSERT_EQ(cudaMemcpyAsync(h, d, sizeof h, cudaMemcpyDeviceToHost, 0), cudaSuccess);
  for (double v : h) EXPECT_TRUE(std::isnan(v));
  cudaFree(d);
}

TEST(CudaEmu, CaptureRefusesAllocationAndSynchronisationAndReplaysKernels) {
  cudaStream_t s;
  cudaGraph_t g = nullptr;
  cudaGraphExec_t exec = nullptr;
  void* p = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
  ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  EXPECT_EQ(cudaMalloc(&p, 64), cudaErrorStreamCaptureUnsupported);
  EXPECT_EQ(cudaStreamEndCapture(s, &g), cudaErrorStreamCaptureInvalidated);
  EXPECT_EQ(g, nullptr);
  (void)cudaGetLastError();

  // a captured kernel and copy run only when the graph is launched, with the arguments of the capture
  double* d = Device().alloc<double>(256);
  double* pinned = nullptr;
  std::vector<double> x(256, 2.0);
  ASSERT_EQ(cudaMallocHost((void**)&pinned, sizeof(double)), cudaSuccess);
  pinned[0] = -1.0;
  ASSERT_EQ(cudaMemcpyAsync(d, x.data(), 256 * sizeof(double), cudaMemcpyHostToDevice, s), cudaSuccess);
  ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  dc_emu::launch(block_sum_kernel, 1, 256, 0, s)(d, d);
  EXPECT_EQ(cudaMemcpyAsync(x.data(), d, sizeof(double), cudaMemcpyDeviceToHost, s), cudaErrorStreamCaptureUnsupported)
      << "pageable memory in a capture";
  ASSERT_EQ(cudaStreamEndCapture(s, &g), cudaErrorStreamCaptureInvalidated);
  (void)cudaGetLastError();
  ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  dc_emu::launch(block_sum_kernel, 1, 256, 0, s)(d, d);
  ASSERT_EQ(cudaMemcpyAsync(pinned, d, sizeof(double), cudaMemcpyDeviceToHost, s), cudaSuccess);
  ASSERT_EQ(cudaStreamEndCapture(s, &g), cudaSuccess);
  EXPECT_EQ(pinned[0], -1.0) << "nothing runs while captured";
  ASSERT_EQ(cudaGraphInstantiate(&exec, g, 0), cudaSuccess);
  ASSERT_EQ(cudaGraphLaunch(exec, s), cudaSuccess);
  EXPECT_EQ(pinned[0], 512.0);
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(g);
  cudaFreeHost(pinned);
  cudaFree(d);
  cudaStreamDestroy(s);
}

using CudaEmuDeathTest = testing::Test;

TEST_F(CudaEmuDeathTest, SyncthreadsAfterAThreadExitedStops) {
  EXPECT_DEATH(dc_emu::launch(early_exit_kernel, 1, 64)(), "__syncthreads waits for threads that have exited");
}

TEST_F(CudaEmuDeathTest, AShuffleWithoutTheWholeWarpStops) {
  double* d = Device().alloc<double>(32);
  EXPECT_DEATH(dc_emu::launch(half_warp_shuffle_kernel, 1, 32)(d), "shuffle");
  cudaFree(d);
}

TEST_F(CudaEmuDeathTest, TheHostCannotReadDeviceMemory) {
  double* d = Device().alloc<double>(1);
  EXPECT_DEATH({ volatile double v = d[0]; (void)v; }, "");
  cudaFree(d);
}

TEST_F(CudaEmuDeathTest, AKernelReadingPastTheEndOfAnAllocationStops) {
  double *x = Device().alloc<double>(256), *out = Device().alloc<double>(64);
  dc_emu::launch(shifted_copy_kernel, 1, 64)(x, 192, out);  // the last 64 elements: fine
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_DEATH(dc_emu::launch(shifted_copy_kernel, 1, 64)(x, 193, out), "");  // one past the end
#if defined(__SANITIZE_ADDRESS__)
  // 250 doubles end 48 bytes before the guard page: ASan's poison reports the first byte past the end
  double* y = Device().alloc<double>(250);
  EXPECT_DEATH(dc_emu::launch(shifted_copy_kernel, 1, 64)(y, 187, out), "use-after-poison");
  cudaFree(y);
#endif
  cudaFree(x);
  cudaFree(out);
}

TEST_F(CudaEmuDeathTest, ACopyOutsideAnAllocationOrOfTheWrongKindStops) {
  double* d = Device().alloc<double>(4);
  double h[8];
  EXPECT_DEATH(cudaMemcpyAsync(h, d, sizeof h, cudaMemcpyDeviceToHost, 0), "not inside one allocation");
  EXPECT_DEATH(cudaMemcpyAsync(d, h, 4 * sizeof(double), cudaMemcpyDeviceToHost, 0), "kind does not match");
  cudaFree(d);
}
