/*
 * runtime.cc -- the host side of the CPU emulation of CUDA (see device.h): the runtime API calls the CUDA
 * backend makes, executed in stream order on the calling thread, and the block scheduler that runs a
 * kernel's threads as fibers.
 *
 * Stricter than a device where a bug would otherwise pass unseen:
 *   - device memory is mapped readable only while device work runs (a kernel, a copy, a library call), so
 *     host code that dereferences a device pointer faults; every allocation ends less than 256 bytes before a
 *     guard page (under ASan its ends are poisoned to the byte), and new memory holds 0xff bytes (NaN
 *     doubles), as cudaMalloc gives no zeros;
 *   - copies and memsets must lie inside one allocation on the device side, with the direction their kind says;
 *   - during a stream capture, allocation, freeing, synchronisation and copies with pageable host memory
 *     fail with cudaErrorStreamCaptureUnsupported and invalidate the capture;
 *   - __syncthreads must be reached by every thread of the block and a full-mask shuffle by every lane of
 *     the warp, else the run stops with the kernel's state (on a GPU: a hang or undefined results);
 *   - shared memory holds 0xff bytes when a block starts, not what the previous block left there;
 *   - the threads of a block run in increasing and decreasing order by turns (see run_block), and so do the
 *     blocks of a grid from one launch to the next (see run_grid).
 * One host thread calls CUDA at a time (as the backend does).  Settings (environment): DETCGD_EMU_DEVICE_MB
 * (device memory, default 1024), DETCGD_EMU_SMS (multiprocessors, default 2: grid caps of 64 blocks, so the
 * grid-stride loops go round), DETCGD_EMU_VERBOSE (name the call that invalidated a capture).
 */
#include <cuda_runtime.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <map>
#include <vector>
#include "device.h"
#include "emu.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define DC_EMU_ASAN 1
#endif

uint3 threadIdx, blockIdx;
dim3 blockDim, gridDim;

