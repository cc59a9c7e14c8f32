/*
 * emu.h -- what the parts of the CUDA emulation share (runtime.cc, libraries.cc).
 */
#ifndef DETCGD_CUDA_EMU_EMU_H
#define DETCGD_CUDA_EMU_EMU_H

#include <cuda_runtime.h>
#include <stddef.h>
#include <functional>

namespace dc_emu {

/* Prints the message and aborts: what would fault or hang on a device. */
[[noreturn]] void fatal(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

/* Device memory is readable and writable while one of these lives (device work runs). */
struct DeviceWork {
  DeviceWork();
  ~DeviceWork();
  DeviceWork(const DeviceWork&) = delete;
  DeviceWork& operator=(const DeviceWork&) = delete;
};

/* [p, p + bytes) inside one device allocation */
bool in_device(const void* p, size_t bytes);
/* fatal unless in_device */
void require_device(const void* p, size_t bytes, const char* what);

/* Runs op as device work now, or records it when the stream is being captured. */
void enqueue(cudaStream_t s, std::function<void()> op);
/* cudaErrorStreamCaptureUnsupported (and the capture invalidated) while this thread captures, else cudaSuccess */
cudaError_t capture_forbids(const char* call);

}  // namespace dc_emu

#endif /* DETCGD_CUDA_EMU_EMU_H */
