// probe.cu -- kernels in CUDA syntax for the emulation's own tests (test_emu.cc), translated as src/kernels is.
#include <cuda_runtime.h>

/* Block 0 writes the shared variable and every block reads it: the other blocks read what they never wrote. */
static __global__ void stale_shared_kernel(int* out) {
  __shared__ int value;
  if (blockIdx.x == 0 && threadIdx.x == 0) value = 7;
  __syncthreads();
  if (threadIdx.x == 0) out[blockIdx.x] = value;
}

extern "C" void probe_stale_shared(int* out, int blocks) { stale_shared_kernel<<<blocks, 32>>>(out); }