namespace dc_emu {

[[noreturn]] void fatal(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "cuda-emu: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  fflush(stderr);
  abort();
}

namespace {

size_t env_size(const char* name, size_t fallback) {
  const char* v = getenv(name);
  return v && *v ? (size_t)strtoull(v, NULL, 10) : fallback;
}

/* ---- errors ---- */

cudaError_t last_error = cudaSuccess;

cudaError_t fail(cudaError_t e) {
  last_error = e;
  return e;
}

/* ---- device memory: mapped, guarded, readable only during device work ---- */

/* bytes at the allocation's address, inside `mapped` bytes from the page-aligned `region`, inside the mapping */
struct Allocation { size_t bytes; char* region; size_t mapped; void* map_base; size_t map_bytes; };
const size_t kHuge = (size_t)2 << 20; /* transparent huge pages: mprotect of a 32 MiB chunk touches 16 entries */
std::map<uintptr_t, Allocation> allocations; /* by base address */
std::map<uintptr_t, size_t> pinned; /* cudaMallocHost: base -> bytes */
size_t device_used = 0, page = 0;
int device_depth = 0; /* > 0 while device work runs */

size_t capacity() { return env_size("DETCGD_EMU_DEVICE_MB", 1024) << 20; }

void protect_all(int prot) {
  for (auto& a : allocations)
    if (mprotect(a.second.region, a.second.mapped, prot) != 0) fatal("mprotect failed");
}

}  // namespace

DeviceWork::DeviceWork() {
  if (device_depth++ == 0) protect_all(PROT_READ | PROT_WRITE);
}

DeviceWork::~DeviceWork() {
  if (--device_depth == 0) protect_all(PROT_NONE);
}

bool in_device(const void* p, size_t bytes) {
  uintptr_t q = (uintptr_t)p;
  auto it = allocations.upper_bound(q);
  if (it == allocations.begin()) return false;
  --it;
  return q >= it->first && q + bytes <= it->first + it->second.bytes;
}

bool is_device(const void* p) { return in_device(p, 0) && p != nullptr; }

void require_device(const void* p, size_t bytes, const char* what) {
  if (!in_device(p, bytes)) fatal("%s: %zu bytes at %p are not inside one device allocation", what, bytes, p);
}

/* ---- streams, capture and graphs ---- */

namespace {

struct Stream {
  bool capturing = false, invalidated = false;
  std::vector<std::function<void()>> ops;
};
Stream legacy_stream;
Stream* capturing_stream = nullptr; /* the thread's capture (one at a time) */

Stream* stream_of(cudaStream_t s) { return s ? (Stream*)s : &legacy_stream; }

}  // namespace

struct EmuGraph { std::vector<std::function<void()>> ops; };

void enqueue(cudaStream_t s, std::function<void()> op) {
  Stream* st = stream_of(s);
  if (st->capturing) { st->ops.push_back(std::move(op)); return; }
  DeviceWork work;
  op();
}

/* A call that may not happen while this thread captures a stream: the capture is invalidated. */
cudaError_t capture_forbids(const char* call) {
  if (!capturing_stream) return cudaSuccess;
  capturing_stream->invalidated = true;
  if (getenv("DETCGD_EMU_VERBOSE")) fprintf(stderr, "cuda-emu: %s during a stream capture\n", call);
  return fail(cudaErrorStreamCaptureUnsupported);
}

/* ---- the block scheduler: the threads of a block as fibers ---- */

/* Switches stacks (x86-64 System V): pushes the callee-saved registers, stores the stack pointer in *from, and pops
 * the same from `to` -- a stack this function saved, or one start_thread made.  The SSE / x87 control words are
 * not switched (saving them costs most of a switch): no kernel changes the rounding mode. */
extern "C" void dc_emu_switch(void** from, void* to);
asm(R"(
  .text
  .globl dc_emu_switch
  .type dc_emu_switch, @function
dc_emu_switch:
  endbr64
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size dc_emu_switch, .-dc_emu_switch
)");

namespace {

enum ThreadState { RUNNABLE, AT_SYNCTHREADS, AT_SHUFFLE, EXITED };

const size_t kStackBytes = (size_t)256 << 10;

struct Fiber {
  void* sp = nullptr; /* saved stack pointer while switched out */
  char* stack = nullptr;
  ThreadState state = EXITED;
  uint3 idx;
};

struct Block {
  std::vector<Fiber> threads;
  void* scheduler_sp = nullptr;
  Fiber* current = nullptr;
  const std::function<void()>* body = nullptr;
  int nthreads = 0;
  uint64_t exchange[2][32][32];  /* shuffle values: [generation parity][warp][lane] */
  unsigned warp_generation[32];
  std::vector<unsigned char> dynamic_shared;
  std::map<void*, unsigned long long> static_shared_fill; /* __shared__ variable -> block run that filled it */
  unsigned long long run = 0;                              /* block runs so far */
  unsigned long long launches = 0;                         /* grids run so far */
  bool running = false;
#ifdef DC_EMU_ASAN
  void* fake_stack = nullptr;
  const void* scheduler_bottom = nullptr;
  size_t scheduler_size = 0;
#endif
} blk;

int linear_id() { return (int)(threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z)); }

/* from the running fiber to the scheduler; an exiting fiber is never resumed */
void to_scheduler(bool exiting) {
  Fiber* f = blk.current;
#ifdef DC_EMU_ASAN
  __sanitizer_start_switch_fiber(exiting ? nullptr : &blk.fake_stack, blk.scheduler_bottom, blk.scheduler_size);
#endif
  dc_emu_switch(&f->sp, blk.scheduler_sp);
#ifdef DC_EMU_ASAN
  __sanitizer_finish_switch_fiber(blk.fake_stack, nullptr, nullptr);
#endif
  (void)exiting;
}

[[noreturn]] void thread_entry() {
#ifdef DC_EMU_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &blk.scheduler_bottom, &blk.scheduler_size);
#endif
  (*blk.body)();
  blk.current->state = EXITED;
  to_scheduler(true);
  fatal("an exited thread was resumed");
}

void resume(Fiber* f) {
  blk.current = f;
  threadIdx = f->idx;
#ifdef DC_EMU_ASAN
  void* save = nullptr;
  __sanitizer_start_switch_fiber(&save, f->stack, kStackBytes);
#endif
  dc_emu_switch(&blk.scheduler_sp, f->sp);
#ifdef DC_EMU_ASAN
  __sanitizer_finish_switch_fiber(save, &blk.scheduler_bottom, &blk.scheduler_size);
#endif
}

/* A fresh stack whose first switch "returns" into thread_entry with the ABI's alignment (rsp = 8 mod 16): from
 * the saved pointer up, six registers, the entry. */
void start_thread(Fiber* f, uint3 idx) {
  if (!f->stack) {
    f->stack = (char*)mmap(nullptr, kStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (f->stack == MAP_FAILED) fatal("no memory for a thread's stack");
  }
  /* tops staggered by a page and a line per thread: equal offsets would share cache sets */
  size_t stagger = (size_t)(f - blk.threads.data()) % 15 * (4096 + 64);
  uint64_t* top = (uint64_t*)(((uintptr_t)f->stack + kStackBytes - stagger) & ~(uintptr_t)15);
  uint64_t* sp = top - 8;
  for (int r = 0; r < 6; ++r) sp[r] = 0;
  sp[6] = (uint64_t)(uintptr_t)&thread_entry;
  sp[7] = 0;
  f->sp = sp;
  f->state = RUNNABLE;
  f->idx = idx;
}

const char* state_name(ThreadState s) {
  return s == RUNNABLE ? "running" : s == AT_SYNCTHREADS ? "at __syncthreads" : s == AT_SHUFFLE ? "at a shuffle" : "exited";
}

[[noreturn]] void stuck(const char* why) {
  fprintf(stderr, "cuda-emu: block (%u,%u,%u) of grid (%u,%u,%u) x (%u,%u,%u) cannot go on: %s\n", blockIdx.x,
          blockIdx.y, blockIdx.z, gridDim.x, gridDim.y, gridDim.z, blockDim.x, blockDim.y, blockDim.z, why);
  for (int t = 0; t < blk.nthreads; t += 32) {
    fprintf(stderr, "  warp %d:", t / 32);
    for (int l = t; l < t + 32 && l < blk.nthreads; ++l) fprintf(stderr, " %d", (int)blk.threads[l].state);
    fprintf(stderr, "\n");
  }
  fatal("thread states: 0 %s, 1 %s, 2 %s, 3 %s", state_name(RUNNABLE), state_name(AT_SYNCTHREADS),
        state_name(AT_SHUFFLE), state_name(EXITED));
}

/* After every fiber has run until it waits or exits: release the warps whose 32 lanes all wait at a shuffle,
 * else the block when every thread waits at __syncthreads. */
bool release_waiting() {
  bool released = false, any_syncthreads = false, any_exited = false, any_alive = false;
  for (int w = 0; w * 32 < blk.nthreads; ++w) {
    int at = 0, exited = 0, lanes = blk.nthreads - w * 32 < 32 ? blk.nthreads - w * 32 : 32;
    for (int l = 0; l < lanes; ++l) {
      ThreadState s = blk.threads[w * 32 + l].state;
      at += s == AT_SHUFFLE;
      exited += s == EXITED;
    }
    if (at == 0) continue;
    if (at == 32) {
      for (int l = 0; l < 32; ++l) blk.threads[w * 32 + l].state = RUNNABLE;
      blk.warp_generation[w]++;
      released = true;
    } else if (exited > 0 || lanes < 32) {
      stuck("a full-mask shuffle waits for lanes that have exited or do not exist");
    }
  }
  if (released) return true;
  for (int t = 0; t < blk.nthreads; ++t) {
    ThreadState s = blk.threads[t].state;
    any_syncthreads |= s == AT_SYNCTHREADS;
    any_exited |= s == EXITED;
    any_alive |= s != EXITED;
    if (s == AT_SHUFFLE) stuck("some lanes wait at a shuffle while others of their warp wait elsewhere");
  }
  if (!any_alive) return false;
  if (any_syncthreads && any_exited) stuck("__syncthreads waits for threads that have exited");
  for (int t = 0; t < blk.nthreads; ++t) blk.threads[t].state = RUNNABLE;
  return true;
}

/* Runs one block.  Threads run in increasing order in even-numbered block runs and in decreasing order in odd ones
 * (a device promises neither), so shared memory read before the __syncthreads that should order it after its
 * write is caught whichever thread writes: a reader runs before the writer in one of the two. */
void run_block(const std::function<void()>& body) {
  bool reverse = (blk.run++ & 1) != 0;
  blk.body = &body;
  for (unsigned z = 0, t = 0; z < blockDim.z; ++z)
    for (unsigned y = 0; y < blockDim.y; ++y)
      for (unsigned x = 0; x < blockDim.x; ++x, ++t) start_thread(&blk.threads[t], uint3{x, y, z});
  memset(blk.warp_generation, 0, sizeof blk.warp_generation);
  memset(blk.dynamic_shared.data(), 0xff, blk.dynamic_shared.size());
  do {
    for (int k = 0; k < blk.nthreads; ++k) {
      Fiber* f = &blk.threads[reverse ? blk.nthreads - 1 - k : k];
      if (f->state == RUNNABLE) resume(f);
    }
  } while (release_waiting());
}

/* Runs a grid, its blocks one after another: in increasing order in even-numbered launches, decreasing in odd ones
 * (a device promises no order), so a kernel whose blocks read what other blocks of the same launch write gives
 * different results from one launch to the next, which the tests of bit-identical replay see. */
void run_grid(dim3 grid, dim3 block, size_t shared_bytes, const std::function<void()>& body) {
  bool reverse = (blk.launches++ & 1) != 0;
  if (blk.running) fatal("a kernel launched from inside a kernel");
  blk.running = true;
  gridDim = grid;
  blockDim = block;
  blk.nthreads = (int)(block.x * block.y * block.z);
  if ((int)blk.threads.size() < blk.nthreads) blk.threads.resize((size_t)blk.nthreads);
  blk.dynamic_shared.resize(shared_bytes + 16);
  unsigned long long nblocks = (unsigned long long)grid.x * grid.y * grid.z;
  for (unsigned long long k = 0; k < nblocks; ++k) {
    unsigned long long b = reverse ? nblocks - 1 - k : k;
    blockIdx = uint3{(unsigned)(b % grid.x), (unsigned)(b / grid.x % grid.y), (unsigned)(b / grid.x / grid.y)};
    run_block(body);
  }
  blk.running = false;
}

}  // namespace

void submit(dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t stream, std::function<void()> body) {
  unsigned long long threads = (unsigned long long)block.x * block.y * block.z;
  if (threads == 0 || threads > 1024 || block.z > 64 || grid.x == 0 || grid.y == 0 || grid.z == 0 ||
      grid.x > 2147483647u || grid.y > 65535 || grid.z > 65535) {
    fail(cudaErrorInvalidConfiguration);
    return;
  }
  if (shared_bytes > 48 * 1024) { /* more needs cudaFuncSetAttribute: the launch fails */
    fail(cudaErrorInvalidValue);
    return;
  }
  enqueue(stream, [grid, block, shared_bytes, body]() { run_grid(grid, block, shared_bytes, body); });
}

void sync_block() {
  if (!blk.running) fatal("__syncthreads outside a kernel");
  blk.current->state = AT_SYNCTHREADS;
  to_scheduler(false);
}

uint64_t shfl_down(unsigned mask, uint64_t bits, unsigned delta, int width) {
  int lane = linear_id() & 31, warp = linear_id() >> 5;
  unsigned parity;
  if (!blk.running) fatal("a shuffle outside a kernel");
  if (mask != 0xffffffffu || width != 32) fatal("only full-warp shuffles are emulated (mask %x, width %d)", mask, width);
  parity = blk.warp_generation[warp] & 1;
  blk.exchange[parity][warp][lane] = bits;
  blk.current->state = AT_SHUFFLE;
  to_scheduler(false);
  return lane + (int)delta < 32 ? blk.exchange[parity][warp][lane + delta] : bits;
}

void* dynamic_shared() {
  return (void*)(((uintptr_t)blk.dynamic_shared.data() + 15) & ~(uintptr_t)15);
}

void fresh_shared(void* variable, size_t bytes) {
  unsigned long long& filled = blk.static_shared_fill[variable];
  if (filled == blk.run) return;
  filled = blk.run;
  memset(variable, 0xff, bytes);
}

/* ---- a fault in device work names where it happened ---- */

namespace {

void on_fault(int sig, siginfo_t* info, void*) {
  char msg[256];
  int n = blk.running
              ? snprintf(msg, sizeof msg, "cuda-emu: signal %d at address %p in block (%u,%u,%u) thread (%u,%u,%u)\n",
                         sig, info->si_addr, blockIdx.x, blockIdx.y, blockIdx.z, threadIdx.x, threadIdx.y, threadIdx.z)
              : snprintf(msg, sizeof msg, "cuda-emu: signal %d at address %p %s\n", sig, info->si_addr,
                         device_depth > 0 ? "in device work (a copy or a library call)"
                                          : "in host code (a device pointer dereferenced on the host?)");
  if (n > 0) (void)!write(2, msg, (size_t)n);
  signal(sig, SIG_DFL);
  raise(sig);
}

struct FaultHandler {
  FaultHandler() {
#ifndef DC_EMU_ASAN /* ASan reports faults itself */
    static char alt[1 << 16];
    stack_t ss;
    struct sigaction sa;
    ss.ss_sp = alt;
    ss.ss_size = sizeof alt;
    ss.ss_flags = 0;
    sigaltstack(&ss, nullptr);
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, nullptr);
    sigaction(SIGBUS, &sa, nullptr);
#endif
    page = (size_t)sysconf(_SC_PAGESIZE);
  }
} fault_handler;

double now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return 1e3 * (double)ts.tv_sec + 1e-6 * (double)ts.tv_nsec;
}

