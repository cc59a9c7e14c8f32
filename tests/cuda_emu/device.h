/*
 * device.h -- the device side of the CPU emulation of CUDA, force-included into the kernel sources
 * (the .cu files of src/kernels, rewritten by translate.cmake) when they are compiled as C++ for the emulated tests.
 *
 * It runs the unchanged kernels on the host so that the CUDA backend's logic -- indexing, grid-stride loops,
 * block reductions, shuffles, graph capture, the cuBLAS / cuSOLVER calls -- is tested where no GPU is.
 * A launch runs its blocks one after another; the threads of a block are fibers (runtime.cc) that switch at
 * __syncthreads and at warp shuffles, so shared memory is one static array per block at a time.
 * What it cannot show: speed, races between blocks running at the same time, device math-library rounding.
 */
#ifndef DETCGD_CUDA_EMU_DEVICE_H
#define DETCGD_CUDA_EMU_DEVICE_H

#include <cuda_runtime.h>
#include <stdint.h>
#include <math.h> /* nvcc provides the math functions implicitly */
#include <string.h>
#include <functional>
#include <tuple>
#include <utility>

#undef __global__
#undef __device__
#undef __host__
#undef __shared__
#define __global__
#define __device__
#define __host__
#define __shared__ static /* one block runs at a time */

/* The running fiber's coordinates, set by the scheduler before it resumes a thread. */
extern uint3 threadIdx, blockIdx;
extern dim3 blockDim, gridDim;

namespace dc_emu {

/* Runs body once per thread of every block of the grid now, or records it when `stream` is being captured;
 * an invalid configuration (block > 1024 threads, grid y or z > 65535, shared memory > 48 KiB) is the
 * launch's error, as cudaGetLastError reports it. */
void submit(dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t stream, std::function<void()> body);
void sync_block();
uint64_t shfl_down(unsigned mask, uint64_t bits, unsigned delta, int width);
void* dynamic_shared();
/* Fills a __shared__ variable with 0xff bytes the first time a thread of the running block declares it (the
 * translation calls it after each declaration): a block starts with shared memory it has not written. */
void fresh_shared(void* variable, size_t bytes);

/* k<<<grid, block, shared, stream>>>(args): the arguments converted to the kernel's parameter types and copied,
 * as a launch copies them. */
template <typename... P>
struct Launch {
  void (*kernel)(P...);
  dim3 grid, block;
  size_t shared;
  cudaStream_t stream;
  template <typename... A>
  void operator()(A&&... args) const {
    std::tuple<P...> params(std::forward<A>(args)...);
    void (*k)(P...) = kernel;
    submit(grid, block, shared, stream, [k, params]() { std::apply(k, params); });
  }
};

template <typename... P>
Launch<P...> launch(void (*kernel)(P...), dim3 grid, dim3 block, size_t shared = 0, cudaStream_t stream = 0) {
  return Launch<P...>{kernel, grid, block, shared, stream};
}

}  // namespace dc_emu

inline void __syncthreads() { dc_emu::sync_block(); }

template <typename T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  static_assert(sizeof(T) <= sizeof(uint64_t), "shuffles of at most 8 bytes");
  uint64_t bits = 0;
  memcpy(&bits, &v, sizeof v);
  bits = dc_emu::shfl_down(mask, bits, delta, width);
  memcpy(&v, &bits, sizeof v);
  return v;
}

/* Threads of a block never run at the same time: a plain read-modify-write is atomic. */
template <typename T>
T atomicAdd(T* address, T v) {
  T old = *address;
  *address = old + v;
  return old;
}

#endif /* DETCGD_CUDA_EMU_DEVICE_H */