struct Event { bool recorded = false; double ms = 0.0; };

bool copy_kind_ok(const void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  switch (kind) {
    case cudaMemcpyHostToDevice: return in_device(dst, bytes) && !is_device(src);
    case cudaMemcpyDeviceToHost: return in_device(src, bytes) && !is_device(dst);
    case cudaMemcpyDeviceToDevice: return in_device(dst, bytes) && in_device(src, bytes);
    default: return false;
  }
}

/* the host side of a copy lies in pinned memory (a captured copy from or to pageable memory is not capturable) */
bool host_side_pinned(const void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  uintptr_t host = (uintptr_t)(kind == cudaMemcpyHostToDevice ? src : kind == cudaMemcpyDeviceToHost ? dst : nullptr);
  if (!host) return true;
  auto it = pinned.upper_bound(host);
  if (it == pinned.begin()) return false;
  --it;
  return host + bytes <= it->first + it->second;
}

}  // namespace
}  // namespace dc_emu

using namespace dc_emu;

/* ==== the runtime API ==== */

extern "C" {

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : fail(cudaErrorInvalidDevice); }

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (device != 0) return fail(cudaErrorInvalidDevice);
  if (attr == cudaDevAttrMultiProcessorCount) *value = (int)env_size("DETCGD_EMU_SMS", 2);
  else if (attr == cudaDevAttrL2CacheSize) *value = 4 << 20;
  else return fail(cudaErrorInvalidValue);
  return cudaSuccess;
}

cudaError_t cudaGetLastError(void) {
  cudaError_t e = last_error;
  last_error = cudaSuccess;
  return e;
}

const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    default: return "unknown error (cuda-emu)";
  }
}

/* The allocation ends less than 256 bytes before a guard page (its start aligned to 256 bytes, as cudaMalloc's), so
 * reading or writing past its end faults; under ASan the bytes around it are poisoned too, so the first byte past
 * either end is reported. */
cudaError_t cudaMalloc(void** p, size_t bytes) {
  size_t span, mapped, map_bytes;
  void* map_base;
  char *region, *base;
  *p = nullptr;
  if (cudaError_t e = capture_forbids("cudaMalloc")) return e;
  if (bytes == 0) return cudaSuccess;
  if (bytes > capacity() - device_used) return fail(cudaErrorMemoryAllocation);
  span = (bytes + 255) / 256 * 256;
  mapped = span >= kHuge ? (span + kHuge - 1) / kHuge * kHuge : (span + page - 1) / page * page;
  map_bytes = mapped + (span >= kHuge ? kHuge : 0) + page;
  map_base = mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (map_base == MAP_FAILED) return fail(cudaErrorMemoryAllocation);
  region = (char*)map_base;
  if (span >= kHuge) {
    region = (char*)(((uintptr_t)map_base + kHuge - 1) & ~(uintptr_t)(kHuge - 1));
    madvise(region, mapped, MADV_HUGEPAGE);
  }
  base = region + (mapped - span);
  memset(base, 0xff, bytes); /* cudaMalloc gives no zeros: uninitialised doubles read as NaN */
#ifdef DC_EMU_ASAN
  ASAN_POISON_MEMORY_REGION(region, (size_t)(base - region));
  ASAN_POISON_MEMORY_REGION(base + bytes, span - bytes);
#endif
  mprotect(region + mapped, page, PROT_NONE); /* the guard page */
  if (device_depth == 0) mprotect(region, mapped, PROT_NONE);
  allocations[(uintptr_t)base] = Allocation{bytes, region, mapped, map_base, map_bytes};
  device_used += bytes;
  *p = base;
  return cudaSuccess;
}

cudaError_t cudaFree(void* p) {
  if (cudaError_t e = capture_forbids("cudaFree")) return e;
  if (!p) return cudaSuccess;
  auto it = allocations.find((uintptr_t)p);
  if (it == allocations.end()) return fail(cudaErrorInvalidValue);
#ifdef DC_EMU_ASAN
  ASAN_UNPOISON_MEMORY_REGION(it->second.region, it->second.mapped); /* the addresses may be mapped again */
#endif
  munmap(it->second.map_base, it->second.map_bytes);
  device_used -= it->second.bytes;
  allocations.erase(it);
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  *total_bytes = capacity();
  *free_bytes = capacity() - device_used;
  return cudaSuccess;
}

cudaError_t cudaMallocHost(void** p, size_t bytes) {
  if (cudaError_t e = capture_forbids("cudaMallocHost")) return e;
  *p = malloc(bytes ? bytes : 1);
  if (!*p) return fail(cudaErrorMemoryAllocation);
  pinned[(uintptr_t)*p] = bytes;
  return cudaSuccess;
}

cudaError_t cudaFreeHost(void* p) {
  if (cudaError_t e = capture_forbids("cudaFreeHost")) return e;
  if (!p) return cudaSuccess;
  if (!pinned.erase((uintptr_t)p)) return fail(cudaErrorInvalidValue);
  free(p);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t s) {
  if (bytes == 0) return cudaSuccess;
  if (!copy_kind_ok(dst, src, bytes, kind)) {
    fatal("cudaMemcpyAsync of %zu bytes, kind %d, from %p to %p: the device side is not inside one allocation "
          "or the kind does not match the pointers", bytes, (int)kind, src, dst);
  }
  if (stream_of(s)->capturing && !host_side_pinned(dst, src, bytes, kind)) return capture_forbids("cudaMemcpyAsync (pageable)");
  enqueue(s, [dst, src, bytes]() { memcpy(dst, src, bytes); });
  return cudaSuccess;
}

cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                              cudaMemcpyKind kind, cudaStream_t s) {
  if (width == 0 || height == 0) return cudaSuccess;
  if (width > dpitch || width > spitch) return fail(cudaErrorInvalidValue);
  for (size_t r = 0; r < height; ++r)
    if (!copy_kind_ok((char*)dst + r * dpitch, (const char*)src + r * spitch, width, kind))
      fatal("cudaMemcpy2DAsync row %zu: the device side is not inside one allocation or the kind does not match", r);
  if (stream_of(s)->capturing) return capture_forbids("cudaMemcpy2DAsync");
  enqueue(s, [=]() {
    for (size_t r = 0; r < height; ++r) memcpy((char*)dst + r * dpitch, (const char*)src + r * spitch, width);
  });
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t s) {
  if (bytes == 0) return cudaSuccess;
  require_device(dst, bytes, "cudaMemsetAsync");
  enqueue(s, [dst, value, bytes]() { memset(dst, value, bytes); });
  return cudaSuccess;
}

cudaError_t cudaMemset(void* dst, int value, size_t bytes) {
  if (cudaError_t e = capture_forbids("cudaMemset")) return e;
  return cudaMemsetAsync(dst, value, bytes, 0);
}

cudaError_t cudaDeviceSynchronize(void) { return capture_forbids("cudaDeviceSynchronize"); }

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned int flags) {
  (void)flags;
  *s = (cudaStream_t) new Stream();
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t s) {
  if (!s) return fail(cudaErrorInvalidValue);
  delete (Stream*)s;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  (void)s;
  return capture_forbids("cudaStreamSynchronize");
}

cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode mode) {
  Stream* st = stream_of(s);
  (void)mode;
  if (!s || st->capturing || capturing_stream) return fail(cudaErrorIllegalState);
  st->capturing = true;
  st->invalidated = false;
  st->ops.clear();
  capturing_stream = st;
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t* graph) {
  Stream* st = stream_of(s);
  *graph = nullptr;
  if (!st->capturing) return fail(cudaErrorIllegalState);
  st->capturing = false;
  capturing_stream = nullptr;
  if (st->invalidated) { st->ops.clear(); return fail(cudaErrorStreamCaptureInvalidated); }
  EmuGraph* g = new EmuGraph();
  g->ops.swap(st->ops);
  *graph = (cudaGraph_t)g;
  return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long flags) {
  (void)flags;
  if (!graph) return fail(cudaErrorInvalidValue);
  *exec = (cudaGraphExec_t) new EmuGraph(*(EmuGraph*)graph);
  return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t s) {
  if (!exec) return fail(cudaErrorInvalidValue);
  EmuGraph* g = (EmuGraph*)exec;
  for (auto& op : g->ops) enqueue(s, op);
  return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete (EmuGraph*)graph;
  return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete (EmuGraph*)exec;
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* e) {
  *e = (cudaEvent_t) new Event();
  return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned int flags) {
  (void)flags;
  return cudaEventCreate(e);
}

/* work runs when it is submitted: what s would wait for is done (a capture may hold it: a recorded no-op) */
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned int flags) {
  (void)s;
  (void)flags;
  if (!e) return fail(cudaErrorInvalidResourceHandle);
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t e) {
  delete (Event*)e;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
  Event* ev = (Event*)e;
  if (!ev) return fail(cudaErrorInvalidResourceHandle);
  enqueue(s, [ev]() { ev->recorded = true; ev->ms = now_ms(); });
  return cudaSuccess;
}

cudaError_t cudaEventQuery(cudaEvent_t e) {
  (void)e; /* work runs when it is submitted: always complete */
  return capture_forbids("cudaEventQuery");
}

cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  (void)e;
  return capture_forbids("cudaEventSynchronize");
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  Event *a = (Event*)start, *b = (Event*)end;
  if (!a || !b || !a->recorded || !b->recorded) return fail(cudaErrorInvalidResourceHandle);
  *ms = (float)(b->ms - a->ms);
  return cudaSuccess;
}

}  // extern "C"
